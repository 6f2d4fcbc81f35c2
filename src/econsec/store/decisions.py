"""The decision log: reviewers' decisions on hits, append-only and hash-chained.

Every decision is one row of the ``decisions`` table, numbered by ``seq``
(1, 2, 3 …). Each row carries the ``entry_hash`` of the row before it
(``previous_hash``, empty for the first) and its own ``entry_hash``: the
SHA-256 of the previous hash and the row's canonical content. Editing a row
breaks its own hash; deleting or reordering rows breaks the link of the row
after; :func:`verify_chain` names the first row that does not verify. Deleting
the *last* rows leaves a shorter chain that still verifies, which is why a
proof of screening quotes the number of entries and the last entry hash: it
pins the log as it was when the proof was made.

This module has no function that updates or deletes a decision. A later
decision on the same :class:`HitKey` supersedes the earlier one
(:func:`latest_decisions`), and both stay in the log.

Appends are safe under concurrency: the last hash is read and the new row
inserted in one transaction, under a process-wide lock (DuckDB's file lock
keeps other processes out meanwhile). As a last line of defence ``seq`` is the
primary key and ``previous_hash`` is unique, so two entries can never extend
the same one: the chain cannot fork.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import duckdb
import pyarrow as pa

from econsec.model.record import Decision, DecisionKind, HitKey
from econsec.store.workspace import Workspace, WorkspaceError

#: Columns of the ``decisions`` table (DDL in ``econsec.store.workspace``).
_COLUMNS = (
    "seq, decision_id, counterparty_reference, counterparty_hash, entity_id, party_hash, "
    "kind, reviewer, reason, decided_at, run_id, previous_hash, entry_hash"
)
_append_lock = threading.Lock()


class DecisionError(ValueError):
    """A decision that cannot be recorded (missing reviewer, reason …)."""


@dataclass(frozen=True, slots=True)
class ChainVerification:
    """The result of checking the whole decision log."""

    ok: bool
    #: Number of entries in the log.
    entries: int
    #: ``entry_hash`` of the last entry ("" for an empty log): quote it to pin the log.
    last_entry_hash: str
    #: The first entry that does not verify (its ``seq`` and ``decision_id``), and why.
    broken_seq: int | None = None
    broken_decision_id: str | None = None
    problem: str | None = None

    def describe(self) -> str:
        if self.ok:
            return (
                f"decision log verified: {self.entries} entries, "
                f"last entry hash {self.last_entry_hash or '(empty log)'}"
            )
        return (
            f"decision log BROKEN at entry {self.broken_seq} "
            f"(decision {self.broken_decision_id}): {self.problem}"
        )


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


def entry_hash(previous_hash: str, seq: int, decision: Decision) -> str:
    """SHA-256 over the previous entry's hash and this entry's canonical content."""
    content = {
        "seq": seq,
        "decision_id": decision.decision_id,
        "counterparty_reference": decision.key.counterparty_reference,
        "counterparty_hash": decision.key.counterparty_hash,
        "entity_id": decision.key.entity_id,
        "party_hash": decision.key.party_hash,
        "kind": decision.kind.value,
        "reviewer": decision.reviewer,
        "reason": decision.reason,
        "decided_at": decision.decided_at,
        "run_id": decision.run_id,
    }
    text = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256((previous_hash + "\n" + text).encode()).hexdigest()


def validate(kind: DecisionKind, reviewer: str, reason: str) -> tuple[str, str]:
    """The reviewer and reason, stripped; DecisionError naming the field if missing."""
    reviewer, reason = reviewer.strip(), reason.strip()
    if not reviewer:
        raise DecisionError("reviewer: a decision must name the reviewer who made it")
    if kind is DecisionKind.CLEARED and not reason:
        raise DecisionError(
            "reason: clearing a hit as a false positive requires a reason "
            "(why the counterparty is not the listed party)"
        )
    return reviewer, reason


def append_decision(
    workspace: Workspace,
    key: HitKey,
    kind: DecisionKind,
    reviewer: str,
    reason: str = "",
    run_id: str | None = None,
    decided_at: str | None = None,
) -> Decision:
    """Append one decision at the end of the chain and return it as stored.

    The caller is responsible for the key being a hit that was reported
    (see ``econsec.screening.record.decide``); this function enforces the
    log's own rules: a named reviewer, a reason for every clearance.
    """
    reviewer, reason = validate(kind, reviewer, reason)
    for field_name, value in (
        ("counterparty_reference", key.counterparty_reference),
        ("counterparty_hash", key.counterparty_hash),
        ("entity_id", key.entity_id),
        ("party_hash", key.party_hash),
    ):
        if not value:
            raise DecisionError(f"{field_name}: empty in the hit key {key}")
    decision = Decision(
        decision_id=uuid.uuid4().hex,
        key=key,
        kind=kind,
        reviewer=reviewer,
        reason=reason,
        decided_at=decided_at or utc_now(),
        run_id=run_id,
    )
    # One writer at a time in this process; DuckDB's file lock keeps other
    # processes out while this connection is open.
    with _append_lock, workspace.connect() as con:
        con.execute("BEGIN TRANSACTION")
        try:
            last = con.execute(
                "SELECT seq, entry_hash FROM decisions ORDER BY seq DESC LIMIT 1"
            ).fetchall()
            seq, previous = (last[0][0] + 1, last[0][1]) if last else (1, "")
            stored = _chained(decision, seq, previous)
            con.execute(
                f"INSERT INTO decisions ({_COLUMNS}) VALUES ({', '.join('?' * 13)})",
                [seq, *_row(stored)],
            )
            con.execute("COMMIT")
        except BaseException as exc:
            con.execute("ROLLBACK")
            if isinstance(exc, duckdb.Error):
                raise WorkspaceError(
                    f"cannot append a decision to {workspace.db_path}: {exc}; nothing was written"
                ) from exc
            raise
    return stored


def _chained(decision: Decision, seq: int, previous: str) -> Decision:
    return Decision(
        decision_id=decision.decision_id,
        key=decision.key,
        kind=decision.kind,
        reviewer=decision.reviewer,
        reason=decision.reason,
        decided_at=decision.decided_at,
        run_id=decision.run_id,
        previous_hash=previous,
        entry_hash=entry_hash(previous, seq, decision),
    )


def _row(d: Decision) -> list[object]:
    return [
        d.decision_id,
        d.key.counterparty_reference,
        d.key.counterparty_hash,
        d.key.entity_id,
        d.key.party_hash,
        d.kind.value,
        d.reviewer,
        d.reason,
        d.decided_at,
        d.run_id,
        d.previous_hash,
        d.entry_hash,
    ]


def _decision(row: Sequence[object]) -> Decision:
    (_, decision_id, ref, cp_hash, entity_id, party_hash, kind, reviewer, reason, at, run_id) = row[
        :11
    ]
    return Decision(
        decision_id=str(decision_id),
        key=HitKey(str(ref), str(cp_hash), str(entity_id), str(party_hash)),
        kind=DecisionKind(str(kind)),
        reviewer=str(reviewer),
        reason=str(reason),
        decided_at=str(at),
        run_id=None if run_id is None else str(run_id),
        previous_hash=str(row[11]),
        entry_hash=str(row[12]),
    )


def _has_log(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the table exists (a workspace last written before it was introduced may not)."""
    rows = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'decisions'"
    ).fetchall()
    return bool(rows and rows[0][0])


