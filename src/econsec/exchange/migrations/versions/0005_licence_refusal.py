"""Licence refusals and withdrawals: the refusal's denial notification, the day, the criterion.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07

A draft licence decision ends issued, refused or withdrawn. A refusal is
itself a denial (Regulation (EU) 2021/821, Art. 16(2)): ``refusal_denial_id``
links the decision to the denial notification created with it (one denial per
refusal, and a refused decision always has one). ``closed_on`` is the day of
the refusal or withdrawal, ``criterion`` the ground the refusal cites.

SQLite cannot alter a CHECK constraint in place: the table is rebuilt (Alembic
batch mode). Dropping the old table would count every row of
``licence_matches`` and ``consultations`` that points at it as a foreign key
violation (checks cannot be switched off inside the migration's transaction,
and a deferred violation is not undone by the rebuilt table's rows), so those
tables' rows are set aside in temporary tables around the rebuild and put back
unchanged. The rebuild also drops the feed-position triggers of revision 0004;
they are put back (:func:`econsec.exchange.federation_db.change_trigger_sql`),
and the set-aside tables' own triggers are off while their rows go back, so
every row keeps its ``change_xid`` (a schema change moves nothing in the
federation feed).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

from econsec.exchange.federation_db import FEED_TABLES, change_trigger_sql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_OLD = "status IN ('draft', 'issued')"
_NEW = "status IN ('draft', 'issued', 'refused', 'withdrawn')"


def _children() -> list[str]:
    """The tables with a foreign key to ``licence_decisions`` (nothing may point at them)."""
    inspector = sa.inspect(op.get_bind())
    tables = inspector.get_table_names()
    children = [
        t
        for t in tables
        if any(fk["referred_table"] == "licence_decisions" for fk in inspector.get_foreign_keys(t))
    ]
    for t in tables:
        for fk in inspector.get_foreign_keys(t):
            if fk["referred_table"] in children:
                raise RuntimeError(
                    f"{t}: refers to {fk['referred_table']}, which 0005 sets aside on SQLite"
                )
    return sorted(children)


def _triggers(table: str, *, on: bool) -> None:
    """Put back (``on``) or drop the feed-position triggers of ``table`` (SQLite)."""
    if table in FEED_TABLES:
        for statement in change_trigger_sql("sqlite", table):
            if on or statement.startswith("DROP "):
                op.execute(statement)


@contextmanager
def _rebuildable() -> Iterator[None]:
    """On SQLite, set aside the rows that point at ``licence_decisions`` while it is rebuilt."""
    if op.get_bind().dialect.name != "sqlite":
        yield
        return
    children = _children()
    for t in children:
        _triggers(t, on=False)
        op.execute(f'CREATE TEMP TABLE "_0005_{t}" AS SELECT * FROM "{t}"')
        op.execute(f'DELETE FROM "{t}"')
    yield
    for t in children:
        op.execute(f'INSERT INTO "{t}" SELECT * FROM "_0005_{t}"')
        op.execute(f'DROP TABLE "_0005_{t}"')
        _triggers(t, on=True)
    _triggers("licence_decisions", on=True)


def upgrade() -> None:
    with _rebuildable(), op.batch_alter_table("licence_decisions") as batch:
        batch.add_column(sa.Column("refusal_denial_id", sa.String(36)))
        batch.add_column(sa.Column("criterion", sa.Text))
        batch.add_column(sa.Column("closed_on", sa.Date))
        batch.create_foreign_key(
            "fk_licence_refusal_denial", "denials", ["refusal_denial_id"], ["id"]
        )
        batch.drop_constraint("ck_licence_status", type_="check")
        batch.create_check_constraint("ck_licence_status", _NEW)
        batch.create_check_constraint(
            "ck_licence_refusal_denial",
            "status <> 'refused' OR refusal_denial_id IS NOT NULL",
        )
    op.create_index(
        "ix_licence_decisions_refusal_denial_id",
        "licence_decisions",
        ["refusal_denial_id"],
        unique=True,
    )


def downgrade() -> None:
    left = op.get_bind().scalar(
        sa.text("SELECT count(*) FROM licence_decisions WHERE status IN ('refused', 'withdrawn')")
    )
    if left:
        raise RuntimeError(
            f"licence_decisions: {left} refused or withdrawn decision(s) cannot be represented "
            "before revision 0005; nothing was changed"
        )
    op.drop_index("ix_licence_decisions_refusal_denial_id", table_name="licence_decisions")
    with _rebuildable(), op.batch_alter_table("licence_decisions") as batch:
        batch.drop_constraint("ck_licence_refusal_denial", type_="check")
        batch.drop_constraint("ck_licence_status", type_="check")
        batch.create_check_constraint("ck_licence_status", _OLD)
        batch.drop_constraint("fk_licence_refusal_denial", type_="foreignkey")
        batch.drop_column("closed_on")
        batch.drop_column("criterion")
        batch.drop_column("refusal_denial_id")
