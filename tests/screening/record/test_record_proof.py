"""The proof of screening, from a run screened against every real list.

The run screens real names that must be found (the yente UN positives), a
name listed on the SDN list under a counterparty reference with markup in it,
and a made-up name, with the session screener over every list in
../shared/data; decisions are then taken on some of the hits.
"""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import pytest
from record_helpers import elements, parse_html, record_run

from conftest import shared_file
from econsec.model.record import Counterparty, DecisionKind, ScreenedHit, ScreeningRun
from econsec.screening import ALGORITHM, Screener
from econsec.screening.record import (
    OPEN,
    NotInRecordError,
    ProofFormat,
    RecordError,
    decide,
    export_proof,
    proof_html,
    proof_json,
    write_proof,
)
from econsec.store import Workspace
from econsec.store.decisions import all_decisions, verify_chain

pytestmark = pytest.mark.slow

EVIL = '<script>alert("x")</script>'
CLEAR_REASON = "born 1990 in Lyon; </td><script>document.title='pwned'</script>"


def _positives(count: int) -> list[Counterparty]:
    path = shared_file("matching/yente_positives_un_untreated.csv")
    with path.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))[:count]
    return [
        Counterparty(
            reference=f"P-{i}",
            name=row["full_name"],
            schema="Person",
            countries=(row["nationality"],) if row["nationality"] else (),
            dates_of_birth=(row["date_of_birth"],) if row["date_of_birth"] else (),
        )
        for i, row in enumerate(rows, start=1)
    ]


@pytest.fixture
def recorded(
    workspace: Workspace, screener: Screener, tmp_path: Path
) -> tuple[ScreeningRun, list[ScreenedHit]]:
    counterparties = [
        *_positives(4),
        Counterparty(EVIL, "Kim Jong Un", "Person"),
        Counterparty("N-1", "Zebediah Quillfeather Ostrander", "Person"),
    ]
    run, hits = record_run(workspace, screener, counterparties, "run-real", tmp_path / "in")
    assert {h.key.counterparty_reference for h in hits} >= {"P-1", EVIL}
    assert "N-1" not in {h.key.counterparty_reference for h in hits}
    p1 = next(h for h in hits if h.key.counterparty_reference == "P-1")
    kim = next(h for h in hits if h.key.counterparty_reference == EVIL)
    decide(workspace, run.run_id, "P-1", p1.key.entity_id, DecisionKind.CONFIRMED, "Ann Lee")
    decide(
        workspace, run.run_id, EVIL, kim.key.entity_id, DecisionKind.CLEARED, "Bo Ek", CLEAR_REASON
    )
    return run, hits


def test_proof_json_names_what_was_screened_against_what(
    workspace: Workspace,
    loaded_workspace: Workspace,
    screener: Screener,
    recorded: tuple[ScreeningRun, list[ScreenedHit]],
) -> None:
    run, hits = recorded
    data = proof_json(export_proof(workspace))
    json.dumps(data)  # serialisable as it is
    [entry] = data["runs"]
    shown = entry["run"]
    assert shown["run_id"] == run.run_id
    assert shown["input_sha256"] == hashlib.sha256(Path(run.input_file).read_bytes()).hexdigest()
    assert shown["row_count"] == entry["screened_count"] == 6
    assert (shown["algorithm"], shown["threshold"]) == (ALGORITHM, 0.8)
    active = loaded_workspace.versions(active_only=True)
    assert {
        (v["version_id"], v["content_hash"], v["entry_count"]) for v in shown["list_versions"]
    } == {(v.version_id, v.content_hash, v.entry_count) for v in active}
    assert {v["source"] for v in shown["list_versions"]} >= {"un_sc", "ofac_sdn", "us_csl"}
    assert entry["counts"] == {
        "hits": len(hits),
        OPEN: len(hits) - 2,
        DecisionKind.CONFIRMED.value: 1,
        DecisionKind.CLEARED.value: 1,
        DecisionKind.ESCALATED.value: 0,
    }
    assert [(h["counterparty_reference"], h["entity_id"]) for h in entry["hits"]] == [
        (h.key.counterparty_reference, h.key.entity_id) for h in hits
    ]
    by_status = {h["status"]: h for h in entry["hits"]}
    cleared = by_status[DecisionKind.CLEARED.value]
    assert cleared["counterparty_reference"] == EVIL
    [decision] = cleared["decisions"]
    assert (decision["reviewer"], decision["reason"]) == ("Bo Ek", CLEAR_REASON)
    assert by_status[DecisionKind.CONFIRMED.value]["decisions"][0]["reviewer"] == "Ann Lee"
    for h in entry["hits"]:
        if h["status"] == OPEN:
            assert h["decisions"] == []
    log = data["decision_log"]
    assert log["ok"] is True
    assert log["entries"] == 2
    assert log["last_entry_hash"] == all_decisions(workspace)[-1].entry_hash


