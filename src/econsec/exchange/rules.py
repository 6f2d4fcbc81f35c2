"""Dated rules of the exchange, read from ``data/exchange_rules.yaml``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from econsec.rules.dated import DatedError, Period, period_from_mapping

RULES_FILE = Path(__file__).parent / "data" / "exchange_rules.yaml"


@dataclass(frozen=True, slots=True)
class ReviewRule:
    """How long a denial stays in force before it must be reviewed."""

    period: Period
    years: int


@cache
def review_rules(path: Path = RULES_FILE) -> tuple[ReviewRule, ...]:
    with path.open(encoding="utf-8") as fh:
        data: Any = yaml.safe_load(fh)
    items = data.get("denial_review") if isinstance(data, dict) else None
    if not isinstance(items, list) or not items:
        raise DatedError(f"{path}, field 'denial_review': a list of periods is required")
    rules = []
    for i, item in enumerate(items):
        where = f"{path}, denial_review[{i}]"
        if not isinstance(item, dict):
            raise DatedError(f"{where}: expected a mapping")
        years = item.get("years")
        if not isinstance(years, int) or years <= 0:
            raise DatedError(f"{where}, field 'years': a positive whole number is required")
        fields = {k: v for k, v in item.items() if k != "years"}
        rules.append(ReviewRule(period_from_mapping(fields, where), years))
    return tuple(rules)


def review_rule(on: dt.date) -> ReviewRule:
    """The review rule in force on ``on`` (a decision or renewal date)."""
    for rule in review_rules():
        if rule.period.contains(on) and rule.period.status.applies:
            return rule
    raise DatedError(f"{RULES_FILE}: no denial review rule in force on {on}")


def add_years(day: dt.date, years: int) -> dt.date:
    """``day`` plus whole years; 29 February falls back to 28 February."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def expiry(decided_or_renewed: dt.date) -> tuple[dt.date, str]:
    """The day a denial lapses unless renewed, and the explanation with its source."""
    rule = review_rule(decided_or_renewed)
    until = add_years(decided_or_renewed, rule.years)
    return until, f"{decided_or_renewed} + {rule.years} years ({rule.period.citation})"
