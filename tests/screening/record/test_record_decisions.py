"""Decisions on hits: validation, supersession, "cleared stays cleared", the hash chain.

Runs are recorded from real screening against the real Denied Persons List
bytes (the recorded excerpt in tests/data), loaded into a fresh workspace; new
list editions are that file with one entry edited, loaded as the next version.
"""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import pytest
from record_helpers import DPL_NAME, DPL_STREET, load_dpl_edition, record_run

from econsec.model.record import Counterparty, DecisionKind, HitKey, ScreenedHit
from econsec.screening import Screener
from econsec.screening.record import (
    DecisionError,
    NotInRecordError,
    decide,
    parse_decision_kind,
    standing,
)
from econsec.store import Workspace
from econsec.store.decisions import (
    all_decisions,
    append_decision,
    decision_history,
    latest_decisions,
    verify_chain,
)

ALICE = "Alice Analyst"
VILLA = Counterparty("C-001", DPL_NAME.title(), "Person", ("US",))
NOBODY = Counterparty("C-002", "Zebediah Quillfeather Ostrander", "Person")


@pytest.fixture
def dpl(workspace: Workspace, tmp_path: Path) -> Screener:
    """The workspace with the first DPL edition loaded; a screener over it."""
    return load_dpl_edition(workspace, tmp_path / "edition1")


def _villa_hit(hits: list[ScreenedHit]) -> ScreenedHit:
    [hit] = [h for h in hits if h.key.counterparty_reference == VILLA.reference]
    return hit


def _run1(workspace: Workspace, dpl: Screener, tmp_path: Path) -> ScreenedHit:
    _, hits = record_run(workspace, dpl, [VILLA, NOBODY], "run-1", tmp_path / "in")
    return _villa_hit(hits)


# -- validation ------------------------------------------------------------------


def test_the_recorded_hit_is_real(workspace: Workspace, dpl: Screener, tmp_path: Path) -> None:
    hit = _run1(workspace, dpl, tmp_path)
    assert hit.key.entity_id.startswith("bis_dpl:")
    assert hit.list == "DPL"
    assert hit.score >= 0.8
    assert hit.key.counterparty_hash == VILLA.content_hash()


def test_decision_is_keyed_by_the_hit_as_recorded(
    workspace: Workspace, dpl: Screener, tmp_path: Path
) -> None:
    hit = _run1(workspace, dpl, tmp_path)
    before = dt.datetime.now(dt.UTC)
    d = decide(
        workspace,
        "run-1",
        "C-001",
        hit.key.entity_id,
        DecisionKind.CLEARED,
        f"  {ALICE} ",
        " different date of birth ",
    )
    assert d.key == hit.key
    assert (d.reviewer, d.reason, d.run_id) == (ALICE, "different date of birth", "run-1")
    decided = dt.datetime.fromisoformat(d.decided_at)
    assert decided.utcoffset() == dt.timedelta(0)
    assert before <= decided <= dt.datetime.now(dt.UTC)
    assert all_decisions(workspace) == [d]
    assert latest_decisions(workspace, [hit.key]) == {hit.key: d}


@pytest.mark.parametrize(
    ("kind", "reviewer", "reason", "message"),
    [
        (DecisionKind.CLEARED, "", "not the same person", "reviewer: "),
        (DecisionKind.CONFIRMED, "   ", "", "reviewer: "),
        (DecisionKind.CLEARED, ALICE, "", "reason: clearing"),
        (DecisionKind.CLEARED, ALICE, "  \n ", "reason: clearing"),
    ],
)
def test_missing_reviewer_or_reason_is_refused(
    workspace: Workspace,
    dpl: Screener,
    tmp_path: Path,
    kind: DecisionKind,
    reviewer: str,
    reason: str,
    message: str,
) -> None:
    hit = _run1(workspace, dpl, tmp_path)
    with pytest.raises(DecisionError, match=message):
        decide(workspace, "run-1", "C-001", hit.key.entity_id, kind, reviewer, reason)
    with pytest.raises(DecisionError, match=message):
        append_decision(workspace, hit.key, kind, reviewer, reason)
    assert all_decisions(workspace) == []


def test_confirming_or_escalating_needs_no_reason(
    workspace: Workspace, dpl: Screener, tmp_path: Path
) -> None:
    hit = _run1(workspace, dpl, tmp_path)
    for kind in (DecisionKind.ESCALATED, DecisionKind.CONFIRMED):
        decide(workspace, "run-1", "C-001", hit.key.entity_id, kind, ALICE)
    assert [d.kind for d in all_decisions(workspace)] == [
        DecisionKind.ESCALATED,
        DecisionKind.CONFIRMED,
    ]


