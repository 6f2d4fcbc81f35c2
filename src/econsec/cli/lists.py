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
from econsec.lists.diff import diff_json, diff_versions
from econsec.model import Party
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


def _edition(ref: str, workspace: Workspace) -> tuple[str, list[Party]]:
    """A version id stored in the workspace, or a list file/folder to parse."""
    if workspace.exists() and any(v.version_id == ref for v in workspace.versions()):
        return ref, workspace.parties(ref)
    path = Path(ref)
    if not path.exists():
        raise LoadError(ref, None, None, "neither a version id in the workspace nor a list file")
    target = resolve(ref, None)
    return str(path), target.format.parse(path).parties


@app.command("diff")
def diff_cmd(
    old: Annotated[str, typer.Argument(help="Older edition: version id or list file/folder.")],
    new: Annotated[str, typer.Argument(help="Newer edition: version id or list file/folder.")],
    fmt: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.text,
    show: Annotated[int, typer.Option(help="Entries shown per kind of change (text).")] = 50,
) -> None:
    """What changed between two editions: added, removed and changed entries."""
    workspace = Workspace()
    try:
        old_label, old_parties = _edition(old, workspace)
        new_label, new_parties = _edition(new, workspace)
    except (LoadError, WorkspaceError) as exc:
        fail(str(exc))
    diff = diff_versions(old_parties, new_parties)
    if fmt is OutputFormat.json:
        typer.echo(json.dumps(diff_json(diff, old_label, new_label), indent=2, ensure_ascii=False))
        return
    console.print(
        f"{old_label} → {new_label}: {len(diff.added)} added, {len(diff.removed)} removed, "
        f"{len(diff.changed)} changed, {diff.unchanged} unchanged",
        highlight=False,
    )
    table = Table("change", "entry", "list", "name", "what changed", show_lines=True)
    for party in diff.added[:show]:
        table.add_row("[green]added[/green]", party.entity_id, party.list, party.name, "")
    for party in diff.removed[:show]:
        table.add_row("[red]removed[/red]", party.entity_id, party.list, party.name, "")
    for entry in diff.changed[:show]:
        what = "\n".join(
            f"{c.field}: " + ", ".join([f"+{a}" for a in c.added] + [f"-{r}" for r in c.removed])
            for c in entry.changes
        )
        table.add_row("changed", entry.entity_id, entry.new.list, entry.new.name, what)
    if diff.empty:
        console.print("no differences")
        return
    console.print(table)
    hidden = sum(max(0, len(x) - show) for x in (diff.added, diff.removed, diff.changed))
    if hidden:
        console.print(f"… and {hidden} more (use --show or --format json)")
