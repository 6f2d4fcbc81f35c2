"""Shared fixtures: the real data folder and isolated workspaces.

Tests read real data from ``../shared/data``. Where that folder is missing a
test is skipped, except under CI (``CI=true``), where a missing data file is a
failure: CI must never pass by skipping the tests that matter.
"""

from __future__ import annotations

import os
from pathlib import Path

# Command output is checked as text. Rich sizes it to the terminal, which
# differs between machines (and a CI runner's longer paths wrap sooner), so the
# tests fix one width before any console is created.
os.environ["COLUMNS"] = "160"

import pytest

from econsec.exchange.service import Exchange
from econsec.lists.load import default_targets, load
from econsec.screening.screen import Screener
from econsec.settings import data_dir
from econsec.store.workspace import Workspace

TESTS_DATA = Path(__file__).parent / "data"


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


@pytest.fixture
def exchange(tmp_path: Path) -> Exchange:
    """A fresh exchange database (Alembic-migrated SQLite, WAL) per test."""
    return Exchange.open(tmp_path / "exchange.sqlite")
