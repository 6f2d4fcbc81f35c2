"""Shared fixtures: the real data folder and isolated workspaces.

Tests read real data from ``../shared/data``. Where that folder is missing a
test is skipped, except under CI (``CI=true``), where a missing data file is a
failure: CI must never pass by skipping the tests that matter.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from econsec.settings import data_dir

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
