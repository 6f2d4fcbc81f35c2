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

from econsec.model.trade import Alert
from econsec.trade.indicators import alerts, mirror_gap, product_filter, rules, unit_values


@dataclass(frozen=True, slots=True)
class ReportSpec:
    target: str = "RU"
    intermediaries: tuple[str, ...] = ("AM", "GE", "KG", "KZ", "UZ")
    products: tuple[str, ...] = ("chpl:1",)
    baseline: tuple[int, ...] = (2021,)
    period: int = 2022
    mirror: tuple[str, str] = ("EU27_2020", "KG")
    #: Rows of the ranked-alerts table in the report.
    alert_rows: int = 20


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


def alerts_table(found: list[Alert], period: int) -> str:
    """The ranked alerts as an HTML table: score, values and each indicator's points."""
    names = [c.indicator for c in found[0].contributions] if found else []
    head = "".join(f"<th>{html.escape(n)}</th>" for n in names)
    rows = []
    for rank, a in enumerate(found, start=1):
        cells = "".join(
            f"<td title='{html.escape(c.detail)}'>+{c.points:.2f}"
            + (f" <small>({c.value:,.2f})</small>" if c.value is not None else "")
            + "</td>"
            for c in a.contributions
        )
        rows.append(
            f"<tr><td>{rank}</td><td>{html.escape(a.reporter)}</td>"
            f"<td>{html.escape(a.intermediary)}</td><td><b>{a.score:.2f}</b></td>"
            f"<td>{a.baseline_value or 0:,.0f}</td><td>{a.period_value or 0:,.0f}</td>{cells}</tr>"
        )
    return (
        "<table class='alerts'><thead><tr><th>#</th><th>reporter</th><th>intermediary</th>"
        f"<th>score</th><th>baseline {html.escape(_currency(found))}</th>"
        f"<th>{period}</th>{head}</tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
    )


def _currency(found: list[Alert]) -> str:
    return found[0].currency if found else ""


def unit_value_table(rows: list[dict[str, object]]) -> str:
    """Unit values (value ÷ quantity) by reporter, partner, product and unit."""

    def num(x: object, digits: int = 2) -> str:
        return f"{x:,.{digits}f}" if isinstance(x, float | int) else "–"

    body = "".join(
        "<tr>"
        + "".join(f"<td>{html.escape(str(r[k]))}</td>" for k in ("reporter", "partner", "product"))
        + f"<td>{html.escape(str(r['currency']))}/{html.escape(str(r['unit']))}</td>"
        + f"<td>{num(r['baseline_unit_value'])}</td><td>{num(r['unit_value'])}</td>"
        + f"<td>{num(r['ratio'])}</td></tr>"
        for r in rows
    )
    return (
        "<table class='unit-values'><thead><tr><th>reporter</th><th>partner</th><th>product</th>"
        "<th>per</th><th>baseline</th><th>period</th><th>ratio</th></tr></thead>"
        f"<tbody>{body}</tbody></table>"
    )


_STYLE = (
    "<style>body{font-family:sans-serif;max-width:1200px;margin:auto}"
    "table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;"
    "padding:2px 6px;text-align:right}td:nth-child(-n+3){text-align:left}"
    ".grid{display:flex;gap:16px;align-items:flex-start;flex-wrap:wrap}"
    "figure{margin:0}img{max-width:100%}</style>"
)


def write_report(
    con: duckdb.DuckDBPyConnection, relation: str, spec: ReportSpec, folder: Path
) -> Path:
    """Write the PNGs and ``report.html`` (self-contained) into ``folder``.

    The page shows the ranked alerts (:func:`econsec.trade.indicators.alerts`) as a
    table beside the charts, and unit values where the data carries quantities.
    """
    folder.mkdir(parents=True, exist_ok=True)
    found = alerts(
        con,
        relation,
        spec.target,
        list(spec.intermediaries),
        list(spec.products),
        spec.baseline,
        spec.period,
    )[: spec.alert_rows]
    values = unit_values(
        con,
        relation,
        list(spec.products),
        [spec.target, *spec.intermediaries],
        spec.baseline,
        spec.period,
    )
    parts = [
        "<!doctype html><meta charset='utf-8'><title>econsec diversion report</title>",
        _STYLE,
        f"<h1>Diversion monitoring: {html.escape(spec.target)} via "
        f"{html.escape(', '.join(spec.intermediaries))}</h1>",
        "<p>Figures computed from the loaded official statistics (Eurostat Comext, "
        "partner-reported national files). Formulas and sources: docs/trade.md.</p>",
        "<div class='grid'><section>",
    ]
    for name, (png, caption) in figures(con, relation, spec).items():
        (folder / f"{name}.png").write_bytes(png)
        data = base64.b64encode(png).decode("ascii")
        parts.append(
            f"<figure><img alt='{html.escape(caption)}' src='data:image/png;base64,{data}'>"
            f"<figcaption>{html.escape(caption)}</figcaption></figure>"
        )
    parts.append("</section><section>")
    label = html.escape(",".join(spec.products))
    baseline = "/".join(map(str, spec.baseline))
    parts.append(
        f"<h2>Ranked alerts: {label}, {spec.period} vs {baseline}</h2>"
        "<p>Score = Σ weight × signal (weights dated in diversion.yaml); each cell gives "
        "the points and, in brackets, the indicator's value; hover for the figures.</p>"
    )
    parts.append(alerts_table(found, spec.period) if found else "<p>No alerts: no flows.</p>")
    parts.append(f"<h2>Unit values: {label}</h2>")
    parts.append(
        unit_value_table(values)
        if values
        else "<p>No quantities in the loaded data for these products (the Comext "
        "extractions carry values only): no unit values.</p>"
    )
    parts.append("</section></div>")
    path = folder / "report.html"
    tmp = path.with_suffix(".html.tmp")
    tmp.write_text("\n".join(parts), encoding="utf-8")
    tmp.replace(path)
    return path
