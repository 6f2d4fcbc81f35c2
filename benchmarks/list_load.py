"""Time to load every list in ../shared/data/lists into a fresh workspace.

Runs the code path of `econsec lists load` with no arguments: every known
source found in the data folder (``default_targets``), each loaded by the
command's own ``load_targets`` (parse, hash, store one DuckDB version) under the
same rich progress bar, into a new workspace in a temporary folder. Prints
the seconds and entries of each source, the total, and the total as a share
of the 30-second target for a full load. Exits 1 if any list fails to load,
2 without a data folder.

Usage: python benchmarks/list_load.py [--data FOLDER] [--target SECONDS]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console

from econsec.cli.lists import load_targets
from econsec.lists import default_targets
from econsec.settings import data_dir
from econsec.store import Workspace

TARGET_SECONDS = 30.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=None, help="data folder (ECONSEC_DATA)")
    parser.add_argument("--target", type=float, default=TARGET_SECONDS, help="seconds")
    args = parser.parse_args()
    data: Path | None = args.data or data_dir()
    if data is None or not (data / "lists").is_dir():
        print("no ../shared/data/lists folder (set ECONSEC_DATA or pass --data)", file=sys.stderr)
        return 2
    if not default_targets(data):
        print(f"no known list files in {data / 'lists'}", file=sys.stderr)
        return 2
    err = Console(stderr=True)
    with tempfile.TemporaryDirectory() as tmp:
        workspace = Workspace(Path(tmp) / "workspace")
        started = time.perf_counter()
        timings = load_targets(default_targets(data), workspace, err)
        total = time.perf_counter() - started
        entries = {v.source: v.entry_count for v in workspace.versions(active_only=True)}

    print(f"{'source':16s} {'seconds':>8s} {'entries':>8s}")
    for t in timings:
        count = f"{entries[t.source]:,}" if t.ok and t.source in entries else "FAILED"
        print(f"{t.source:16s} {t.seconds:8.2f} {count:>8s}")
    print(f"{'all':16s} {total:8.2f} {sum(entries.values()):>8,}")
    print(f"total {total:.1f} s = {total / args.target:.2f} × the {args.target:g} s target")
    failed = [t.source for t in timings if not t.ok]
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
