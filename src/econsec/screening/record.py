"""The compliance record: deciding on hits, standing decisions, proof of screening.

* :func:`decide` records a reviewer's decision on a hit that was actually
  reported in a run: the hit is looked up by run id, counterparty reference and
  entity id, and the decision is keyed by the hit's :class:`HitKey` as stored
  (both content hashes included), never by what a reviewer typed.
* :func:`standing` pairs hits with the decision that stands on them. Because
  the key carries the counterparty's and the list entry's content hashes, a
  cleared hit stays cleared on re-screening until either of them changes.
* :func:`export_proof` gathers, for some or all runs, what was screened,
  against which list versions (with content hashes), with which algorithm and
  threshold, every hit with its decision history, and the verification of the
  decision log, pinned by its last entry hash. :func:`write_proof` writes it
  as JSON or as a self-contained HTML report, atomically.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import jinja2

from econsec import __version__
from econsec.model.record import Decision, DecisionKind, ScreenedHit, ScreeningRun
from econsec.store.decisions import (
    ChainVerification,
    DecisionError,
    append_decision,
    decision_history,
    latest_decisions,
    utc_now,
    validate,
    verify_chain,
)
from econsec.store.runs import hits_for_run, list_runs, screened_for_run
from econsec.store.workspace import Workspace

__all__ = [
    "DecisionError",
    "HitStatus",
    "NotInRecordError",
    "Proof",
    "ProofFormat",
    "RecordError",
    "RunProof",
    "decide",
    "decision_json",
    "export_proof",
    "find_hit",
    "hit_status_json",
    "parse_decision_kind",
    "proof_html",
    "proof_json",
    "render_proof",
    "review",
    "run_json",
    "select_runs",
    "standing",
    "write_proof",
]

#: Status of a hit that no reviewer has decided on yet.
OPEN = "open"

_KIND_NAMES: dict[str, DecisionKind] = {
    "cleared": DecisionKind.CLEARED,
    "clear": DecisionKind.CLEARED,
    "false_positive": DecisionKind.CLEARED,
    "confirmed": DecisionKind.CONFIRMED,
    "confirm": DecisionKind.CONFIRMED,
    "match": DecisionKind.CONFIRMED,
    "escalated": DecisionKind.ESCALATED,
    "escalate": DecisionKind.ESCALATED,
    **{k.value: k for k in DecisionKind},
}


class RecordError(ValueError):
    """A request the record cannot serve (a malformed date …); the message names the field."""


class NotInRecordError(RecordError):
    """A run, counterparty or hit that is not in the record."""


class ProofFormat(StrEnum):
    json = "json"
    html = "html"


def parse_decision_kind(value: str) -> DecisionKind:
    """``cleared``, ``confirmed``, ``escalated`` (or the stored names)."""
    try:
        return _KIND_NAMES[value.strip().lower().replace("-", "_")]
    except KeyError:
        raise DecisionError(
            f"decision: unknown decision {value!r}; expected cleared, confirmed or escalated"
        ) from None


# -- deciding ------------------------------------------------------------------


def _known_run(workspace: Workspace, run_id: str) -> ScreeningRun:
    runs = {r.run_id: r for r in list_runs(workspace)}
    if run_id not in runs:
        raise NotInRecordError(f"run_id: no screening run {run_id!r} in {workspace.db_path}")
    return runs[run_id]


def find_hit(workspace: Workspace, run_id: str, reference: str, entity_id: str) -> ScreenedHit:
    """The hit reported in ``run_id`` for counterparty ``reference`` on list entry ``entity_id``."""
    _known_run(workspace, run_id)
    hits = [h for h in hits_for_run(workspace, run_id) if h.key.counterparty_reference == reference]
    for hit in hits:
        if hit.key.entity_id == entity_id:
            return hit
    if hits:
        others = ", ".join(sorted({h.key.entity_id for h in hits}))
        raise NotInRecordError(
            f"entity_id: counterparty {reference!r} had no hit on {entity_id!r} in run "
            f"{run_id!r}; its hits there: {others}"
        )
    if any(c.reference == reference for c in screened_for_run(workspace, run_id)):
        raise NotInRecordError(
            f"reference: counterparty {reference!r} was screened in run {run_id!r} "
            "but had no hit, so there is nothing to decide"
        )
    raise NotInRecordError(
        f"reference: no counterparty {reference!r} was screened in run {run_id!r}"
    )


def decide(
    workspace: Workspace,
    run_id: str,
    reference: str,
    entity_id: str,
    kind: DecisionKind,
    reviewer: str,
    reason: str = "",
    decided_at: str | None = None,
) -> Decision:
    """Record a reviewer's decision on a hit reported in a run; returns it as stored.

    The reviewer and (for a clearance) the reason are checked before the run is
    looked up, so a bad request fails fast and writes nothing.
    """
    reviewer, reason = validate(kind, reviewer, reason)
    hit = find_hit(workspace, run_id, reference, entity_id)
    return append_decision(
        workspace, hit.key, kind, reviewer, reason, run_id=run_id, decided_at=decided_at
    )


def standing(
    workspace: Workspace, hits: Sequence[ScreenedHit]
) -> list[tuple[ScreenedHit, Decision | None]]:
    """Each hit with the decision standing on its key (None: open)."""
    latest = latest_decisions(workspace, (h.key for h in hits))
    return [(h, latest.get(h.key)) for h in hits]


# -- review and proof ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HitStatus:
    """A reported hit, every decision taken on its key (oldest first) and where it stands."""

    hit: ScreenedHit
    history: tuple[Decision, ...]

    @property
    def decision(self) -> Decision | None:
        return self.history[-1] if self.history else None

    @property
    def status(self) -> str:
        """``open`` or the standing decision's kind."""
        return self.decision.kind.value if self.decision else OPEN

    @property
    def is_open(self) -> bool:
        return not self.history


