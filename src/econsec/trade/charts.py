"""Charts and a self-contained HTML report of the diversion indicators (matplotlib).

Three figures, each computed from the workspace by :mod:`econsec.trade.indicators`:
monthly exports of a product group from the EU member states to the
intermediaries against exports to the target, with the dated sanction packages
marked; growth by partner (period ÷ baseline); the mirror gap over the years.
The HTML report embeds the PNGs as data URIs, so it is one file with no links.
"""

from __future__ import annotations

import base64
import html
import io
import math
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from econsec.trade.indicators import mirror_gap, product_filter, rules


@dataclass(frozen=True, slots=True)
class ReportSpec:
    target: str = "RU"
    intermediaries: tuple[str, ...] = ("AM", "GE", "KG", "KZ", "UZ")
    products: tuple[str, ...] = ("chpl:1",)
    baseline: tuple[int, ...] = (2021,)
    period: int = 2022
    mirror: tuple[str, str] = ("EU27_2020", "KG")


def monthly(
    con: duckdb.DuckDBPyConnection, relation: str, spec: ReportSpec
) -> dict[str, dict[str, float]]:
    """partner → period → EUR, summed over ISO-2 reporters (member states, not aggregates)."""
    cond, params = product_filter(list(spec.products))
    rows = con.execute(
        f"SELECT partner, period, sum(value) FROM {relation} WHERE {cond} AND flow = 'export' "
        "AND month IS NOT NULL AND length(reporter) = 2 AND list_contains(?, partner) "
        "GROUP BY ALL ORDER BY ALL",
        [*params, [spec.target, *spec.intermediaries]],
    ).fetchall()
    out: dict[str, dict[str, float]] = {}
    for partner, period, value in rows:
        # an all-':' month stays a gap in the line, never a drop to 0
        out.setdefault(partner, {})[period] = math.nan if value is None else value
    return out


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def figures(
    con: duckdb.DuckDBPyConnection, relation: str, spec: ReportSpec
) -> dict[str, tuple[bytes, str]]:
    """name → (PNG, caption)."""
    data = monthly(con, relation, spec)
    label = ",".join(spec.products)
    out: dict[str, tuple[bytes, str]] = {}

    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(10, 7), sharex=True)
    periods = sorted({p for series in data.values() for p in series})
    xs = [date(int(p[:4]), int(p[5:7]), 1) for p in periods]
    ax1.plot(xs, [data.get(spec.target, {}).get(p, math.nan) / 1e6 for p in periods], color="black")
    ax1.set_ylabel(f"→ {spec.target}, M EUR")
    for partner in spec.intermediaries:
        ax2.plot(xs, [data.get(partner, {}).get(p, math.nan) / 1e6 for p in periods], label=partner)
    ax2.set_ylabel("→ intermediaries, M EUR")
    ax2.legend(ncol=len(spec.intermediaries))
    for when, what in rules().sanction_dates:
        for ax in (ax1, ax2):
            ax.axvline(when, color="red", linestyle="--", linewidth=0.8)
        ax1.annotate(what[:40], (when, ax1.get_ylim()[1]), fontsize=7, rotation=90, va="top")
    fig.suptitle(f"EU member-state exports of {label} by month")
    out["monthly"] = (_png(fig), f"Monthly EU exports of {label}: target vs intermediaries")

    growth: dict[str, float] = {}
    for partner, series in data.items():
        base = sum(v for p, v in series.items() if int(p[:4]) in spec.baseline) / len(spec.baseline)
        now = sum(v for p, v in series.items() if int(p[:4]) == spec.period)
        if base > 0:
            growth[partner] = now / base
    fig, ax = plt.subplots(figsize=(8, 4))
    names = sorted(growth, key=lambda k: growth[k])
    ax.barh(names, [growth[n] for n in names], color="tab:orange")
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.set_xscale("log")
    ax.set_xlabel(f"{spec.period} ÷ {'/'.join(map(str, spec.baseline))} average (log scale)")
    ax.set_title(f"Growth of {label} exports by partner")
    out["growth"] = (_png(fig), f"Growth by partner of {label}")

    exporter, importer = spec.mirror
    gap = mirror_gap(con, relation, exporter, importer)
    fig, ax = plt.subplots(figsize=(8, 4))
    years = [int(str(r["year"])) for r in gap]
    ax.plot(years, [float(r["exports"] or 0) / 1e6 for r in gap], marker="o", label="reported X")
    ax.plot(years, [float(r["imports"] or 0) / 1e6 for r in gap], marker="o", label="mirror M")
    ax.bar(years, [float(r["gap"] or 0) / 1e6 for r in gap], alpha=0.3, label="gap X·(1+m) − M")
    ax.set_ylabel("M EUR")
    ax.legend()
    ax.set_title(f"Mirror gap: {exporter} exports to {importer} vs {importer}'s imports")
    out["mirror"] = (_png(fig), f"Mirror gap {exporter} → {importer}, all products")
    return out


def write_report(
    con: duckdb.DuckDBPyConnection, relation: str, spec: ReportSpec, folder: Path
) -> Path:
    """Write the PNGs and ``report.html`` (self-contained) into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    parts = [
        "<!doctype html><meta charset='utf-8'><title>econsec diversion report</title>",
        f"<h1>Diversion monitoring: {html.escape(spec.target)} via "
        f"{html.escape(', '.join(spec.intermediaries))}</h1>",
        "<p>Figures computed from the loaded official statistics (Eurostat Comext, "
        "partner-reported national files). Formulas and sources: docs/trade.md.</p>",
    ]
    for name, (png, caption) in figures(con, relation, spec).items():
        (folder / f"{name}.png").write_bytes(png)
        data = base64.b64encode(png).decode("ascii")
        parts.append(
            f"<figure><img alt='{html.escape(caption)}' src='data:image/png;base64,{data}'>"
            f"<figcaption>{html.escape(caption)}</figcaption></figure>"
        )
    path = folder / "report.html"
    path.write_text("\n".join(parts), encoding="utf-8")
    return path
