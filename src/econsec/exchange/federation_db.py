"""Tables of federation between exchange instances (revision ``0003``).

They live in :data:`econsec.exchange.db.Base`'s metadata beside the exchange's
own tables, which they only reference: a received record is an ordinary row of
its kind's table (``denials`` …) whose provenance is kept here.

Revision ``0004`` adds the feed position ``change_xid`` to the federated tables
(:data:`FEED_TABLES`) with the triggers of :func:`change_trigger_sql`; revision
``0007`` makes their ``updated_at`` (the version a record carries across
instances) strictly increase per record with the triggers of
:func:`version_trigger_sql`.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from econsec.exchange.db import Base


class FedInstance(Base):
    """This instance's own name (one row, ``id = 1``)."""

    __tablename__ = "fed_instance"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class FedPeer(Base):
    """Another instance, and this side's half of the agreement with it."""

    __tablename__ = "fed_peers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
    base_url: Mapped[str] = mapped_column(Text)
    #: The token this side presents to the peer (issued by the peer); None until known.
    token: Mapped[str | None] = mapped_column(Text)
    #: The local organisation and user the peer acts as when it calls this side.
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    #: Markings this side sends, space-separated (a subset of CLEAR GREEN AMBER).
    send_markings: Mapped[str] = mapped_column(Text)
    #: Local sharing group whose AMBER records may be sent (AMBER flows only with one).
    send_group_id: Mapped[int | None] = mapped_column(ForeignKey("sharing_groups.id"))
    #: Local sharing group that AMBER records received from the peer land in.
    receive_group_id: Mapped[int | None] = mapped_column(ForeignKey("sharing_groups.id"))
    #: Whether records received from other instances may be sent on to this peer.
    forward_received: Mapped[int] = mapped_column(Integer, default=0)
    #: Instances, space-separated, that this side's own records sent to the peer
    #: may be forwarded to (their ``reach`` beyond the peer); empty: none.
    forward_to: Mapped[str] = mapped_column(Text, default="")
    #: Opaque cursors: how far this side pushed to, and pulled from, the peer.
    push_cursor: Mapped[str | None] = mapped_column(Text)
    pull_cursor: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class FedOrigin(Base):
    """The local stand-in organisation and user of an organisation of another instance."""

    __tablename__ = "fed_origins"
    __table_args__ = (UniqueConstraint("instance", "org_name", name="uq_fed_origins"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance: Mapped[str] = mapped_column(String(40))
    org_name: Mapped[str] = mapped_column(String(200))
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))


class FedRecord(Base):
    """Provenance of a received record: local id ↔ (origin instance, origin id)."""

    __tablename__ = "fed_records"
    __table_args__ = (
        UniqueConstraint("kind", "origin_instance", "origin_id", name="uq_fed_records_origin"),
    )
    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    local_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    origin_instance: Mapped[str] = mapped_column(String(40))
    origin_org: Mapped[str] = mapped_column(String(200))
    origin_id: Mapped[str] = mapped_column(String(36))
    #: The origin's version (its last change) of what is stored.
    origin_version: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    #: The marking as received: the floor a copy from a non-origin instance cannot lower.
    received_marking: Mapped[str] = mapped_column(String(16))
    #: The peer it came through (updates come from it or from the origin itself).
    via_peer_id: Mapped[int] = mapped_column(ForeignKey("fed_peers.id"))
    #: 1 once the sender withdrew it: then visible to no one here.
    withdrawn: Mapped[int] = mapped_column(Integer, default=0)


class FedReach(Base):
    """An instance allowed to hold a received record (origin's list, never widened)."""

    __tablename__ = "fed_reach"
    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    local_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    instance: Mapped[str] = mapped_column(String(40), primary_key=True)


