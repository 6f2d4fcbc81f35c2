"""Helpers for the batch tests: a writable copy of the loaded workspace, input files."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from conftest import shared_file
from econsec.store.workspace import DB_NAME, Workspace


@pytest.fixture
def batch_workspace(loaded_workspace: Workspace, tmp_path: Path) -> Workspace:
    """A copy of the session's loaded workspace that a test may write runs into."""
    home = tmp_path / "ws"
    home.mkdir()
    shutil.copy(loaded_workspace.db_path, home / DB_NAME)
    return Workspace(home)


def yente_sample(tmp_path: Path, positives: int, negatives: int) -> Path:
    """A counterparty file from the real matching sets: UN names that must hit and
    synthetic people that must not, with their dates of birth and nationalities."""
    rows: list[dict[str, str]] = []
    for name, count in (
        ("yente_positives_un_untreated.csv", positives),
        ("yente_negatives_global.csv", negatives),
    ):
        with shared_file(f"matching/{name}").open(encoding="utf-8", newline="") as fh:
            for i, row in enumerate(csv.DictReader(fh)):
                if i >= count:
                    break
                rows.append(row)
    path = tmp_path / "counterparties.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path
