"""The migration, the SQLite settings, the append-only log and the dated review rule."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.exc import DatabaseError

from econsec.exchange.db import MIGRATIONS
from econsec.exchange.rules import add_years, expiry, review_rules
from econsec.exchange.service import Exchange
from econsec.rules.dated import DatedError


def _head() -> str:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head


def test_migration_creates_the_schema_and_is_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "x.sqlite"
    first = Exchange.open(path)
    tables = set(inspect(first.engine).get_table_names())
    assert {
        "organisations",
        "users",
        "api_tokens",
        "sharing_groups",
        "group_members",
        "denials",
        "record_recipients",
        "record_exclusions",
        "audit_log",
        "alembic_version",
    } <= tables
    again = Exchange.open(path)  # upgrading an up-to-date database changes nothing
    with again.engine.connect() as con:
        assert con.execute(text("SELECT version_num FROM alembic_version")).scalar() == _head()
        assert con.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert con.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_audit_log_refuses_update_and_delete(exchange: Exchange) -> None:
    exchange.add_organisation("Bundesamt für Wirtschaft und Ausfuhrkontrolle", "DE")
    for statement in ("UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log"):
        with pytest.raises(DatabaseError, match="append-only"), exchange.engine.begin() as con:
            con.execute(text(statement))
    assert exchange.verify_audit().ok


def test_marking_and_role_constraints_hold_in_the_database(exchange: Exchange) -> None:
    org = exchange.add_organisation("BIS", "US")
    with pytest.raises(DatabaseError, match="ck_role"), exchange.engine.begin() as con:
        con.execute(
            text("INSERT INTO users (org_id, name, role) VALUES (:o, 'x', 'boss')"), {"o": org}
        )


def test_review_rule_comes_from_dated_data() -> None:
    (rule,) = review_rules()
    assert rule.years == 3
    assert "2021/821" in rule.period.citation
    until, why = expiry(dt.date(2024, 2, 29))
    assert until == dt.date(2027, 2, 28)
    assert "3 years" in why
    assert "Art. 16" in why
    assert add_years(dt.date(2025, 6, 30), 3) == dt.date(2028, 6, 30)


def test_review_rule_file_errors_name_file_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "rules.yaml"
    bad.write_text(
        "denial_review:\n  - effective_from: 2021-09-09\n    status: in_force\n"
        "    years: three\n    citation: x\n",
        encoding="utf-8",
    )
    with pytest.raises(DatedError, match=r"rules\.yaml, denial_review\[0\], field 'years'"):
        review_rules(bad)
    bad.write_text(
        "denial_review:\n  - effective_from: 2021-09-09\n    status: in_force\n    years: 3\n",
        encoding="utf-8",
    )
    with pytest.raises(DatedError, match="field 'citation'"):
        review_rules(bad)
