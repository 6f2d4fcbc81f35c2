"""`econsec scenario shock | extract | multipliers`: input-output models on WIOD tables."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from econsec.cli._common import OutputFormat, fail
from econsec.model.scenario import ExtractionResult, ShockResult
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
