"""Batch screening on real lists: results, formats, resume, recording, decisions."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from batch_support import batch_workspace, yente_sample

from econsec.model.record import DecisionKind, HitKey, RunStatus
from econsec.screening import batch as batch_mod
from econsec.screening.batch import BatchError, BatchSettings, batch_screen, partial_dir
from econsec.screening.counterparties import read_counterparties, to_query
from econsec.screening.screen import Screener
from econsec.store.decisions import append_decision
from econsec.store.runs import get_run, hits_for_run, screened_for_run
from econsec.store.workspace import Workspace

__all__ = ["batch_workspace"]

pytestmark = pytest.mark.slow


def _jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _hit_set(records: list[dict[str, Any]]) -> set[tuple[str, str, float]]:
    return {
        (r["reference"], h["entity_id"], round(h["score"], 6)) for r in records for h in r["hits"]
    }


class SimulatedInterruptError(Exception):
    pass


def test_batch_equals_single_queries_and_is_recorded(
    batch_workspace: Workspace, screener: Screener, tmp_path: Path
) -> None:
    source = yente_sample(tmp_path, positives=150, negatives=150)
    out = tmp_path / "results.jsonl"
    settings = BatchSettings(chunk_size=40, workers=2)
    summary = batch_screen(batch_workspace, source, out, settings=settings, screener=screener)
    records = _jsonl(out)
    assert [r["row"] for r in records] == list(range(1, 301))
    expected = set()
    for cp in read_counterparties(source).counterparties:
        for hit in screener.screen(to_query(cp)).hits:
            expected.add((cp.reference, hit.party.entity_id, round(hit.match.score, 6)))
    assert _hit_set(records) == expected
    # The UN names are found (nearly all); the synthetic people are not flagged (nearly all).
    flagged = [r for r in records if r["hits"]]
    assert sum(int(r["reference"]) <= 150 for r in flagged) >= 145
    assert sum(int(r["reference"]) > 150 for r in flagged) <= 5
    assert summary.results["open"] == len(flagged)
    assert summary.chunks_screened == 8
    assert summary.chunks_reused == 0
    assert not partial_dir(out).exists()
    first = next(r for r in records if r["hits"])
    assert first["hits"][0]["explanation"].startswith("name ")
    assert first["hits"][0]["list_version_id"] in {v.version_id for v in screener.versions}

    run = get_run(batch_workspace, summary.run.run_id)
    assert run.status is RunStatus.COMPLETED
    assert run.output_file == str(out)
    assert run.row_count == 300
    assert {v.version_id for v in run.list_versions} == {v.version_id for v in screener.versions}
    assert len(screened_for_run(batch_workspace, run.run_id)) == 300
    stored = {
        (h.key.counterparty_reference, h.key.entity_id)
        for h in hits_for_run(batch_workspace, run.run_id)
    }
    assert stored == {(r, e) for r, e, _ in expected}


def test_formats_hold_the_same_results(
    batch_workspace: Workspace, screener: Screener, tmp_path: Path
) -> None:
    source = yente_sample(tmp_path, positives=30, negatives=30)
    settings = BatchSettings(chunk_size=25, workers=1)
    outs = {}
    for ext in ("jsonl", "csv", "parquet"):
        outs[ext] = tmp_path / f"results.{ext}"
        batch_screen(batch_workspace, source, outs[ext], settings=settings, screener=screener)
    records = _jsonl(outs["jsonl"])
    with outs["csv"].open(encoding="utf-8", newline="") as fh:
        csv_rows = list(csv.DictReader(fh))
    parquet_rows = pq.read_table(outs["parquet"]).to_pylist()
    for rows in (csv_rows, parquet_rows):
        # Every counterparty is accounted for: one row per hit, one per counterparty without.
        assert {r["reference"] for r in rows} == {r["reference"] for r in records}
        got = {
            (r["reference"], r["entity_id"], round(float(r["score"]), 6))
            for r in rows
            if r["entity_id"]
        }
        assert got == _hit_set(records)
        no_hit = {r["reference"] for r in rows if r["result"] == "no_hit"}
        assert no_hit == {r["reference"] for r in records if not r["hits"]}


def test_resume_after_interruption(
    batch_workspace: Workspace, screener: Screener, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = yente_sample(tmp_path, positives=60, negatives=140)
    settings = BatchSettings(chunk_size=25, workers=1)
    reference = tmp_path / "uninterrupted.jsonl"
    batch_screen(batch_workspace, source, reference, settings=settings, screener=screener)

    out = tmp_path / "results.jsonl"
    out.write_text("previous results\n", encoding="utf-8")
    calls: list[int] = []

    def stop_after_three_chunks(done: int, total: int) -> None:
        calls.append(done)
        if done >= 75:
            raise SimulatedInterruptError

    with pytest.raises(SimulatedInterruptError):
        batch_screen(
            batch_workspace,
            source,
            out,
            settings=settings,
            screener=screener,
            progress=stop_after_three_chunks,
        )
    # The output was not touched; three finished chunks wait in the partial folder.
    assert out.read_text(encoding="utf-8") == "previous results\n"
    chunks = sorted(partial_dir(out).glob("chunk-*.jsonl"))
    assert len(chunks) == 3
    manifest = json.loads((partial_dir(out) / "manifest.json").read_text())
    assert get_run(batch_workspace, manifest["run_id"]).status is RunStatus.FAILED

    screened: list[str] = []
    original = batch_mod.ScreenJob.screen_row

    def counting(self: batch_mod.ScreenJob, cp: Any) -> tuple[list[dict[str, Any]], str]:
        screened.append(cp.reference)
        return original(self, cp)

    monkeypatch.setattr(batch_mod.ScreenJob, "screen_row", counting)
    summary = batch_screen(batch_workspace, source, out, settings=settings, screener=screener)
    # Finished chunks were not screened again (one extra call checks the settings).
    assert summary.chunks_reused == 3
    assert summary.chunks_screened == 5
    assert len(screened) == 1 + 125
    assert sorted(set(screened[1:]), key=int) == [str(i) for i in range(76, 201)]
    assert summary.run.run_id == manifest["run_id"]
    assert get_run(batch_workspace, manifest["run_id"]).status is RunStatus.COMPLETED
    assert _jsonl(out) == _jsonl(reference)
    assert len(screened_for_run(batch_workspace, summary.run.run_id)) == 200


def test_changed_input_refuses_partial_state(
    batch_workspace: Workspace, screener: Screener, tmp_path: Path
) -> None:
    source = yente_sample(tmp_path, positives=20, negatives=40)
    settings = BatchSettings(chunk_size=20, workers=1)
    out = tmp_path / "results.csv"

    def stop(done: int, total: int) -> None:
        if done >= 20:
            raise SimulatedInterruptError

    with pytest.raises(SimulatedInterruptError):
        batch_screen(
            batch_workspace, source, out, settings=settings, screener=screener, progress=stop
        )
    with source.open("a", encoding="utf-8") as fh:
        fh.write("Someone New,,,,,,,\n")
    with pytest.raises(BatchError, match=r"input_sha256.*--restart"):
        batch_screen(batch_workspace, source, out, settings=settings, screener=screener)
    with pytest.raises(BatchError, match="threshold"):
        batch_screen(
            batch_workspace,
            source,
            out,
            settings=BatchSettings(chunk_size=20, workers=1, threshold=0.9),
            screener=screener,
            restart=False,
        )
    summary = batch_screen(
        batch_workspace, source, out, settings=settings, screener=screener, restart=True
    )
    assert summary.rows == 61
    assert summary.chunks_reused == 0


def test_cleared_hit_stays_cleared_until_the_counterparty_changes(
    batch_workspace: Workspace, screener: Screener, tmp_path: Path
) -> None:
    source = yente_sample(tmp_path, positives=5, negatives=0)
    settings = BatchSettings(workers=1)
    first = batch_screen(
        batch_workspace, source, tmp_path / "first.jsonl", settings=settings, screener=screener
    )
    record = next(r for r in _jsonl(tmp_path / "first.jsonl") if r["hits"])
    hit = record["hits"][0]
    key = HitKey(
        record["reference"], record["counterparty_hash"], hit["entity_id"], hit["party_hash"]
    )
    append_decision(
        batch_workspace,
        key,
        DecisionKind.CLEARED,
        "A. Reviewer",
        "different date of birth on the passport",
        run_id=first.run.run_id,
    )
    batch_screen(
        batch_workspace, source, tmp_path / "second.jsonl", settings=settings, screener=screener
    )
    again = next(
        r for r in _jsonl(tmp_path / "second.jsonl") if r["reference"] == record["reference"]
    )
    cleared = next(h for h in again["hits"] if h["entity_id"] == hit["entity_id"])
    assert cleared["status"] == "cleared"
    assert cleared["decision"]["reviewer"] == "A. Reviewer"
    assert cleared["decision"]["reason"] == "different date of birth on the passport"
    if len(again["hits"]) == 1:
        assert again["result"] == "cleared"
    # The counterparty's record changes (a date of birth is added): a new key, a new alert.
    rows = list(csv.DictReader(source.open(encoding="utf-8", newline="")))
    rows[int(record["reference"]) - 1]["date_of_birth"] = "1901"
    with source.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    batch_screen(
        batch_workspace, source, tmp_path / "third.jsonl", settings=settings, screener=screener
    )
    third = next(
        r for r in _jsonl(tmp_path / "third.jsonl") if r["reference"] == record["reference"]
    )
    assert all(h["status"] == "open" for h in third["hits"])


def test_skip_bad_writes_an_errors_file(
    batch_workspace: Workspace, screener: Screener, tmp_path: Path
) -> None:
    from conftest import TESTS_DATA  # noqa: PLC0415

    out = tmp_path / "results.csv"
    summary = batch_screen(
        batch_workspace,
        TESTS_DATA / "batch" / "bad_rows.csv",
        out,
        skip_bad=True,
        settings=BatchSettings(workers=1),
        screener=screener,
    )
    assert summary.rows == 4  # two rows screened without their bad field
    assert summary.errors == 3
    assert summary.errors_file is not None
    with summary.errors_file.open(encoding="utf-8", newline="") as fh:
        errors = list(csv.DictReader(fh))
    assert [(e["row"], e["field"], e["action"]) for e in errors] == [
        ("2", "country", "screened without this field"),
        ("3", "date_of_birth", "screened without this field"),
        ("4", "name", "row set aside"),
    ]
