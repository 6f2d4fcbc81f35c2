"""Initial exchange schema: partners, users, tokens, groups, denials, audit log.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "organisations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("country", sa.String(2), nullable=False),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("org_id", sa.Integer, sa.ForeignKey("organisations.id"), nullable=False),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.CheckConstraint("role IN ('officer', 'analyst', 'auditor', 'admin')", name="ck_role"),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("scopes", sa.Text, nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("expires_at", _TS, nullable=False),
        sa.Column("revoked", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_table(
        "sharing_groups",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
    )
    op.create_table(
        "group_members",
        sa.Column("group_id", sa.Integer, sa.ForeignKey("sharing_groups.id"), primary_key=True),
        sa.Column("org_id", sa.Integer, sa.ForeignKey("organisations.id"), primary_key=True),
    )
    op.create_table(
        "denials",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "originator_org_id", sa.Integer, sa.ForeignKey("organisations.id"), nullable=False
        ),
        sa.Column("author_user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("marking", sa.String(16), nullable=False),
        sa.Column("sharing_group_id", sa.Integer, sa.ForeignKey("sharing_groups.id")),
        sa.Column("reference", sa.String(200), nullable=False),
        sa.Column("decision_date", sa.Date, nullable=False),
        sa.Column("control_entries", sa.Text, nullable=False),
        sa.Column("item", sa.Text, nullable=False),
        sa.Column("consignee", sa.Text, nullable=False),
        sa.Column("end_user", sa.Text, nullable=False),
        sa.Column("destination", sa.String(2), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("expires_on", sa.Date, nullable=False),
        sa.Column("review_status", sa.String(16), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.CheckConstraint(
            "marking IN ('CLEAR', 'GREEN', 'AMBER', 'AMBER+STRICT', 'RED')", name="ck_marking"
        ),
        sa.CheckConstraint(
            "review_status IN ('in_force', 'renewed', 'revoked')", name="ck_review_status"
        ),
    )
    op.create_index("ix_denials_originator_org_id", "denials", ["originator_org_id"])
    op.create_index("ix_denials_marking", "denials", ["marking"])
    op.create_table(
        "record_recipients",
        sa.Column("record_id", sa.String(36), sa.ForeignKey("denials.id"), primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), primary_key=True),
    )
    op.create_table(
        "record_exclusions",
        sa.Column("record_id", sa.String(36), sa.ForeignKey("denials.id"), primary_key=True),
        sa.Column("org_id", sa.Integer, sa.ForeignKey("organisations.id"), primary_key=True),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("org_id", sa.Integer),
        sa.Column("user_id", sa.Integer),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("record_id", sa.String(36)),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False, unique=True),
    )
    op.create_index("ix_audit_log_org_id", "audit_log", ["org_id"])
    # Append-only: the database itself refuses to change or remove an entry.
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_log_no_{verb.lower()} BEFORE {verb} ON audit_log "
                "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
            )
    elif dialect == "postgresql":
        op.execute(
            "CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$"
        )
        for verb, level in (("UPDATE", "ROW"), ("DELETE", "ROW"), ("TRUNCATE", "STATEMENT")):
            op.execute(
                f"CREATE TRIGGER audit_log_no_{verb.lower()} BEFORE {verb} ON audit_log "
                f"FOR EACH {level} EXECUTE FUNCTION audit_log_append_only()"
            )


def downgrade() -> None:
    for table in (
        "audit_log",
        "record_exclusions",
        "record_recipients",
        "denials",
        "group_members",
        "sharing_groups",
        "api_tokens",
        "users",
        "organisations",
    ):
        op.drop_table(table)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
