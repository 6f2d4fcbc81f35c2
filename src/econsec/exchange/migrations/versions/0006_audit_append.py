"""Audit entries hashed by rule 2, appended by one statement on PostgreSQL.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07

Rule 1 hashed the canonical JSON of an entry; rule 2 hashes a length-prefixed
text of the same fields (see ``econsec.exchange.audit``), which PostgreSQL can
compute itself. The function ``econsec_audit_append`` takes the chain's
advisory lock, reads the newest hash and inserts the entry, in one round trip
instead of four (an audited read no longer needs a transaction of its own).

No column changes: an entry verifies if its hash matches either rule, so
entries written before this revision verify as before, and a downgrade and
upgrade lose nothing. (Code older than this revision knows rule 1 only: it
cannot verify entries written since.)
"""

from __future__ import annotations

from alembic import op

from econsec.exchange.db import AUDIT_CHAIN_LOCK

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

#: One field of the rule-2 text: "-" for NULL, else "<length>:<value>".
_FIELD = """
CREATE FUNCTION econsec_audit_field(value text) RETURNS text
LANGUAGE sql IMMUTABLE AS
$$ SELECT CASE WHEN value IS NULL THEN '-' ELSE length(value)::text || ':' || value END $$
"""

# In READ COMMITTED, each statement of a volatile PL/pgSQL function takes a new
# snapshot: the SELECT after the lock sees every entry committed before it.
_APPEND = f"""
CREATE FUNCTION econsec_audit_append(
    p_at text, p_org_id integer, p_user_id integer, p_action text,
    p_record_id text, p_outcome text, p_detail text
) RETURNS void LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    prev text;
BEGIN
    PERFORM pg_advisory_xact_lock({AUDIT_CHAIN_LOCK});
    SELECT hash INTO prev FROM audit_log ORDER BY id DESC LIMIT 1;
    prev := coalesce(prev, repeat('0', 64));
    INSERT INTO audit_log
        (at, org_id, user_id, action, record_id, outcome, detail, prev_hash, hash)
    VALUES (
        p_at, p_org_id, p_user_id, p_action, p_record_id, p_outcome, p_detail, prev,
        encode(sha256(convert_to(concat_ws(E'\\n',
            'econsec-audit/2',
            econsec_audit_field(prev),
            econsec_audit_field(p_at),
            econsec_audit_field(p_org_id::text),
            econsec_audit_field(p_user_id::text),
            econsec_audit_field(p_action),
            econsec_audit_field(p_record_id),
            econsec_audit_field(p_outcome),
            econsec_audit_field(p_detail)), 'UTF8')), 'hex'));
END $$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_FIELD)
        op.execute(_APPEND)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "DROP FUNCTION IF EXISTS econsec_audit_append"
            "(text, integer, integer, text, text, text, text)"
        )
        op.execute("DROP FUNCTION IF EXISTS econsec_audit_field(text)")
