"""Trade indicators: DuckDB SQL vs a straightforward pandas implementation, and a scale run.

Usage:
    python benchmarks/trade_indicators.py                  # workspace at ECONSEC_HOME
    python benchmarks/trade_indicators.py --scale 100000000 [--memory 16GB]

Default mode: every indicator (baseline/period values, growth, max robust z of
month-on-month changes, break month) for every monthly series (reporter,
partner, product, flow) of the loaded ``trade_flows`` table, once with
:func:`econsec.trade.indicators.all_series` and once with pandas in the same
process; prints both times (wall clock and CPU time of the process, DuckDB's
threads included), the ratio (baseline = pandas) and whether the results are
identical (floats to 1e-9 relative, break months exactly). ``--with-sql`` also
times the out-of-core SQL (:func:`~econsec.trade.indicators.all_series_sql`)
and checks it gives the same results.

Scale mode: DuckDB generates a flows table of ``--scale`` rows into a Parquet
file (36 months per series), then runs the same SQL over ``read_parquet`` out
of core under ``--memory`` and prints the time and the peak RSS of the process.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import duckdb
import numpy as np
import pandas as pd

from econsec.store import Workspace
from econsec.trade.indicators import BREAK_TIE, MAD_SCALE, all_series, all_series_sql

T = TypeVar("T")
KEYS = ["reporter", "partner", "product", "flow"]
BASELINE, PERIOD = (2021,), 2022


def pandas_indicators(flows: pd.DataFrame, baseline: tuple[int, ...], period: int) -> pd.DataFrame:
    """The same indicators, written the obvious pandas way."""
    m = flows[flows["month"].notna()][[*KEYS, "period", "year", "value"]].copy()
    m["v"] = m["value"].fillna(0.0).astype("float64")
    m = m.sort_values([*KEYS, "period"], kind="stable").reset_index(drop=True)
    g = m.groupby(KEYS, sort=False)
    m["dv"] = g["v"].diff()
    m["next_period"] = g["period"].shift(-1)
    m["t"] = g.cumcount() + 1
    m["n"] = g["v"].transform("size")
    m["v2"] = m["v"] * m["v"]
    m["cs"] = g["v"].cumsum()
    m["cs2"] = m.groupby(KEYS, sort=False)["v2"].cumsum()
    m["tot"] = g["v"].transform("sum")
    m["tot2"] = m.groupby(KEYS, sort=False)["v2"].transform("sum")
    m["med"] = g["dv"].transform("median")
    m["absdev"] = (m["dv"] - m["med"]).abs()
    m["mad"] = m.groupby(KEYS, sort=False)["absdev"].transform("median")
    m["z"] = np.where(m["mad"] > 0, (m["dv"] - m["med"]) / (MAD_SCALE * m["mad"]), np.nan)
    m["sst"] = m["tot2"] - m["tot"] * m["tot"] / m["n"]

    out = m.groupby(KEYS, sort=False).agg(zmax=("z", "max")).reset_index()
    base = m[m["year"].isin(baseline)].groupby(KEYS)["v"].sum() / len(baseline)
    now = m[m["year"] == period].groupby(KEYS)["v"].sum()
    out = out.join(base.rename("base"), on=KEYS).join(now.rename("now"), on=KEYS)
    out["growth"] = out["now"] / out["base"].where(out["base"] != 0)

    c = m[(m["t"] >= 2) & (m["t"] < m["n"]) & (m["sst"] > BREAK_TIE * m["tot2"])].copy()
    rest = c["tot"] - c["cs"]
    sse = (c["cs2"] - c["cs"] * c["cs"] / c["t"]) + (
        (c["tot2"] - c["cs2"]) - rest * rest / (c["n"] - c["t"])
    )
    # DuckDB's round() rounds halves away from zero
    c["key"] = np.sign(sse / c["sst"]) * np.floor(np.abs(sse / c["sst"] / BREAK_TIE) + 0.5)
    brk = c.sort_values([*KEYS, "key", "period"]).groupby(KEYS)["next_period"].first()
    out = out.join(brk.rename("break_month"), on=KEYS)
    return out[[*KEYS, "base", "now", "growth", "zmax", "break_month"]]


def compare(a: pd.DataFrame, b: pd.DataFrame) -> list[str]:
    """Differences between two indicator tables (empty = identical)."""
    problems: list[str] = []
    if len(a) != len(b):
        problems.append(f"row counts {len(a)} vs {len(b)}")
    j = a.merge(b, on=KEYS, how="outer", suffixes=("_sql", "_pd"), indicator=True)
    if (j["_merge"] != "both").any():
        problems.append(f"{int((j['_merge'] != 'both').sum())} series in one result only")
    for col in ("base", "now", "growth", "zmax"):
        x = j[f"{col}_sql"].astype("float64").to_numpy()
        y = j[f"{col}_pd"].astype("float64").to_numpy()
        same = np.isclose(x, y, rtol=1e-9, atol=1e-9, equal_nan=True)
        if not same.all():
            problems.append(f"{col}: {int((~same).sum())} differ, e.g. {j[~same].head(3)}")
    bx, by = j["break_month_sql"].fillna(""), j["break_month_pd"].fillna("")
    if (bx != by).any():
        problems.append(f"break_month: {int((bx != by).sum())} differ, e.g. {j[bx != by].head(3)}")
    return problems


def peak_rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB on Linux


def _timed(fn: Callable[[], T]) -> tuple[T, float, float]:
    """fn(), its wall-clock seconds and the process's CPU seconds (all threads)."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - wall, time.process_time() - cpu


