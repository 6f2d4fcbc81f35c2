"""The append-only, hash-chained audit log.

Each entry stores the hash of the entry before it (``prev_hash``; 64 zeros for
the first) and its own ``hash`` = sha256 over the canonical JSON of its fields
and ``prev_hash``. Changing, inserting or removing any entry breaks the chain
from that point on, which :func:`verify` reports. On SQLite, triggers refuse
UPDATE and DELETE on the table; the chain catches what bypasses them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from econsec.exchange.db import AUDIT_CHAIN_LOCK, AuditEntry, advisory_lock

GENESIS = "0" * 64


def entry_hash(fields: dict[str, Any], prev_hash: str) -> str:
    payload = json.dumps({**fields, "prev_hash": prev_hash}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _fields(entry: AuditEntry) -> dict[str, Any]:
    return {
        "at": entry.at,
        "org_id": entry.org_id,
        "user_id": entry.user_id,
        "action": entry.action,
        "record_id": entry.record_id,
        "outcome": entry.outcome,
        "detail": entry.detail,
    }


def append(
    session: Session,
    *,
    action: str,
    outcome: str,
    org_id: int | None = None,
    user_id: int | None = None,
    record_id: str | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """Add an entry chained to the last one, in the caller's transaction.

    Appends are serialised so the chain never forks: on PostgreSQL by an advisory
    lock held until the caller's transaction ends (every server process and thread
    waits for it here, after its other writes, so no lock is taken in the reverse
    order); on SQLite by the write transaction (BEGIN IMMEDIATE) the caller holds.
    """
    connection = session.connection()
    if connection.get_execution_options().get("isolation_level") == "AUTOCOMMIT":
        # A read session (Exchange._read): the lock would end with the statement.
        raise RuntimeError("audit entries are appended in a write transaction")
    advisory_lock(connection, AUDIT_CHAIN_LOCK)
    last = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1)).first()
    entry = AuditEntry(
        at=dt.datetime.now(dt.UTC).isoformat(timespec="microseconds"),
        org_id=org_id,
        user_id=user_id,
        action=action,
        record_id=record_id,
        outcome=outcome,
        detail=json.dumps(detail or {}, sort_keys=True, ensure_ascii=False),
        prev_hash=last.hash if last is not None else GENESIS,
    )
    entry.hash = entry_hash(_fields(entry), entry.prev_hash)
    session.add(entry)
    session.flush()
    return entry


@dataclass(frozen=True, slots=True)
class Verification:
    entries: int
    ok: bool
    #: The first entry that does not verify, and why.
    bad_id: int | None = None
    reason: str = ""


def verify(session: Session) -> Verification:
    """Recompute the whole chain; report the first entry that breaks it."""
    prev = GENESIS
    count = 0
    for entry in session.scalars(select(AuditEntry).order_by(AuditEntry.id)):
        count += 1
        if entry.prev_hash != prev:
            return Verification(
                count,
                False,
                entry.id,
                "prev_hash does not match the previous entry's hash "
                "(an entry was removed or inserted)",
            )
        if entry_hash(_fields(entry), prev) != entry.hash:
            return Verification(
                count, False, entry.id, "hash does not match the entry's content (altered)"
            )
        prev = entry.hash
    return Verification(count, True)


def entry_json(entry: AuditEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        **_fields(entry),
        "detail": json.loads(entry.detail),
        "prev_hash": entry.prev_hash,
        "hash": entry.hash,
    }