def _keys_table(keys: Iterable[HitKey]) -> pa.Table:
    unique = list(dict.fromkeys(keys))
    return pa.table(
        {
            "counterparty_reference": pa.array(
                [k.counterparty_reference for k in unique], pa.string()
            ),
            "counterparty_hash": pa.array([k.counterparty_hash for k in unique], pa.string()),
            "entity_id": pa.array([k.entity_id for k in unique], pa.string()),
            "party_hash": pa.array([k.party_hash for k in unique], pa.string()),
        }
    )


_KEY_JOIN = (
    "JOIN wanted_keys w ON d.counterparty_reference = w.counterparty_reference "
    "AND d.counterparty_hash = w.counterparty_hash AND d.entity_id = w.entity_id "
    "AND d.party_hash = w.party_hash"
)


def _select(
    workspace: Workspace, keys: Iterable[HitKey] | None, latest_only: bool
) -> list[Decision]:
    if not workspace.exists():
        return []
    table = None if keys is None else _keys_table(keys)
    if table is not None and table.num_rows == 0:
        return []
    columns = ", ".join(f"d.{c.strip()}" for c in _COLUMNS.split(","))
    sql = f"SELECT {columns} FROM decisions d"
    if table is not None:
        sql += " " + _KEY_JOIN
    if latest_only:
        sql += (
            " QUALIFY row_number() OVER (PARTITION BY d.counterparty_reference, "
            "d.counterparty_hash, d.entity_id, d.party_hash ORDER BY d.seq DESC) = 1"
        )
    sql += " ORDER BY d.seq"
    with workspace.connect(read_only=True) as con:
        if not _has_log(con):
            return []
        if table is not None:
            con.register("wanted_keys", table)
        rows = con.execute(sql).fetchall()
    return [_decision(r) for r in rows]


