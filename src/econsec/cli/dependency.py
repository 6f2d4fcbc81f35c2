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
    flows_from_io,
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
    group: Annotated[
        str,
        typer.Option(
            help="Comma-separated reporter codes of the group, or @eu / @european-nato "
            "(scenario_rules.yaml partner groups, WIOD codes)."
        ),
    ],
    flows: Annotated[
        Path | None, typer.Option(help="CSV: reporter,partner,product,flow,value.")
    ] = None,
    period: Annotated[
        str | None, typer.Option(help="Read the workspace's trade_flows for this period.")
    ] = None,
    io_year: Annotated[
        int | None,
        typer.Option(
            help="Read the WIOD 2013-release table of this year (product = sector c1…c35)."
        ),
    ] = None,
    production: Annotated[float | None, typer.Option(help="Group production.")] = None,
    on: Annotated[str, typer.Option(help="Date of the rules applied.")] = date.today().isoformat(),
    format: Fmt = OutputFormat.text,
) -> None:
    """HHI of suppliers, import reliance and the EU strategic-dependency screen."""
    note = ""
    try:
        members = _members(group)
        sources = [flows is not None, period is not None, io_year is not None]
        if sum(sources) > 1:
            raise DependencyError("give only one of --flows, --period and --io-year")
        if flows is not None:
            rows = read_flows(flows)
        elif io_year is not None:
            from econsec.scenario.io import IOModelError, load_wiod  # noqa: PLC0415

            try:
                io = flows_from_io(load_wiod(io_year), product)
            except IOModelError as exc:
                raise DependencyError(str(exc)) from exc
            rows, note = io.flows, io.note
            if production is None:
                production = sum(io.output.get(m, 0.0) for m in members)
        elif period is not None:
            from econsec.store import Workspace  # noqa: PLC0415

            with Workspace().connect(read_only=True) as con:
                rows = flows_from_workspace(con, product, period)
        else:
            raise DependencyError(
                "give --flows FILE, --period PERIOD (workspace trade_flows) or --io-year YEAR"
            )
        result = dependency(rows, product, members, date.fromisoformat(on), production)
    except (DependencyError, ValueError) as exc:
        fail(str(exc))
    if format is OutputFormat.json:
        doc = asdict(result)
        doc["source_note"] = note or None
        typer.echo(json.dumps(doc, ensure_ascii=False, indent=2, default=str))
        return
    verdict = "DEPENDENT" if result.dependent else "not dependent"
    typer.echo(f"{product} for {','.join(result.group)}: {verdict}")
    for name, value, threshold, met in result.criteria:
        shown = "n/a" if value is None else f"{value:.4f}"
        typer.echo(f"  {name:20s} {shown:>10s}  > {threshold:g}  {'yes' if met else 'no'}")
    for supplier, share in result.suppliers[:5]:
        typer.echo(f"  supplier {supplier:6s} {share:.2%}")
    if result.import_reliance is not None:
        typer.echo(f"  import reliance      {result.import_reliance:.4f}")
    typer.echo(result.explanation)
    if note:
        typer.echo(note)


def _members(group: str) -> list[str]:
    """Reporter codes, with ``@name`` expanded from the scenario partner groups."""
    from econsec.scenario.engine import partner_groups  # noqa: PLC0415

    out: list[str] = []
    for token in (g.strip() for g in group.split(",")):
        if not token:
            continue
        if token.startswith("@"):
            groups = partner_groups()
            if token[1:] not in groups:
                raise DependencyError(
                    f"field 'group': unknown group {token!r}; known: "
                    + ", ".join("@" + g for g in groups)
                )
            out.extend(str(m) for m in groups[token[1:]]["members"])
        else:
            out.append(token)
    if not out:
        raise DependencyError("field 'group': no members")
    return out


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
