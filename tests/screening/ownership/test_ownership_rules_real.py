"""The issue's worked cases, with real list entries from the 2026-07-31 CSL."""

from __future__ import annotations

import csv
import shutil
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import pytest

from econsec.model.party import Party
from econsec.screening.ownership import (
    Explanation,
    Status,
    check,
    explanation_json,
    load_file,
    ownership_screener,
)
from econsec.screening.screen import build_query
from econsec.store.workspace import Workspace

IN_FORCE = date(2025, 10, 15)
SUSPENDED = date(2026, 7, 23)
REIMPOSED = date(2026, 11, 10)
HEADER = ("owner_id", "owner_name", "owned_id", "owned_name", "percent", "owner_list_ref")


@pytest.fixture(scope="module")
def ws(loaded_workspace: Workspace, tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """A copy of the session's loaded workspace (ownership loads write to it)."""
    home = tmp_path_factory.mktemp("ownership") / "workspace"
    home.mkdir(parents=True)
    shutil.copy(loaded_workspace.db_path, home / loaded_workspace.db_path.name)
    return Workspace(home)


@pytest.fixture(scope="module")
def parties(ws: Workspace) -> list[Party]:
    return ws.active_parties()[1]


def listed(parties: Sequence[Party], list_code: str, name: str) -> Party:
    found = [p for p in parties if p.list == list_code and p.name == name and p.source == "us_csl"]
    assert found, f"{name!r} is not on the {list_code} list of the CSL any more"
    return found[0]


def load_rows(ws: Workspace, tmp_path: Path, rows: Sequence[Sequence[str]]) -> None:
    path = tmp_path / "holdings.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        writer.writerows(rows)
    load_file(ws, path, source="worked-cases")


def answer(ws: Workspace, entity: str, on: date, rule: str) -> Explanation:
    (result,) = check(ws, entity, on, [rule])
    return result


def test_sixty_percent_follows_the_affiliates_rule_periods(
    ws: Workspace, parties: list[Party], tmp_path: Path
) -> None:
    owner = listed(parties, "EL", "Sugon")
    load_rows(
        ws,
        tmp_path,
        [("A", owner.name, "SUB", "Fictitious Sugon Trading Ltd", "60", owner.entity_id)],
    )
    covered = answer(ws, "SUB", IN_FORCE, "bis-affiliates")
    assert covered.status is Status.COVERED
    assert covered.covered_share == 60
    assert owner.entity_id in covered.chains[0]
    assert covered.period is not None
    assert "90 FR 47201" in covered.period.citation
    suspended = answer(ws, "Fictitious Sugon Trading Ltd", SUSPENDED, "bis-affiliates")
    assert suspended.status is Status.RULE_NOT_IN_FORCE
    assert suspended.period is not None
    assert suspended.period.status.value == "suspended"
    assert "suspension" in suspended.summary().lower()
    assert answer(ws, "SUB", REIMPOSED, "bis-affiliates").status is Status.COVERED
    # An EL party is no SDN: the OFAC rule does not reach it.
    assert answer(ws, "SUB", IN_FORCE, "ofac-50").status is Status.NOT_COVERED


def test_two_listed_owners_add_up(ws: Workspace, parties: list[Party], tmp_path: Path) -> None:
    a = listed(parties, "EL", "Sugon")
    b = listed(parties, "EL", "Hangzhou Hikvision Digital Technology Co., Ltd.")
    load_rows(
        ws,
        tmp_path,
        [
            ("A", a.name, "C", "Joint Venture C", "30", a.entity_id),
            ("B", b.name, "C", "Joint Venture C", "25", b.entity_id),
            ("A", a.name, "D", "Almost Company D", "49.9", a.entity_id),
        ],
    )
    joint = answer(ws, "C", REIMPOSED, "bis-affiliates")
    assert joint.status is Status.COVERED
    assert joint.covered_share == pytest.approx(55)
    assert {s.owner_id for s in joint.steps[0].stakes} == {"A", "B"}
    almost = answer(ws, "D", REIMPOSED, "bis-affiliates")
    assert almost.status is Status.NOT_COVERED
    assert almost.covered_share == pytest.approx(49.9)
    assert "49.9 %" in almost.summary()


def test_chains_count_only_through_covered_intermediaries(
    ws: Workspace, parties: list[Party], tmp_path: Path
) -> None:
    a = listed(parties, "EL", "Sugon")
    load_rows(
        ws,
        tmp_path,
        [
            ("A", a.name, "B", "Holding B", "100", a.entity_id),
            ("B", "", "C", "Operating C", "50", ""),
            ("A", a.name, "B2", "Minority B2", "40", a.entity_id),
            ("B2", "", "C2", "Operating C2", "100", ""),
        ],
    )
    c = answer(ws, "C", IN_FORCE, "bis-affiliates")
    assert c.status is Status.COVERED
    assert [s.entity_id for s in c.steps] == ["C", "B", "A"]
    assert c.chains == (f"Sugon [EL {a.entity_id}] 100 % → Holding B 50 % → Operating C",)
    assert answer(ws, "C2", IN_FORCE, "bis-affiliates").status is Status.NOT_COVERED
    assert answer(ws, "B2", IN_FORCE, "bis-affiliates").status is Status.NOT_COVERED


def test_a_cycle_terminates(ws: Workspace, parties: list[Party], tmp_path: Path) -> None:
    a = listed(parties, "EL", "Sugon")
    load_rows(
        ws,
        tmp_path,
        [
            ("A", a.name, "B", "Cycle B", "60", a.entity_id),
            ("B", "", "C", "Cycle C", "60", ""),
            ("C", "", "B", "", "60", ""),
            ("X", "Loop X", "Y", "Loop Y", "70", ""),
            ("Y", "", "X", "", "70", ""),
        ],
    )
    assert answer(ws, "Cycle C", IN_FORCE, "bis-affiliates").status is Status.COVERED
    b = answer(ws, "Cycle B", IN_FORCE, "bis-affiliates")
    assert b.status is Status.COVERED
    # B is covered by A alone (C was covered after B), so the chain ends at A.
    assert b.covered_share == pytest.approx(120)
    assert [s.entity_id for s in b.steps] == ["B", "A"]
    assert answer(ws, "Loop X", IN_FORCE, "bis-affiliates").status is Status.NOT_COVERED


def test_an_unknown_stake_is_flagged(ws: Workspace, parties: list[Party], tmp_path: Path) -> None:
    a = listed(parties, "EL", "Sugon")
    load_rows(
        ws,
        tmp_path,
        [
            ("A", a.name, "U", "Opaque Holdings", "", a.entity_id),
            ("U", "", "V", "Opaque Subsidiary", "100", ""),
        ],
    )
    flagged = answer(ws, "U", IN_FORCE, "bis-affiliates")
    assert flagged.status is Status.NEEDS_REVIEW
    assert [s.owner_id for s in flagged.unknown_stakes] == ["A"]
    assert flagged.unknown_stakes[0].percent is None
    assert "line 2" in flagged.unknown_stakes[0].record
    # Downstream of a needs-review entity: also needs review, never a pass.
    below = answer(ws, "V", IN_FORCE, "bis-affiliates")
    assert below.status is Status.NEEDS_REVIEW
    assert "NEEDS REVIEW" in below.summary()


def test_most_restrictive_owner_requirement_wins(
    ws: Workspace, parties: list[Party], tmp_path: Path
) -> None:
    el = listed(parties, "EL", "Sugon")
    sdn = listed(parties, "SDN", "OOO VOLGA GROUP")
    assert "RUSSIA-EO14024" in sdn.programs
    load_rows(
        ws,
        tmp_path,
        [
            ("EL1", el.name, "M", "Mixed Owners M", "30", el.entity_id),
            ("SDN1", sdn.name, "M", "Mixed Owners M", "30", sdn.entity_id),
        ],
    )
    mixed = answer(ws, "M", IN_FORCE, "bis-affiliates")
    assert mixed.status is Status.COVERED
    assert {p for p, _ in mixed.owner_requirements} == {el.entity_id, sdn.entity_id}
    assert mixed.requirement is not None
    assert mixed.requirement.policy == "policy of denial"
    assert "744.8" in mixed.requirement.citation
    data = explanation_json(mixed)
    assert data["requirement"]["policy"] == "policy of denial"
    assert data["period"]["effective_from"] == "2025-09-29"


def test_ofac_fifty_with_a_real_sdn(ws: Workspace, parties: list[Party], tmp_path: Path) -> None:
    sdn = listed(parties, "SDN", "BANCO NACIONAL DE CUBA")
    load_rows(
        ws, tmp_path, [("BNC", sdn.name, "F", "Fictitious Havana Leasing SA", "50", sdn.entity_id)]
    )
    blocked = answer(ws, "F", SUSPENDED, "ofac-50")
    assert blocked.status is Status.COVERED
    assert "blocked" in blocked.consequence
    assert blocked.steps[-1].listings[0].party_id == sdn.entity_id
    # CUBA is not a 744.8(a)(1) programme: no affiliates-rule coverage.
    assert answer(ws, "F", REIMPOSED, "bis-affiliates").status is Status.NOT_COVERED


def test_screening_finds_covered_entities(
    ws: Workspace, parties: list[Party], tmp_path: Path
) -> None:
    owner = listed(parties, "EL", "Sugon")
    load_rows(
        ws,
        tmp_path,
        [("A", owner.name, "Z", "Zephyr Quantum Computing GmbH", "75", owner.entity_id)],
    )
    screener = ownership_screener(ws, IN_FORCE)
    assert screener is not None
    hits = screener.screen(build_query("Zephyr Quantum Computing", limit=5)).hits
    assert [h.party.entity_id for h in hits] == ["ownership:bis-affiliates:Z"]
    assert hits[0].party.remarks is not None
    assert owner.entity_id in hits[0].party.remarks
    suspended = ownership_screener(ws, SUSPENDED)
    assert suspended is not None
    assert not suspended.screen(build_query("Zephyr Quantum Computing")).hits
