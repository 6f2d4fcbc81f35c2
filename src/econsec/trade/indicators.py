"""Diversion indicators as DuckDB SQL over ``trade_flows`` (out of core, any size).

Formulas and sources are in docs/trade.md. Every function takes a connection
and the name of a flows relation (the workspace table, or a Parquet file for
the scale test), so the same SQL runs on 16 million or 100 million rows.
Only one product level is summed at a time (CN8 rows for CHPL groups, TOTAL
rows for totals) so HS4 and CN8 rows of one workbook are never added together.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import yaml

from econsec.model.trade import Alert, Contribution

#: Median absolute deviation → standard deviation for normal data (Rousseeuw & Croux 1993).
MAD_SCALE = 1.4826
#: Indicators in the risk score, each with a dated weight in ``diversion.yaml``.
WEIGHTS = ("growth", "substitution", "robust_z", "break_after_sanctions", "did")


@dataclass(frozen=True, slots=True)
class Rules:
    freight_margin: float
    weights: dict[str, float]
    sanction_dates: tuple[tuple[date, str], ...]
    citation: str
    #: Default control products of the difference-in-differences (same intermediary).
    control_products: tuple[str, ...]


def _dated(entries: list[dict[str, Any]], on: date) -> dict[str, Any]:
    for entry in entries:
        start, end = entry["effective_from"], entry.get("effective_to")
        if start <= on and (end is None or on <= end):
            return entry
    raise ValueError(f"diversion.yaml: no entry in force on {on}")


@cache
def rules(on: date | None = None) -> Rules:
    on = on or date.today()
    text = resources.files("econsec.trade").joinpath("data/diversion.yaml").read_text("utf-8")
    data = yaml.safe_load(text)
    weights = _dated(data["risk_weights"], on)
    return Rules(
        freight_margin=float(_dated(data["freight_margin"], on)["value"]),
        weights={k: float(weights[k]) for k in WEIGHTS},
        sanction_dates=tuple((d["date"], d["label"]) for d in data["sanction_dates"]),
        citation=str(weights["citation"]),
        control_products=tuple(str(c) for c in _dated(data["control_products"], on)["products"]),
    )


def parse_baseline(text: str) -> tuple[int, ...]:
    """``2021`` or ``2019-2021`` → the baseline years."""
    start, _, end = text.partition("-")
    try:
        years = tuple(range(int(start), int(end or start) + 1))
    except ValueError:
        raise ValueError(f"baseline {text!r}: expected a year or a range YYYY-YYYY") from None
    if not years:
        raise ValueError(f"baseline {text!r}: empty range")
    return years


def partner_totals(
    data: list[tuple[str, str, int, float, int]],
) -> list[dict[str, object]]:
    """Sum :func:`yearly` rows over reporters: one row per (partner, year)."""
    totals: dict[tuple[str, int], list[float]] = {}
    for _rep, par, year, value, _n in data:
        totals.setdefault((par, year), []).append(value or 0.0)
    return [
        {"partner": p, "year": y, "value_eur": sum(v), "reporters": len(v)}
        for (p, y), v in sorted(totals.items())
    ]


def did(
    treated_base: float, treated_now: float, control_base: float, control_now: float
) -> float | None:
    """Difference-in-differences of log values (docs/trade.md).

    DiD = ln(X_t,now ÷ X_t,base) − ln(X_c,now ÷ X_c,base): the treated flow's growth
    beyond the control flow's growth over the same years; None when any is ≤ 0.
    """
    if min(treated_base, treated_now, control_base, control_now) <= 0:
        return None
    return math.log(treated_now / treated_base) - math.log(control_now / control_base)


def product_filter(products: list[str], any_level: bool = False) -> tuple[str, list[object]]:
    """SQL condition for ``chpl:1``, ``chpl:3.A``, HS prefixes (``854231``), ``TOTAL``,
    or ``nonchpl`` (CN8 goods on no CHPL tier).

    CHPL groups and prefixes select CN8 rows only (a workbook's HS4 sheets would
    otherwise be added to its CN8 sheets); ``any_level`` selects rows of every
    level, for figures kept per product (unit values of HS6 data such as BACI).
    """
    level = "" if any_level else " AND level = 8"
    parts: list[str] = []
    params: list[object] = []
    for item in products:
        if item.lower().startswith("chpl:"):
            parts.append(f"(chpl_tier = ?{level})")
            params.append(item.split(":", 1)[1])
        elif item.lower() == "nonchpl":
            parts.append(f"(chpl_tier IS NULL{level})")
        elif item.upper() == "TOTAL":
            parts.append("(product = 'TOTAL')")
        elif item.isdigit():
            parts.append(f"(starts_with(product, ?){level})")
            params.append(item)
        else:
            raise ValueError(f"product {item!r}: expected chpl:<tier>, an HS/CN code or TOTAL")
    return "(" + " OR ".join(parts) + ")", params


def yearly(
    con: duckdb.DuckDBPyConnection,
    relation: str,
    products: list[str],
    partners: list[str],
    reporters: list[str] | None = None,
    flow: str = "export",
) -> list[tuple[str, str, int, float, int]]:
    """(reporter, partner, year, value, months available) from monthly rows."""
    cond, params = product_filter(products)
    where = f"{cond} AND flow = ? AND month IS NOT NULL AND list_contains(?, partner)"
    params += [flow, partners]
    if reporters:
        where += " AND list_contains(?, reporter)"
        params.append(reporters)
    sql = f"""
        SELECT reporter, partner, year, sum(value),
               count(DISTINCT CASE WHEN value IS NOT NULL THEN month END)
        FROM {relation} WHERE {where} GROUP BY ALL ORDER BY ALL
    """
    return [tuple(r) for r in con.execute(sql, params).fetchall()]


def mirror_gap(
    con: duckdb.DuckDBPyConnection,
    relation: str,
    exporter: str,
    importer: str,
    margin: float | None = None,
) -> list[dict[str, float | int | None]]:
    """Per year: exporter-reported exports × (1 + margin) vs importer-reported imports.

    gap = X_exp × (1 + m) − M_imp; ratio = X_exp × (1 + m) ÷ M_imp (annual TOTAL rows).
    """
    m = rules().freight_margin if margin is None else margin
    sql = f"""
        WITH x AS (SELECT year, sum(value) v FROM {relation} WHERE product = 'TOTAL'
                   AND month IS NULL AND flow = 'export' AND reporter = ? AND partner = ?
                   GROUP BY year),
             i AS (SELECT year, sum(value) v FROM {relation} WHERE product = 'TOTAL'
                   AND month IS NULL AND flow = 'import' AND reporter = ? AND partner = ?
                   GROUP BY year)
        SELECT year, x.v, i.v, x.v * (1 + ?) - i.v, (x.v * (1 + ?)) / nullif(i.v, 0)
        FROM x JOIN i USING (year) ORDER BY year
    """
    rows = con.execute(sql, [exporter, importer, importer, exporter, m, m]).fetchall()
    return [
        {"year": r[0], "exports": r[1], "imports": r[2], "gap": r[3], "ratio": r[4], "margin": m}
        for r in rows
    ]


def unit_values(
    con: duckdb.DuckDBPyConnection,
    relation: str,
    products: list[str],
    partners: list[str],
    baseline: tuple[int, ...] = (2021,),
    period: int = 2022,
    flow: str = "export",
) -> list[dict[str, object]]:
    """Unit values per (reporter, partner, product, unit): value ÷ quantity, baseline vs period.

    Only rows that carry both a value and a quantity count (a row without its
    quantity would lower no unit value, it would make it wrong); units are never
    mixed (one row per unit). uv = Σ value ÷ Σ quantity over the baseline years
    together and over the period year; ratio = uv_period ÷ uv_baseline. A
    unit value far below the baseline on a route flagged for diversion is the
    classic sign of under-invoicing or of a product mix moved to cheaper goods;
    far above, of relabelled higher-grade goods (OECD/Eurostat unit-value
    analysis; Chupilkin, Javorcik & Plekhanov 2023). Data without quantities
    (the Comext values-only extractions) give no rows.
    """
    cond, params = product_filter(products, any_level=True)
    years = list(baseline)
    sql = f"""
        SELECT reporter, partner, product, unit, any_value(currency) AS currency,
               sum(value) FILTER (WHERE list_contains(?, year)) AS base_value,
               sum(quantity) FILTER (WHERE list_contains(?, year)) AS base_quantity,
               sum(value) FILTER (WHERE year = ?) AS value,
               sum(quantity) FILTER (WHERE year = ?) AS quantity
        FROM {relation}
        WHERE {cond} AND flow = ? AND list_contains(?, partner)
          AND value IS NOT NULL AND quantity IS NOT NULL AND quantity > 0
        GROUP BY reporter, partner, product, unit
        HAVING count(DISTINCT currency) = 1
        ORDER BY reporter, partner, product, unit
    """
    rows = con.execute(sql, [years, years, period, period, *params, flow, partners]).fetchall()
    out: list[dict[str, object]] = []
    for rep, par, prod, unit, cur, bv, bq, v, q in rows:
        base_uv = bv / bq if bv is not None and bq else None
        uv = v / q if v is not None and q else None
        out.append(
            {
                "reporter": rep,
                "partner": par,
                "product": prod,
                "unit": unit,
                "currency": cur,
                "baseline_unit_value": base_uv,
                "unit_value": uv,
                "ratio": uv / base_uv if uv is not None and base_uv else None,
                "quantity": q,
                "value": v,
            }
        )
    return out


def series_stats(
    con: duckdb.DuckDBPyConnection, relation: str, products: list[str], partners: list[str]
) -> dict[tuple[str, str], tuple[float | None, str | None]]:
    """Per (reporter, partner): max robust z of month-on-month changes, and the break month.

    z_t = (Δ_t − median Δ) ÷ (1.4826 · MAD Δ); the break month is the split that
    minimises the within-segment sum of squares of the monthly values (one mean shift).
    """
    cond, params = product_filter(products)
    sql = f"""
        WITH m AS (SELECT reporter, partner, period, coalesce(sum(value), 0) v
                   FROM {relation} WHERE {cond} AND flow = 'export' AND month IS NOT NULL
                   AND list_contains(?, partner) GROUP BY ALL),
        d AS (SELECT *, v - lag(v) OVER w AS dv,
                     row_number() OVER w AS t, count(*) OVER (PARTITION BY reporter, partner) n,
                     sum(v) OVER w AS cs, sum(v * v) OVER w AS cs2,
                     sum(v) OVER (PARTITION BY reporter, partner) tot,
                     sum(v * v) OVER (PARTITION BY reporter, partner) tot2
              FROM m WINDOW w AS (PARTITION BY reporter, partner ORDER BY period)),
        s AS (SELECT reporter, partner, median(dv) med, mad(dv) mad FROM d GROUP BY ALL),
        z AS (SELECT d.reporter, d.partner,
                     max(CASE WHEN s.mad > 0 THEN (d.dv - s.med) / (? * s.mad) END) zmax
              FROM d JOIN s USING (reporter, partner) GROUP BY ALL),
        b AS (SELECT reporter, partner,
                     arg_min(period, (cs2 - cs * cs / t)
                             + ((tot2 - cs2) - (tot - cs) * (tot - cs) / (n - t)))
                       AS before_break
              FROM d WHERE t < n AND t >= 2 GROUP BY ALL),
        nxt AS (SELECT b.reporter, b.partner, min(d.period) brk
                FROM b JOIN d USING (reporter, partner)
                WHERE d.period > b.before_break GROUP BY ALL)
        SELECT z.reporter, z.partner, z.zmax, nxt.brk FROM z LEFT JOIN nxt USING (reporter, partner)
    """
    rows = con.execute(sql, [*params, partners, MAD_SCALE]).fetchall()
    return {(r[0], r[1]): (r[2], r[3]) for r in rows}


def alerts(
    con: duckdb.DuckDBPyConnection,
    relation: str,
    target: str,
    intermediaries: list[str],
    products: list[str],
    baseline: tuple[int, ...] = (2021,),
    period: int = 2022,
    controls: list[str] | None = None,
    control_products: list[str] | None = None,
) -> list[Alert]:
    """Rank reporter → intermediary flows by a composite risk score with contributions.

    The difference-in-differences compares each flow with the same reporter's
    exports of the same products to the destinations ``controls`` or, without
    them, with its exports of ``control_products`` (default: the dated rule
    data, CN8 goods on no CHPL tier) to the same intermediary.
    """
    r = rules(date(period, 12, 31))
    partners = [target, *intermediaries]
    control_dest = [c for c in (controls or []) if c not in (target, *intermediaries)]
    # control destinations given: they are the control; else control products
    control_products = None if control_dest else (control_products or list(r.control_products))
    data = yearly(con, relation, products, [*partners, *control_dest])
    values: dict[tuple[str, str, int], float] = {(a, b, y): v or 0.0 for a, b, y, v, _ in data}
    control_values: dict[tuple[str, str, int], float] = {}
    if control_products:
        for rep_c, par_c, y_c, v_c, _ in yearly(con, relation, control_products, intermediaries):
            control_values[rep_c, par_c, y_c] = v_c or 0.0
    stats = series_stats(con, relation, products, partners)
    sanction = r.sanction_dates[0][0].strftime("%Y-%m")
    reporters = sorted({a for a, _, _ in values})
    label = ",".join(products)
    out: list[Alert] = []
    for rep in reporters:

        def base(p: str, rep: str = rep) -> float:
            return sum(values.get((rep, p, y), 0.0) for y in baseline) / len(baseline)

        d_target = values.get((rep, target, period), 0.0) - base(target)
        d_inter = sum(values.get((rep, p, period), 0.0) - base(p) for p in intermediaries)
        subst = d_inter / -d_target if d_target < 0 else None
        for p in intermediaries:
            b, v = base(p), values.get((rep, p, period), 0.0)
            if v <= 0:
                continue
            growth = v / b if b > 0 else None
            g_signal = 1.0 if growth is None else min(1.0, max(0.0, math.log10(growth)))
            s_signal = min(1.0, max(0.0, subst)) if subst is not None else 0.0
            zmax, brk = stats.get((rep, p), (None, None))
            z_signal = min(1.0, max(0.0, (zmax or 0.0) / 5.0))
            b_signal = 1.0 if brk is not None and brk >= sanction else 0.0
            if control_products:
                c_base = sum(control_values.get((rep, p, y), 0.0) for y in baseline)
                c_base /= len(baseline)
                c_now = control_values.get((rep, p, period), 0.0)
                c_label = f"{','.join(control_products)} to {p}"
            else:
                c_base = sum(base(c) for c in control_dest)
                c_now = sum(values.get((rep, c, period), 0.0) for c in control_dest)
                c_label = f"{label} to {','.join(control_dest)}"
            d_value = did(b, v, c_base, c_now)
            # signal: the log10 of (treated growth ÷ control growth), capped to [0, 1]
            d_signal = 0.0 if d_value is None else min(1.0, max(0.0, d_value / math.log(10)))
            w = r.weights
            contributions = (
                Contribution(
                    "growth",
                    growth,
                    w["growth"],
                    w["growth"] * g_signal,
                    f"{period} {v:,.0f} vs baseline {'/'.join(map(str, baseline))} avg {b:,.0f}"
                    + ("" if growth is not None else " (new flow: no baseline)"),
                ),
                Contribution(
                    "substitution",
                    subst,
                    w["substitution"],
                    w["substitution"] * s_signal,
                    f"ΔX(→{','.join(intermediaries)}) {d_inter:,.0f}"
                    f" ÷ −ΔX(→{target}) {-d_target:,.0f}",
                ),
                Contribution(
                    "robust_z",
                    zmax,
                    w["robust_z"],
                    w["robust_z"] * z_signal,
                    "max robust z of month-on-month changes (median/MAD)",
                ),
                Contribution(
                    "break_after_sanctions",
                    1.0 if b_signal else 0.0,
                    w["break_after_sanctions"],
                    w["break_after_sanctions"] * b_signal,
                    f"mean-shift break at {brk} (sanctions from {sanction})",
                ),
                Contribution(
                    "did",
                    d_value,
                    w["did"],
                    w["did"] * d_signal,
                    f"ln growth {b:,.0f}→{v:,.0f} minus ln growth of control "
                    f"({c_label}) {c_base:,.0f}→{c_now:,.0f}"
                    + ("" if d_value is not None else ": not computable (a zero value)"),
                ),
            )
            out.append(
                Alert(
                    reporter=rep,
                    intermediary=p,
                    target=target,
                    product=label,
                    score=round(sum(c.points for c in contributions), 4),
                    contributions=contributions,
                    baseline_value=b,
                    period_value=v,
                )
            )
    out.sort(key=lambda a: (-a.score, -(a.period_value or 0.0)))
    return out


#: Relative SSE differences below this are ties, broken by the earlier month, so that
#: two correct implementations (SQL, pandas) pick the same break month.
BREAK_TIE = 1e-9
#: More months than any series has: (rounded SSE) × MAX_MONTHS + t orders by SSE, then month.
MAX_MONTHS = 4096


def all_series_sql(relation: str, baseline: tuple[int, ...], period: int) -> str:
    """SQL for every indicator of every monthly series (reporter, partner, product, flow).

    One row per series: baseline and period values (growth = period ÷ baseline
    average), the max robust z of month-on-month changes, and the break month
    (single mean shift; ties within :data:`BREAK_TIE` of the total sum of squares
    go to the earlier month; no break for a constant series). Plain SQL over any
    relation, so it runs unchanged on the workspace table or on a Parquet file
    far larger than memory.
    """
    years = ", ".join(str(int(y)) for y in baseline)
    return f"""
        WITH m AS (SELECT reporter, partner, product, flow, period, year,
                          coalesce(value, 0) AS v
                   FROM {relation} WHERE month IS NOT NULL),
        d AS (SELECT *, v - lag(v) OVER w AS dv, lead(period) OVER w AS next_period,
                     row_number() OVER w AS t,
                     count(*) OVER p AS n,
                     sum(v) OVER w AS cs, sum(v * v) OVER w AS cs2,
                     sum(v) OVER p AS tot, sum(v * v) OVER p AS tot2
              FROM m
              WINDOW p AS (PARTITION BY reporter, partner, product, flow),
                     w AS (PARTITION BY reporter, partner, product, flow ORDER BY period)),
        s AS (SELECT reporter, partner, product, flow,
                     list_sort(list(dv) FILTER (WHERE dv IS NOT NULL)) AS dvs, max(dv) AS max_dv,
                     sum(v) FILTER (WHERE year IN ({years})) / {len(baseline)} AS base,
                     sum(v) FILTER (WHERE year = {int(period)}) AS now,
                     arg_min(next_period,
                             round(((cs2 - cs * cs / t)
                                    + ((tot2 - cs2) - (tot - cs) * (tot - cs) / (n - t)))
                                   / (tot2 - tot * tot / n) / {BREAK_TIE}) * {MAX_MONTHS} + t)
                       FILTER (WHERE t >= 2 AND t < n AND tot2 - tot * tot / n > {BREAK_TIE} * tot2)
                       AS break_month
              FROM d GROUP BY ALL),
        -- median and MAD from the sorted changes (holistic aggregates are slow on
        -- many groups): the middle element, or the mean of the two middle ones
        md AS (SELECT *, (dvs[(len(dvs) + 1) // 2] + dvs[(len(dvs) + 2) // 2]) / 2 AS med
               FROM s),
        ad AS (SELECT *, list_sort(list_transform(dvs, lambda x: abs(x - med))) AS ads FROM md),
        mm AS (SELECT *, (ads[(len(ads) + 1) // 2] + ads[(len(ads) + 2) // 2]) / 2 AS mad
               FROM ad)
        SELECT reporter, partner, product, flow, base, now,
               now / nullif(base, 0) AS growth,
               CASE WHEN mad > 0 THEN (max_dv - med) / ({MAD_SCALE} * mad) END AS zmax,
               break_month
        FROM mm
    """


#: Columns of :func:`all_series` (and of :func:`all_series_sql`).
SERIES_COLUMNS = (
    "reporter",
    "partner",
    "product",
    "flow",
    "base",
    "now",
    "growth",
    "zmax",
    "break_month",
)


def _median_rows(matrix: np.ndarray) -> np.ndarray:
    """Median of each row (the mean of the two middle values for an even count).

    ``np.partition`` puts the middle order statistics in place without sorting
    the rows; the values (and so the results) are those of a full sort.
    """
    k = matrix.shape[1]
    lo, hi = (k + 1) // 2 - 1, (k + 2) // 2 - 1
    part = np.partition(matrix, sorted({lo, hi}), axis=1)
    return np.asarray((part[:, lo] + part[:, hi]) / 2)


def all_series(
    con: duckdb.DuckDBPyConnection, relation: str, baseline: tuple[int, ...], period: int
) -> pa.Table:
    """The indicators of :func:`all_series_sql`, for every monthly series, in memory.

    Same definitions and results, faster: DuckDB groups the series by a 64-bit
    hash of (reporter, partner, product, flow) and sums the baseline and period
    values, then hands over the monthly values sorted by (series, month); numpy
    computes the robust z and the break month on one matrix per series length
    (medians by partitioning each row, the break by cumulative sums). A hash shared by
    two series (checked with a second hash of the key in another order) falls back
    to :func:`all_series_sql`. Holds one float and one int per monthly flow in
    memory; for relations larger than memory use :func:`all_series_sql`.
    """
    years = ", ".join(str(int(y)) for y in baseline)
    key = "hash(reporter, partner, product, flow)"
    check = "hash(flow, product, partner, reporter)"
    keys = con.sql(
        f"""
        SELECT {key} AS h, any_value(reporter) AS reporter, any_value(partner) AS partner,
               any_value(product) AS product, any_value(flow) AS flow,
               min({check}) = max({check}) AS one_series, count(*) AS n,
               sum(coalesce(value, 0)) FILTER (WHERE year IN ({years})) / {len(baseline)}
                 AS base,
               sum(coalesce(value, 0)) FILTER (WHERE year = {int(period)}) AS now
        FROM {relation} WHERE month IS NOT NULL GROUP BY h ORDER BY h
        """
    ).to_arrow_table()
    if not pc.all(keys.column("one_series")).as_py() and keys.num_rows:
        return con.sql(all_series_sql(relation, baseline, period)).to_arrow_table()
    data = con.sql(
        f"""
        SELECT v, ym FROM (
            SELECT coalesce(value, 0)::DOUBLE AS v,
                   (year * 12 + month - 1)::INTEGER AS ym, {key} AS h
            FROM {relation} WHERE month IS NOT NULL)
        ORDER BY h, ym
        """
    ).fetchnumpy()
    values = np.asarray(data["v"], np.float64)
    months = np.asarray(data["ym"], np.int64)
    lengths = keys.column("n").to_numpy().astype(np.int64)
    count = len(lengths)
    starts = np.cumsum(lengths) - lengths
    zmax = np.full(count, np.nan)
    brk = np.full(count, -1, np.int64)
    for k in (int(x) for x in np.unique(lengths)):
        rows = np.flatnonzero(lengths == k)
        if len(rows) == count:
            matrix = values.reshape(count, k)
        else:
            matrix = values[starts[rows][:, None] + np.arange(k)[None, :]]
        if k >= 2:
            changes = np.diff(matrix, axis=1)
            med = _median_rows(changes)
            mad = _median_rows(np.abs(changes - med[:, None]))
            top = changes.max(axis=1)
            with np.errstate(divide="ignore", invalid="ignore"):
                zmax[rows] = np.where(mad > 0, (top - med) / (MAD_SCALE * mad), np.nan)
        if k >= 3:
            brk[rows] = _break_index(matrix, k, starts[rows], months)
    labels = pa.array(
        [
            f"{m // 12:04d}-{m % 12 + 1:02d}"
            for m in range(int(months.min(initial=0)), int(months.max(initial=0)) + 1)
        ],
        pa.string(),
    )
    lowest = int(months.min(initial=0))
    break_month = labels.take(pa.array(np.where(brk >= 0, brk - lowest, 0), mask=brk < 0))
    base = keys.column("base").to_numpy(zero_copy_only=False).astype(np.float64)
    now = keys.column("now").to_numpy(zero_copy_only=False).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        growth = np.where(base != 0, now / base, np.nan)
    return pa.table(
        {
            "reporter": keys.column("reporter"),
            "partner": keys.column("partner"),
            "product": keys.column("product"),
            "flow": keys.column("flow"),
            "base": keys.column("base"),
            "now": keys.column("now"),
            "growth": pa.array(growth, from_pandas=True),
            "zmax": pa.array(zmax, from_pandas=True),
            "break_month": break_month,
        }
    )


def _break_index(matrix: np.ndarray, k: int, starts: np.ndarray, months: np.ndarray) -> np.ndarray:
    """Month (year × 12 + month − 1) opening the second segment of each row's best split.

    SSE(t) = (S2_t − S_t²/t) + ((S2 − S2_t) − (S − S_t)²/(k − t)) for t = 2 … k−1, compared
    as round(SSE/SST ÷ BREAK_TIE) (halves away from zero, as DuckDB's round), the
    earlier t on ties; −1 for a constant row (SST ≤ BREAK_TIE · S2).
    """
    cs = np.cumsum(matrix, axis=1)
    cs2 = np.cumsum(matrix * matrix, axis=1)
    tot, tot2 = cs[:, -1:], cs2[:, -1:]
    sst = tot2[:, 0] - tot[:, 0] * tot[:, 0] / k
    cs, cs2 = cs[:, 1 : k - 1], cs2[:, 1 : k - 1]
    t = np.arange(2, k, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        rest = tot - cs
        sse = (cs2 - cs * cs / t) + ((tot2 - cs2) - rest * rest / (k - t))
        q = sse / sst[:, None] / BREAK_TIE
        rounded = np.sign(q) * np.floor(np.abs(q) + 0.5)
    best = np.argmin(rounded, axis=1) + 2  # argmin takes the first (earliest) of equals
    out = np.full(len(matrix), -1, np.int64)
    found = np.flatnonzero(sst > BREAK_TIE * tot2[:, 0])
    out[found] = months[starts[found] + best[found]]
    return out
