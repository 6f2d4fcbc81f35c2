"""The canonical JSON form of screening results (CLI ``--format json`` and the API)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from econsec.model import ListVersion
from econsec.model.screening import Feature, Hit, Match, ScreenQuery, ScreenResult


def query_json(query: ScreenQuery) -> dict[str, Any]:
    return {
        "name": query.name,
        "schema": query.schema.value if query.schema else None,
        "countries": list(query.countries),
        "dates_of_birth": list(query.dates_of_birth),
        "lists": list(query.lists),
        "threshold": query.threshold,
        "limit": query.limit,
    }


def feature_json(feature: Feature) -> dict[str, Any]:
    return {
        "feature": feature.feature,
        "score": feature.score,
        "effect": feature.effect,
        "detail": feature.detail,
    }


def hit_json(hit: Hit) -> dict[str, Any]:
    party = hit.party
    return {
        "entity_id": party.entity_id,
        "list": party.list,
        "source": party.source,
        "schema": party.schema.value,
        "name": party.name,
        "matched_name": hit.match.matched_name,
        "score": hit.match.score,
        "explanation": [feature_json(f) for f in hit.match.features],
        "programs": list(party.programs),
        "countries": list(party.countries),
        "dates_of_birth": list(party.dates_of_birth),
        "listed_on": party.listed_on,
        "license_requirement": party.license_requirement,
        "license_policy": party.license_policy,
        "remarks": party.remarks,
        "source_ref": asdict(party.source_ref),
    }


def version_json(version: ListVersion) -> dict[str, Any]:
    return asdict(version)


def result_json(result: ScreenResult) -> dict[str, Any]:
    return {
        "query": query_json(result.query),
        "algorithm": result.algorithm,
        "threshold": result.threshold,
        "results": [hit_json(h) for h in result.hits],
        "list_versions": [version_json(v) for v in result.list_versions],
    }


def match_json(match: Match, algorithm: str) -> dict[str, Any]:
    """``compare``: the score and why."""
    return {
        "score": match.score,
        "algorithm": algorithm,
        "explanation": [feature_json(f) for f in match.features],
    }
