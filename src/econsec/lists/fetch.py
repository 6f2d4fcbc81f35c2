"""Download the official files of the known sources (``econsec lists fetch``).

For a machine without the shared data folder. Each source's files
(:attr:`Source.remote`) are downloaded into ``<workspace>/downloads/lists/``,
named after the source's file pattern with the download date in place of
the ``*``, so that ``<workspace>/downloads`` is a data folder like the shared
one and the same :func:`econsec.lists.load.load` path reads it:

* a single-file source becomes one file: ``us_csl_2026-07-31.csv``,
  ``un_consolidated_2026-07-31.xml`` …;
* a multi-file source becomes a folder holding its files under their official
  names: ``ofac_sdn_2026-07-31/sdn.csv`` …

Downloads are staged in a hidden folder beside the target, checked (non-empty,
recognised by the source's format) and only then renamed into place: a failed
download leaves no partial file, and the previously downloaded edition, and the
workspace's active version, stay as they were. A second fetch on the same day
replaces that day's file.

The HTTP client is passed in (``make_client()`` builds the default one), so
tests replay recorded files through ``httpx.MockTransport``. Each request sets
its own User-Agent, timeout and redirect policy, whatever client it is given.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import httpx

from econsec import __version__
from econsec.lists.load import Target
from econsec.lists.registry import SOURCES, Source

USER_AGENT = f"econsec/{__version__} (restricted-party list download)"
#: Connecting may take a while; the big files (the CSL, the SDN set) stream for minutes.
TIMEOUT = httpx.Timeout(30.0, read=120.0)
_CHUNK = 1 << 16


class FetchError(Exception):
    """A download failed; the message names the URL and the HTTP status or error."""


@dataclass(frozen=True, slots=True)
class Fetched:
    """One downloaded edition, ready to load."""

    source: Source
    target: Target
    files: tuple[Path, ...]
    size: int


def make_client() -> httpx.Client:
    """The default HTTP client (use as a context manager)."""
    return httpx.Client(headers={"User-Agent": USER_AGENT}, timeout=TIMEOUT, follow_redirects=True)


def downloads_dir(home: Path) -> Path:
    """The data folder downloads go to: ``<workspace>/downloads`` (files in ``lists/``)."""
    return home / "downloads"


def downloaded_data_dir(home: Path) -> Path | None:
    """``<workspace>/downloads`` if something was fetched into it, else None."""
    folder = downloads_dir(home)
    return folder if (folder / "lists").is_dir() else None


def edition_name(source: Source, day: date) -> str:
    """``us_csl_*.csv`` → ``us_csl_2026-07-31.csv``; ``ofac_sdn_*`` → ``ofac_sdn_2026-07-31``.

    ``name*.json`` gives ``name_2026-07-31.json``; a pattern without ``*``
    is used as it is (each download replaces the previous one).
    """
    head, star, tail = source.pattern.partition("*")
    if not star:
        return source.pattern
    sep = "_" if head[-1:].isalnum() else ""
    return f"{head}{sep}{day.isoformat()}{tail}"


def fetchable_sources(ids: Iterable[str] | None = None) -> list[Source]:
    """The sources named (all that have download addresses when none are)."""
    if not ids:
        return [s for s in SOURCES.values() if s.remote]
    out: list[Source] = []
    for source_id in ids:
        source = SOURCES.get(source_id)
        if source is None:
            known = ", ".join(s.id for s in SOURCES.values() if s.remote)
            raise FetchError(f"unknown source {source_id!r}; known sources: {known}")
        if not source.remote:
            raise FetchError(f"source {source_id!r} has no download address")
        out.append(source)
    return out


def fetch(
    ids: Iterable[str] | None, client: httpx.Client, home: Path, day: date | None = None
) -> list[Fetched]:
    """Download the named sources (all known ones by default); stops at the first failure."""
    return [fetch_source(s, client, home, day) for s in fetchable_sources(ids)]


def fetch_source(
    source: Source, client: httpx.Client, home: Path, day: date | None = None
) -> Fetched:
    """Download one source's files into ``<home>/downloads/lists/`` (see module docs)."""
    if not source.remote:
        raise FetchError(f"source {source.id!r} has no download address")
    day = day or datetime.now(UTC).date()
    folder = downloads_dir(home) / "lists"
    folder.mkdir(parents=True, exist_ok=True)
    name = edition_name(source, day)
    final = folder / name
    staging = Path(tempfile.mkdtemp(prefix=f".fetch-{source.id}-", dir=folder))
    try:
        staged = staging / name
        single = len(source.remote) == 1
        if single:
            size = _download(client, source.remote[0].url, staged)
            names: tuple[str, ...] = ()
        else:
            staged.mkdir()
            size = sum(_download(client, r.url, staged / r.name) for r in source.remote)
            names = tuple(r.name for r in source.remote)
        if not source.format.sniff(staged):
            urls = ", ".join(r.url for r in source.remote)
            raise FetchError(
                f"{source.id}: the download from {urls} is not in the expected "
                f"{source.format.id!r} format (an error page?); nothing was saved"
            )
        _move_into_place(staged, final, staging)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    files = (final,) if single else tuple(final / n for n in names)
    return Fetched(
        source=source,
        target=Target(path=final, format=source.format, source=source),
        files=files,
        size=size,
    )


def _download(client: httpx.Client, url: str, dest: Path) -> int:
    """Stream ``url`` into ``dest``; the number of bytes. Raises FetchError."""
    size = 0
    try:
        with client.stream(
            "GET",
            url,
            headers={"User-Agent": USER_AGENT},
            timeout=TIMEOUT,
            follow_redirects=True,
        ) as response:
            if not response.is_success:
                raise FetchError(
                    f"GET {url} failed: HTTP {response.status_code} {response.reason_phrase}"
                    + (f" (at {response.url})" if str(response.url) != url else "")
                )
            with dest.open("wb") as fh:
                for chunk in response.iter_bytes(_CHUNK):
                    fh.write(chunk)
                    size += len(chunk)
    except httpx.HTTPError as exc:
        raise FetchError(f"GET {url} failed: {type(exc).__name__}: {exc}") from None
    if size == 0:
        raise FetchError(f"GET {url} failed: empty response")
    return size


def _move_into_place(staged: Path, final: Path, staging: Path) -> None:
    """Rename a staged file or folder over ``final`` (same file system)."""
    if not (staged.is_dir() or final.is_dir()):
        staged.replace(final)
        return
    # A folder cannot be renamed over an existing one: move the old edition
    # into the staging folder (removed afterwards), then rename; put it back
    # if the rename fails.
    previous = staging / ".previous"
    if final.exists():
        final.rename(previous)
    try:
        staged.rename(final)
    except OSError:
        if previous.exists():
            previous.rename(final)
        raise
