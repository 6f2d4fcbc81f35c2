"""Country Group membership over time: dated changes undone before their date,
and an explicit caveat on every answer for a date before the eCFR text."""

from __future__ import annotations

import json
from datetime import date

import pytest

from conftest import shared_file
from econsec.model.rules import Policy, Regime
from econsec.rules.dated import DatedError
from econsec.rules.determine import determine
from econsec.rules.groups import group_history, parse_group_changes
from econsec.rules.items import load_catalogue


def test_as_of_is_the_issue_date_of_the_ecfr_groups_read() -> None:
    path = shared_file("rules/ecfr_2026-07-23/country-groups.json")
    issued = json.loads(path.read_text(encoding="utf-8"))["ecfrIssueDate"]
    assert group_history().as_of == date.fromisoformat(issued)


def test_changes_are_undone_before_their_date() -> None:
    history = group_history()
    now = frozenset({"D:1", "D:5"})
    assert history.groups_on("NI", now, date(2024, 3, 14)) == frozenset()
    assert history.groups_on("NI", now, date(2024, 3, 15)) == now
    # A country without encoded changes keeps the eCFR membership.
    assert history.groups_on("CN", frozenset({"D:5"}), date(2022, 10, 7)) == {"D:5"}


def test_nicaragua_enters_the_3a090_scope_with_d1_d5() -> None:
    shared_file("rules/ecfr_2026-07-23/country-groups.json")
    h100 = load_catalogue().get("H100")
    before = determine(h100, "NI", date(2024, 3, 14), regime=Regime.US).answer(Regime.US)
    after = determine(h100, "NI", date(2024, 3, 15), regime=Regime.US).answer(Regime.US)
    assert before is not None
    assert after is not None
    assert before.licence_required is False
    assert (after.licence_required, after.policy) == (True, Policy.PRESUMPTION_OF_DENIAL)
    assert any("89 FR 18780" in c for c in before.citations)


def test_every_answer_before_the_ecfr_date_carries_the_caveat() -> None:
    shared_file("rules/ecfr_2026-07-23/country-groups.json")
    h100 = load_catalogue().get("H100")
    old = determine(h100, "DE", date(2023, 1, 1), regime=Regime.US).answer(Regime.US)
    new = determine(h100, "DE", date(2026, 8, 1), regime=Regime.US).answer(Regime.US)
    assert old is not None
    assert new is not None
    assert any("other membership changes between 2023-01-01" in r for r in old.reasoning)
    assert not any("membership changes between" in r for r in new.reasoning)


@pytest.mark.parametrize(
    ("doc", "field"),
    [
        ({"changes": []}, "'as_of'"),
        ({"as_of": date(2026, 7, 23), "changes": [{"country": "NIC"}]}, "'country'"),
        (
            {
                "as_of": date(2026, 7, 23),
                "changes": [
                    {
                        "country": "NI",
                        "group": "D:5",
                        "change": "moved",
                        "effective_from": date(2024, 3, 15),
                        "citation": "x",
                    }
                ],
            },
            "'change'",
        ),
        (
            {
                "as_of": date(2026, 7, 23),
                "changes": [
                    {
                        "country": "NI",
                        "group": "D:5",
                        "change": "added",
                        "effective_from": date(2027, 1, 1),
                        "citation": "x",
                    }
                ],
            },
            "after as_of",
        ),
    ],
)
def test_bad_change_data_names_record_and_field(doc: dict[str, object], field: str) -> None:
    with pytest.raises(DatedError, match=r"groups\.yaml") as err:
        parse_group_changes(doc, "groups.yaml")
    assert field in str(err.value)


def test_cyprus_left_d5_in_the_codified_table_on_2024_05_30() -> None:
    history = group_history()
    now = frozenset({"A:3", "A:4", "A:6", "B"})
    assert "D:5" in history.groups_on("CY", now, date(2024, 5, 29))
    assert "D:5" not in history.groups_on("CY", now, date(2024, 5, 30))
    assert date(2024, 5, 30) in history.dates()
    caveat = history.caveat("CY", date(2024, 1, 1))
    assert caveat is not None
    assert "89 FR 40369" in caveat
    assert "known gap for CY" in caveat


def test_caveat_names_only_the_gaps_of_the_destination() -> None:
    history = group_history()
    de = history.caveat("DE", date(2024, 1, 1))
    ae = history.caveat("AE", date(2024, 1, 1))
    assert de is not None
    assert ae is not None
    assert "known gap" not in de
    assert "known gap for AE" in ae
    assert "Cyprus" not in ae
    with pytest.raises(DatedError, match=r"not_encoded\[0\], field 'country'"):
        parse_group_changes(
            {"as_of": date(2026, 7, 23), "not_encoded": [{"country": "XYZ", "note": "x"}]},
            "groups.yaml",
        )
