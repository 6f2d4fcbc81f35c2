"""`econsec scenario run | compare | report | library | shock | extract | multipliers` (WIOD)."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from econsec.cli._common import OutputFormat, fail
from econsec.model.scenario import ExtractionResult, ShockResult
from econsec.scenario.engine import ScenarioError, compare, library_names, resolve, run_scenario
from econsec.scenario.io import IOModel, IOModelError, load_wiod, make_cut

app = typer.Typer(help="Scenario planning on input-output tables (WIOD).", no_args_is_help=True)
console = Console()

Year = Annotated[int, typer.Option(help="WIOD 2013-release table year (1995–2011).")]
Fmt = Annotated[OutputFormat, typer.Option("--format", help="text or json.")]


def _model(year: int) -> IOModel:
    return IOModel(load_wiod(year))


def _print(result: ShockResult | ExtractionResult, format: OutputFormat, title: str) -> None:
    if format is OutputFormat.json:
        doc: dict[str, Any] = asdict(result)
        doc.pop("loss", None)  # 1,435 numbers: by_country and top_sectors carry the answer
        typer.echo(json.dumps(doc, ensure_ascii=False, indent=2))
        return
    table = Table(title=title)
    for col in ("country", "output loss", "% of output"):
        table.add_column(col)
    for country, loss, share in result.by_country[:10]:
        table.add_row(country, f"{loss:,.0f}", f"{share:.3%}")
    console.print(table)
    for line in result.top_sectors:
        console.print(
            f"  {line.loss:12,.0f}  {line.country} {line.sector} {line.sector_name} "
            f"({line.loss_share:.2%})",
            highlight=False,
        )
    console.print(result.explanation, style="dim", highlight=False)


@app.command("shock")
def shock_cmd(
    supplier: Annotated[str, typer.Option(help="Supplier country (WIOD code, e.g. CHN).")],
    sector: Annotated[str, typer.Option(help="Supplier sector (c1…c35, e.g. c14).")],
    share: Annotated[float, typer.Option(help="Share of exports cut, 0–1.")],
    partners: Annotated[
        str | None, typer.Option(help="Comma-separated partner countries (default: all).")
    ] = None,
    year: Year = 2011,
    format: Fmt = OutputFormat.text,
) -> None:
    """A supplier cuts exports of a sector to partners: output losses by country and sector."""
    try:
        model = _model(year)
        wanted = [p.strip() for p in partners.split(",") if p.strip()] if partners else None
        cut = make_cut(model.table, supplier, sector, share, wanted)
        result = model.supply_shock([cut])
    except IOModelError as exc:
        fail(str(exc))
    _print(result, format, f"{supplier} {sector} exports cut by {share:.0%} — WIOD {year}")


@app.command("extract")
def extract_cmd(
    country: Annotated[str, typer.Option(help="Country to extract (WIOD code).")],
    sector: Annotated[str | None, typer.Option(help="One sector only (c1…c35).")] = None,
    year: Year = 2011,
    format: Fmt = OutputFormat.text,
) -> None:
    """Hypothetical extraction of a country or a country-sector."""
    try:
        result = _model(year).extract(country, sector)
    except IOModelError as exc:
        fail(str(exc))
    _print(result, format, f"Extraction of {result.extracted} — WIOD {year}")


@app.command("multipliers")
def multipliers_cmd(
    top: Annotated[int, typer.Option(help="Largest N by output multiplier.")] = 20,
    year: Year = 2011,
    format: Fmt = OutputFormat.text,
) -> None:
    """Leontief output multipliers and Ghosh supply multipliers."""
    try:
        lines = _model(year).multipliers(top)
    except IOModelError as exc:
        fail(str(exc))
    if format is OutputFormat.json:
        typer.echo(json.dumps([asdict(line) for line in lines], indent=2))
        return
    table = Table(title=f"Multipliers — WIOD {year} (column sums of L, row sums of G)")
    for col in ("country", "sector", "output (Leontief)", "supply (Ghosh)"):
        table.add_column(col)
    for line in lines:
        table.add_row(
            line.country,
            line.sector,
            f"{line.output_multiplier:.3f}",
            f"{line.supply_multiplier:.3f}",
        )
    console.print(table)


ScenarioArg = Annotated[
    str, typer.Argument(help="Scenario YAML file, or a library name (`econsec scenario library`).")
]


@app.command("library")
def library_cmd() -> None:
    """List the scenarios shipped with econsec."""
    for name in library_names():
        typer.echo(name)


@app.command("run")
def run_cmd(
    scenario: ScenarioArg,
    weeks: Annotated[bool, typer.Option(help="Print the week-by-week total loss.")] = False,
    format: Fmt = OutputFormat.text,
) -> None:
    """Run a scenario: moves, counter-moves, weekly output loss by country and sector."""
    try:
        run = run_scenario(resolve(scenario))
    except (ScenarioError, IOModelError) as exc:
        fail(str(exc))
    if format is OutputFormat.json:
        typer.echo(json.dumps(asdict(run), ensure_ascii=False, indent=2))
        return
    console.print(f"[bold]{run.title}[/bold] — from {run.start}, {run.horizon_weeks} weeks")
    for m in run.moves:
        console.print(f"  • {m.id}: {m.explanation}", highlight=False)
    table = Table(title="Output loss by country (million USD)")
    for col in ("country", "cumulative", "% of output", "peak week", "recovered", "static/yr"):
        table.add_column(col)
    for e in run.by_country[:12]:
        table.add_row(
            e.country,
            f"{e.cumulative_loss:,.1f}",
            f"{e.cumulative_share:.4%}",
            "-" if e.peak_week is None else str(e.peak_week),
            "-" if e.recovery_week is None else str(e.recovery_week),
            f"{e.static_annual_loss:,.1f}",
        )
    console.print(table)
    for line in run.top_sectors[:10]:
        console.print(
            f"  {line.loss:12,.1f}  {line.country} {line.sector} {line.sector_name}",
            highlight=False,
        )
    if weeks:
        for w in run.timeline:
            console.print(f"  week {w.week:3d} {w.date}  {w.total_loss:12,.2f}", highlight=False)
    console.print(run.explanation, style="dim", highlight=False)


@app.command("compare")
def compare_cmd(
    a: ScenarioArg,
    b: ScenarioArg,
    format: Fmt = OutputFormat.text,
) -> None:
    """Two scenario runs side by side: cumulative loss, peak and recovery week by country."""
    try:
        result = compare(run_scenario(resolve(a)), run_scenario(resolve(b)))
    except (ScenarioError, IOModelError) as exc:
        fail(str(exc))
    if format is OutputFormat.json:
        typer.echo(json.dumps(asdict(result), ensure_ascii=False, indent=2))
        return
    table = Table(title=f"{result.a} vs {result.b} (cumulative output loss, million USD)")
    for col in ("country", result.a, result.b, "b − a", "peak a/b", "recovered a/b"):
        table.add_column(col)
    for line in result.lines[:15]:
        table.add_row(
            line.country,
            f"{line.a_cumulative_loss:,.1f}",
            f"{line.b_cumulative_loss:,.1f}",
            f"{line.difference:+,.1f}",
            f"{line.a_peak_week}/{line.b_peak_week}",
            f"{line.a_recovery_week}/{line.b_recovery_week}",
        )
    table.add_row("total", f"{result.a_total:,.1f}", f"{result.b_total:,.1f}",
                  f"{result.b_total - result.a_total:+,.1f}", "", "")  # fmt: skip
    console.print(table)
    console.print(result.explanation, style="dim", highlight=False)


@app.command("report")
def report_cmd(
    scenario: ScenarioArg,
    out: Annotated[Path, typer.Option(help="Folder for the PNG charts and the HTML report.")] = (
        Path("scenario-report")
    ),
) -> None:
    """Run a scenario and write a heat map, loss curves and a self-contained HTML report."""
    from econsec.scenario.charts import write_report  # noqa: PLC0415 (matplotlib is slow)

    try:
        run = run_scenario(resolve(scenario))
    except (ScenarioError, IOModelError) as exc:
        fail(str(exc))
    for path in write_report(run, out):
        typer.echo(str(path))
