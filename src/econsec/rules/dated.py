"""Dated rule data: which version of a rule applies on a given day.

A rule is a :class:`Timeline`: an ordered sequence of :class:`Period` objects,
each with the first day it applies (``effective_from``), the last day
(``effective_to``, inclusive; None = open-ended), a status (in force,
suspended …), the legal citation that put it there and a note. Periods may
not overlap, so "as of a date" always has at most one answer; a date outside
every period is answered with None (the rule did not exist yet, or lapsed).

The module knows nothing about ownership or export controls: any dated rule
data (a licence exception's validity, a country-group change) can use it.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any


class DatedError(ValueError):
    """Bad dated rule data; names the file, the record and the field."""


class PeriodStatus(StrEnum):
    #: The rule applies.
    IN_FORCE = "in_force"
    #: The rule exists but its application is suspended (it does not apply).
    SUSPENDED = "suspended"
    #: The rule was withdrawn or expired (it does not apply).
    REVOKED = "revoked"

    @property
    def applies(self) -> bool:
        return self is PeriodStatus.IN_FORCE


@dataclass(frozen=True, slots=True)
class Period:
    """One stretch of time during which a rule has one status."""

    effective_from: date
    #: Last day of the period (inclusive); None = until further notice.
    effective_to: date | None
    status: PeriodStatus
    #: The legal instrument that set this status (Federal Register notice …).
    citation: str
    note: str = ""

    def __post_init__(self) -> None:
        if self.effective_to is not None and self.effective_to < self.effective_from:
            raise DatedError(
                f"effective_to {self.effective_to} is before effective_from {self.effective_from}"
            )

    def contains(self, on: date) -> bool:
        return self.effective_from <= on and (self.effective_to is None or on <= self.effective_to)

    def describe(self) -> str:
        """``in force 2025-09-29 to 2025-11-09 (90 FR 47201)``."""
        until = f"to {self.effective_to}" if self.effective_to else "until further notice"
        status = self.status.value.replace("_", " ")
        text = f"{status} {self.effective_from} {until} ({self.citation})"
        return f"{text}; {self.note}" if self.note else text


@dataclass(frozen=True, slots=True)
class Timeline:
    """Non-overlapping periods in date order."""

    periods: tuple[Period, ...]

    def __post_init__(self) -> None:
        ordered = tuple(sorted(self.periods, key=lambda p: p.effective_from))
        for before, after in itertools.pairwise(ordered):
            if before.effective_to is None or before.effective_to >= after.effective_from:
                raise DatedError(f"periods overlap: {before.describe()} and {after.describe()}")
        object.__setattr__(self, "periods", ordered)

    def __iter__(self) -> Iterator[Period]:
        return iter(self.periods)

    def as_of(self, on: date) -> Period | None:
        """The period that covers ``on``, or None when none does."""
        for period in self.periods:
            if period.contains(on):
                return period
        return None

    def applies(self, on: date) -> bool:
        period = self.as_of(on)
        return period is not None and period.status.applies

    def changes(self) -> tuple[date, ...]:
        """Every day on which the answer may change (period starts and day after ends)."""
        days: set[date] = set()
        for p in self.periods:
            days.add(p.effective_from)
            if p.effective_to is not None:
                days.add(date.fromordinal(p.effective_to.toordinal() + 1))
        return tuple(sorted(days))


def parse_day(value: object, where: str, field: str) -> date:
    """A YAML value as a date: YAML dates are already dates; strings must be ISO."""
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise DatedError(f"{where}, field {field!r}: not an ISO date (YYYY-MM-DD): {value!r}")


def period_from_mapping(data: Mapping[str, Any], where: str) -> Period:
    """A period from a YAML mapping, every problem naming ``where`` and the field."""
    known = {"effective_from", "effective_to", "status", "citation", "note"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise DatedError(f"{where}, field {unknown[0]!r}: unknown field")
    if "effective_from" not in data:
        raise DatedError(f"{where}, field 'effective_from': missing")
    start = parse_day(data["effective_from"], where, "effective_from")
    end_value = data.get("effective_to")
    end = None if end_value is None else parse_day(end_value, where, "effective_to")
    if end is not None and end < start:
        raise DatedError(f"{where}, field 'effective_to': {end} is before effective_from {start}")
    try:
        status = PeriodStatus(str(data.get("status", "")))
    except ValueError:
        raise DatedError(
            f"{where}, field 'status': {data.get('status')!r} is not one of "
            + ", ".join(s.value for s in PeriodStatus)
        ) from None
    citation = data.get("citation")
    if not isinstance(citation, str) or not citation.strip():
        raise DatedError(f"{where}, field 'citation': missing; every period cites its source")
    note = data.get("note") or ""
    if not isinstance(note, str):
        raise DatedError(f"{where}, field 'note': must be text")
    return Period(start, end, status, citation.strip(), note.strip())


def timeline_from_list(items: Iterable[Any], where: str) -> Timeline:
    periods: list[Period] = []
    for i, item in enumerate(items):
        at = f"{where}, periods[{i}]"
        if not isinstance(item, Mapping):
            raise DatedError(f"{at}: expected a mapping with effective_from, status, citation")
        periods.append(period_from_mapping(item, at))
    if not periods:
        raise DatedError(f"{where}, field 'periods': at least one period is required")
    try:
        return Timeline(tuple(periods))
    except DatedError as exc:
        raise DatedError(f"{where}, field 'periods': {exc}") from None
