"""`econsec record …`: decisions on hits, the open hits, log verification, proof of screening."""

from __future__ import annotations

import json
from dataclasses import asdict
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from econsec.cli._common import OutputFormat, fail
from econsec.model.record import DecisionKind
from econsec.screening.record import (
    DecisionError,
    ProofFormat,
    RecordError,
    decide,
    decision_json,
    export_proof,
    hit_status_json,
    parse_decision_kind,
    review,
    select_runs,
    write_proof,
)
from econsec.store import Workspace, WorkspaceError
from econsec.store.decisions import verify_chain

app = typer.Typer(
    help="The compliance record: decisions on hits and the proof of screening.",
    no_args_is_help=True,
)
console = Console()


_LABEL = {
    DecisionKind.CLEARED: "cleared",
    DecisionKind.CONFIRMED: "confirmed",
    DecisionKind.ESCALATED: "escalated",
}


class DecisionChoice(StrEnum):
    cleared = "cleared"
    confirmed = "confirmed"
    escalated = "escalated"


@app.command("decide")
def decide_cmd(
    run_id: Annotated[str, typer.Argument(help="The run in which the hit was reported.")],
    reference: Annotated[str, typer.Argument(help="The counterparty's own reference.")],
    entity_id: Annotated[str, typer.Argument(help="The list entry hit (ofac_sdn:20157 …).")],
    decision: Annotated[DecisionChoice, typer.Option(help="What the reviewer decided.")],
    reviewer: Annotated[str, typer.Option(help="Who decided (required).")],
    reason: Annotated[
        str, typer.Option(help="Why (required when clearing a false positive).")
    ] = "",
    fmt: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.text,
) -> None:
    """Record a decision on a hit; it is appended to the log, never edited."""
    try:
        stored = decide(
            Workspace(),
            run_id,
            reference,
            entity_id,
            parse_decision_kind(decision.value),
            reviewer,
            reason,
        )
    except (DecisionError, RecordError, WorkspaceError) as exc:
        fail(str(exc))
    if fmt is OutputFormat.json:
        typer.echo(json.dumps(decision_json(stored), indent=2, ensure_ascii=False))
        return
    console.print(
        f"recorded {stored.kind.value} on {entity_id} for {reference} (run {run_id}) "
        f"by {stored.reviewer} at {stored.decided_at}; entry {stored.entry_hash}",
        highlight=False,
    )


@app.command("list")
def list_cmd(
    run: Annotated[
        list[str] | None, typer.Option(help="Only this run (repeatable). Default: every run.")
    ] = None,
    open_only: Annotated[
        bool, typer.Option("--open", help="Only hits no reviewer has decided on.")
    ] = False,
    fmt: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.text,
) -> None:
    """Hits of screening runs with their standing decisions."""
    workspace = Workspace()
    try:
        reviewed = review(workspace, select_runs(workspace, run or ()), open_only)
    except (RecordError, WorkspaceError) as exc:
        fail(str(exc))
    if fmt is OutputFormat.json:
        data = [
            {"run_id": r.run_id, "hits": [hit_status_json(s) for s in statuses]}
            for r, statuses in reviewed
        ]
        typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    if not reviewed:
        console.print("no screening run recorded")
        return
    shown = 0
    for r, statuses in reviewed:
        for s in statuses:
            d = s.decision
            standing = (
                f"{_LABEL[d.kind]} by {d.reviewer} at {d.decided_at[:19]}"
                + (f": {d.reason}" if d.reason else "")
                if d
                else "OPEN"
            )
            console.print(
                f"{r.run_id}  {s.hit.key.counterparty_reference}  {s.hit.key.entity_id} "
                f"({s.hit.list})  {s.hit.score:.3f}  {s.hit.matched_name!r}  {standing}",
                highlight=False,
                soft_wrap=True,
            )
            shown += 1
    console.print(f"{shown} {'open ' if open_only else ''}hits in {len(reviewed)} runs")


@app.command("verify")
def verify_cmd(fmt: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.text) -> None:
    """Check the decision log's hash chain; exit status 1 if any entry was altered."""
    try:
        result = verify_chain(Workspace())
    except WorkspaceError as exc:
        fail(str(exc))
    if fmt is OutputFormat.json:
        typer.echo(json.dumps({**asdict(result), "summary": result.describe()}, indent=2))
    else:
        console.print(result.describe(), highlight=False)
    if not result.ok:
        raise typer.Exit(1)


@app.command("export")
def export_cmd(
    out: Annotated[Path, typer.Option(help="File to write (replaced atomically).")],
    run: Annotated[
        list[str] | None, typer.Option(help="Only this run (repeatable). Default: every run.")
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="Only runs started at or after (YYYY-MM-DD or ISO time).")
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="Only runs started at or before (a date: the whole day).")
    ] = None,
    fmt: Annotated[ProofFormat, typer.Option("--format")] = ProofFormat.json,
) -> None:
    """Write the proof of screening as JSON or a readable HTML report.

    What was screened and when, against which list versions (content hashes) and
    algorithm, every hit with its decisions, and the decision log's verification.
    """
    try:
        proof = export_proof(Workspace(), run or (), since, until)
        write_proof(proof, out, fmt)
    except (RecordError, WorkspaceError, OSError) as exc:
        fail(str(exc))
    hits = sum(len(r.hits) for r in proof.runs)
    still_open = sum(1 for r in proof.runs for h in r.hits if h.is_open)
    console.print(
        f"wrote {out} ({fmt.value}): {len(proof.runs)} runs, {hits} hits, {still_open} open; "
        + proof.log.describe(),
        highlight=False,
    )
    if not proof.log.ok:
        raise typer.Exit(1)
