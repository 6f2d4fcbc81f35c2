"""`econsec trade load | indicators | alerts`: diversion monitoring on trade statistics."""

from __future__ import annotations

import csv
import json
import sys
from dataclasses import asdict
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TimeElapsedColumn
from rich.table import Table

from econsec.cli._common import fail
from econsec.lists._common import LoadError
from econsec.store import Workspace, WorkspaceError
from econsec.trade.charts import ReportSpec, write_report
from econsec.trade.indicators import (
    alerts,
    mirror_gap,
    parse_baseline,
    partner_totals,
    unit_values,
    yearly,
)
from econsec.trade.load import default_files, load_all

app = typer.Typer(help="Diversion monitoring on trade statistics.", no_args_is_help=True)
console = Console()


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


def _codes(text: str) -> list[str]:
    return [c.strip().upper() if ":" not in c else c.strip() for c in text.split(",") if c.strip()]


@app.command("load")
def load_cmd(
    files: Annotated[
        list[Path] | None, typer.Argument(help="Files (default: every trade file in ../shared).")
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(help="Parsing processes (default: the CPU count, at most 8).", min=1),
    ] = None,
) -> None:
    """Load trade files into the workspace (unchanged files are skipped).

    The bar counts every file's bytes twice: once parsed, once written.
    """
    try:
        paths = files or default_files()
        total = 2 * sum(p.stat().st_size for p in paths)
        with Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            DownloadColumn(),
            TimeElapsedColumn(),
            console=console,
        ) as bar:
            task = bar.add_task("loading", total=total)

            def advance(stage: str, path: Path, size: int) -> None:
                bar.update(task, advance=size, description=f"{stage} {path.name[:32]}")

            outcomes = load_all(paths, Workspace(), advance, workers=workers)
    except (LoadError, WorkspaceError, OSError) as exc:
        fail(str(exc))
    changed = [o for o in outcomes if o.changed]
    console.print(
        f"{len(changed)} files loaded ({sum(o.source.rows for o in changed):,} flows, "
        f"{sum(len(o.warnings) for o in changed)} warnings), "
        f"{len(outcomes) - len(changed)} unchanged"
    )


@app.command("indicators")
def indicators_cmd(
    products: Annotated[str, typer.Option(help="chpl:1,chpl:2 | HS/CN codes | TOTAL")] = "chpl:1",
    partners: Annotated[str, typer.Option(help="Partners (ISO-2).")] = "RU,AM,GE,KG,KZ,UZ",
    mirror: Annotated[
        str | None, typer.Option(help="EXPORTER:IMPORTER for the mirror gap, e.g. EU27_2020:KG")
    ] = None,
    margin: Annotated[
        float | None, typer.Option(help="CIF/FOB margin (default: rule data).")
    ] = None,
    fmt: Annotated[Format, typer.Option("--format")] = Format.table,
) -> None:
    """Yearly values by partner (from monthly rows) and, with --mirror, the mirror gap."""
    try:
        with Workspace().connect(read_only=True) as con:
            if mirror:
                exporter, _, importer = mirror.upper().partition(":")
                rows: list[dict[str, object]] = [
                    dict(r) for r in mirror_gap(con, "trade_flows", exporter, importer, margin)
                ]
            else:
                rows = partner_totals(
                    yearly(con, "trade_flows", _codes(products), _codes(partners))
                )
    except (ValueError, WorkspaceError) as exc:
        fail(str(exc))
    _emit(rows, fmt)


