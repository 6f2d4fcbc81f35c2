"""Tables of the exchange (SQLAlchemy 2) and the engine they live in.

The schema is created and upgraded only by the Alembic migrations under
``econsec/exchange/migrations`` (:func:`migrate`); these classes describe it for
queries. SQLite runs in WAL mode with foreign keys on.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    create_engine,
    event,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

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


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def database_url(path: Path) -> str:
    """The SQLAlchemy URL of the embedded SQLite database at ``path``."""
    return f"sqlite:///{path}"


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL, full sync, foreign keys."""
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the database to ``revision`` with the packaged Alembic migrations."""
    from alembic import command  # noqa: PLC0415 (only commands that migrate pay for it)
    from alembic.config import Config  # noqa: PLC0415

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
