"""JSON shapes of classifications, determinations, timelines, diffs and alignments
(one place, shared by the CLI and the API)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from econsec.model.rules import (
    Classification,
    Comparison,
    Determination,
    Item,
    Missing,
    RegimeAnswer,
)
from econsec.rules import criteria
from econsec.rules.batch import AnswerKey
from econsec.rules.timeline import Alignment, RuleChange, Step


def _missing(items: Sequence[Missing]) -> list[dict[str, str]]:
    return [{"field": m.field, "effect": m.effect} for m in items]


def _comparison(c: Comparison) -> dict[str, Any]:
    return {
        "parameter": c.parameter,
        "value": c.value,
        "operator": c.operator,
        "threshold": c.threshold,
        "holds": c.holds,
    }


def item_json(item: Item) -> dict[str, Any]:
    return {
        "id": item.item_id,
        "name": item.name,
        "kind": item.kind.value,
        "sources": list(item.sources),
    }


def classification_json(c: Classification) -> dict[str, Any]:
    return {
        "item": item_json(c.item),
        "date": c.on.isoformat(),
        "tpp": c.tpp,
        "performance_density": c.performance_density,
        "memory_bandwidth_density": c.memory_bandwidth_density,
        "classification": [
            {
                "regime": m.regime.value,
                "entry": m.entry,
                "version": m.version,
                "title": m.title,
                "certain": m.certain,
                "citation": m.citation,
                "paragraphs": list(m.paragraphs),
                "comparisons": [_comparison(x) for x in m.comparisons],
                "evaluation": (
                    criteria.evaluation_json(m.evaluation) if m.evaluation is not None else None
                ),
            }
            for m in c.entries
        ],
        "reasoning": list(c.reasoning),
        "missing": _missing(c.missing),
        "complete": c.complete,
        "chpl_tier": c.chpl_tier,
    }


def answer_json(a: RegimeAnswer) -> dict[str, Any]:
    return {
        "classification": list(a.classification),
        "licence_required": a.licence_required,
        "policy": a.policy.value,
        "exceptions": [
            {
                "symbol": e.symbol,
                "available": e.available,
                "reason": e.reason,
                "citation": e.citation,
                "conditions": list(e.conditions),
            }
            for e in a.exceptions
        ],
        "citations": list(a.citations),
        "requirements": [
            {
                "rule": r.rule_id,
                "title": r.title,
                "policy": r.policy.value,
                "enforced": r.enforced,
                "citation": r.citation,
                "note": r.note,
            }
            for r in a.requirements
        ],
        "conditions": list(a.conditions),
        "reasoning": list(a.reasoning),
        "missing": _missing(a.missing),
        "complete": a.complete,
    }


def determination_json(d: Determination, item: Item | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "item": item_json(item) if item is not None else {"id": d.item_id},
        "date": d.on.isoformat(),
        "destination": d.destination,
        "end_user": d.end_user,
        "regimes": {a.regime.value: answer_json(a) for a in d.answers},
    }
    return out


def key_json(k: AnswerKey) -> dict[str, Any]:
    return {
        "licence_required": k.licence_required,
        "policy": k.policy.value,
        "classification": list(k.classification),
        "exceptions_available": [s for s, ok in k.exceptions if ok],
        "missing": list(k.missing),
    }


def timeline_json(steps: Sequence[Step], item: Item) -> dict[str, Any]:
    return {
        "item": item_json(item),
        "steps": [
            {
                "from": s.on.isoformat(),
                "changes": list(s.changes),
                "determination": determination_json(s.determination, item),
            }
            for s in steps
        ],
    }


def diff_json(changes: Sequence[RuleChange]) -> list[Mapping[str, str]]:
    return [
        {
            "kind": c.kind,
            "rule": c.rule_id,
            "before": c.before,
            "after": c.after,
            "citation": c.citation,
        }
        for c in changes
    ]


def alignment_json(a: Alignment) -> dict[str, Any]:
    def rows(items: Sequence[Any]) -> list[dict[str, Any]]:
        return [
            {
                "item": d.item_id,
                "destination": d.destination,
                "US": key_json(d.us),
                "EU": key_json(d.eu),
            }
            for d in items
        ]

    return {
        "date": a.on.isoformat(),
        "combinations": a.combinations,
        "divergent_count": len(a.divergent),
        "undetermined_count": len(a.undetermined),
        "divergent": rows(a.divergent),
        "undetermined": rows(a.undetermined),
    }
