"""`econsec ownership load | check | show`: the ownership graph and the 50 % rules."""

from __future__ import annotations

import json
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from econsec.cli._common import OutputFormat, fail
from econsec.lists._common import LoadError
from econsec.rules.ownership import RuleDataError
from econsec.screening.ownership import OwnershipError, check, explanation_json, load_file
from econsec.screening.ownership.graph import context
from econsec.store import Workspace, WorkspaceError
from econsec.store import ownership as store

app = typer.Typer(
    help="Ownership graph and the 50 % rules (OFAC, BIS affiliates).", no_args_is_help=True
)
console = Console()


class FileFormat(StrEnum):
    csv = "csv"
    ftm = "ftm"


def _date(value: str | None) -> date:
    if value is None:
        return date.today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"date: {value!r} is not an ISO date (YYYY-MM-DD)")


@app.command("load")
def load_cmd(
    file: Annotated[
        Path, typer.Argument(help="Ownership CSV (docs/ownership.md) or FtM JSON lines.")
    ],
    fmt: Annotated[
        FileFormat | None, typer.Option("--format", help="Default: from the file name.")
    ] = None,
    source: Annotated[
        str | None, typer.Option(help="Source name (default: from the file name).")
    ] = None,
    link_names: Annotated[
        bool, typer.Option("--link-names", help="Link nodes to list entries by name.")
    ] = False,
    threshold: Annotated[float, typer.Option(help="Minimum name score for --link-names.")] = 0.95,
) -> None:
    """Load an ownership file into the workspace (atomically, versioned)."""
    try:
        outcome = load_file(
            Workspace(), file, fmt.value if fmt else None, source, link_names, threshold
        )
    except (LoadError, WorkspaceError) as exc:
        fail(str(exc))
    v = outcome.version
    state = "loaded" if outcome.written else "unchanged (already stored; made active)"
    console.print(f"{v.version_id}: {state}; {v.entity_count} entities, {v.holding_count} holdings")
    for warning in outcome.warnings:
        console.print(f"[yellow]warning:[/yellow] {warning}", highlight=False)
    for link in outcome.links:
        console.print(
            f"linked {link.entity_id} → {link.party_id} ({link.evidence})", highlight=False
        )


@app.command("check")
def check_cmd(
    entity: Annotated[str, typer.Argument(help="Graph id or name of the entity.")],
    on: Annotated[
        str | None, typer.Option("--date", help="As of this date (default today).")
    ] = None,
    rule: Annotated[
        list[str] | None, typer.Option(help="ofac-50 or bis-affiliates; repeatable.")
    ] = None,
    fmt: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.text,
) -> None:
    """Is ENTITY covered by the 50 % rules on a date, and why."""
    try:
        answers = check(Workspace(), entity, _date(on), rule or None)
    except (OwnershipError, RuleDataError, WorkspaceError) as exc:
        fail(str(exc))
    if fmt is OutputFormat.json:
        typer.echo(json.dumps([explanation_json(a) for a in answers], indent=2, ensure_ascii=False))
        return
    for a in answers:
        colour = {"covered": "red", "listed": "red", "needs_review": "yellow"}.get(
            a.status.value, "green"
        )
        console.print(
            f"[bold]{a.rule_id}[/bold] {a.name} ({a.entity_id}) on {a.on}: "
            f"[{colour}]{a.status.value}[/{colour}]"
        )
        console.print(f"  {a.summary()}", highlight=False)
        for chain in a.chains:
            console.print(f"  chain: {chain}", highlight=False)
        for step in a.steps:
            for stake in step.stakes:
                pct = "?" if stake.percent is None else f"{stake.percent:g}"
                console.print(
                    f"  {stake.owner_name} holds {pct} % of {step.name} ({stake.record})",
                    highlight=False,
                )
            for listing in step.listings:
                console.print(
                    f"  {step.name} is {listing.list} {listing.party_id} {listing.name!r}"
                    f" ({listing.evidence})",
                    highlight=False,
                )
        for note in a.notes:
            console.print(f"  note: {note}", highlight=False)


@app.command("show")
def show_cmd() -> None:
    """Loaded ownership graphs, their warnings and unresolved list references."""
    workspace = Workspace()
    try:
        versions = store.versions(workspace)
        if not versions:
            console.print("no ownership graph loaded: run `econsec ownership load FILE`")
            return
        for v in versions:
            console.print(
                f"{'*' if v.active else ' '} {v.version_id} {v.format} {v.entity_count} entities, "
                f"{v.holding_count} holdings, {v.warning_count} warnings, loaded {v.loaded_at} "
                f"from {v.origin}",
                highlight=False,
            )
            if v.active:
                for w in store.warnings(workspace, v.version_id):
                    console.print(f"    warning: {w}", highlight=False)
        ctx = context(workspace)
    except WorkspaceError as exc:
        fail(str(exc))
    if ctx is not None:
        console.print(f"{sum(len(x) for x in ctx.links.values())} nodes linked to list entries")
        for node, ref in ctx.unresolved:
            console.print(f"  unresolved: {ctx.entities[node].entity_id} {ref!r}", highlight=False)
