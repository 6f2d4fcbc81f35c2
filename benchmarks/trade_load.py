"""Full trade load into a fresh workspace (target < 60 s) vs a straightforward pandas load.

Usage:
    python benchmarks/trade_load.py [--workers N] [--profile] [--no-baseline]

Loads every trade file of ../shared/data (``econsec.trade.load.default_files``)
into a new workspace in a temporary folder, then, as the named baseline in the
same process, builds the same flows the obvious pandas way: ``read_excel`` (calamine
engine, every sheet) and ``read_csv``, ``melt`` to one row per flow, labels mapped
with the same country/period/product helpers, ``drop_duplicates`` across files
(first kept) — without the loader's checks, warnings or writing. Prints both times
(wall clock, and CPU time of the process and of its worker processes), the ratio,
and whether the two give the same flows (reporter, partner, product, flow,
period, value, currency: identical, row for row). ``--profile`` prints the top
functions of the econsec load by internal time (cProfile, parent process only).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import resource
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from econsec.store import Workspace
from econsec.trade.countries import SKIP, resolve
from econsec.trade.indicators import mirror_gap, partner_totals, yearly
from econsec.trade.load import default_files, load_all
from econsec.trade.readers import (
    _CODE_IN_LABEL,
    _CURRENCY_INDICATOR,
    _FLOWS,
    _rel_period,
    _strip_code,
)

TARGET_S = 60.0
KEY = ["reporter", "partner", "product", "flow", "period"]
COLUMNS = [*KEY, "value", "currency"]


def _code(label: object, lang: str = "en") -> str | None:
    code = resolve(str(label).strip(), lang)
    return None if code in (None, SKIP) else code


def _first(frame: pd.DataFrame, label: str) -> int:
    hits = frame.index[frame[0].astype(str).str.strip() == label]
    return int(hits[0])


def pandas_sheet(frame: pd.DataFrame) -> pd.DataFrame:
    """One data sheet of a Comext workbook → long flows."""
    r_prod, r_flow = _first(frame, "PRODUCT [PRODUCT]"), _first(frame, "FLOW")
    r_ind, r_time = _first(frame, "INDICATORS"), _first(frame, "TIME")
    r_head = _first(frame, "REPORTER (Labels)")
    match = _CODE_IN_LABEL.search(str(frame.iat[r_prod, 2]))
    assert match is not None
    times = frame.iloc[r_time, 2:].astype(str).str.strip()
    periods = list(times[times.ne("") & times.ne("nan")])
    body = frame.iloc[r_head + 1 :, : 2 + len(periods)]
    first = body[0].astype(str).str.strip()
    stop = first.eq("") | body[0].isna()
    if stop.any():
        body = body.iloc[: int(np.argmax(stop.to_numpy()))]
    body = body.set_axis(["reporter", "partner", *periods], axis=1)
    long = body.melt(id_vars=["reporter", "partner"], var_name="period", value_name="value")
    long["value"] = pd.to_numeric(long["value"].replace(":", np.nan))
    long["product"] = match.group(1)
    long["flow"] = _FLOWS[str(frame.iat[r_flow, 2]).strip().upper()]
    long["currency"] = _CURRENCY_INDICATOR[str(frame.iat[r_ind, 2]).strip()]
    return long


def pandas_csv(path: Path) -> pd.DataFrame:
    """A Comext relational-view (or national) CSV → long flows."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    value_col = frame.columns[6]
    out = pd.DataFrame(
        {
            "reporter": frame["REPORTER"],
            "partner": frame["PARTNER"],
            "lang": np.where(
                frame["FLOW"].str.strip().str.upper().str.endswith("ATION"), "fr", "en"
            ),
            "product": frame["PRODUCT"].str.strip().map(_strip_code).replace("Total", "TOTAL"),
            "flow": frame["FLOW"].str.strip().map(_strip_code).str.upper().map(_FLOWS),
            "period": frame["PERIOD"].str.strip().map(lambda p: (_rel_period(p) or ("?",))[0]),
            "value": pd.to_numeric(frame[value_col].str.strip().mask(lambda v: v.isin([":", ""]))),
            "currency": _CURRENCY_INDICATOR.get(value_col, value_col.removeprefix("VALUE_IN_")),
        }
    )
    out.loc[out["product"].str.upper() == "TOTAL", "product"] = "TOTAL"
    return out


def pandas_load(files: list[Path]) -> pd.DataFrame:
    parts: list[pd.DataFrame] = []
    for path in files:
        if path.suffix.lower() == ".xlsx":
            sheets = pd.read_excel(path, sheet_name=None, header=None, engine="calamine")
            for name, frame in sheets.items():
                if name not in ("Summary", "Structure"):
                    parts.append(pandas_sheet(frame).assign(lang="en"))
        else:
            parts.append(pandas_csv(path))
    flows = pd.concat(parts, ignore_index=True)
    for col in ("reporter", "partner"):
        labels = flows[[col, "lang"]].drop_duplicates()
        mapping = {(lab, lang): _code(lab, lang) for lab, lang in labels.itertuples(index=False)}
        flows[col] = [mapping[k] for k in zip(flows[col], flows["lang"], strict=True)]
    flows = flows.dropna(subset=["reporter", "partner"])
    return flows.drop_duplicates(subset=KEY, keep="first")[COLUMNS].reset_index(drop=True)