def test_unknown_run_reference_or_entity_is_named(
    workspace: Workspace, dpl: Screener, tmp_path: Path
) -> None:
    hit = _run1(workspace, dpl, tmp_path)
    entity = hit.key.entity_id
    cases = [
        (("run-9", "C-001", entity), r"run_id: no screening run 'run-9'"),
        (("run-1", "C-404", entity), r"reference: no counterparty 'C-404' was screened in run"),
        (("run-1", "C-002", entity), r"reference: counterparty 'C-002' was screened .* no hit"),
        (("run-1", "C-001", "bis_dpl:0000"), rf"entity_id: .*'bis_dpl:0000'.*: {entity}"),
    ]
    for (run_id, reference, entity_id), message in cases:
        with pytest.raises(NotInRecordError, match=message):
            decide(workspace, run_id, reference, entity_id, DecisionKind.CLEARED, ALICE, "x")
    assert all_decisions(workspace) == []
    assert verify_chain(workspace).entries == 0


def test_decision_names_are_parsed() -> None:
    assert parse_decision_kind("cleared") is DecisionKind.CLEARED
    assert parse_decision_kind("Confirmed") is DecisionKind.CONFIRMED
    assert parse_decision_kind("escalated") is DecisionKind.ESCALATED
    assert parse_decision_kind("cleared_false_positive") is DecisionKind.CLEARED
    with pytest.raises(DecisionError, match="decision: unknown decision 'waved'"):
        parse_decision_kind("waved")


# -- supersession and standing ---------------------------------------------------------


def test_a_later_decision_supersedes_and_both_are_kept(
    workspace: Workspace, dpl: Screener, tmp_path: Path
) -> None:
    hit = _run1(workspace, dpl, tmp_path)
    entity = hit.key.entity_id
    first = decide(workspace, "run-1", "C-001", entity, DecisionKind.ESCALATED, ALICE)
    second = decide(
        workspace, "run-1", "C-001", entity, DecisionKind.CLEARED, "Bob Boss", "born 1990"
    )
    assert latest_decisions(workspace, [hit.key]) == {hit.key: second}
    assert decision_history(workspace, [hit.key]) == {hit.key: [first, second]}
    assert second.previous_hash == first.entry_hash
    assert first.previous_hash == ""
    [(paired, standing_decision)] = standing(workspace, [hit])
    assert paired == hit
    assert standing_decision == second
    assert verify_chain(workspace).ok


def test_cleared_stays_cleared_on_a_new_edition_with_the_entry_unchanged(
    workspace: Workspace, dpl: Screener, tmp_path: Path
) -> None:
    hit = _run1(workspace, dpl, tmp_path)
    cleared = decide(
        workspace, "run-1", "C-001", hit.key.entity_id, DecisionKind.CLEARED, ALICE, "born 1990"
    )
    # The next edition changes another entry only: a new list version ...
    edition2 = load_dpl_edition(
        workspace,
        tmp_path / "edition2",
        lambda text: text.replace(
            '"ABDIEL PADRON MADRID"\t"INMATE', '"ABDIEL PADRON MADRID"\t"CELL'
        ),
    )
    assert edition2.versions != dpl.versions
    _, hits = record_run(workspace, edition2, [VILLA, NOBODY], "run-2", tmp_path / "in")
    rescreened = _villa_hit(hits)
    assert rescreened.list_version_id != hit.list_version_id
    # ... but the same key, so the clearance stands and the hit is not a new alert.
    assert rescreened.key == hit.key
    assert standing(workspace, [rescreened]) == [(rescreened, cleared)]


def test_a_changed_list_entry_makes_the_hit_open_again(
    workspace: Workspace, dpl: Screener, tmp_path: Path
) -> None:
    hit = _run1(workspace, dpl, tmp_path)
    decide(workspace, "run-1", "C-001", hit.key.entity_id, DecisionKind.CLEARED, ALICE, "born 1990")
    # The publisher changes the listed person's address.
    edition2 = load_dpl_edition(
        workspace,
        tmp_path / "edition2",
        lambda text: text.replace(DPL_STREET, '"1200 MESA STREET"'),
    )
    _, hits = record_run(workspace, edition2, [VILLA], "run-2", tmp_path / "in")
    rescreened = _villa_hit(hits)
    assert rescreened.key.entity_id == hit.key.entity_id
    assert rescreened.key.counterparty_hash == hit.key.counterparty_hash
    assert rescreened.key.party_hash != hit.key.party_hash
    assert standing(workspace, [rescreened]) == [(rescreened, None)]
    # The decision on the old content still stands for the old hit.
    assert standing(workspace, [hit])[0][1] is not None