class FedSent(Base):
    """What this side last sent a peer of one record (to withdraw it later)."""

    __tablename__ = "fed_sent"
    peer_id: Mapped[int] = mapped_column(ForeignKey("fed_peers.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    local_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    version: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    withdrawn: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


#: Tables of records that federate; each has ``change_xid`` kept by triggers (0004).
FEED_TABLES = ("denials", "consultations", "licence_decisions", "alerts")
#: SQLite only: the one-row counter the triggers draw positions from.
CHANGE_COUNTER = "fed_change_counter"
#: PostgreSQL only: the trigger function.
STAMP_FUNCTION = "fed_stamp_change"


def change_trigger_sql(dialect: str, table: str) -> list[str]:
    """The statements creating ``table``'s feed-position triggers on ``dialect``.

    Revision 0004 runs them. A later migration that rebuilds one of the
    :data:`FEED_TABLES` on SQLite (Alembic batch mode copies the table and drops
    the old one, and its triggers with it) must run them again afterwards::

        for statement in change_trigger_sql(op.get_bind().dialect.name, "licence_decisions"):
            op.execute(statement)

    (PostgreSQL alters tables in place and keeps them; running the statements
    again there is harmless.) The list starts with the ``DROP TRIGGER IF EXISTS``
    statements, so a caller may run those alone to take the triggers off a while
    (revision 0005 does, to put rows back with their positions unchanged).
    SQLite: ``AFTER INSERT`` always stamps; ``AFTER UPDATE`` stamps an UPDATE that
    left the position alone or set it to anything but the value just drawn, so
    the trigger's own UPDATE never stamps again (with or without
    ``PRAGMA recursive_triggers``).
    """
    if dialect == "postgresql":
        return [
            f"DROP TRIGGER IF EXISTS {table}_fed_change ON {table}",
            f"CREATE TRIGGER {table}_fed_change BEFORE INSERT OR UPDATE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {STAMP_FUNCTION}()",
        ]
    if dialect == "sqlite":
        stamp = (
            f"UPDATE {CHANGE_COUNTER} SET value = value + 1 WHERE id = 1; "
            f"UPDATE {table} SET change_xid = (SELECT value FROM {CHANGE_COUNTER} WHERE id = 1) "
            "WHERE rowid = NEW.rowid;"
        )
        return [
            f"DROP TRIGGER IF EXISTS {table}_fed_change_insert",
            f"DROP TRIGGER IF EXISTS {table}_fed_change_update",
            f"CREATE TRIGGER {table}_fed_change_insert AFTER INSERT ON {table} BEGIN {stamp} END",
            f"CREATE TRIGGER {table}_fed_change_update AFTER UPDATE ON {table} "
            "WHEN NEW.change_xid IS OLD.change_xid "
            f"OR NEW.change_xid IS NOT (SELECT value FROM {CHANGE_COUNTER} WHERE id = 1) "
            f"BEGIN {stamp} END",
        ]
    raise ValueError(f"dialect: no feed-position triggers for {dialect!r}")


#: PostgreSQL only: the function moving a record's version forward (revision 0007).
VERSION_FUNCTION = "fed_version_forward"


def _plus_one_microsecond(value: str) -> str:
    """SQLite: ``value`` (SQLAlchemy's ``YYYY-MM-DD HH:MM:SS.ffffff`` text) + 1 µs, same form."""
    micro = (
        f"(CASE WHEN substr({value}, 20, 1) = '.' "
        f"THEN CAST(substr({value} || '000000', 21, 6) AS INTEGER) ELSE 0 END)"
    )
    return (
        f"(CASE WHEN {micro} < 999999 "
        f"THEN datetime(substr({value}, 1, 19)) || '.' || printf('%06d', {micro} + 1) "
        f"ELSE datetime(substr({value}, 1, 19), '+1 seconds') || '.000000' END)"
    )


def version_trigger_sql(dialect: str, table: str) -> list[str]:
    """The statements creating ``table``'s version trigger on ``dialect`` (revision 0007).

    Every UPDATE of a row leaves its ``updated_at`` at least one microsecond
    after the value it replaces, whatever the writer set: the version a record
    carries across instances strictly increases per record, in commit order.

    * PostgreSQL: a ``BEFORE UPDATE`` row trigger (function
      :data:`VERSION_FUNCTION`) sets ``NEW.updated_at := greatest(NEW.updated_at,
      OLD.updated_at + 1 µs)``. It runs once the row is locked, and ``OLD`` is
      then the latest committed version (a concurrent updater that held the
      lock has committed, READ COMMITTED re-reads the row), so a writer that
      took its Python timestamp before another but commits after it still
      stores a later version.
    * SQLite (writers serialised, but the Python clock can step back): an
      ``AFTER UPDATE`` trigger sets the same value with one more UPDATE, only
      when the writer's value is not already later, and never for the
      feed-position triggers' own UPDATE (the one that sets ``change_xid`` to the
      value just drawn, recognised as :func:`change_trigger_sql` recognises it).
      Its own UPDATE leaves ``updated_at`` later than before, so it fires no
      further version fix-up; the feed-position trigger stamps that UPDATE too,
      which only draws one more position.

    Like :func:`change_trigger_sql`, a later migration that rebuilds one of the
    :data:`FEED_TABLES` on SQLite must run these statements again; the list
    starts with the ``DROP TRIGGER IF EXISTS`` statement.
    """
    if dialect == "postgresql":
        return [
            f"DROP TRIGGER IF EXISTS {table}_fed_version ON {table}",
            f"CREATE TRIGGER {table}_fed_version BEFORE UPDATE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {VERSION_FUNCTION}()",
        ]
    if dialect == "sqlite":
        return [
            f"DROP TRIGGER IF EXISTS {table}_fed_version",
            f"CREATE TRIGGER {table}_fed_version AFTER UPDATE ON {table} "
            "WHEN NEW.updated_at <= OLD.updated_at AND (NEW.change_xid IS OLD.change_xid "
            f"OR NEW.change_xid IS NOT (SELECT value FROM {CHANGE_COUNTER} WHERE id = 1)) "
            f"BEGIN UPDATE {table} SET updated_at = {_plus_one_microsecond('OLD.updated_at')} "
            "WHERE rowid = NEW.rowid; END",
        ]
    raise ValueError(f"dialect: no version triggers for {dialect!r}")
