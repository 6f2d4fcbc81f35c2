"""Screening queries and results, with their explanations."""

from __future__ import annotations

from dataclasses import dataclass, field

from econsec.model.lists import ListVersion
from econsec.model.party import Party, Schema


@dataclass(frozen=True, slots=True)
class ScreenQuery:
    """Who is being screened. Only the name is required."""

    name: str
    schema: Schema | None = None
    #: ISO 3166-1 alpha-2 codes (nationality, residence, registration).
    countries: tuple[str, ...] = ()
    #: Partial ISO dates of birth (``1962``, ``1962-03``, ``1962-03-14``).
    dates_of_birth: tuple[str, ...] = ()
    #: Restrict to these sources or list codes (``un_sc``, ``SDN``, ``EL`` …); empty = all.
    lists: tuple[str, ...] = ()
    #: Results scoring below this are not returned; None = the algorithm's default.
    threshold: float | None = None
    limit: int = 10


@dataclass(frozen=True, slots=True)
class Feature:
    """One piece of evidence and what it did to the score.

    ``score`` is the feature's own agreement in [0, 1]; ``effect`` is what it
    added to (or, when negative, took from) the final score. For the name
    feature the effect is the base score itself.
    """

    feature: str
    score: float
    effect: float
    detail: str


@dataclass(frozen=True, slots=True)
class Match:
    """How well a query matches one list entry, and why."""

    score: float
    #: The entry's name or alias that matched best.
    matched_name: str
    features: tuple[Feature, ...]


@dataclass(frozen=True, slots=True)
class Hit:
    party: Party
    match: Match


@dataclass(frozen=True, slots=True)
class ScreenResult:
    query: ScreenQuery
    algorithm: str
    threshold: float
    hits: tuple[Hit, ...]
    #: The list versions screened against (what a proof of screening cites).
    list_versions: tuple[ListVersion, ...] = field(default_factory=tuple)
