"""The append-only, hash-chained audit log.

Each entry stores the hash of the entry before it (``prev_hash``; 64 zeros for
the first) and its own ``hash``, a SHA-256 over its fields and ``prev_hash``.
Changing, inserting or removing any entry breaks the chain from that point
on, which :func:`verify` reports. The database refuses UPDATE and DELETE on the
table (triggers, SQLite and PostgreSQL); the chain catches what bypasses them.

Two hash rules; an entry verifies if its hash matches either (a hash that
matches one rule by accident of the other is a SHA-256 collision):

* **1** (entries written before revision 0006): sha256 of the canonical JSON
  of the fields and ``prev_hash`` (sorted keys, UTF-8);
* **2** (new entries): sha256 of the UTF-8 text ``econsec-audit/2`` followed,
  each on a new line, by ``prev_hash``, ``at``, ``org_id``, ``user_id``,
  ``action``, ``record_id``, ``outcome`` and ``detail``, each written ``-``
  when NULL and ``<length in characters>:<value>`` otherwise. The length
  prefix makes the text unambiguous whatever a field contains, and PostgreSQL
  can compute it: there the function ``econsec_audit_append`` takes the
  chain's lock, reads the newest hash and inserts the entry in one statement.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select, text
from sqlalchemy.orm import Session

from econsec.exchange.db import WRITE_OPTION, AuditEntry

GENESIS = "0" * 64


def entry_hash(fields: dict[str, Any], prev_hash: str) -> str:
    payload = json.dumps({**fields, "prev_hash": prev_hash}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


_FIELD_ORDER = ("at", "org_id", "user_id", "action", "record_id", "outcome", "detail")


def entry_hash_v2(fields: dict[str, Any], prev_hash: str) -> str:
    """Rule 2 (see the module docstring); the same as econsec_audit_append's."""
    lines = ["econsec-audit/2"]
    for value in (prev_hash, *(fields[name] for name in _FIELD_ORDER)):
        lines.append("-" if value is None else f"{len(str(value))}:{value}")
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


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


#: The newest entry's hash, and the insert of a new entry, built once (SQLite).
_LAST_HASH = select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)
_INSERT = text(
    "INSERT INTO audit_log (at, org_id, user_id, action, record_id, outcome, detail, "
    "prev_hash, hash) VALUES (:at, :org_id, :user_id, :action, :record_id, :outcome, "
    ":detail, :prev_hash, :hash)"
)
#: PostgreSQL: lock, newest hash and insert in one statement (revision 0006).
_APPEND = text(
    "SELECT econsec_audit_append(:at, :org_id, :user_id, :action, :record_id, :outcome, :detail)"
)


def append(
    session: Session,
    *,
    action: str,
    outcome: str,
    org_id: int | None = None,
    user_id: int | None = None,
    record_id: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Add an entry chained to the last one, in the caller's (ORM) transaction.

    The session's pending changes are flushed first, so the chain's lock is the
    last thing the transaction takes (see :func:`append_to`).
    """
    session.flush()
    append_to(
        session.connection(),
        action=action,
        outcome=outcome,
        org_id=org_id,
        user_id=user_id,
        record_id=record_id,
        detail=detail,
    )


def append_to(
    connection: Connection,
    *,
    action: str,
    outcome: str,
    org_id: int | None = None,
    user_id: int | None = None,
    record_id: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Add an entry chained to the last one, in ``connection``'s transaction.

    Appends are serialised so the chain never forks. On PostgreSQL by an
    advisory lock that ``econsec_audit_append`` takes and holds until the
    transaction ends: the caller's (every server process and thread waits for
    it here, after its other writes, so no lock is taken in the reverse order),
    or, on an autocommit connection, the statement's own. On SQLite by the
    write transaction (BEGIN IMMEDIATE) the caller must hold.
    """
    fields: dict[str, Any] = {
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="microseconds"),
        "org_id": org_id,
        "user_id": user_id,
        "action": action,
        "record_id": record_id,
        "outcome": outcome,
        "detail": json.dumps(detail or {}, sort_keys=True, ensure_ascii=False),
    }
    if connection.dialect.name == "postgresql":
        connection.execute(_APPEND, fields)
        return
    if not connection.get_execution_options().get(WRITE_OPTION, False):
        # A deferred read transaction would take SQLite's write lock late.
        raise RuntimeError("audit entries are appended in a write transaction")
    prev_hash = connection.execute(_LAST_HASH).scalar() or GENESIS
    connection.execute(
        _INSERT,
        {
            **fields,
            "prev_hash": prev_hash,
            "hash": entry_hash_v2(fields, prev_hash),
        },
    )


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
        fields = _fields(entry)
        if entry.hash not in (entry_hash_v2(fields, prev), entry_hash(fields, prev)):
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
