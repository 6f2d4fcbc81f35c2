"""Charts for scenario runs and dependence: PNG files and a self-contained HTML report.

* exposure heat map: weekly output loss by country (rows) and week (columns);
* loss-over-time curves: total weekly loss and the most exposed countries;
* supplier-share bars: a recipient group's arms-import shares by supplier and period.

The HTML report embeds the PNGs as base64 data URIs (no external file, script
or font), with the moves, their sources and the exposure table.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display

import matplotlib.pyplot as plt
import numpy as np
from jinja2 import Environment, select_autoescape
from matplotlib.figure import Figure

from econsec.model.scenario import DefenceShares, ScenarioRun


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def exposure_heatmap(run: ScenarioRun, countries: int = 12) -> bytes:
    names = [e.country for e in run.by_country[:countries] if e.cumulative_loss > 0]
    grid = np.zeros((len(names), len(run.timeline)))
    for w, line in enumerate(run.timeline):
        per = dict(line.by_country)
        for r, c in enumerate(names):
            grid[r, w] = per.get(c, 0.0)
    fig, ax = plt.subplots(figsize=(10, 0.4 * max(len(names), 3) + 1.5))
    im = ax.imshow(grid, aspect="auto", cmap="Reds", interpolation="nearest")
    ax.set_yticks(range(len(names)), names)
    ax.set_xlabel(f"week from {run.start}")
    ax.set_title(f"{run.name}: weekly output loss by country (million USD)")
    fig.colorbar(im, ax=ax, label="million USD per week")
    return _png(fig)


def loss_curves(runs: list[ScenarioRun], countries: int = 4) -> bytes:
    fig, ax = plt.subplots(figsize=(10, 4.5))
    for run in runs:
        weeks = [w.week for w in run.timeline]
        ax.plot(weeks, [w.total_loss for w in run.timeline], lw=2.2, label=f"{run.name}: total")
        if len(runs) == 1:
            for e in run.by_country[:countries]:
                series = [dict(w.by_country).get(e.country, 0.0) for w in run.timeline]
                ax.plot(weeks, series, lw=1, label=e.country)
    ax.set_xlabel("week")
    ax.set_ylabel("output loss, million USD per week")
    ax.set_title("Output loss over time (inventories, then partial substitution)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return _png(fig)


def supplier_bars(shares: DefenceShares) -> bytes:
    """Top suppliers' shares of the group's imports, one bar group per period."""
    suppliers: list[str] = []
    for p in shares.periods:
        suppliers += [s.supplier for s in p.top_suppliers if s.supplier not in suppliers]
    fig, ax = plt.subplots(figsize=(10, 4.5))
    width = 0.8 / max(len(shares.periods), 1)
    for k, p in enumerate(shares.periods):
        per = {s.supplier: s.share for s in p.top_suppliers}
        xs = np.arange(len(suppliers)) + k * width
        ax.bar(xs, [per.get(s, 0.0) * 100 for s in suppliers], width,
               label=f"{p.first_year}–{p.last_year}")  # fmt: skip
    ax.set_xticks(np.arange(len(suppliers)) + width * (len(shares.periods) - 1) / 2, suppliers,
                  rotation=30, ha="right")  # fmt: skip
    ax.set_ylabel("% of the group's imports (SIPRI TIV)")
    ax.set_title(f"Suppliers of {shares.group_name}")
    ax.legend()
    return _png(fig)


_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ run.title }}</title>
<style>body{font-family:sans-serif;max-width:70em;margin:2em auto}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .5em;text-align:right}
td:first-child,th:first-child{text-align:left}.note{color:#555;font-size:.9em}</style>
</head><body>
<h1>{{ run.title }}</h1>
<p>From {{ run.start }}, {{ run.horizon_weeks }} weeks. Total output loss
{{ "{:,.1f}".format(run.total_cumulative_loss) }} million USD (static upper bound for a
year: {{ "{:,.1f}".format(run.static_annual_loss) }}).</p>
<h2>Moves</h2><ul>{% for m in run.moves %}<li><b>{{ m.id }}</b>: {{ m.explanation }}</li>
{% endfor %}</ul>
<h2>Output loss over time</h2><img alt="loss over time" src="data:image/png;base64,{{ curves }}">
<h2>Exposure by country and week</h2><img alt="heat map" src="data:image/png;base64,{{ heat }}">
<h2>Exposure by country</h2>
<table><tr><th>country</th><th>cumulative</th><th>% of output</th><th>peak week</th>
<th>recovered</th><th>static / year</th></tr>
{% for e in run.by_country[:20] %}<tr><td>{{ e.country }}</td>
<td>{{ "{:,.1f}".format(e.cumulative_loss) }}</td><td>{{ "{:.4%}".format(e.cumulative_share) }}</td>
<td>{{ e.peak_week if e.peak_week is not none else "–" }}</td>
<td>{{ e.recovery_week if e.recovery_week is not none else "–" }}</td>
<td>{{ "{:,.1f}".format(e.static_annual_loss) }}</td></tr>{% endfor %}</table>
<h2>Most exposed sectors</h2><table><tr><th>country-sector</th><th>cumulative loss</th></tr>
{% for s in run.top_sectors %}<tr><td>{{ s.country }} {{ s.sector }} {{ s.sector_name }}</td>
<td>{{ "{:,.1f}".format(s.loss) }}</td></tr>{% endfor %}</table>
<h2>Method and sources</h2><p class="note">{{ run.explanation }}</p>
<ul class="note">{% for s in run.sources %}<li>{{ s }}</li>{% endfor %}</ul>
</body></html>
"""


def html_report(run: ScenarioRun) -> str:
    env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
    return env.from_string(_TEMPLATE).render(
        run=run,
        curves=base64.b64encode(loss_curves([run])).decode("ascii"),
        heat=base64.b64encode(exposure_heatmap(run)).decode("ascii"),
    )


def write_report(run: ScenarioRun, out: Path) -> list[Path]:
    """heatmap.png, losses.png and report.html in ``out``; written whole or not at all."""
    out.mkdir(parents=True, exist_ok=True)
    files = {
        out / f"{run.name}-heatmap.png": exposure_heatmap(run),
        out / f"{run.name}-losses.png": loss_curves([run]),
        out / f"{run.name}-report.html": html_report(run).encode("utf-8"),
    }
    for path, data in files.items():
        tmp = path.with_suffix(path.suffix + ".part")
        tmp.write_bytes(data)
        tmp.replace(path)
    return list(files)
