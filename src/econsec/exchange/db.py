"""Tables of the exchange (SQLAlchemy 2) and the engine they live in.

The schema is created and upgraded only by the Alembic migrations under
``econsec/exchange/migrations`` (:func:`migrate`); these classes describe it for
queries. SQLite runs in WAL mode with foreign keys on.
"""

from __future__ import annotations

import datetime as dt
import weakref
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field
from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    FetchedValue,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    create_engine,
    event,
    make_url,
    text,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.pool import QueuePool

MIGRATIONS = Path(__file__).parent / "migrations"


class Role(StrEnum):
    OFFICER = "officer"
    ANALYST = "analyst"
    AUDITOR = "auditor"
    ADMIN = "admin"


class Scope(StrEnum):
    DENIALS_READ = "denials:read"
    DENIALS_WRITE = "denials:write"
    AUDIT_READ = "audit:read"
    #: A peer instance pulling its feed or pushing to its inbox (federation).
    FEDERATION = "federation"


#: The scopes a token of a user with each role may carry.
ROLE_SCOPES: dict[Role, frozenset[Scope]] = {
    Role.OFFICER: frozenset({Scope.DENIALS_READ, Scope.DENIALS_WRITE}),
    Role.ANALYST: frozenset({Scope.DENIALS_READ}),
    Role.AUDITOR: frozenset({Scope.AUDIT_READ, Scope.DENIALS_READ}),
    Role.ADMIN: frozenset(Scope),
}


class Marking(StrEnum):
    """TLP 2.0 labels, from the widest audience to the narrowest."""

    CLEAR = "CLEAR"
    GREEN = "GREEN"
    AMBER = "AMBER"
    AMBER_STRICT = "AMBER+STRICT"
    RED = "RED"

    @property
    def rank(self) -> int:
        """0 for CLEAR … 4 for RED: a higher rank is a more restrictive marking."""
        return list(Marking).index(self)


class ReviewStatus(StrEnum):
    IN_FORCE = "in_force"
    RENEWED = "renewed"
    REVOKED = "revoked"


def _change_position() -> Mapped[int]:
    """``change_xid`` (revision 0004): the record's position in the federation feed.

    Maintained by database triggers on every INSERT and UPDATE (the writing
    transaction's id on PostgreSQL, a commit-ordered sequence on SQLite), never
    set from Python: marked as fetched from the server, so the ORM leaves it out
    of its INSERTs and UPDATEs; deferred, so ordinary loads skip it.
    """
    return mapped_column(
        BigInteger, server_default=FetchedValue(), server_onupdate=FetchedValue(), deferred=True
    )


class Base(DeclarativeBase):
    pass


class Organisation(Base):
    __tablename__ = "organisations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    country: Mapped[str] = mapped_column(String(2))


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    name: Mapped[str] = mapped_column(String(200), unique=True)
    role: Mapped[str] = mapped_column(String(16))


class ApiToken(Base):
    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    #: sha256 hex digest of the token; the token itself is never stored.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: Space-separated scopes.
    scopes: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    revoked: Mapped[int] = mapped_column(Integer, default=0)


class SharingGroup(Base):
    __tablename__ = "sharing_groups"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)


class GroupMember(Base):
    __tablename__ = "group_members"
    group_id: Mapped[int] = mapped_column(ForeignKey("sharing_groups.id"), primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), primary_key=True)