def run_workspace(with_sql: bool) -> int:
    with Workspace().connect(read_only=True) as con:
        rows = con.execute("SELECT count(*) FROM trade_flows").fetchall()
        duck_t, t_duck, c_duck = _timed(lambda: all_series(con, "trade_flows", BASELINE, PERIOD))
        duck = duck_t.to_pandas()
        sql_result = None
        if with_sql:
            sql = all_series_sql("trade_flows", BASELINE, PERIOD)
            sql_result, t_sql, c_sql = _timed(lambda: con.execute(sql).df())
        flows, t_read, _ = _timed(
            lambda: con.execute(
                "SELECT reporter, partner, product, flow, period, year, month, value "
                "FROM trade_flows"
            ).df()
        )
    pdres, t_pd, c_pd = _timed(lambda: pandas_indicators(flows, BASELINE, PERIOD))
    problems = compare(duck, pdres)
    print(f"flows: {rows[0][0] if rows else 0:,} rows, {len(duck):,} monthly series")
    print(f"econsec all_series (all indicators, every series): {t_duck:.2f} s, CPU {c_duck:.2f} s")
    print(f"pandas (baseline): {t_pd:.2f} s, CPU {c_pd:.2f} s (+ {t_read:.2f} s to read the table)")
    print(f"ratio pandas / econsec: {t_pd / t_duck:.1f}x wall, {c_pd / c_duck:.1f}x CPU")
    print("results identical" if not problems else "RESULTS DIFFER:\n" + "\n".join(problems))
    if sql_result is not None:
        sql_problems = compare(sql_result, pdres)
        print(
            f"out-of-core SQL (all_series_sql): {t_sql:.2f} s, CPU {c_sql:.2f} s; "
            + ("results identical" if not sql_problems else "DIFFER: " + "; ".join(sql_problems))
        )
        problems += sql_problems
    print(f"peak RSS {peak_rss_gib():.2f} GiB")
    return 0 if not problems else 1


def run_scale(rows: int, memory: str, folder: Path) -> int:
    con = duckdb.connect()
    con.execute(f"SET memory_limit = '{memory}'")
    con.execute(f"SET temp_directory = '{folder / 'spill'}'")
    con.execute("SET preserve_insertion_order = false")
    data = folder / "flows.parquet"
    start = time.perf_counter()
    # 36 months per series; 27 reporters x 250 partners x as many products as needed.
    con.execute(f"""
        COPY (
          SELECT 'R' || (s % 27) AS reporter, 'P' || ((s // 27) % 250) AS partner,
                 lpad(CAST(s // 6750 AS VARCHAR), 8, '0') AS product, 'export' AS flow,
                 printf('%d-%02d', 2020 + m // 12, m % 12 + 1) AS period,
                 CAST(2020 + m // 12 AS SMALLINT) AS year, CAST(m % 12 + 1 AS TINYINT) AS month,
                 CASE WHEN hash(i) % 50 = 0 THEN NULL
                      ELSE (hash(i) % 100000) * (CASE WHEN m >= 26 AND s % 7 = 0 THEN 10 ELSE 1 END)
                 END::DOUBLE AS value
          FROM (SELECT i, i // 36 AS s, i % 36 AS m FROM range({rows}) r(i))
        ) TO '{data}' (FORMAT parquet, ROW_GROUP_SIZE 1000000)
    """)
    t_gen = time.perf_counter() - start
    size = data.stat().st_size / 2**30
    print(f"generated {rows:,} rows ({rows // 36:,} series) in {t_gen:.1f} s, {size:.2f} GiB")
    sql = all_series_sql(f"read_parquet('{data}')", BASELINE, PERIOD)
    start = time.perf_counter()
    con.execute(f"COPY ({sql}) TO '{folder / 'indicators.parquet'}' (FORMAT parquet)")
    t_sql = time.perf_counter() - start
    out = con.execute(
        f"SELECT count(*), count(growth), count(zmax), count(break_month) "
        f"FROM read_parquet('{folder / 'indicators.parquet'}')"
    ).fetchone()
    print(f"all indicators over read_parquet: {t_sql:.1f} s -> {out} (series, growth, z, break)")
    print(f"memory_limit {memory}; peak RSS of the process {peak_rss_gib():.2f} GiB")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--scale", type=int, default=0, help="rows to generate (0 = workspace)")
    parser.add_argument("--memory", default="16GB", help="DuckDB memory limit (scale mode)")
    parser.add_argument("--dir", type=Path, default=None, help="folder for the generated files")
    parser.add_argument("--with-sql", action="store_true", help="also time all_series_sql")
    args = parser.parse_args()
    if not args.scale:
        return run_workspace(args.with_sql)
    if args.dir:
        args.dir.mkdir(parents=True, exist_ok=True)
        return run_scale(args.scale, args.memory, args.dir)
    with tempfile.TemporaryDirectory() as tmp:
        return run_scale(args.scale, args.memory, Path(tmp))


if __name__ == "__main__":
    sys.exit(main())
