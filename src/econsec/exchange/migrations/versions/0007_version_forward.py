"""A record's cross-instance version strictly increases in commit order.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07

The version a federated record carries to other instances is its
``updated_at`` (or its origin's). Write paths set it from the Python clock
before they lock the row, so on PostgreSQL two concurrent updates of one record
could store it in the wrong order (the writer that committed last with the
earlier timestamp), and a peer that had the first state ignored the latest one
as "unchanged"; on SQLite a clock that steps back does the same.

Every federated table (``denials``, ``consultations``, ``licence_decisions``,
``alerts``) gets a trigger that keeps each UPDATE's ``updated_at`` at least one
microsecond after the value it replaces (see
:func:`econsec.exchange.federation_db.version_trigger_sql`): a ``BEFORE
UPDATE`` trigger on PostgreSQL, which runs under the row lock, and an ``AFTER
UPDATE`` trigger on SQLite. No write path changes; no rows change here.
"""

from __future__ import annotations

from alembic import op

from econsec.exchange.federation_db import FEED_TABLES, VERSION_FUNCTION, version_trigger_sql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(
            f"CREATE FUNCTION {VERSION_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN NEW.updated_at := greatest(NEW.updated_at, "
            "OLD.updated_at + interval '1 microsecond'); RETURN NEW; END $$"
        )
    for table in FEED_TABLES:
        for statement in version_trigger_sql(dialect, table):
            op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in FEED_TABLES:
        # the first statement of the list drops the trigger
        op.execute(version_trigger_sql(dialect, table)[0])
    if dialect == "postgresql":
        op.execute(f"DROP FUNCTION IF EXISTS {VERSION_FUNCTION}()")
