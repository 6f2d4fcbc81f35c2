"""Audit hash rules: entries of rule 1 (before revision 0006) and rule 2 verify in one chain."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import Connection, select, text

from conftest import drop_audit_trigger
from econsec.exchange import audit
from econsec.exchange.db import AuditEntry, database_url, make_engine, migrate, writer
from econsec.exchange.service import Exchange


def _rule_1_entry(connection: Connection, action: str, prev_hash: str) -> str:
    """Insert an entry the way the code before revision 0006 did (rule 1: JSON hash)."""
    fields = {
        "at": dt.datetime(2026, 12, 1, tzinfo=dt.UTC).isoformat(timespec="microseconds"),
        "org_id": 1,
        "user_id": None,
        "action": action,
        "record_id": None,
        "outcome": "ok",
        "detail": json.dumps({"why": "before 0006"}),
    }
    digest = audit.entry_hash(fields, prev_hash)
    connection.execute(
        text(
            "INSERT INTO audit_log (at, org_id, user_id, action, record_id, outcome, detail, "
            "prev_hash, hash) VALUES (:at, :org_id, :user_id, :action, :record_id, :outcome, "
            ":detail, :prev_hash, :hash)"
        ),
        {**fields, "prev_hash": prev_hash, "hash": digest},
    )
    return digest


def test_entries_of_both_rules_verify_in_one_chain(tmp_path: Path) -> None:
    engine = make_engine(database_url(tmp_path / "old.sqlite"))
    migrate(engine, "0005")
    with writer(engine).begin() as connection:
        first = _rule_1_entry(connection, "old.one", audit.GENESIS)
        _rule_1_entry(connection, "old.two", first)
    migrate(engine)
    exchange = Exchange(engine)
    exchange.add_organisation("BAFA", "DE")
    result = exchange.verify_audit()
    assert (result.ok, result.entries) == (True, 3), result
    with exchange._read() as session:
        entries = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [e.action for e in entries] == ["old.one", "old.two", "org.create"]
    assert entries[2].hash == audit.entry_hash_v2(audit._fields(entries[2]), entries[1].hash)
    # Down through 0006 and up again: nothing to lose, the chain still verifies.
    migrate(engine, "0005")
    migrate(engine)
    assert exchange.verify_audit().ok
    # An altered old entry fails under both rules.
    with engine.begin() as connection:
        drop_audit_trigger(connection, "UPDATE")
        connection.execute(text("UPDATE audit_log SET outcome = 'refused' WHERE id = 2"))
    broken = exchange.verify_audit()
    assert (broken.ok, broken.bad_id) == (False, 2)
    assert "altered" in broken.reason
    engine.dispose()


def test_sqlite_append_needs_a_write_transaction(tmp_path: Path) -> None:
    """A deferred read transaction would take SQLite's write lock late: refused."""
    exchange = Exchange.open(tmp_path / "x.sqlite")
    with exchange._read() as session, pytest.raises(RuntimeError, match="write transaction"):
        audit.append(session, action="x", outcome="ok")
    assert exchange.verify_audit().entries == 0
    exchange.engine.dispose()


def test_format_2_text_is_length_prefixed() -> None:
    """Fields that mimic the layout cannot collide: the lengths differ."""
    base = {
        "at": "t",
        "org_id": None,
        "user_id": None,
        "action": "a\n1:b",
        "record_id": None,
        "outcome": "ok",
        "detail": "{}",
    }
    shifted = {**base, "action": "a", "record_id": "b"}
    assert audit.entry_hash_v2(base, audit.GENESIS) != audit.entry_hash_v2(shifted, audit.GENESIS)
    assert audit.entry_hash_v2(base, audit.GENESIS) == audit.entry_hash_v2(
        dict(base), audit.GENESIS
    )