def compare(workspace: Workspace, frame: pd.DataFrame) -> list[str]:
    con = duckdb.connect()
    con.execute(f"ATTACH '{workspace.db_path}' AS w (READ_ONLY)")
    con.register("p", frame)
    cols = ", ".join(COLUMNS)
    problems = []
    for a, b in (("w.trade_flows", "p"), ("p", "w.trade_flows")):
        rows = con.execute(
            f"SELECT count(*) FROM (SELECT {cols} FROM {a} EXCEPT ALL SELECT {cols} FROM {b})"
        ).fetchall()
        if rows[0][0]:
            problems.append(f"{rows[0][0]:,} flows in {a} only")
    return problems


#: The findings on the full data (docs/trade.md): CHPL tier-1 exports of the member
#: states, M EUR and growth 2022 ÷ 2021, and the EU27 → KG mirror ratios 2021–2023.
FINDINGS = {"RU 2021": 620.9, "RU 2022": 118.8, "KG x": 32.6, "AM x": 12.6, "KZ x": 2.4}
MIRROR = {2021: 1.16, 2022: 2.52, 2023: 3.28}


def findings(workspace: Workspace) -> list[str]:
    """The documented findings, recomputed on the loaded workspace; differences listed."""
    with workspace.connect(read_only=True) as con:
        totals = {
            (str(r["partner"]), int(str(r["year"]))): float(str(r["value_eur"]))
            for r in partner_totals(
                yearly(con, "trade_flows", ["chpl:1"], ["RU", "KG", "AM", "KZ"])
            )
        }
        mirror = {
            int(str(r["year"])): r["ratio"]
            for r in mirror_gap(con, "trade_flows", "EU27_2020", "KG")
        }
    got = {
        "RU 2021": totals["RU", 2021] / 1e6,
        "RU 2022": totals["RU", 2022] / 1e6,
        **{f"{p} x": totals[p, 2022] / totals[p, 2021] for p in ("KG", "AM", "KZ")},
    }
    print(
        "findings: "
        + ", ".join(f"{k} {v:,.1f}" for k, v in got.items())
        + "; mirror EU27→KG "
        + "/".join(f"{float(str(mirror[y])):.2f}" for y in MIRROR)
    )
    problems = [
        f"{k}: {got[k]:.1f}, documented {v}" for k, v in FINDINGS.items() if round(got[k], 1) != v
    ]
    problems += [
        f"mirror {y}: {mirror.get(y)}, documented {v}"
        for y, v in MIRROR.items()
        if round(float(str(mirror.get(y))), 2) != v
    ]
    return problems


def cpu() -> tuple[float, float]:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, kids.ru_utime + kids.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=None, help="parsing processes")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--no-baseline", action="store_true")
    args = parser.parse_args()
    files = default_files()
    size = sum(p.stat().st_size for p in files) / 2**20
    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace(Path(tmp) / "ws")
        profiler = cProfile.Profile() if args.profile else None
        own0, kids0 = cpu()
        start = time.perf_counter()
        if profiler:
            profiler.enable()
        outcomes = load_all(files, ws, workers=args.workers)
        if profiler:
            profiler.disable()
        t_load = time.perf_counter() - start
        own1, kids1 = cpu()
        rows = sum(o.source.rows for o in outcomes)
        warns = sum(len(o.warnings) for o in outcomes)
        verdict = "meets" if t_load < TARGET_S else "MISSES"
        print(f"{len(files)} files, {size:.0f} MiB -> {rows:,} flows, {warns} warnings")
        print(
            f"econsec trade load into a fresh workspace: {t_load:.1f} s "
            f"({verdict} < {TARGET_S} s); "
            f"CPU {own1 - own0:.1f} s here + {kids1 - kids0:.1f} s in worker processes; "
            f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GiB here, "
            f"{resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20:.2f} GiB per worker"
        )
        status = 0
        wrong = findings(ws)
        print("findings as documented" if not wrong else "FINDINGS DIFFER: " + "; ".join(wrong))
        status = 1 if wrong else 0
        if not args.no_baseline:
            start = time.perf_counter()
            frame = pandas_load(files)
            t_pd = time.perf_counter() - start
            own2, _ = cpu()
            print(
                f"baseline pandas load (read, melt, map, drop duplicates; no checks, no write): "
                f"{t_pd:.1f} s, CPU {own2 - own1:.1f} s, {len(frame):,} flows"
            )
            print(f"ratio pandas / econsec: {t_pd / t_load:.2f}x wall")
            problems = compare(ws, frame)
            print("flows identical" if not problems else "FLOWS DIFFER: " + "; ".join(problems))
            status = 1 if problems or wrong else 0
    if profiler:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
    return status


if __name__ == "__main__":
    sys.exit(main())
