"""A built screener kept in the workspace, so that a CLI call or a server start
does not analyse 88,000 names again.

Building the screener over every list takes 15–20 s; reading it back takes a
few. The cache file is named by a key over everything its content depends on:
the active list versions (ids and content hashes), the matching algorithm and
the source of the modules that prepare and index names, and the versions of
the libraries that analyse them. Any change gives a new key, and the old file
is removed when the new one is written. A cache that cannot be read is
rebuilt, never trusted.

The file is a Python pickle: it is only ever read from the workspace folder
this process writes to (the same trust as the workspace database itself).
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import tempfile
from collections.abc import Sequence
from importlib import metadata, resources
from pathlib import Path

from econsec.model import ListVersion
from econsec.screening import index, names, screen
from econsec.screening.algorithms import name_v1
from econsec.screening.screen import Screener
from econsec.store.workspace import Workspace

log = logging.getLogger(__name__)

#: Bump when the pickled layout of Screener changes in a way the source hash
#: below would not reveal.
CACHE_FORMAT = 1
_LIBRARIES = ("rigour", "normality", "pyicu", "pykakasi", "pythainlp", "numpy")
_PREFIX = "screener-"


def cache_key(versions: Sequence[ListVersion]) -> str:
    digest = hashlib.sha256()
    digest.update(f"format {CACHE_FORMAT}; {screen.ALGORITHM}\n".encode())
    for version in sorted(versions, key=lambda v: v.version_id):
        digest.update(f"{version.version_id} {version.content_hash}\n".encode())
    for module in (names, index, name_v1, screen):
        if module.__file__:
            digest.update(Path(module.__file__).read_bytes())
    words = resources.files("econsec.screening").joinpath("data/name_words.yaml")
    digest.update(words.read_bytes())
    for library in _LIBRARIES:
        try:
            digest.update(f"{library} {metadata.version(library)}\n".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{library} -\n".encode())
    return digest.hexdigest()


def cache_path(workspace: Workspace, versions: Sequence[ListVersion]) -> Path:
    return workspace.home / "cache" / f"{_PREFIX}{cache_key(versions)[:24]}.pickle"


def cached_screener(workspace: Workspace) -> Screener:
    """The screener over the workspace's active lists: read from the cache when
    it is there and current, else built and cached."""
    path = cache_path(workspace, workspace.versions(active_only=True))
    if path.exists():
        try:
            with path.open("rb") as fh:
                loaded = pickle.load(fh)
            if isinstance(loaded, Screener):
                return loaded
            log.warning("ignoring %s: not a screener", path)
        except Exception as exc:  # a damaged or foreign file: rebuild
            log.warning("ignoring unreadable screener cache %s: %s", path, exc)
    screener = Screener.from_workspace(workspace)
    # The lists may have changed while it was built: name it by what it holds.
    try:
        save(screener, cache_path(workspace, screener.versions))
    except OSError as exc:  # a read-only workspace still screens
        log.warning("could not cache the screener in %s: %s", workspace.home, exc)
    return screener


def save(screener: Screener, path: Path) -> None:
    """Write atomically (a reader sees the old file or the whole new one), then
    remove the files of older keys."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            pickle.dump(screener, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    for old in path.parent.glob(f"{_PREFIX}*.pickle"):
        if old != path:
            old.unlink(missing_ok=True)
