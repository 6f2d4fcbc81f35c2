"""Dated rule data: periods, timelines, "as of a date" and their errors."""

from __future__ import annotations

from datetime import date

import pytest

from econsec.rules.dated import DatedError, Period, PeriodStatus, Timeline, timeline_from_list

CITE = "90 FR 47201"


def _timeline() -> Timeline:
    return timeline_from_list(
        [
            {
                "effective_from": date(2025, 9, 29),
                "effective_to": "2025-11-09",
                "status": "in_force",
                "citation": CITE,
            },
            {
                "effective_from": "2025-11-10",
                "effective_to": "2026-11-09",
                "status": "suspended",
                "citation": "suspension",
                "note": "one year",
            },
            {"effective_from": "2026-11-10", "status": "in_force", "citation": CITE},
        ],
        "test.yaml, rules[0]",
    )


@pytest.mark.parametrize(
    ("day", "status", "applies"),
    [
        (date(2025, 9, 28), None, False),
        (date(2025, 9, 29), PeriodStatus.IN_FORCE, True),
        (date(2025, 11, 9), PeriodStatus.IN_FORCE, True),
        (date(2025, 11, 10), PeriodStatus.SUSPENDED, False),
        (date(2026, 11, 9), PeriodStatus.SUSPENDED, False),
        (date(2026, 11, 10), PeriodStatus.IN_FORCE, True),
        (date(2040, 1, 1), PeriodStatus.IN_FORCE, True),
    ],
)
def test_as_of(day: date, status: PeriodStatus | None, applies: bool) -> None:
    timeline = _timeline()
    period = timeline.as_of(day)
    assert (period.status if period else None) is status
    assert timeline.applies(day) is applies


def test_changes_and_description() -> None:
    timeline = _timeline()
    assert timeline.changes() == (date(2025, 9, 29), date(2025, 11, 10), date(2026, 11, 10))
    period = timeline.as_of(date(2026, 1, 1))
    assert period is not None
    assert period.describe() == "suspended 2025-11-10 to 2026-11-09 (suspension); one year"


def test_periods_are_sorted() -> None:
    a = Period(date(2020, 1, 1), date(2020, 12, 31), PeriodStatus.IN_FORCE, "a")
    b = Period(date(2021, 1, 1), None, PeriodStatus.REVOKED, "b")
    assert Timeline((b, a)).periods == (a, b)
    assert not Timeline((b, a)).applies(date(2022, 1, 1))


@pytest.mark.parametrize(
    ("items", "words"),
    [
        ([{"effective_from": "2020-01-01", "status": "in_force"}], "field 'citation'"),
        (
            [{"effective_from": "2020-13-01", "status": "in_force", "citation": "x"}],
            "field 'effective_from': not an ISO date",
        ),
        (
            [
                {
                    "effective_from": "2020-01-02",
                    "effective_to": "2020-01-01",
                    "status": "in_force",
                    "citation": "x",
                }
            ],
            "field 'effective_to'",
        ),
        ([{"effective_from": "2020-01-01", "status": "maybe", "citation": "x"}], "field 'status'"),
        (
            [{"effective_from": "2020-01-01", "status": "in_force", "citation": "x", "extra": 1}],
            "field 'extra': unknown",
        ),
        (
            [
                {"effective_from": "2020-01-01", "status": "in_force", "citation": "x"},
                {"effective_from": "2020-06-01", "status": "suspended", "citation": "y"},
            ],
            "periods overlap",
        ),
        ([], "at least one period"),
    ],
)
def test_bad_periods_name_record_and_field(items: list[dict[str, object]], words: str) -> None:
    with pytest.raises(DatedError) as info:
        timeline_from_list(items, "rules.yaml, rules[3]")
    assert "rules.yaml, rules[3]" in str(info.value)
    assert words in str(info.value)