class Denial(Base):
    """A denial notification (EU 2021/821 Art. 16 and the regimes' equivalents)."""

    __tablename__ = "denials"
    #: Pages are read in this order (revision 0008).
    __table_args__ = (Index("ix_denials_page_order", text("decision_date DESC"), "id"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    originator_org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    author_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    marking: Mapped[str] = mapped_column(String(16), index=True)
    sharing_group_id: Mapped[int | None] = mapped_column(ForeignKey("sharing_groups.id"))
    reference: Mapped[str] = mapped_column(String(200))
    decision_date: Mapped[dt.date] = mapped_column(Date)
    #: Control list entries, space-separated (``3A090 4A090``).
    control_entries: Mapped[str] = mapped_column(Text)
    item: Mapped[str] = mapped_column(Text)
    consignee: Mapped[str] = mapped_column(Text)
    end_user: Mapped[str] = mapped_column(Text)
    destination: Mapped[str] = mapped_column(String(2))
    reason: Mapped[str] = mapped_column(Text)
    expires_on: Mapped[dt.date] = mapped_column(Date)
    review_status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    change_xid: Mapped[int] = _change_position()


class RecordRecipient(Base):
    """A user named as recipient of a RED record."""

    __tablename__ = "record_recipients"
    record_id: Mapped[str] = mapped_column(ForeignKey("denials.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)


class RecordExclusion(Base):
    """An organisation the originator excluded from a record: deny beats allow."""

    __tablename__ = "record_exclusions"
    record_id: Mapped[str] = mapped_column(ForeignKey("denials.id"), primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), primary_key=True)


class AuditEntry(Base):
    """One append-only, hash-chained audit entry (see econsec.exchange.audit)."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[str] = mapped_column(String(40))
    org_id: Mapped[int | None] = mapped_column(Integer, index=True)
    user_id: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[str | None] = mapped_column(String(36))
    outcome: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


#: Integer columns are 32-bit on PostgreSQL (and SQLite refuses Python ints past
#: 64 bits): API inputs that reach an integer column are bounded by this, so an
#: out-of-range id is a 422 naming the field rather than a database error.
INT32_MAX = 2_147_483_647
DbInt = Annotated[int, Field(ge=-INT32_MAX - 1, le=INT32_MAX)]

#: Execution option marking a connection whose transactions write (see :func:`writer`).
WRITE_OPTION = "econsec_write"
#: ``pg_advisory_xact_lock`` keys: one for migrations, one for audit-chain appends.
MIGRATION_LOCK = 0x6563_7830_0001
AUDIT_CHAIN_LOCK = 0x6563_7830_0002
#: Environment variable naming the exchange database (an SQLAlchemy URL).
URL_VARIABLE = "ECONSEC_EXCHANGE_URL"


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite's own transaction handling is switched off: the "begin" listener
    # emits BEGIN itself, so write transactions can take the write lock up front.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    # A writer takes SQLite's write lock when it begins (BEGIN IMMEDIATE), so a
    # concurrent writer, thread or process, waits up to busy_timeout for it
    # instead of failing with "database is locked" when a read upgrades to a write.
    write = connection.get_execution_options().get(WRITE_OPTION, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def database_url(path: Path) -> str:
    """The SQLAlchemy URL of the embedded SQLite database at ``path``."""
    return f"sqlite:///{path}"


#: PostgreSQL session settings of every exchange connection. No JIT: the
#: visibility filter's cost estimates grow with the table, and once one passes
#: ``jit_above_cost`` PostgreSQL compiles the query first, which made a page of
#: denials about three times slower (benchmarks/exchange_queries.py). Short
#: OLTP queries never repay the compilation.
_PG_CONNECT = {"options": "-c jit=off"}


def make_engine(url: str, *, pool_size: int = 10) -> Engine:
    """An engine for ``url`` (``sqlite:///…`` or ``postgresql+psycopg://…``).

    SQLite gets WAL, full sync, foreign keys, a busy timeout and BEGIN IMMEDIATE
    for writers; PostgreSQL a connection pool of ``pool_size`` (plus as many
    again on overflow). No liveness check on checkout: it would cost a round
    trip per query; a restarted database costs the requests that were using the
    old connections (the pool then replaces them).
    """
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ValueError(f"database url: {exc}") from exc
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(parsed)
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if parsed.get_backend_name() == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        return create_engine(
            parsed, pool_size=pool_size, max_overflow=pool_size, connect_args=_PG_CONNECT
        )
    raise ValueError(
        f"database url: {parsed.get_backend_name()!r} is not supported "
        "(sqlite:///PATH or postgresql+psycopg://USER@HOST:PORT/DB)"
    )


def writer(engine: Engine) -> Engine:
    """``engine`` whose transactions are write transactions (BEGIN IMMEDIATE on SQLite)."""
    return engine.execution_options(**{WRITE_OPTION: True})


def reader(engine: Engine) -> Engine:
    """``engine`` for sessions that only read.

    On PostgreSQL they run in autocommit: each query sees the latest committed
    data, with no BEGIN and ROLLBACK round trips around it (a read of one query
    needs no transaction). SQLite keeps a deferred transaction, which costs nothing.
    """
    if engine.dialect.name != "postgresql":
        return engine
    read = _READERS.get(engine)
    if read is None:
        # A pool of its own whose connections stay in autocommit: no isolation
        # level switched on every checkout and back on every return, and nothing
        # to roll back on return (benchmarks/exchange_queries.py, section 3).
        size = engine.pool.size() if isinstance(engine.pool, QueuePool) else 5
        read = create_engine(
            engine.url,
            isolation_level="AUTOCOMMIT",
            pool_reset_on_return=None,
            pool_size=size,
            max_overflow=size,
            connect_args=_PG_CONNECT,
        )
        event.listen(engine, "engine_disposed", lambda _connection: read.dispose())
        _READERS[engine] = read
    return read


#: The autocommit read engine of each PostgreSQL engine (see :func:`reader`).
_READERS: weakref.WeakKeyDictionary[Engine, Engine] = weakref.WeakKeyDictionary()


_ADVISORY_LOCK = text("SELECT pg_advisory_xact_lock(:key)")


def advisory_lock(connection: Connection, key: int) -> None:
    """Hold PostgreSQL advisory lock ``key`` until the transaction ends (a no-op elsewhere).

    On SQLite the write transaction (BEGIN IMMEDIATE) already excludes other writers.
    """
    if connection.dialect.name == "postgresql":
        connection.execute(_ADVISORY_LOCK, {"key": key})


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the database to ``revision`` with the packaged Alembic migrations.

    Safe when several processes start at once (server workers): they migrate one
    after the other, under the advisory lock or SQLite's write lock.
    """
    from alembic import command  # noqa: PLC0415 (only commands that migrate pay for it)
    from alembic.config import Config  # noqa: PLC0415

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with writer(engine).begin() as connection:
        advisory_lock(connection, MIGRATION_LOCK)
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


# -- records of revision 0002: consultations, licence decisions, alerts, notifications ----------


class ConsultationState(StrEnum):
    #: Waiting for the consulted organisation's reply.
    OPEN = "open"
    #: The consulted organisation replied (agree / object).
    ANSWERED = "answered"
    #: The consulting organisation recorded the outcome.
    CLOSED = "closed"


class Reply(StrEnum):
    AGREE = "agree"
    OBJECT = "object"


class Outcome(StrEnum):
    GRANTED = "granted"
    NOT_GRANTED = "not_granted"
    WITHDRAWN = "withdrawn"


class LicenceStatus(StrEnum):
    DRAFT = "draft"
    ISSUED = "issued"
    #: Refused by the drafting authority: itself a denial, notified (revision 0005).
    REFUSED = "refused"
    #: Withdrawn by the drafting authority before any decision (revision 0005).
    WITHDRAWN = "withdrawn"


class AlertKind(StrEnum):
    DIVERSION = "diversion"
    PROPOSED_LISTING = "proposed_listing"
    SCREENING_HIT = "screening_hit"


class Consultation(Base):
    """A consultation before granting an "essentially identical" transaction.

    The consulting organisation is the originator; ``consulted_org_id`` (the
    originator of the denial) is the second party and sees it like its own.
    """

    __tablename__ = "consultations"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    originator_org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    author_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    marking: Mapped[str] = mapped_column(String(16))
    sharing_group_id: Mapped[int | None] = mapped_column(ForeignKey("sharing_groups.id"))
    consulted_org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    denial_id: Mapped[str] = mapped_column(ForeignKey("denials.id"), index=True)
    licence_id: Mapped[str | None] = mapped_column(ForeignKey("licence_decisions.id"))
    summary: Mapped[str] = mapped_column(Text)
    opened_on: Mapped[dt.date] = mapped_column(Date)
    deadline: Mapped[dt.date] = mapped_column(Date)
    deadline_explanation: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16))
    reply: Mapped[str | None] = mapped_column(String(16))
    reply_text: Mapped[str | None] = mapped_column(Text)
    replied_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    replied_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    outcome: Mapped[str | None] = mapped_column(String(16))
    outcome_text: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    change_xid: Mapped[int] = _change_position()


class LicenceDecision(Base):
    """A licence an officer drafts and, once the check allows it, issues."""

    __tablename__ = "licence_decisions"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    originator_org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    author_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    marking: Mapped[str] = mapped_column(String(16))
    sharing_group_id: Mapped[int | None] = mapped_column(ForeignKey("sharing_groups.id"))
    reference: Mapped[str] = mapped_column(String(200))
    item: Mapped[str] = mapped_column(Text)
    #: Control list entries, space-separated.
    control_entries: Mapped[str] = mapped_column(Text)
    destination: Mapped[str] = mapped_column(String(2))
    consignee: Mapped[str] = mapped_column(Text)
    end_user: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    #: The approving organisation's stated reasons (given when issuing).
    reasons: Mapped[str | None] = mapped_column(Text)
    issued_on: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    change_xid: Mapped[int] = _change_position()
    #: Revision 0005: the denial notification a refusal created (refused only).
    refusal_denial_id: Mapped[str | None] = mapped_column(ForeignKey("denials.id"), default=None)
    #: Revision 0005: the ground a refusal cites (``Art. 15(1)``, a regime's criterion …).
    criterion: Mapped[str | None] = mapped_column(Text, default=None)
    #: Revision 0005: the day the draft was refused or withdrawn.
    closed_on: Mapped[dt.date | None] = mapped_column(Date, default=None)


class LicenceMatch(Base):
    """A denial the "essentially identical" check found for a licence (last check)."""

    __tablename__ = "licence_matches"
    licence_id: Mapped[str] = mapped_column(ForeignKey("licence_decisions.id"), primary_key=True)
    denial_id: Mapped[str] = mapped_column(ForeignKey("denials.id"), primary_key=True)
    score: Mapped[float] = mapped_column(Float)
    #: JSON: the fields that matched and how.
    fields: Mapped[str] = mapped_column(Text)
    #: A denial of the drafter's own organisation: a warning, not a block.
    own: Mapped[bool] = mapped_column(Boolean)


class AlertRecord(Base):
    """An alert: a diversion finding, a proposed listing or a screening hit."""

    __tablename__ = "alerts"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    originator_org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    author_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    marking: Mapped[str] = mapped_column(String(16))
    sharing_group_id: Mapped[int | None] = mapped_column(ForeignKey("sharing_groups.id"))
    kind: Mapped[str] = mapped_column(String(24), index=True)
    #: One line naming what the alert is about (flow, name, counterparty).
    subject: Mapped[str] = mapped_column(String(400))
    country: Mapped[str | None] = mapped_column(String(2))
    score: Mapped[float | None] = mapped_column(Float)
    #: JSON: the kind's fields as submitted.
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    change_xid: Mapped[int] = _change_position()


class AudienceRecipient(Base):
    """A user named as recipient of a RED consultation, licence decision or alert."""

    __tablename__ = "audience_recipients"
    record_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)


class AudienceExclusion(Base):
    """An organisation excluded from a consultation, licence decision or alert."""

    __tablename__ = "audience_exclusions"
    record_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), primary_key=True)


class Notification(Base):
    """A message addressed to one organisation (undercut notice, consultation reminder).

    ``(org_id, kind, record_id, related_id)`` is unique, so recording the same
    reminder twice is a no-op.
    """

    __tablename__ = "notifications"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    #: The consultation or licence decision it is about.
    record_id: Mapped[str] = mapped_column(String(36))
    #: The denial concerned ('' for reminders).
    related_id: Mapped[str] = mapped_column(String(36))
    marking: Mapped[str] = mapped_column(String(16))
    #: JSON: the explanation.
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
