"""`econsec lists …`: load, show and fetch restricted-party lists."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from econsec.cli._common import OutputFormat, fail
from econsec.lists import LoadError, LoadStatus, default_targets, load, resolve
from econsec.settings import data_dir
from econsec.store import Workspace, WorkspaceError

app = typer.Typer(help="Restricted-party lists: load, show, fetch.", no_args_is_help=True)
console = Console()
err = Console(stderr=True)


@app.command("load")
def load_cmd(
    sources: Annotated[
        list[str] | None,
        typer.Argument(
            help="Source ids (us_csl, ofac_sdn, ofac_cons, un_sc, bis_dpl, os_us_congress …) "
            "or paths to list files/folders. Default: every known source in the data folder."
        ),
    ] = None,
) -> None:
    """Load list editions into the workspace; unchanged files are not reloaded."""
    workspace = Workspace()
    folder = data_dir()
    try:
        if sources:
            targets = [resolve(s, folder) for s in sources]
        else:
            if folder is None:
                fail("no data folder found: set ECONSEC_DATA or run `econsec lists fetch`")
            targets = default_targets(folder)
            if not targets:
                fail(f"no known list files in {folder / 'lists'}")
    except LoadError as exc:
        fail(str(exc))
    failures = 0
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} lists"),
        TimeElapsedColumn(),
        console=err,
    ) as progress:
        task = progress.add_task("loading", total=len(targets))
        for target in targets:
            name = target.source.id if target.source else str(target.path)
            progress.update(task, description=f"loading {name}")
            try:
                result = load(target, workspace)
            except (LoadError, WorkspaceError) as exc:
                failures += 1
                progress.console.print(f"[red]failed[/red] {name}: {exc}")
                progress.console.print("  the previously active version stays active")
            else:
                v = result.version
                colour = "green" if result.status is LoadStatus.LOADED else "dim"
                progress.console.print(
                    f"[{colour}]{result.status.value}[/{colour}] {v.version_id}: "
                    f"{v.entry_count} entries, published {v.published or 'unknown'}"
                )
                for note in result.skipped:
                    progress.console.print(f"  [yellow]skipped[/yellow] {note}")
            progress.advance(task)
    if failures:
        raise typer.Exit(1)


@app.command("show")
def show_cmd(
    all_versions: Annotated[
        bool, typer.Option("--all", help="Include inactive (older) versions.")
    ] = False,
    fmt: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.text,
) -> None:
    """List the loaded list versions."""
    versions = Workspace().versions(active_only=not all_versions)
    if fmt is OutputFormat.json:
        typer.echo(json.dumps([asdict(v) for v in versions], indent=2))
        return
    if not versions:
        console.print("no lists loaded: run `econsec lists load`")
        return
    table = Table("version", "published", "entries", "sha-256", "loaded (UTC)", "active")
    for v in versions:
        table.add_row(
            v.version_id,
            v.published or "?",
            str(v.entry_count),
            v.content_hash[:12],
            v.loaded_at[:19].replace("T", " "),
            "yes" if v.active else "",
        )
    console.print(table)