@app.command("alerts")
def alerts_cmd(
    target: Annotated[str, typer.Option(help="Sanctioned destination (ISO-2).")] = "RU",
    intermediaries: Annotated[str, typer.Option(help="ISO-2 list.")] = "AM,GE,KG,KZ,UZ",
    products: Annotated[str, typer.Option(help="chpl:1,chpl:2 | HS/CN codes")] = "chpl:1",
    baseline: Annotated[str, typer.Option(help="Year or range, e.g. 2021 or 2019-2021.")] = "2021",
    period: Annotated[int, typer.Option(help="Year compared with the baseline.")] = 2022,
    controls: Annotated[
        str | None, typer.Option(help="Control destinations for the DiD (default: rule data).")
    ] = None,
    control_products: Annotated[
        str | None, typer.Option(help="Control products instead (same intermediary).")
    ] = None,
    limit: Annotated[int, typer.Option(help="Rows shown.")] = 20,
    fmt: Annotated[Format, typer.Option("--format")] = Format.table,
) -> None:
    """Rank suspicious reporter → intermediary flows, with the contributions to each score."""
    try:
        years = parse_baseline(baseline)
    except ValueError as exc:
        fail(f"--baseline: {exc}")
    try:
        with Workspace().connect(read_only=True) as con:
            found = alerts(
                con,
                "trade_flows",
                target.upper(),
                _codes(intermediaries),
                _codes(products),
                years,
                period,
                controls=_codes(controls) if controls else None,
                control_products=_codes(control_products) if control_products else None,
            )[:limit]
    except (ValueError, WorkspaceError) as exc:
        fail(str(exc))
    if fmt is Format.table:
        table = Table("reporter", "intermediary", "score", "baseline", str(period), "why")
        for a in found:
            why = "; ".join(f"{c.indicator} +{c.points:.2f}" for c in a.contributions if c.points)
            table.add_row(
                a.reporter,
                a.intermediary,
                f"{a.score:.2f}",
                f"{a.baseline_value or 0:,.0f}",
                f"{a.period_value or 0:,.0f}",
                why,
            )
        console.print(table)
        return
    rows = [asdict(a) for a in found]
    if fmt is Format.csv:
        for row in rows:
            row["contributions"] = json.dumps(row["contributions"], default=str)
    _emit(rows, fmt)


@app.command("unit-values")
def unit_values_cmd(
    products: Annotated[str, typer.Option(help="chpl:1,chpl:2 | HS/CN codes")] = "chpl:1",
    partners: Annotated[str, typer.Option(help="Partners (ISO-2).")] = "RU,AM,GE,KG,KZ,UZ",
    baseline: Annotated[str, typer.Option(help="Year or range, e.g. 2021 or 2019-2021.")] = "2021",
    period: Annotated[int, typer.Option(help="Year compared with the baseline.")] = 2022,
    flow: Annotated[str, typer.Option(help="export or import")] = "export",
    fmt: Annotated[Format, typer.Option("--format")] = Format.table,
) -> None:
    """Unit values (value ÷ quantity) per reporter, partner, product and unit, where the
    data carries quantities (BACI, Comtrade)."""
    try:
        years = parse_baseline(baseline)
        with Workspace().connect(read_only=True) as con:
            rows = unit_values(
                con, "trade_flows", _codes(products), _codes(partners), years, period, flow
            )
    except (ValueError, WorkspaceError) as exc:
        fail(str(exc))
    if not rows and fmt is Format.table:
        console.print("no quantities for these products and partners: no unit values")
        return
    _emit(rows, fmt)


@app.command("report")
def report_cmd(
    out: Annotated[Path, typer.Option(help="Folder for the PNGs and report.html.")] = Path(
        "trade-report"
    ),
    target: Annotated[str, typer.Option(help="Sanctioned destination (ISO-2).")] = "RU",
    intermediaries: Annotated[str, typer.Option(help="ISO-2 list.")] = "AM,GE,KG,KZ,UZ",
    products: Annotated[str, typer.Option(help="chpl:1,chpl:2 | HS/CN codes")] = "chpl:1",
    mirror: Annotated[str, typer.Option(help="EXPORTER:IMPORTER")] = "EU27_2020:KG",
) -> None:
    """Charts (PNG) and a self-contained HTML report: monthly flows, growth, mirror gap,
    with the ranked alerts and unit values as tables beside them."""
    exporter, _, importer = mirror.upper().partition(":")
    spec = ReportSpec(
        target=target.upper(),
        intermediaries=tuple(_codes(intermediaries)),
        products=tuple(_codes(products)),
        mirror=(exporter, importer),
    )
    try:
        with Workspace().connect(read_only=True) as con:
            path = write_report(con, "trade_flows", spec, out)
    except (ValueError, WorkspaceError) as exc:
        fail(str(exc))
    console.print(
        f"report written: {path} (charts, ranked alerts, unit values; "
        "and monthly.png, growth.png, mirror.png)"
    )


def _emit(rows: list[dict[str, object]], fmt: Format) -> None:
    if fmt is Format.json:
        typer.echo(json.dumps(rows, indent=2, default=str))
    elif fmt is Format.csv:
        if rows:
            writer = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    else:
        table = Table(*(str(k) for k in rows[0])) if rows else Table()
        for row in rows:
            table.add_row(*(f"{v:,.2f}" if isinstance(v, float) else str(v) for v in row.values()))
        console.print(table)
