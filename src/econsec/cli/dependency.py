"""`econsec dependency screen | crm`: supplier concentration and the EU dependency screen."""

from __future__ import annotations

import csv
import json
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from econsec.cli._common import OutputFormat, fail
from econsec.scenario.dependency import (
    DependencyError,
    Flow,
    check_flows,
    criticality,
    dependency,
    flows_from_workspace,
)

app = typer.Typer(
    help="Dependency metrics: HHI, import reliance, EU screens.", no_args_is_help=True
)
Fmt = Annotated[OutputFormat, typer.Option("--format", help="text or json.")]


def read_flows(path: Path) -> list[Flow]:
    """A CSV with columns reporter, partner, product, flow, value."""
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            missing = {"reporter", "partner", "product", "flow", "value"} - set(
                reader.fieldnames or []
            )
            if missing:
                raise DependencyError(f"{path}: header: missing columns {sorted(missing)}")
            rows = []
            for line, row in enumerate(reader, start=2):
                try:
                    value = float(row["value"])
                except ValueError as exc:
                    raise DependencyError(
                        f"{path}: line {line}: field 'value': {row['value']!r} not a number"
                    ) from exc
                rows.append(
                    Flow(row["reporter"], row["partner"], row["product"], row["flow"], value)
                )
    except FileNotFoundError as exc:
        raise DependencyError(f"{path}: file not found") from exc
    return check_flows(rows, str(path))


@app.command("screen")
def screen_cmd(
    product: Annotated[str, typer.Option(help="Product code as in the flows.")],
    group: Annotated[str, typer.Option(help="Comma-separated reporter codes of the group.")],
    flows: Annotated[
        Path | None, typer.Option(help="CSV: reporter,partner,product,flow,value.")
    ] = None,
    period: Annotated[
        str | None, typer.Option(help="Read the workspace's trade_flows for this period.")
    ] = None,
    production: Annotated[float | None, typer.Option(help="Group production.")] = None,
    on: Annotated[str, typer.Option(help="Date of the rules applied.")] = date.today().isoformat(),
    format: Fmt = OutputFormat.text,
) -> None:
    """HHI of suppliers, import reliance and the EU strategic-dependency screen."""
    try:
        if flows is not None:
            rows = read_flows(flows)
        elif period is not None:
            from econsec.store import Workspace  # noqa: PLC0415

            with Workspace().connect(read_only=True) as con:
                rows = flows_from_workspace(con, product, period)
        else:
            raise DependencyError("give --flows FILE or --period PERIOD (workspace trade_flows)")
        members = [g.strip() for g in group.split(",") if g.strip()]
        result = dependency(rows, product, members, date.fromisoformat(on), production)
    except (DependencyError, ValueError) as exc:
        fail(str(exc))
    if format is OutputFormat.json:
        typer.echo(json.dumps(asdict(result), ensure_ascii=False, indent=2, default=str))
        return
    verdict = "DEPENDENT" if result.dependent else "not dependent"
    typer.echo(f"{product} for {','.join(result.group)}: {verdict}")
    for name, value, threshold, met in result.criteria:
        shown = "n/a" if value is None else f"{value:.4f}"
        typer.echo(f"  {name:20s} {shown:>10s}  > {threshold:g}  {'yes' if met else 'no'}")
    for supplier, share in result.suppliers[:5]:
        typer.echo(f"  supplier {supplier:6s} {share:.2%}")
    typer.echo(result.explanation)


@app.command("crm")
def crm_cmd(
    material: Annotated[str, typer.Option(help="Raw material name.")],
    supply_risk: Annotated[float, typer.Option(help="Supply risk (SR).")],
    economic_importance: Annotated[float, typer.Option(help="Economic importance (EI).")],
    on: Annotated[str, typer.Option(help="Date of the rules applied.")] = date.today().isoformat(),
) -> None:
    """EU critical-raw-material test: SR ≥ 1.0 and EI ≥ 2.8."""
    try:
        result = criticality(material, supply_risk, economic_importance, date.fromisoformat(on))
    except (DependencyError, ValueError) as exc:
        fail(str(exc))
    typer.echo(f"{material}: {'critical' if result.critical else 'not critical'}")
    typer.echo(result.explanation)
