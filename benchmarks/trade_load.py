"""Full trade load into a fresh workspace (target < 60 s) vs a pandas raw read.

Usage:
    python benchmarks/trade_load.py [--profile] [--no-baseline]

Loads every trade file of ../shared/data (``econsec.trade.load.default_files``)
into a new workspace in a temporary folder, then, as the named baseline in the
same process, reads the same files with pandas only (``read_excel`` with the
calamine engine, every sheet, and ``read_csv``), without any of the checks,
mapping or writing. Prints both times and the ratio. ``--profile`` prints the
top functions of the econsec load by cumulative time (cProfile).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from econsec.store import Workspace
from econsec.trade.load import default_files, load_all

TARGET_S = 60.0


def pandas_read(files: list[Path]) -> int:
    cells = 0
    for path in files:
        if path.suffix.lower() == ".xlsx":
            sheets = pd.read_excel(path, sheet_name=None, header=None, engine="calamine")
            cells += sum(df.size for df in sheets.values())
        else:
            cells += pd.read_csv(path, dtype=str, keep_default_na=False).size
    return cells


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--no-baseline", action="store_true")
    args = parser.parse_args()
    files = default_files()
    size = sum(p.stat().st_size for p in files) / 2**20
    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace(Path(tmp) / "ws")
        profiler = cProfile.Profile() if args.profile else None
        start = time.perf_counter()
        if profiler:
            profiler.enable()
        outcomes = load_all(files, ws)
        if profiler:
            profiler.disable()
        t_load = time.perf_counter() - start
    rows = sum(o.source.rows for o in outcomes)
    warns = sum(len(o.warnings) for o in outcomes)
    verdict = "meets" if t_load < TARGET_S else "MISSES"
    print(f"{len(files)} files, {size:.0f} MiB -> {rows:,} flows, {warns} warnings")
    print(f"econsec trade load into a fresh workspace: {t_load:.1f} s ({verdict} < {TARGET_S} s)")
    if not args.no_baseline:
        start = time.perf_counter()
        cells = pandas_read(files)
        t_pd = time.perf_counter() - start
        print(
            f"baseline pandas raw read (no checks, no mapping, no write): {t_pd:.1f} s, "
            f"{cells:,} cells"
        )
        print(f"ratio econsec load / pandas raw read: {t_load / t_pd:.2f}x")
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
    return 0


if __name__ == "__main__":
    sys.exit(main())
