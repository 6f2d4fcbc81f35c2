"""Federation: peer instances, what was pushed and pulled.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)
_MARKINGS = "('CLEAR', 'GREEN', 'AMBER', 'AMBER+STRICT', 'RED')"


def upgrade() -> None:
    op.create_table(
        "fed_instance",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.CheckConstraint("id = 1", name="ck_fed_instance_single"),
    )
    op.create_table(
        "fed_peers",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(40), nullable=False, unique=True),
        sa.Column("base_url", sa.Text, nullable=False),
        sa.Column("token", sa.Text),
        sa.Column("org_id", sa.Integer, sa.ForeignKey("organisations.id"), nullable=False),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("send_markings", sa.Text, nullable=False),
        sa.Column("send_group_id", sa.Integer, sa.ForeignKey("sharing_groups.id")),
        sa.Column("receive_group_id", sa.Integer, sa.ForeignKey("sharing_groups.id")),
        sa.Column("forward_received", sa.Integer, nullable=False, server_default="0"),
        sa.Column("forward_to", sa.Text, nullable=False, server_default=""),
        sa.Column("push_cursor", sa.Text),
        sa.Column("pull_cursor", sa.Text),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
    )
    op.create_table(
        "fed_origins",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("instance", sa.String(40), nullable=False),
        sa.Column("org_name", sa.String(200), nullable=False),
        sa.Column("org_id", sa.Integer, sa.ForeignKey("organisations.id"), nullable=False),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.UniqueConstraint("instance", "org_name", name="uq_fed_origins"),
    )
    op.create_table(
        "fed_records",
        sa.Column("kind", sa.String(40), primary_key=True),
        sa.Column("local_id", sa.String(36), primary_key=True),
        sa.Column("origin_instance", sa.String(40), nullable=False),
        sa.Column("origin_org", sa.String(200), nullable=False),
        sa.Column("origin_id", sa.String(36), nullable=False),
        sa.Column("origin_version", _TS, nullable=False),
        sa.Column("received_marking", sa.String(16), nullable=False),
        sa.Column("via_peer_id", sa.Integer, sa.ForeignKey("fed_peers.id"), nullable=False),
        sa.Column("withdrawn", sa.Integer, nullable=False, server_default="0"),
        sa.UniqueConstraint("kind", "origin_instance", "origin_id", name="uq_fed_records_origin"),
        sa.CheckConstraint(f"received_marking IN {_MARKINGS}", name="ck_fed_records_marking"),
    )
    op.create_table(
        "fed_reach",
        sa.Column("kind", sa.String(40), primary_key=True),
        sa.Column("local_id", sa.String(36), primary_key=True),
        sa.Column("instance", sa.String(40), primary_key=True),
    )
    op.create_table(
        "fed_sent",
        sa.Column("peer_id", sa.Integer, sa.ForeignKey("fed_peers.id"), primary_key=True),
        sa.Column("kind", sa.String(40), primary_key=True),
        sa.Column("local_id", sa.String(36), primary_key=True),
        sa.Column("version", _TS, nullable=False),
        sa.Column("withdrawn", sa.Integer, nullable=False, server_default="0"),
        sa.Column("sent_at", _TS, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "fed_sent",
        "fed_reach",
        "fed_records",
        "fed_origins",
        "fed_peers",
        "fed_instance",
    ):
        op.drop_table(table)
