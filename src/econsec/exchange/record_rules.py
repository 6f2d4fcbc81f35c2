"""Dated rules of consultations, the "essentially identical" check and notifications.

Read from the same ``data/exchange_rules.yaml`` as the denial review period;
each section is a list of dated periods (``econsec.rules.dated``) with its own
figures. An entry whose figure is not in the cited text carries ``verify``,
and the caveat travels with every answer that uses it.

A section may also carry text choices (:data:`CHOICES`): the consultation
deadline says whether its days are ``calendar`` days (the default, as before)
or ``working`` days. Working days are Monday to Friday: public holidays are
not skipped, because a consultation between governments has no single national
holiday calendar (each party keeps its own); a rule that needs them would
have to name whose.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from econsec.exchange.rules import RULES_FILE
from econsec.rules.dated import DatedError, Period, period_from_mapping

#: Section → {figure: type} of the figures each period must carry.
SECTIONS: dict[str, dict[str, type]] = {
    "consultation_deadline": {"days": int},
    "consultation_reminders": {"due_soon_days": int},
    "essentially_identical": {"name_threshold": float},
    "undercut_notification": {"notify_within_days": int},
}

#: Section → {field: (allowed values, default)} of the text choices a period may carry.
CHOICES: dict[str, dict[str, tuple[tuple[str, ...], str]]] = {
    "consultation_deadline": {"count": (("calendar", "working"), "calendar")},
}

#: Saturday and Sunday (``date.weekday()``): not working days.
WEEKEND = frozenset({5, 6})


@dataclass(frozen=True, slots=True)
class DatedFigures:
    """One period of a section, its figures and its caveat."""

    period: Period
    figures: dict[str, float]
    verify: str = ""
    choices: dict[str, str] = field(default_factory=dict)

    def number(self, name: str) -> float:
        return self.figures[name]

    def whole(self, name: str) -> int:
        return int(self.figures[name])

    def choice(self, name: str) -> str:
        return self.choices[name]

    def source(self) -> str:
        """The citation, with the caveat when the figure is to be verified."""
        return self.period.citation + (f"; to verify: {self.verify}" if self.verify else "")


def _figure(value: Any, kind: type, where: str, name: str) -> float:
    if kind is int:
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise DatedError(f"{where}, field {name!r}: a whole number ≥ 0 is required")
        return value
    if not isinstance(value, int | float) or isinstance(value, bool) or not 0 <= value <= 1:
        raise DatedError(f"{where}, field {name!r}: a number between 0 and 1 is required")
    return float(value)


@cache
def load(path: Path = RULES_FILE) -> dict[str, tuple[DatedFigures, ...]]:
    """Every section of :data:`SECTIONS`, checked field by field."""
    with path.open(encoding="utf-8") as fh:
        data: Any = yaml.safe_load(fh)
    if not isinstance(data, dict):
        raise DatedError(f"{path}: expected a mapping of sections")
    out: dict[str, tuple[DatedFigures, ...]] = {}
    for section, wanted in SECTIONS.items():
        items = data.get(section)
        if not isinstance(items, list) or not items:
            raise DatedError(f"{path}, field {section!r}: a list of periods is required")
        periods = []
        for i, item in enumerate(items):
            where = f"{path}, {section}[{i}]"
            if not isinstance(item, dict):
                raise DatedError(f"{where}: expected a mapping")
            figures = {}
            for name, kind in wanted.items():
                if name not in item:
                    raise DatedError(f"{where}, field {name!r}: missing")
                figures[name] = _figure(item[name], kind, where, name)
            verify = item.get("verify") or ""
            if not isinstance(verify, str):
                raise DatedError(f"{where}, field 'verify': must be text")
            choices = {}
            for name, (allowed, default) in CHOICES.get(section, {}).items():
                value = item.get(name, default)
                if value not in allowed:
                    raise DatedError(
                        f"{where}, field {name!r}: one of {', '.join(allowed)} is required "
                        f"(got {value!r})"
                    )
                choices[name] = str(value)
            skip = {*wanted, *CHOICES.get(section, {}), "verify"}
            fields = {k: v for k, v in item.items() if k not in skip}
            periods.append(
                DatedFigures(period_from_mapping(fields, where), figures, verify.strip(), choices)
            )
        out[section] = tuple(periods)
    return out


def in_force(section: str, on: dt.date, path: Path = RULES_FILE) -> DatedFigures:
    """The period of ``section`` in force on ``on``."""
    for entry in load(path)[section]:
        if entry.period.contains(on) and entry.period.status.applies:
            return entry
    raise DatedError(f"{path}: no {section} rule in force on {on}")


def add_working_days(start: dt.date, days: int) -> tuple[dt.date, int]:
    """``start`` plus ``days`` working days (Monday to Friday), and the weekend days skipped.

    ``start`` itself is not counted (as with calendar days: opened on Friday,
    one working day later is Monday). Public holidays are not skipped (see the
    module docstring).
    """
    day, left, skipped = start, days, 0
    while left > 0:
        day += dt.timedelta(days=1)
        if day.weekday() in WEEKEND:
            skipped += 1
        else:
            left -= 1
    return day, skipped


def consultation_deadline(opened_on: dt.date, path: Path = RULES_FILE) -> tuple[dt.date, str]:
    """The reply deadline of a consultation opened on ``opened_on``, and how it was counted."""
    rule = in_force("consultation_deadline", opened_on, path)
    days = rule.whole("days")
    if rule.choice("count") == "working":
        deadline, skipped = add_working_days(opened_on, days)
        counted = (
            f"{days} working days (Monday to Friday; {skipped} Saturday/Sunday "
            f"day{'' if skipped == 1 else 's'} not counted; public holidays are counted)"
        )
    else:
        deadline = opened_on + dt.timedelta(days=days)
        counted = f"{days} calendar days"
    return deadline, f"{opened_on} + {counted} = {deadline} ({rule.source()})"


def due_soon_days(on: dt.date) -> int:
    return in_force("consultation_reminders", on).whole("due_soon_days")


def name_threshold(on: dt.date) -> DatedFigures:
    return in_force("essentially_identical", on)


def undercut_rule(on: dt.date) -> DatedFigures:
    return in_force("undercut_notification", on)
