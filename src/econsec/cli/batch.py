"""`econsec batch …`: screen a counterparty file, re-screen it after a list change."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from econsec.cli._common import OutputFormat as ReportFormat
from econsec.cli._common import fail
from econsec.screening.batch import (
    BatchError,
    BatchSettings,
    BatchSummary,
    OutputFormat,
    batch_screen,
    summary_json,
)
from econsec.screening.counterparties import CounterpartyError, parse_mapping, read_counterparties
from econsec.screening.delta import rescreen
from econsec.screening.screen import ScreeningError
from econsec.store import Workspace, WorkspaceError
from econsec.store.runs import list_runs

app = typer.Typer(help="Batch screening of counterparty files.", no_args_is_help=True)
console = Console()
err = Console(stderr=True)

_ERRORS = (BatchError, CounterpartyError, ScreeningError, WorkspaceError, OSError)


@contextmanager
def _progress(label: str) -> Iterator[Progress]:
    with Progress(
        SpinnerColumn(),
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("rows"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
    ) as progress:
        yield progress


def _settings(
    threshold: float | None,
    lists: list[str] | None,
    limit: int,
    chunk_size: int,
    workers: int | None,
    on: dt.datetime | None,
) -> BatchSettings:
    wanted = tuple(x.strip() for item in lists or () for x in item.split(",") if x.strip())
    return BatchSettings(
        threshold=threshold,
        lists=wanted,
        limit=limit,
        chunk_size=chunk_size,
        workers=workers,
        on=on.date() if on else None,
    )


def _report(summary: BatchSummary, fmt: ReportFormat) -> None:
    if fmt is ReportFormat.json:
        typer.echo(json.dumps(summary_json(summary), indent=2))
        return
    r = summary.results
    console.print(
        f"run {summary.run.run_id}: {summary.rows} counterparties screened in "
        f"{summary.seconds:.1f}s ({summary.run.algorithm}, threshold {summary.run.threshold:.2f})"
    )
    console.print(
        f"  {r['open']} open alerts, {r['escalated']} escalated, {r['confirmed']} confirmed, "
        f"{r['cleared']} cleared earlier, {r['no_hit']} without hits; {summary.hits} hits"
    )
    if summary.rescreened is not None:
        console.print(
            f"  delta on run {summary.run.based_on_run}: {summary.rescreened} re-screened; "
            f"{summary.new_hits} new, {summary.changed_hits} changed, "
            f"{summary.vanished_hits} vanished hits"
        )
    if summary.chunks_reused:
        console.print(f"  resumed: {summary.chunks_reused} chunks were already done")
    if summary.errors:
        console.print(
            f"  [yellow]{summary.errors} bad fields or rows recorded[/yellow] "
            f"(see {summary.errors_file}: rows without a usable name were set aside, "
            "others screened without the bad field)"
        )
    if not summary.ownership:
        console.print("  ownership rules: not applied (no graph loaded: `econsec ownership load`)")
    console.print(
        "  lists: " + ", ".join(v.version_id for v in summary.run.list_versions), highlight=False
    )
    console.print(f"  results: {summary.output}")


ThresholdOpt = Annotated[
    float | None, typer.Option(help="Minimum score (default: the algorithm's).")
]
ListsOpt = Annotated[
    list[str] | None, typer.Option(help="Only these sources or lists (un_sc, SDN, EL …).")
]
LimitOpt = Annotated[int, typer.Option(help="Hits kept per counterparty.")]
ChunkOpt = Annotated[int, typer.Option(help="Rows per chunk (the unit of resumption).")]
WorkersOpt = Annotated[int | None, typer.Option(help="Worker processes (default: one per core).")]
DateOpt = Annotated[
    dt.datetime | None,
    typer.Option(
        "--date", formats=["%Y-%m-%d"], help="Apply ownership rules as of (default today)."
    ),
]
FormatOpt = Annotated[
    OutputFormat | None,
    typer.Option("--format", help="Results format (default: from the extension of OUT)."),
]
ReportOpt = Annotated[ReportFormat, typer.Option("--report", help="Summary as text or JSON.")]


@app.command("screen")
def screen_cmd(
    file: Annotated[Path, typer.Argument(help="Counterparty file (CSV or Parquet).")],
    out: Annotated[Path, typer.Option("--out", help="Results file (.csv, .parquet, .jsonl).")],
    column: Annotated[
        list[str] | None,
        typer.Option(
            help="FIELD=HEADER, e.g. name=full_name (fields: reference, name, "
            "schema, countries, dates_of_birth, identifiers); repeatable."
        ),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(help="Screen only what can have changed since this run (delta)."),
    ] = None,
    skip_bad: Annotated[
        bool,
        typer.Option(
            help="Record bad input in OUT.errors.csv instead of stopping: a bad type, country "
            "or birth date is left out and the row screened by name; a row without a usable "
            "name is set aside."
        ),
    ] = False,
    restart: Annotated[
        bool, typer.Option(help="Discard the partial state of an interrupted run.")
    ] = False,
    threshold: ThresholdOpt = None,
    lists: ListsOpt = None,
    limit: LimitOpt = 10,
    chunk_size: ChunkOpt = 1000,
    workers: WorkersOpt = None,
    on: DateOpt = None,
    fmt: FormatOpt = None,
    report: ReportOpt = ReportFormat.text,
) -> None:
    """Screen every row of a counterparty file; resumable after an interruption."""
    settings = _settings(threshold, lists, limit, chunk_size, workers, on)
    workspace = Workspace()
    try:
        mapping = parse_mapping(column or [])
        with _progress("screening") as progress:
            task = progress.add_task("screening", total=None)

            def advance(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            if since:
                source = read_counterparties(file, mapping, skip_bad)
                summary = rescreen(
                    workspace,
                    since,
                    out,
                    source=source,
                    settings=settings,
                    fmt=fmt,
                    progress=advance,
                )
            else:
                summary = batch_screen(
                    workspace,
                    file,
                    out,
                    settings=settings,
                    mapping=mapping,
                    fmt=fmt,
                    skip_bad=skip_bad,
                    restart=restart,
                    progress=advance,
                )
    except _ERRORS as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        fail("interrupted: run the same command again to resume", code=130)
    _report(summary, report)


@app.command("rescreen")
def rescreen_cmd(
    run_id: Annotated[str, typer.Argument(help="The run to re-screen (`econsec batch runs`).")],
    out: Annotated[Path, typer.Option("--out", help="Results file (.csv, .parquet, .jsonl).")],
    lists: ListsOpt = None,
    limit: LimitOpt = 10,
    chunk_size: ChunkOpt = 1000,
    workers: WorkersOpt = None,
    on: DateOpt = None,
    fmt: FormatOpt = None,
    report: ReportOpt = ReportFormat.text,
) -> None:
    """Re-screen a run's counterparties against the lists now active, screening only
    those whose result can have changed; reports new and vanished hits."""
    settings = _settings(None, lists, limit, chunk_size, workers, on)
    try:
        with _progress("re-screening") as progress:
            task = progress.add_task("re-screening", total=None)

            def advance(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            summary = rescreen(
                Workspace(), run_id, out, settings=settings, fmt=fmt, progress=advance
            )
    except _ERRORS as exc:
        fail(str(exc))
    _report(summary, report)


@app.command("runs")
def runs_cmd(fmt: Annotated[ReportFormat, typer.Option("--format")] = ReportFormat.text) -> None:
    """List the screening runs recorded in the workspace, newest first."""
    try:
        runs = list_runs(Workspace())
    except WorkspaceError as exc:
        fail(str(exc))
    if fmt is ReportFormat.json:
        typer.echo(
            json.dumps(
                [
                    {
                        "run_id": r.run_id,
                        "started_at": r.started_at,
                        "finished_at": r.finished_at,
                        "status": r.status.value,
                        "input_file": r.input_file,
                        "input_sha256": r.input_sha256,
                        "rows": r.row_count,
                        "algorithm": r.algorithm,
                        "threshold": r.threshold,
                        "list_versions": [v.version_id for v in r.list_versions],
                        "output_file": r.output_file,
                        "based_on_run": r.based_on_run,
                    }
                    for r in runs
                ],
                indent=2,
            )
        )
        return
    if not runs:
        console.print("no screening runs yet: `econsec batch screen FILE --out OUT`")
        return
    table = Table("run", "started (UTC)", "status", "rows", "input", "output", "based on")
    for r in runs:
        table.add_row(
            r.run_id,
            r.started_at[:19].replace("T", " "),
            r.status.value,
            str(r.row_count),
            r.input_file,
            r.output_file or "",
            r.based_on_run or "",
        )
    console.print(table)
