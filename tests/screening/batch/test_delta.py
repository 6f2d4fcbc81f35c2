"""Delta screening after a new CSL edition equals a full re-screen, and says what changed."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from batch_support import yente_sample

from conftest import shared_file
from econsec.lists import SOURCES, Target, load
from econsec.screening.batch import BatchSettings, batch_screen
from econsec.screening.delta import rescreen
from econsec.screening.screen import Screener
from econsec.store.runs import get_run, rows_sharing_keys
from econsec.store.workspace import Workspace

pytestmark = pytest.mark.slow


def _jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _hits(records: list[dict[str, Any]]) -> set[tuple[str, str, float]]:
    return {
        (r["reference"], h["entity_id"], round(h["score"], 6)) for r in records for h in r["hits"]
    }


def _load(workspace: Workspace, path: Path) -> None:
    source = SOURCES["us_csl"]
    load(Target(path=path, format=source.format, source=source), workspace)


def _publish(
    workspace: Workspace, path: Path, header: list[str], rows: list[dict[str, str]]
) -> Screener:
    """Write a CSL edition, load it, and return a screener over the lists now active."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=header, quoting=csv.QUOTE_ALL)
        writer.writeheader()
        writer.writerows(rows)
    _load(workspace, path)
    return Screener.from_workspace(workspace)


def test_delta_equals_full_rescreen(tmp_path: Path) -> None:
    original = shared_file("lists/us_csl_2026-07-31.csv")
    workspace = Workspace(tmp_path / "ws")
    _load(workspace, original)
    old_screener = Screener.from_workspace(workspace)

    counterparties = yente_sample(tmp_path, positives=200, negatives=400)
    with counterparties.open("a", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerow(["NEWLY LISTED TRADING FZE", "", "", "", "", "", "", ""])
    settings = BatchSettings(workers=1, chunk_size=200)
    base = batch_screen(
        workspace, counterparties, tmp_path / "base.jsonl", settings=settings, screener=old_screener
    )
    base_records = _jsonl(tmp_path / "base.jsonl")
    hit_entities = [h["entity_id"].split(":", 1)[1] for r in base_records for h in r["hits"]]
    assert len(set(hit_entities)) >= 10

    # A new edition: three entries that were hit are delisted, one is renamed
    # beyond recognition, one gains a programme, one entry is added.
    with original.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        header = list(reader.fieldnames or [])
        rows = list(reader)
    targets = list(dict.fromkeys(hit_entities))
    removed, renamed, reprogrammed = targets[:3], targets[3], targets[4]
    new_rows = []
    for row in rows:
        if row["_id"] in removed:
            continue
        edited = dict(row)
        if row["_id"] == renamed:
            edited.update(name="QWXZ VRTLK UNRELATED", alt_names="")
        if row["_id"] == reprogrammed:
            edited["programs"] = row["programs"] + "; NEW-PROGRAM"
        new_rows.append(edited)
    new_rows.append(dict(rows[0], _id="e" * 56, name="NEWLY LISTED TRADING FZE", alt_names=""))
    new_screener = _publish(workspace, tmp_path / "us_csl_2026-08-07.csv", header, new_rows)

    delta = rescreen(
        workspace,
        base.run.run_id,
        tmp_path / "delta.jsonl",
        settings=settings,
        screener=new_screener,
    )
    full = batch_screen(
        workspace, counterparties, tmp_path / "full.jsonl", settings=settings, screener=new_screener
    )
    delta_records = _jsonl(tmp_path / "delta.jsonl")
    assert _hits(delta_records) == _hits(_jsonl(tmp_path / "full.jsonl"))
    # Only rows with hits before, or sharing an index key with an entry added,
    # removed or changed, were screened again.
    assert delta.rescreened is not None
    assert delta.rescreened < full.rows / 2
    assert delta.new_hits >= 1
    assert delta.vanished_hits >= 4
    assert delta.changed_hits >= 1
    assert get_run(workspace, delta.run.run_id).based_on_run == base.run.run_id

    newly = next(r for r in delta_records if r["name"] == "NEWLY LISTED TRADING FZE")
    assert [h["change"] for h in newly["hits"]] == ["new"]
    vanished = {
        h["entity_id"].split(":", 1)[1] for r in delta_records for h in r.get("vanished_hits", [])
    }
    assert set(removed) | {renamed} <= vanished
    changes = {
        h["entity_id"].split(":", 1)[1]: h["change"] for r in delta_records for h in r["hits"]
    }
    assert changes[reprogrammed] == "changed"
    assert "unchanged" in changes.values()

    # A third edition, screened as a delta on the delta run: rows that run did
    # not screen again inherited their index keys, so the key filter still
    # applies, and an entry named like a row without hits is found.
    assert rows_sharing_keys(workspace, delta.run.run_id, ["no-such-key"]) == set()
    quiet = next(
        r for r in delta_records if not r["hits"] and r["name"] != "NEWLY LISTED TRADING FZE"
    )
    new_rows.append(dict(rows[0], _id="f" * 56, name=quiet["name"], alt_names=""))
    third_screener = _publish(workspace, tmp_path / "us_csl_2026-08-14.csv", header, new_rows)
    again = rescreen(
        workspace,
        delta.run.run_id,
        tmp_path / "delta2.jsonl",
        settings=settings,
        screener=third_screener,
    )
    full2 = batch_screen(
        workspace,
        counterparties,
        tmp_path / "full2.jsonl",
        settings=settings,
        screener=third_screener,
    )
    again_records = _jsonl(tmp_path / "delta2.jsonl")
    assert _hits(again_records) == _hits(_jsonl(tmp_path / "full2.jsonl"))
    assert again.rescreened is not None
    assert again.rescreened < full2.rows / 2
    found = next(r for r in again_records if r["reference"] == quiet["reference"])
    assert [h["change"] for h in found["hits"]] == ["new"]