def test_proof_html_is_readable_escaped_and_pins_the_log(
    workspace: Workspace,
    screener: Screener,
    recorded: tuple[ScreeningRun, list[ScreenedHit]],
    tmp_path: Path,
) -> None:
    run, hits = recorded
    proof = export_proof(workspace)
    out = tmp_path / "report" / "proof.html"
    write_proof(proof, out, ProofFormat.html)
    text = out.read_text(encoding="utf-8")
    assert text == proof_html(proof)
    doc = parse_html(text)
    assert elements(doc, "//script") == []
    assert elements(doc, "//link|//img|//iframe") == []  # self-contained
    page = doc.text_content()
    assert EVIL in page
    assert CLEAR_REASON in page
    [pin] = elements(doc, '//*[@id="last-entry-hash"]')
    assert pin.text_content() == verify_chain(workspace).last_entry_hash
    [section] = elements(doc, f'//section[@id="run-{run.run_id}"]')
    content = section.text_content()
    for version in screener.versions:
        assert version.content_hash in content
        assert version.version_id in content
    assert run.input_sha256 in content
    assert ALGORITHM in content
    assert len(elements(section, './/tr[@class="hit"]')) == len(hits)
    assert content.count("OPEN (undecided)") == len(hits) - 2
    assert "Ann Lee" in content
    assert "Bo Ek" in content


def test_scope_by_run_and_start_time(
    workspace: Workspace,
    screener: Screener,
    recorded: tuple[ScreeningRun, list[ScreenedHit]],
    tmp_path: Path,
) -> None:
    first, _ = recorded
    later, _ = record_run(
        workspace,
        screener,
        _positives(1),
        "run-later",
        tmp_path / "in",
        started_at="2026-09-01T08:00:00+00:00",
    )
    assert [r.run.run_id for r in export_proof(workspace).runs] == ["run-later", "run-real"]
    assert [r.run.run_id for r in export_proof(workspace, ["run-real"]).runs] == ["run-real"]
    assert [r.run.run_id for r in export_proof(workspace, since="2026-09-01").runs] == ["run-later"]
    # A date as `until` includes that whole day.
    assert [r.run.run_id for r in export_proof(workspace, until=first.started_at[:10]).runs] == [
        "run-real"
    ]
    assert export_proof(workspace, since="2027-01-01").runs == ()
    with pytest.raises(RecordError, match="since: 'last tuesday' is not an ISO date"):
        export_proof(workspace, since="last tuesday")
    with pytest.raises(RecordError, match="until: '2026-01-01' is before since"):
        export_proof(workspace, since="2026-02-01", until="2026-01-01")
    with pytest.raises(NotInRecordError, match="run_id: no screening run 'run-x'"):
        export_proof(workspace, ["run-x"])
    assert later.run_id == "run-later"


def test_a_broken_log_shows_in_the_proof(
    workspace: Workspace, recorded: tuple[ScreeningRun, list[ScreenedHit]]
) -> None:
    with workspace.connect() as con:
        con.execute("UPDATE decisions SET reason = 'fine' WHERE seq = 2")
    proof = export_proof(workspace)
    assert not proof.log.ok
    assert proof.log.broken_seq == 2
    assert proof_json(proof)["decision_log"]["ok"] is False
    doc = parse_html(proof_html(proof))
    [box] = elements(doc, '//*[@id="decision-log"]')
    assert box.get("class") == "broken"
    assert "BROKEN at entry 2" in box.text_content()


def test_proof_is_written_atomically(
    workspace: Workspace,
    recorded: tuple[ScreeningRun, list[ScreenedHit]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out = tmp_path / "proof.json"
    proof = export_proof(workspace)
    write_proof(proof, out, ProofFormat.json)
    first = out.read_bytes()
    assert json.loads(first) == proof_json(proof)

    def refuse(src: str, dst: Path) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("econsec.screening.record.os.replace", refuse)
    with pytest.raises(OSError, match="disk full"):
        write_proof(export_proof(workspace), out, ProofFormat.html)
    assert out.read_bytes() == first
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == ["proof.json"]
