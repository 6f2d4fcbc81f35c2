"""Batch screening throughput, recall through the batch path, and delta vs full re-screen.

Loads every list in ../shared/data/lists into a fresh workspace, then:

1. batch-screens the yente negative files (50,000 global + 50,000 US) plus the
   positive files through the real batch path (read the file, screen in
   chunks on every core, write the results, record the run) and prints rows
   per second per core (target ≥ 1,000), against the baseline: the same rows
   screened one at a time through ``Screener.screen`` in a plain loop;
2. recall@3 of the positive files through the batch path (each set against
   the list it comes from, as benchmarks/screening_quality.py does);
3. a new CSL edition (entries removed, added and changed, some of them hit) and
   the time of a delta re-screen of the first batch against a full re-screen of
   the same rows, checking both give the same hits.

Usage: python benchmarks/batch_screening.py [--rows N] [--baseline-rows N] [--workers N]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, cast

import pyarrow.parquet as pq

from econsec.lists import SOURCES, Target, default_targets, load
from econsec.screening import evaluation as ev
from econsec.screening.batch import BatchSettings, batch_screen
from econsec.screening.counterparties import read_counterparties, to_query
from econsec.screening.delta import rescreen
from econsec.screening.names import warm_up
from econsec.screening.screen import Screener
from econsec.settings import data_dir
from econsec.store.workspace import Workspace

NEGATIVES = ("yente_negatives_global.csv", "yente_negatives_us.csv")
POSITIVES = (
    "yente_positives_un_untreated.csv",
    "yente_positives_un_treated.csv",
    "yente_positives_us_congress_untreated.csv",
)


def _combined(matching: Path, out: Path, rows: int | None) -> int:
    """The negatives and positives in one counterparty file (negatives first)."""
    written = 0
    with out.open("w", encoding="utf-8", newline="") as fh:
        writer: csv.DictWriter[str] | None = None
        for name in NEGATIVES + POSITIVES:
            with (matching / name).open(encoding="utf-8", newline="") as src:
                for row in csv.DictReader(src):
                    if rows is not None and written >= rows:
                        return written
                    if writer is None:
                        writer = csv.DictWriter(fh, fieldnames=list(row))
                        writer.writeheader()
                    writer.writerow(row)
                    written += 1
    return written


def _hit_table(path: Path) -> list[dict[str, Any]]:
    """Rows of a Parquet results file (one per hit, or per counterparty without hits)."""
    return cast(list[dict[str, Any]], pq.read_table(path).to_pylist())


def _hit_entities(path: Path) -> set[str]:
    return {r["entity_id"] for r in _hit_table(path) if r.get("entity_id")}


def _hit_pairs(path: Path) -> set[tuple[str, str, float]]:
    """(reference, entity, score) of every hit reported (not the vanished ones a
    delta lists)."""
    return {
        (r["reference"], r["entity_id"], round(r["score"], 6))
        for r in _hit_table(path)
        if r.get("entity_id") and r.get("change") != "vanished"
    }


def _names_without_hits(path: Path, count: int) -> list[str]:
    """Names of counterparties without hits, to list as new entries."""
    names = [r["name"] for r in _hit_table(path) if not r.get("entity_id") and r.get("name")]
    return names[:: max(1, len(names) // count)][:count]


def _records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, help="only the first N rows of the combined file")
    parser.add_argument("--baseline-rows", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    data = data_dir()
    if data is None:
        print("no ../shared/data folder (set ECONSEC_DATA)", file=sys.stderr)
        return 2
    matching = data / "matching"
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        workspace = Workspace(tmp / "ws")
        for list_target in default_targets(data):
            load(list_target, workspace)
        screener = Screener.from_workspace(workspace)
        warm_up()
        print(f"index: {len(screener.parties)} entries, built in {screener.build_seconds:.1f}s")

        source = tmp / "counterparties.csv"
        rows = _combined(matching, source, args.rows)
        settings = BatchSettings(workers=args.workers)
        out = tmp / "results.parquet"
        # The "treated" positives carry clerical noise such as impossible dates of
        # birth: those rows are screened by name without the bad date (listed in
        # the errors file).
        summary = batch_screen(
            workspace, source, out, settings=settings, screener=screener, skip_bad=True
        )
        per_core = rows / summary.seconds / args.workers
        print(
            f"batch: {rows} rows in {summary.seconds:.1f}s on {args.workers} workers = "
            f"{rows / summary.seconds:.0f} rows/s, {per_core:.0f} rows/s per core "
            f"(target >= 1000); {summary.results['open']} counterparties with hits; "
            f"{summary.errors} bad fields left out (errors file)"
        )

        cps = read_counterparties(source, skip_bad=True).counterparties[: args.baseline_rows]
        started = time.perf_counter()
        for cp in cps:
            screener.screen(to_query(cp))
        baseline = len(cps) / (time.perf_counter() - started)
        print(
            f"baseline: Screener.screen one row at a time, {len(cps)} rows: {baseline:.0f} rows/s"
            f" on one core; batch per core / baseline = {per_core / baseline:.2f}, "
            f"batch total / baseline = {rows / summary.seconds / baseline:.2f}"
        )

        for label, files, lists, target in (
            ("UN untreated", POSITIVES[0], ("un_sc",), "un_sc"),
            ("UN treated", POSITIVES[1], ("un_sc",), "un_sc"),
            ("US Congress", POSITIVES[2], ("os_us_congress",), "os_us_congress"),
        ):
            parties = [p for p in screener.parties if p.source == target]
            labelled, treated = ev.label_positives(
                matching / POSITIVES[0] if target == "un_sc" else matching / files,
                matching / POSITIVES[1] if target == "un_sc" else None,
                parties,
                lists,
            )
            truth = treated if label == "UN treated" else labelled
            result = tmp / f"positives-{target}-{len(label)}.jsonl"
            positives = batch_screen(
                workspace,
                matching / files,
                result,
                settings=BatchSettings(workers=args.workers, lists=lists),
                screener=screener,
                skip_bad=True,
            )
            # Row n of the batch is data row n of the file (line n + 1).
            by_line = {r["row"] + 1: r for r in _records(result)}
            found = total = 0
            for lab in truth:
                if not lab.truth:
                    continue
                total += 1
                record = by_line.get(lab.line)
                ids = {h["entity_id"] for h in record["hits"][:3]} if record else set()
                found += bool(lab.truth & ids)
            print(
                f"recall@3 via batch, {label:13s} {found / total:.4f} ({found}/{total}; "
                f"{positives.errors} bad fields left out)"
            )

        # Delta: a new CSL edition with entries removed, added and changed, some of
        # them entries the first batch hit, re-screened as a delta on that batch
        # (all its rows) and in full.
        hit_ids = _hit_entities(out)
        csl = SOURCES["us_csl"]
        original = next(t.path for t in default_targets(data) if t.source is csl)
        with original.open(encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            header = list(reader.fieldnames or [])
            csl_rows = list(reader)
        hit_rows = [r for r in csl_rows if f"us_csl:{r['_id']}" in hit_ids]
        quiet_rows = [r for r in csl_rows if f"us_csl:{r['_id']}" not in hit_ids]
        removed = {r["_id"] for r in hit_rows[:10] + quiet_rows[:40]}
        changed = {r["_id"] for r in hit_rows[10:20] + quiet_rows[40:50]}
        edited = []
        for row in csl_rows:
            if row["_id"] in removed:
                continue
            copy = dict(row)
            if copy["_id"] in changed:
                copy["programs"] += "; NEW-PROGRAM"
            edited.append(copy)
        newcomers = _names_without_hits(out, 10)
        edited += [
            dict(csl_rows[0], _id=f"{i:056x}", name=name, alt_names="")
            for i, name in enumerate(newcomers)
        ]
        edition = tmp / "us_csl_next.csv"
        with edition.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=header, quoting=csv.QUOTE_ALL)
            writer.writeheader()
            writer.writerows(edited)
        load(Target(path=edition, format=csl.format, source=csl), workspace)
        new_screener = Screener.from_workspace(workspace)
        delta = rescreen(
            workspace,
            summary.run.run_id,
            tmp / "delta.parquet",
            settings=settings,
            screener=new_screener,
        )
        full = batch_screen(
            workspace,
            source,
            tmp / "full.parquet",
            settings=settings,
            screener=new_screener,
            skip_bad=True,
        )
        same = _hit_pairs(tmp / "delta.parquet") == _hit_pairs(tmp / "full.parquet")
        print(
            f"delta vs full re-screen of all {rows} rows after a CSL edition with 50 entries "
            f"removed (10 of them hit), 20 changed (10 hit), 10 added (named like rows "
            f"without hits): delta {delta.seconds:.1f}s ({delta.rescreened} rows re-screened; "
            f"{delta.new_hits} new, {delta.changed_hits} changed, {delta.vanished_hits} vanished "
            f"hits), full {full.seconds:.1f}s; full / delta = {full.seconds / delta.seconds:.1f}x; "
            f"same hits as the full re-screen: {same}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
