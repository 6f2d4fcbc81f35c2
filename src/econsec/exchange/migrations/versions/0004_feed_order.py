"""Federation feed in commit order: a database-maintained change position per record.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07

Every federated table (``denials``, ``consultations``, ``licence_decisions``,
``alerts``) gets ``change_xid`` (bigint), set by the database on every INSERT
and UPDATE, never by Python, so no write path has to know about it:

* PostgreSQL: a ``BEFORE INSERT OR UPDATE`` trigger stores the writing
  transaction's id (``pg_current_xact_id()``, 64-bit, cast via text to bigint).
  The feed sends only rows whose transaction is over for every observer
  (below ``pg_snapshot_xmin`` of the current snapshot); see
  :mod:`econsec.exchange.federation` for why that order loses nothing.
* SQLite (one writer at a time): a one-row counter, ``fed_change_counter``,
  incremented by ``AFTER INSERT`` / ``AFTER UPDATE`` triggers that stamp the
  row with the new value, a sequence in commit order. The update trigger's
  ``WHEN`` clause lets every UPDATE stamp except the trigger's own (the one that
  sets the value just drawn), so it never loops, whether or not
  ``PRAGMA recursive_triggers`` is on (it is off by default).

The trigger statements live in
:func:`econsec.exchange.federation_db.change_trigger_sql`, so that a later
migration that rebuilds one of these tables on SQLite (batch mode drops the old
table and its triggers) can put them back.

Existing rows get a position here: on SQLite 1…N in ``(updated_at, id)`` order
per table (the counter continues after them); on PostgreSQL the migration's own
transaction id (all rows one position, ordered by ``id`` within it: any number
below it is over, and every later writer's id is above it).

Stored cursors are left as they are: the feed reads a cursor of the old form
(``(updated_at, id)`` per kind) as "from the beginning" for that kind and sends
it again (receiving is idempotent).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from econsec.exchange.federation_db import (
    CHANGE_COUNTER,
    FEED_TABLES,
    STAMP_FUNCTION,
    change_trigger_sql,
)

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in FEED_TABLES:
        op.add_column(
            table, sa.Column("change_xid", sa.BigInteger, nullable=False, server_default="0")
        )
    if dialect == "postgresql":
        op.execute(
            f"CREATE FUNCTION {STAMP_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN NEW.change_xid := pg_current_xact_id()::text::bigint; RETURN NEW; END $$"
        )
        for table in FEED_TABLES:
            for statement in change_trigger_sql(dialect, table):
                op.execute(statement)
            # the trigger stamps every existing row with this migration's transaction id
            op.execute(f"UPDATE {table} SET change_xid = 0")
    elif dialect == "sqlite":
        op.create_table(
            CHANGE_COUNTER,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("value", sa.BigInteger, nullable=False),
            sa.CheckConstraint("id = 1", name="ck_fed_change_counter_single"),
        )
        op.execute(f"INSERT INTO {CHANGE_COUNTER} (id, value) VALUES (1, 0)")
        for table in FEED_TABLES:
            # existing rows: the next positions, in (updated_at, id) order
            op.execute(
                f"UPDATE {table} SET change_xid = ranked.n + "
                f"(SELECT value FROM {CHANGE_COUNTER} WHERE id = 1) "
                "FROM (SELECT id, row_number() OVER (ORDER BY updated_at, id) AS n "
                f"FROM {table}) AS ranked WHERE ranked.id = {table}.id"
            )
            op.execute(
                f"UPDATE {CHANGE_COUNTER} SET value = value + (SELECT count(*) FROM {table}) "
                "WHERE id = 1"
            )
        for table in FEED_TABLES:
            for statement in change_trigger_sql(dialect, table):
                op.execute(statement)
    else:  # pragma: no cover - make_engine accepts only these two
        raise NotImplementedError(f"feed order: no triggers for {dialect}")
    for table in FEED_TABLES:
        op.create_index(f"ix_{table}_change_xid", table, ["change_xid", "id"])


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in FEED_TABLES:
        op.drop_index(f"ix_{table}_change_xid", table_name=table)
    if dialect == "postgresql":
        for table in FEED_TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_fed_change ON {table}")
        op.execute(f"DROP FUNCTION IF EXISTS {STAMP_FUNCTION}()")
    elif dialect == "sqlite":
        for table in FEED_TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_fed_change_insert")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_fed_change_update")
        op.drop_table(CHANGE_COUNTER)
    for table in FEED_TABLES:
        op.drop_column(table, "change_xid")
