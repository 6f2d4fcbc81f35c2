"""`econsec screen` and `econsec compare`."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from econsec.cli._common import OutputFormat, fail
from econsec.model import Schema
from econsec.screening import ALGORITHM, ScreeningError, build_query, compare
from econsec.screening.cache import cached_screener
from econsec.screening.ownership import ownership_hit_json, ownership_screener
from econsec.screening.report import match_json, result_json
from econsec.store import Workspace, WorkspaceError

console = Console()
err = Console(stderr=True)


def screen_cmd(
    name: Annotated[str, typer.Argument(help="The name to screen.")],
    schema: Annotated[
        str | None,
        typer.Option(help="Person, Organization, Vessel, Aircraft (or LegalEntity)."),
    ] = None,
    country: Annotated[
        list[str] | None,
        typer.Option(help="Country (ISO-2 code or name); repeat for several."),
    ] = None,
    dob: Annotated[
        list[str] | None, typer.Option(help="Date of birth, YYYY[-MM[-DD]]; repeatable.")
    ] = None,
    lists: Annotated[
        list[str] | None,
        typer.Option(help="Only these sources or lists (un_sc, SDN, EL …), comma-separated."),
    ] = None,
    threshold: Annotated[
        float | None, typer.Option(help="Minimum score (default: the algorithm's).")
    ] = None,
    limit: Annotated[int, typer.Option(help="Maximum number of results.")] = 10,
    fmt: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.text,
    on: Annotated[
        str | None,
        typer.Option("--date", help="Ownership rules as of this date (default today)."),
    ] = None,
) -> None:
    """Screen a name against every loaded list (and the entities the 50 % rules cover)."""
    try:
        query = build_query(name, schema, country or (), dob or (), lists or (), threshold, limit)
        with err.status("preparing the lists (first run of a session takes a few seconds)"):
            screener = cached_screener(Workspace())
        result = screener.screen(query)
        owned = ownership_screener(Workspace(), _on(on))
        ownership = owned.screen(query).hits if owned is not None else ()
    except (ScreeningError, WorkspaceError) as exc:
        fail(str(exc))
    if fmt is OutputFormat.json:
        data = result_json(result)
        data["ownership"] = [ownership_hit_json(h) for h in ownership]
        typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    if not result.hits:
        console.print(
            f"no list entry at or above {result.threshold:.2f} for {name!r} "
            f"({ALGORITHM}, {sum(v.entry_count for v in result.list_versions)} entries "
            f"in {len(result.list_versions)} lists)"
        )
    else:
        table = Table("score", "list", "entry", "listed name", "matched name", show_lines=True)
        for hit in result.hits:
            table.add_row(
                f"{hit.match.score:.3f}",
                hit.party.list,
                hit.party.entity_id,
                hit.party.name,
                hit.match.matched_name,
            )
        console.print(table)
        for hit in result.hits:
            console.print(f"[bold]{hit.party.entity_id}[/bold] {hit.match.score:.3f}")
            for f in hit.match.features:
                console.print(f"  {f.feature:14s} {f.effect:+.3f}  {f.detail}", highlight=False)
    if ownership:
        console.print(f"[bold red]covered by an ownership rule[/bold red] on {_on(on)}:")
        for hit in ownership:
            console.print(
                f"  {hit.match.score:.3f} {hit.party.name} ({hit.party.entity_id}): "
                f"{hit.party.remarks}",
                highlight=False,
            )
    console.print(
        f"{ALGORITHM}, threshold {result.threshold:.2f}; lists: "
        + ", ".join(v.version_id for v in result.list_versions)
    )


def _on(value: str | None) -> dt.date:
    if value is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ScreeningError(f"date: {value!r} is not an ISO date (YYYY-MM-DD)") from None


def compare_cmd(
    name1: Annotated[str, typer.Argument()],
    name2: Annotated[str, typer.Argument()],
    schema: Annotated[str | None, typer.Option(help="Person or Organization.")] = None,
    fmt: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.text,
) -> None:
    """Why two names do or do not match."""
    try:
        parsed = Schema.parse(schema) if schema else None
    except ValueError as exc:
        fail(f"schema: {exc}")
    try:
        match = compare(name1, name2, parsed)
    except ScreeningError as exc:
        fail(str(exc))
    if fmt is OutputFormat.json:
        typer.echo(json.dumps(match_json(match, ALGORITHM), indent=2, ensure_ascii=False))
        return
    console.print(f"score {match.score:.3f} ({ALGORITHM})")
    for f in match.features:
        console.print(f"  {f.feature}: {f.detail}", highlight=False)