@dataclass(frozen=True, slots=True)
class RunProof:
    run: ScreeningRun
    #: Rows recorded as screened for the run (compare with ``run.row_count``).
    screened_count: int
    hits: tuple[HitStatus, ...]

    def counts(self) -> dict[str, int]:
        counts = {OPEN: 0, **{k.value: 0 for k in DecisionKind}}
        for h in self.hits:
            counts[h.status] += 1
        return {"hits": len(self.hits), **counts}


@dataclass(frozen=True, slots=True)
class Proof:
    """What was screened, when, against what, with which algorithm, and what was decided."""

    generated_at: str
    econsec_version: str
    #: The runs asked for (empty: all), and the start-time window, as given.
    requested_runs: tuple[str, ...]
    since: str | None
    until: str | None
    runs: tuple[RunProof, ...]
    #: The decision log's verification when the proof was made; its entry count
    #: and last entry hash pin the log state the decision histories come from.
    log: ChainVerification


def _instant(value: str, field_name: str, end_of_day: bool) -> dt.datetime:
    try:
        if len(value) == 10:  # a date: the whole day counts
            day = dt.date.fromisoformat(value)
            moment = dt.datetime.combine(day, dt.time.max if end_of_day else dt.time.min)
        else:
            moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise RecordError(
            f"{field_name}: {value!r} is not an ISO date or timestamp (YYYY-MM-DD[THH:MM:SS])"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def review(
    workspace: Workspace, runs: Iterable[ScreeningRun], open_only: bool = False
) -> list[tuple[ScreeningRun, list[HitStatus]]]:
    """The hits of each run with their decision histories (only undecided ones if asked)."""
    selected = [(run, hits_for_run(workspace, run.run_id)) for run in runs]
    history = decision_history(workspace, (h.key for _, hits in selected for h in hits))
    out = []
    for run, hits in selected:
        statuses = [HitStatus(h, tuple(history.get(h.key, ()))) for h in hits]
        out.append((run, [s for s in statuses if s.is_open or not open_only]))
    return out


def select_runs(
    workspace: Workspace,
    run_ids: Sequence[str] = (),
    since: str | None = None,
    until: str | None = None,
) -> list[ScreeningRun]:
    """Runs by id (in the order given), or all runs (newest first), within a start window."""
    start = _instant(since, "since", end_of_day=False) if since else None
    end = _instant(until, "until", end_of_day=True) if until else None
    if start and end and end < start:
        raise RecordError(f"until: {until!r} is before since {since!r}")
    if run_ids:
        runs = [_known_run(workspace, r) for r in dict.fromkeys(run_ids)]
    else:
        runs = list_runs(workspace)
    out = []
    for run in runs:
        began = _instant(run.started_at, f"run {run.run_id} started_at", end_of_day=False)
        if (start is None or began >= start) and (end is None or began <= end):
            out.append(run)
    return out


def export_proof(
    workspace: Workspace,
    run_ids: Sequence[str] = (),
    since: str | None = None,
    until: str | None = None,
) -> Proof:
    """The proof of screening for the runs named (all if none) started within [since, until]."""
    runs = select_runs(workspace, run_ids, since, until)
    # Verified first: the histories below are read from the log this verifies
    # (the log only grows, so they are at least as complete as it pins).
    log = verify_chain(workspace)
    run_proofs = tuple(
        RunProof(run, len(screened_for_run(workspace, run.run_id)), tuple(statuses))
        for run, statuses in review(workspace, runs)
    )
    return Proof(
        generated_at=utc_now(),
        econsec_version=__version__,
        requested_runs=tuple(run_ids),
        since=since,
        until=until,
        runs=run_proofs,
        log=log,
    )


# -- rendering ---------------------------------------------------------------------


def decision_json(d: Decision) -> dict[str, Any]:
    return {
        "decision_id": d.decision_id,
        "decision": d.kind.value,
        "reviewer": d.reviewer,
        "reason": d.reason,
        "decided_at": d.decided_at,
        "run_id": d.run_id,
        "key": asdict(d.key),
        "previous_hash": d.previous_hash,
        "entry_hash": d.entry_hash,
    }


def hit_status_json(s: HitStatus) -> dict[str, Any]:
    hit = s.hit
    return {
        "counterparty_reference": hit.key.counterparty_reference,
        "counterparty_hash": hit.key.counterparty_hash,
        "entity_id": hit.key.entity_id,
        "party_hash": hit.key.party_hash,
        "kind": hit.kind.value,
        "score": hit.score,
        "matched_name": hit.matched_name,
        "list": hit.list,
        "list_version_id": hit.list_version_id,
        "explanation": hit.explanation,
        "status": s.status,
        "decisions": [decision_json(d) for d in s.history],
    }


def run_json(run: ScreeningRun) -> dict[str, Any]:
    data = asdict(run)
    data["status"] = run.status.value
    data["list_versions"] = [asdict(v) for v in run.list_versions]
    return data


def proof_json(proof: Proof) -> dict[str, Any]:
    return {
        "document": "econsec proof of screening",
        "generated_at": proof.generated_at,
        "econsec_version": proof.econsec_version,
        "scope": {
            "runs": list(proof.requested_runs) or "all",
            "since": proof.since,
            "until": proof.until,
        },
        "runs": [
            {
                "run": run_json(rp.run),
                "screened_count": rp.screened_count,
                "counts": rp.counts(),
                "hits": [hit_status_json(h) for h in rp.hits],
            }
            for rp in proof.runs
        ],
        "decision_log": {**asdict(proof.log), "summary": proof.log.describe()},
    }


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("econsec.screening", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def proof_html(proof: Proof) -> str:
    """A self-contained, readable HTML report (inline CSS, no external assets)."""
    template = _environment().get_template("proof.html.j2")
    return template.render(proof=proof, data=proof_json(proof), OPEN=OPEN)


def render_proof(proof: Proof, fmt: ProofFormat) -> str:
    if fmt is ProofFormat.html:
        return proof_html(proof)
    return json.dumps(proof_json(proof), indent=2, ensure_ascii=False) + "\n"


def write_proof(proof: Proof, out: Path, fmt: ProofFormat) -> None:
    """Write the proof atomically: a reader sees no file or the whole document."""
    text = render_proof(proof, fmt)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