def latest_decisions(workspace: Workspace, keys: Iterable[HitKey]) -> dict[HitKey, Decision]:
    """The standing (newest) decision for each of ``keys`` that has one."""
    return {d.key: d for d in _select(workspace, keys, latest_only=True)}


def decision_history(workspace: Workspace, keys: Iterable[HitKey]) -> dict[HitKey, list[Decision]]:
    """Every decision on each of ``keys``, oldest first (the last one stands)."""
    history: dict[HitKey, list[Decision]] = {}
    for d in _select(workspace, keys, latest_only=False):
        history.setdefault(d.key, []).append(d)
    return history


def all_decisions(workspace: Workspace) -> list[Decision]:
    """The whole log, in the order it was written."""
    return _select(workspace, None, latest_only=False)


def verify_chain(workspace: Workspace) -> ChainVerification:
    """Recompute every entry's hash and link; report the first entry that does not verify."""
    if not workspace.exists():
        return ChainVerification(ok=True, entries=0, last_entry_hash="")
    with workspace.connect(read_only=True) as con:
        if not _has_log(con):
            return ChainVerification(ok=True, entries=0, last_entry_hash="")
        rows = con.execute(f"SELECT {_COLUMNS} FROM decisions ORDER BY seq").fetchall()
    previous = ""
    for expected_seq, row in enumerate(rows, start=1):
        seq = int(row[0])
        problem: str | None = None
        try:
            decision = _decision(row)
        except ValueError as exc:  # an edited kind that is no longer a decision kind
            decision, problem = None, f"unreadable entry: {exc}"
        if problem is None and seq != expected_seq:
            problem = (
                f"entry number {seq} where {expected_seq} was expected: "
                "an entry was deleted or renumbered"
            )
        elif problem is None and decision is not None:
            if decision.previous_hash != previous:
                problem = (
                    "previous_hash does not match the entry before it: "
                    "an entry was deleted, inserted or reordered"
                )
            elif entry_hash(previous, seq, decision) != decision.entry_hash:
                problem = "entry_hash does not match the entry's content: the entry was edited"
        if problem is not None:
            return ChainVerification(
                ok=False,
                entries=len(rows),
                last_entry_hash=str(rows[-1][12]),
                broken_seq=seq,
                broken_decision_id=str(row[1]),
                problem=problem,
            )
        previous = str(row[12])
    return ChainVerification(ok=True, entries=len(rows), last_entry_hash=previous)
