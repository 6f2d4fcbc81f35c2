"""PostgreSQL next to SQLite: concurrent writers, one audit chain, the CLI by URL.

Every test of the ``exchange`` fixture already runs on both databases; these
tests cover what only shows with several writers or a server URL.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import threading
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DatabaseError
from typer.testing import CliRunner

from econsec.cli.main import app
from econsec.exchange import audit, tempdb
from econsec.exchange.access import Principal
from econsec.exchange.db import URL_VARIABLE, AuditEntry, Denial, Marking, Role, database_url
from econsec.exchange.service import DenialInput, Exchange

PROCESSES = 2
THREADS = 4
WRITES = 6  # per thread: a denial created, then read back (an audited AMBER read)


def _denial(reference: str) -> DenialInput:
    return DenialInput(
        reference=reference,
        decision_date=dt.date(2025, 3, 14),
        control_entries=("3A090.a",),
        item="Data-centre GPU accelerator boards",
        consignee="Example Trading Co., Ltd",
        end_user="Example Supercomputing Centre",
        destination="CN",
        reason="Art. 4(1)(a) catch-all",
        marking=Marking.AMBER,
    )


def _writer_process(url: str, n: int) -> int:
    """One server-like process: migrates on start, then threads write at once."""
    exchange = Exchange.connect(url, pool_size=THREADS)
    org = exchange.add_organisation(f"Authority {n}", "DE")
    user = exchange.add_user(org, f"officer {n}", Role.OFFICER)
    principal = Principal(user, org, Role.OFFICER.value, frozenset({"denials:read"}))
    start = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def burst(t: int) -> None:
        try:
            start.wait()
            for i in range(WRITES):
                created = exchange.create_denial(principal, _denial(f"P{n}-T{t}-{i}"))
                assert exchange.get_denial(principal, created["id"])["id"] == created["id"]
        except BaseException as exc:  # handed to the parent below
            errors.append(exc)

    threads = [threading.Thread(target=burst, args=(t,)) for t in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    exchange.engine.dispose()
    if errors:
        raise errors[0]
    return 2 + THREADS * WRITES * 2  # org, user, then each create and each read


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database: nothing migrated yet."""
    if request.param == "sqlite":
        yield database_url(tmp_path / "exchange.sqlite")
        return
    server: tempdb.TempPostgres = request.getfixturevalue("postgres")
    name = server.create_database("empty")
    yield server.url(name)
    server.drop_database(name)


def test_concurrent_writers_keep_one_audit_chain(empty_url: str) -> None:
    """Processes migrate and write at once; no write fails and the chain never forks."""
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(PROCESSES, mp_context=spawn) as pool:
        expected = sum(pool.map(_writer_process, [empty_url] * PROCESSES, range(PROCESSES)))
    exchange = Exchange.connect(empty_url)
    try:
        result = exchange.verify_audit()
        assert result.ok, result
        assert result.entries == expected
        with exchange._sessions() as session:
            prev = session.scalars(select(AuditEntry.prev_hash)).all()
            denials = session.scalar(select(func.count()).select_from(Denial))
        assert len(set(prev)) == len(prev) == expected  # no two entries on one parent
        assert denials == PROCESSES * THREADS * WRITES
    finally:
        exchange.engine.dispose()


def test_postgres_refuses_to_change_truncate_or_delete_the_audit_log(postgres_url: str) -> None:
    exchange = Exchange.connect(postgres_url)
    exchange.add_organisation("BAFA", "DE")
    for statement in (
        "UPDATE audit_log SET action = 'x'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
    ):
        with pytest.raises(DatabaseError, match="append-only"), exchange.engine.begin() as con:
            con.execute(text(statement))
    assert exchange.verify_audit().entries == 1
    exchange.engine.dispose()


def test_cli_opens_postgresql_by_url(
    postgres: tempdb.TempPostgres, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    url = postgres.url(postgres.create_database("cli"))
    runner = CliRunner()
    monkeypatch.setenv(URL_VARIABLE, url)
    init = runner.invoke(app, ["exchange", "init"])
    assert init.exit_code == 0, init.output
    assert f"127.0.0.1:{postgres.port}" in init.output
    assert runner.invoke(app, ["exchange", "add-org", "BAFA", "--country", "DE"]).output == "1\n"
    verified = runner.invoke(app, ["audit", "verify"])
    assert (verified.exit_code, verified.output.strip()) == (0, '{"entries": 1, "ok": true}')
    # --db names an SQLite file and wins over the environment
    local = tmp_path / "local.sqlite"
    assert runner.invoke(app, ["exchange", "init", "--db", str(local)]).exit_code == 0
    assert local.exists()
    monkeypatch.delenv(URL_VARIABLE)
    by_option = runner.invoke(app, ["exchange", "--db-url", url, "audit", "verify"])
    assert '"entries": 1' in by_option.output


def test_cli_names_a_bad_database_url(postgres: tempdb.TempPostgres) -> None:
    runner = CliRunner()
    unsupported = runner.invoke(app, ["exchange", "--db-url", "mysql://x@localhost/db", "init"])
    assert unsupported.exit_code == 1
    assert "'mysql' is not supported" in unsupported.output
    closed = tempdb.free_port()
    down = runner.invoke(
        app,
        ["exchange", "--db-url", f"postgresql://u:secret@127.0.0.1:{closed}/db", "init"],
    )
    assert down.exit_code == 1
    assert f"database postgresql://u:***@127.0.0.1:{closed}/db" in down.output
    assert "secret" not in down.output


def test_audit_appends_in_autocommit_keep_one_verifiable_chain(postgres_url: str) -> None:
    """An audited read appends in one autocommit statement (econsec_audit_append).

    The entry's hash is computed by PostgreSQL; verify recomputes it in Python,
    so awkward content (newlines, a "-" or "3:" that mimics the length-prefixed
    layout, non-Latin text, NULLs) must hash the same on both sides.
    """
    exchange = Exchange.connect(postgres_url)
    awkward: list[dict[str, Any]] = [
        {"action": "x", "outcome": "ok"},
        {"action": "-", "outcome": "3:abc", "detail": {"text": "a\nb\n-\n7:", "n": 1}},
        {
            "action": "denial.read",
            "outcome": "ok",
            "org_id": 7,
            "user_id": 0,
            "record_id": "Ω-ü-中文-😀",
            "detail": {"q": "\\\"'"},
        },
    ]
    with exchange._read() as session:
        for entry in awkward:
            audit.append(session, **entry)
    exchange.add_organisation("BAFA", "DE")
    result = exchange.verify_audit()
    assert (result.ok, result.entries) == (True, 4), result
    with exchange._read() as session:
        entries = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    prev = audit.GENESIS
    for stored in entries:  # PostgreSQL's hashes are rule 2's, computed in Python
        assert stored.hash == audit.entry_hash_v2(audit._fields(stored), prev)
        prev = stored.hash
    exchange.engine.dispose()
