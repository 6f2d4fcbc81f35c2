"""Shared fixtures: the real data folder and isolated workspaces.

Tests read real data from ``../shared/data``. Where that folder is missing a
test is skipped, except under CI (``CI=true``), where a missing data file is a
failure: CI must never pass by skipping the tests that matter.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

# Command output is checked as text. Rich sizes it to the terminal, which
# differs between machines (and a CI runner's longer paths wrap sooner), so the
# tests fix one width before any console is created.
os.environ["COLUMNS"] = "160"

import pytest
from hypothesis import settings
from sqlalchemy import Connection, text

from econsec.exchange import tempdb
from econsec.exchange.db import make_engine, migrate
from econsec.exchange.service import Exchange
from econsec.lists.load import default_targets, load
from econsec.screening.screen import Screener
from econsec.settings import data_dir
from econsec.store.workspace import Workspace

TESTS_DATA = Path(__file__).parent / "data"

# Under CI every property test draws the same examples on every run, so a
# submission passes or fails on its code, not on the draw. Locally the draws
# vary (and failures are replayed from .hypothesis/), which is where new
# counterexamples are found.
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI", "").lower() == "true":
    settings.load_profile("ci")


def shared_file(relative: str) -> Path:
    """A file under the shared data folder, or skip/fail when it is missing."""
    folder = data_dir()
    path = folder / relative if folder is not None else None
    if path is None or not path.exists():
        message = f"shared data file missing: ../shared/data/{relative}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture
def workspace_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty workspace folder, used through ECONSEC_HOME like a user would."""
    home = tmp_path / "workspace"
    monkeypatch.setenv("ECONSEC_HOME", str(home))
    return home


def _require_data_dir() -> Path:
    folder = data_dir()
    if folder is None or not (folder / "lists").is_dir():
        message = "shared data folder missing: ../shared/data/lists"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return folder


@pytest.fixture(scope="session")
def loaded_workspace(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """A workspace holding every list in ../shared/data/lists, loaded once per session.

    Read-only for tests: a test that changes a workspace makes its own.
    """
    folder = _require_data_dir()
    workspace = Workspace(tmp_path_factory.mktemp("loaded") / "workspace")
    for target in default_targets(folder):
        load(target, workspace)
    return workspace


@pytest.fixture(scope="session")
def screener(loaded_workspace: Workspace) -> Screener:
    """A screener over every real list (built once: it takes several seconds)."""
    return Screener.from_workspace(loaded_workspace)


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    """A fresh, empty workspace in a temporary folder (not through ECONSEC_HOME)."""
    return Workspace(tmp_path / "ws")


def table_rows(workspace: Workspace) -> tuple[int, int]:
    """Rows in the versions and parties tables, active or not."""
    with workspace.connect(read_only=True) as con:
        versions = con.execute("SELECT count(*) FROM list_versions").fetchone()
        parties = con.execute("SELECT count(*) FROM parties").fetchone()
    assert versions is not None
    assert parties is not None
    return versions[0], parties[0]


@pytest.fixture(scope="session")
def postgres() -> Iterator[tempdb.TempPostgres]:
    """A real PostgreSQL server for the session (initdb on a temporary directory).

    Skipped when the server binaries are missing, except under CI, where that is
    a failure (scripts/ensure-system-deps installs Debian's postgresql package).
    """
    try:
        server = tempdb.start()
    except tempdb.PostgresUnavailableError as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"PostgreSQL tests cannot run: {exc}")
        pytest.skip(f"PostgreSQL tests skipped: {exc}")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_template(postgres: tempdb.TempPostgres) -> str:
    """A database migrated to head once; each test's database is a copy of it."""
    name = postgres.create_database("econsec_template")
    engine = make_engine(postgres.url(name))
    migrate(engine)
    engine.dispose()
    return name


@pytest.fixture
def postgres_url(postgres: tempdb.TempPostgres, postgres_template: str) -> Iterator[str]:
    """The URL of a fresh, migrated PostgreSQL database, dropped after the test."""
    name = postgres.create_database(template=postgres_template)
    yield postgres.url(name)
    postgres.drop_database(name)


@pytest.fixture(params=["sqlite", "postgresql"])
def exchange(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Exchange]:
    """A fresh exchange database per test, on SQLite (WAL) and on PostgreSQL."""
    if request.param == "sqlite":
        opened = Exchange.open(tmp_path / "exchange.sqlite")
    else:
        opened = Exchange.connect(request.getfixturevalue("postgres_url"))
    yield opened
    opened.engine.dispose()


def drop_audit_trigger(connection: Connection, verb: str) -> None:
    """Remove the append-only trigger for ``verb`` (tests that play the tamperer)."""
    on = " ON audit_log" if connection.dialect.name == "postgresql" else ""
    connection.execute(text(f"DROP TRIGGER audit_log_no_{verb.lower()}{on}"))
