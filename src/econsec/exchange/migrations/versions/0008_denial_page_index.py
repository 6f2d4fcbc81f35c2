"""An index in the order denials are listed (newest decision first, then id).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07

A page of denials walks this index and stops after ``offset + limit`` visible
rows; without it every visible denial was read and sorted for each page
(with 10,000 denials, a page and its total took about a quarter of the time of
the single window-count query they replace: benchmarks/exchange_queries.py).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_denials_page_order", "denials", [sa.text("decision_date DESC"), "id"])


def downgrade() -> None:
    op.drop_index("ix_denials_page_order", table_name="denials")