def test_a_changed_counterparty_makes_the_hit_open_again(
    workspace: Workspace, dpl: Screener, tmp_path: Path
) -> None:
    hit = _run1(workspace, dpl, tmp_path)
    decide(workspace, "run-1", "C-001", hit.key.entity_id, DecisionKind.CLEARED, ALICE, "other")
    edited = Counterparty(VILLA.reference, VILLA.name, "Person", ("US",), ("1990-05-01",))
    _, hits = record_run(workspace, dpl, [edited], "run-2", tmp_path / "in")
    rescreened = _villa_hit(hits)
    assert rescreened.key.entity_id == hit.key.entity_id
    assert rescreened.key.party_hash == hit.key.party_hash
    assert rescreened.key.counterparty_hash != hit.key.counterparty_hash
    assert standing(workspace, [rescreened]) == [(rescreened, None)]


def test_no_decisions_in_a_workspace_that_does_not_exist(tmp_path: Path) -> None:
    empty = Workspace(tmp_path / "none")
    key = HitKey("C-1", "a" * 64, "x:1", "b" * 64)
    assert latest_decisions(empty, [key]) == {}
    assert latest_decisions(empty, []) == {}
    assert verify_chain(empty).ok
    assert not empty.exists()


# -- the hash chain ---------------------------------------------------------------------


def _three_decisions(workspace: Workspace, dpl: Screener, tmp_path: Path) -> None:
    hit = _run1(workspace, dpl, tmp_path)
    entity = hit.key.entity_id
    decide(workspace, "run-1", "C-001", entity, DecisionKind.ESCALATED, ALICE)
    decide(workspace, "run-1", "C-001", entity, DecisionKind.CLEARED, ALICE, "born 1990")
    decide(workspace, "run-1", "C-001", entity, DecisionKind.CONFIRMED, "Bob Boss", "same")


def test_an_intact_log_verifies_and_is_pinned_by_its_last_hash(
    workspace: Workspace, dpl: Screener, tmp_path: Path
) -> None:
    _three_decisions(workspace, dpl, tmp_path)
    result = verify_chain(workspace)
    assert result.ok
    assert result.entries == 3
    assert result.last_entry_hash == all_decisions(workspace)[-1].entry_hash
    assert "verified: 3 entries" in result.describe()


@pytest.mark.parametrize(
    ("sql", "seq", "problem"),
    [
        ("UPDATE decisions SET reason = 'looked fine' WHERE seq = 2", 2, "was edited"),
        ("UPDATE decisions SET reviewer = 'Mallory' WHERE seq = 1", 1, "was edited"),
        ("UPDATE decisions SET kind = 'waved' WHERE seq = 3", 3, "unreadable"),
        ("DELETE FROM decisions WHERE seq = 2", 3, "deleted or renumbered"),
        # Deleted and renumbered to hide the gap:
        (
            "DELETE FROM decisions WHERE seq = 2; UPDATE decisions SET seq = 2 WHERE seq = 3",
            2,
            "previous_hash does not match",
        ),
    ],
)
def test_tampering_is_detected_at_the_first_altered_entry(
    workspace: Workspace, dpl: Screener, tmp_path: Path, sql: str, seq: int, problem: str
) -> None:
    _three_decisions(workspace, dpl, tmp_path)
    ids = [d.decision_id for d in all_decisions(workspace)]
    with workspace.connect() as con:
        con.execute(sql)
    result = verify_chain(workspace)
    assert not result.ok
    assert result.broken_seq == seq
    assert result.problem is not None
    assert problem in result.problem
    assert result.broken_decision_id in ids
    assert f"BROKEN at entry {seq}" in result.describe()


def test_concurrent_appends_keep_one_chain(
    workspace: Workspace, dpl: Screener, tmp_path: Path
) -> None:
    hit = _run1(workspace, dpl, tmp_path)
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            for i in range(4):
                append_decision(workspace, hit.key, DecisionKind.ESCALATED, f"reviewer {n}.{i}")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    log = all_decisions(workspace)
    assert len(log) == 20
    assert len({d.previous_hash for d in log}) == 20
    assert verify_chain(workspace).ok
