"""Consultations, licence decisions and alerts.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23

Every record carries the same envelope as a denial (originator organisation,
author, TLP 2.0 marking, optional sharing group); named recipients and
excluded organisations of the new kinds live in ``audience_recipients`` and
``audience_exclusions`` (record ids are UUIDs, unique across kinds).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)
_MARKINGS = "('CLEAR', 'GREEN', 'AMBER', 'AMBER+STRICT', 'RED')"


def _envelope(table: str) -> list[Any]:
    return [
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "originator_org_id", sa.Integer, sa.ForeignKey("organisations.id"), nullable=False
        ),
        sa.Column("author_user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("marking", sa.String(16), nullable=False),
        sa.Column("sharing_group_id", sa.Integer, sa.ForeignKey("sharing_groups.id")),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.CheckConstraint(f"marking IN {_MARKINGS}", name=f"ck_{table}_marking"),
    ]


def upgrade() -> None:
    op.create_table(
        "licence_decisions",
        *_envelope("licence_decisions"),
        sa.Column("reference", sa.String(200), nullable=False),
        sa.Column("item", sa.Text, nullable=False),
        sa.Column("control_entries", sa.Text, nullable=False),
        sa.Column("destination", sa.String(2), nullable=False),
        sa.Column("consignee", sa.Text, nullable=False),
        sa.Column("end_user", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reasons", sa.Text),
        sa.Column("issued_on", sa.Date),
        sa.CheckConstraint("status IN ('draft', 'issued')", name="ck_licence_status"),
    )
    op.create_index(
        "ix_licence_decisions_originator_org_id", "licence_decisions", ["originator_org_id"]
    )
    op.create_table(
        "licence_matches",
        sa.Column(
            "licence_id", sa.String(36), sa.ForeignKey("licence_decisions.id"), primary_key=True
        ),
        sa.Column("denial_id", sa.String(36), sa.ForeignKey("denials.id"), primary_key=True),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("fields", sa.Text, nullable=False),
        sa.Column("own", sa.Boolean, nullable=False),
    )
    op.create_table(
        "consultations",
        *_envelope("consultations"),
        sa.Column(
            "consulted_org_id", sa.Integer, sa.ForeignKey("organisations.id"), nullable=False
        ),
        sa.Column("denial_id", sa.String(36), sa.ForeignKey("denials.id"), nullable=False),
        sa.Column("licence_id", sa.String(36), sa.ForeignKey("licence_decisions.id")),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("opened_on", sa.Date, nullable=False),
        sa.Column("deadline", sa.Date, nullable=False),
        sa.Column("deadline_explanation", sa.Text, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("reply", sa.String(16)),
        sa.Column("reply_text", sa.Text),
        sa.Column("replied_by", sa.Integer, sa.ForeignKey("users.id")),
        sa.Column("replied_at", _TS),
        sa.Column("outcome", sa.String(16)),
        sa.Column("outcome_text", sa.Text),
        sa.Column("closed_at", _TS),
        sa.CheckConstraint("state IN ('open', 'answered', 'closed')", name="ck_consultation_state"),
        sa.CheckConstraint(
            "reply IS NULL OR reply IN ('agree', 'object')", name="ck_consultation_reply"
        ),
        sa.CheckConstraint(
            "outcome IS NULL OR outcome IN ('granted', 'not_granted', 'withdrawn')",
            name="ck_consultation_outcome",
        ),
        sa.CheckConstraint("marking <> 'RED'", name="ck_consultation_not_red"),
    )
    op.create_index("ix_consultations_originator_org_id", "consultations", ["originator_org_id"])
    op.create_index("ix_consultations_consulted_org_id", "consultations", ["consulted_org_id"])
    op.create_index("ix_consultations_denial_id", "consultations", ["denial_id"])
    op.create_table(
        "alerts",
        *_envelope("alerts"),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("subject", sa.String(400), nullable=False),
        sa.Column("country", sa.String(2)),
        sa.Column("score", sa.Float),
        sa.Column("payload", sa.Text, nullable=False),
        sa.CheckConstraint(
            "kind IN ('diversion', 'proposed_listing', 'screening_hit')", name="ck_alert_kind"
        ),
    )
    op.create_index("ix_alerts_originator_org_id", "alerts", ["originator_org_id"])
    op.create_index("ix_alerts_kind", "alerts", ["kind"])
    op.create_table(
        "audience_recipients",
        sa.Column("record_id", sa.String(36), primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), primary_key=True),
    )
    op.create_table(
        "audience_exclusions",
        sa.Column("record_id", sa.String(36), primary_key=True),
        sa.Column("org_id", sa.Integer, sa.ForeignKey("organisations.id"), primary_key=True),
    )
    op.create_table(
        "notifications",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("org_id", sa.Integer, sa.ForeignKey("organisations.id"), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("record_id", sa.String(36), nullable=False),
        sa.Column("related_id", sa.String(36), nullable=False),
        sa.Column("marking", sa.String(16), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.UniqueConstraint("org_id", "kind", "record_id", "related_id", name="uq_notification"),
        sa.CheckConstraint(f"marking IN {_MARKINGS}", name="ck_notifications_marking"),
    )
    op.create_index("ix_notifications_org_id", "notifications", ["org_id"])


def downgrade() -> None:
    for table in (
        "notifications",
        "audience_exclusions",
        "audience_recipients",
        "alerts",
        "consultations",
        "licence_matches",
        "licence_decisions",
    ):
        op.drop_table(table)
