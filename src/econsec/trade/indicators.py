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


def product_filter(products: list[str]) -> tuple[str, list[object]]:
    """SQL condition for ``chpl:1``, ``chpl:3.A``, HS prefixes (``854231``), ``TOTAL``,
    or ``nonchpl`` (CN8 goods on no CHPL tier)."""
    parts: list[str] = []
    params: list[object] = []
    for item in products:
        if item.lower().startswith("chpl:"):
            parts.append("(chpl_tier = ? AND level = 8)")
            params.append(item.split(":", 1)[1])
        elif item.lower() == "nonchpl":
            parts.append("(chpl_tier IS NULL AND level = 8)")
        elif item.upper() == "TOTAL":
            parts.append("(product = 'TOTAL')")
        elif item.isdigit():
            parts.append("(starts_with(product, ?) AND level = 8)")
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
