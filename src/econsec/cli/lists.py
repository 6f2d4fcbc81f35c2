"""`econsec lists …`: load, show, fetch and export restricted-party lists."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from econsec.cli._common import OutputFormat, fail
from econsec.lists import LoadError, LoadStatus, Target, default_targets, fetch, ftm, load, resolve
from econsec.settings import data_dir
from econsec.store import Workspace, WorkspaceError

app = typer.Typer(help="Restricted-party lists: load, show, fetch, export.", no_args_is_help=True)
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
    # The shared data folder, else what `econsec lists fetch` downloaded.
    folder = data_dir() or fetch.downloaded_data_dir(workspace.home)
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
    timings = load_targets(targets, workspace, err)
    if not all(t.ok for t in timings):
        raise typer.Exit(1)


@dataclass(frozen=True, slots=True)
class LoadTiming:
    source: str
    seconds: float
    ok: bool


def load_targets(targets: list[Target], workspace: Workspace, out: Console) -> list[LoadTiming]:
    """Load each target under a progress bar, reporting each outcome; also
    what benchmarks/list_load.py times."""
    timings: list[LoadTiming] = []
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} lists"),
        TimeElapsedColumn(),
        console=out,
    ) as progress:
        task = progress.add_task("loading", total=len(targets))
        for target in targets:
            name = target.source.id if target.source else str(target.path)
            progress.update(task, description=f"loading {name}")
            started = time.perf_counter()
            ok = _load_one(target, workspace, progress.console)
            timings.append(LoadTiming(name, time.perf_counter() - started, ok))
            progress.advance(task)
    return timings


def _load_one(target: Target, workspace: Workspace, out: Console) -> bool:
    """Load one target and report the outcome; whether it succeeded."""
    name = target.source.id if target.source else str(target.path)
    try:
        result = load(target, workspace)
    except (LoadError, WorkspaceError) as exc:
        out.print(f"[red]failed[/red] {name}: {exc}")
        out.print("  the previously active version stays active")
        return False
    v = result.version
    colour = "green" if result.status is LoadStatus.LOADED else "dim"
    out.print(
        f"[{colour}]{result.status.value}[/{colour}] {v.version_id}: "
        f"{v.entry_count} entries, published {v.published or 'unknown'}"
    )
    for note in result.skipped:
        out.print(f"  [yellow]skipped[/yellow] {note}")
    return True


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


@app.command("fetch")
def fetch_cmd(
    sources: Annotated[
        list[str] | None,
        typer.Argument(help="Source ids to download. Default: every source with a download URL."),
    ] = None,
    load_after: Annotated[
        bool,
        typer.Option("--load/--no-load", help="Load each download into the workspace."),
    ] = True,
) -> None:
    """Download list files from their official addresses into the workspace."""
    workspace = Workspace()
    try:
        chosen = fetch.fetchable_sources(sources)
    except fetch.FetchError as exc:
        fail(str(exc))
    failures = 0
    with fetch.make_client() as client:
        for source in chosen:
            err.print(f"downloading {source.id} ({source.label})")
            try:
                got = fetch.fetch_source(source, client, workspace.home)
            except fetch.FetchError as exc:
                failures += 1
                err.print(f"[red]failed[/red] {source.id}: {exc}", highlight=False)
                err.print("  nothing was saved; earlier downloads and loaded versions are kept")
                continue
            err.print(f"[green]saved[/green] {got.target.path} ({got.size:,} bytes)")
            if load_after and not _load_one(got.target, workspace, err):
                failures += 1
    if not load_after:
        folder = fetch.downloads_dir(workspace.home)
        err.print(f"load later with `econsec lists load` (data folder {folder})")
    if failures:
        raise typer.Exit(1)


class ExportFormat(StrEnum):
    ftm = "ftm"


@app.command("export")
def export_cmd(
    out: Annotated[Path, typer.Argument(help="File to write (FollowTheMoney JSON lines).")],
    sources: Annotated[
        list[str] | None,
        typer.Option("--source", help="Only this source (repeatable). Default: all active."),
    ] = None,
    fmt: Annotated[ExportFormat, typer.Option("--format")] = ExportFormat.ftm,
) -> None:
    """Export the active list versions' parties, e.g. as FollowTheMoney entities."""
    try:
        versions, parties = Workspace().active_parties()
    except WorkspaceError as exc:
        fail(str(exc))
    if not versions:
        fail("no lists loaded: run `econsec lists load` first")
    if sources:
        active = {v.source for v in versions}
        unknown = sorted(set(sources) - active)
        if unknown:
            fail(
                f"no active version of {', '.join(unknown)}; "
                f"active sources: {', '.join(sorted(active)) or 'none'}"
            )
        parties = [p for p in parties if p.source in sources]
    try:
        count = ftm.write_entities(parties, out)
    except OSError as exc:
        fail(f"cannot write {out}: {exc.strerror or exc}")
    err.print(f"wrote {len(parties)} parties ({count} {fmt.value} entities) to {out}")
