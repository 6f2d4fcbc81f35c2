"""Where econsec keeps its workspace and finds its data.

* ``ECONSEC_HOME``: the workspace folder (default ``./.econsec``), holding the
  embedded DuckDB database and downloads.
* ``ECONSEC_DATA``: the folder of real source data (default ``../shared/data``
  next to the current directory or next to the repository checkout).
"""

from __future__ import annotations

import os
from pathlib import Path

_REPO_ROOT = Path(__file__).resolve().parents[2]


def home_dir() -> Path:
    return Path(os.environ.get("ECONSEC_HOME") or ".econsec")


def data_dir() -> Path | None:
    """The shared data folder, or None on a machine that does not have one."""
    env = os.environ.get("ECONSEC_DATA")
    if env:
        return Path(env)
    for candidate in (Path.cwd() / ".." / "shared" / "data", _REPO_ROOT / ".." / "shared" / "data"):
        if candidate.is_dir():
            return candidate.resolve()
    return None
