"""Load list editions into the workspace, one version per source.

Loading is idempotent: the edition is identified by the SHA-256 of its file
bytes, so reloading an unchanged file does nothing, and reloading an edition
that was loaded before makes it active again without parsing it. Parsing
happens completely before anything is written; a file that fails to parse
leaves the previously active version in place.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

from econsec.lists._common import LoadError, ParsedList, date_from_filename
from econsec.lists.registry import SOURCES, Format, Source, detect_format, find_in_data_dir
from econsec.model import ListVersion
from econsec.store.workspace import Workspace


class LoadStatus(StrEnum):
    LOADED = "loaded"
    UNCHANGED = "unchanged"
    REACTIVATED = "reactivated"


@dataclass(frozen=True, slots=True)
class LoadResult:
    version: ListVersion
    status: LoadStatus
    #: Records read but left out, each with its reason.
    skipped: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Target:
    """A resolved load target: which files, read by which format, as which source."""

    path: Path
    format: Format
    source: Source | None


def resolve(target: str, data_dir: Path | None) -> Target:
    """A source id (looked up in the data folder) or a path to a file or folder."""
    if target in SOURCES:
        source = SOURCES[target]
        if data_dir is None:
            raise LoadError(
                target,
                None,
                None,
                "no data folder (set ECONSEC_DATA, or run `econsec lists fetch` first)",
            )
        path = find_in_data_dir(source, data_dir / "lists")
        if path is None:
            raise LoadError(data_dir / "lists", None, None, f"no file matching {source.pattern!r}")
        return Target(path=path, format=source.format, source=source)
    path = Path(target)
    return Target(path=path, format=detect_format(path), source=None)


def default_targets(data_dir: Path) -> list[Target]:
    """Every known source that has an edition in the data folder."""
    out = []
    for source in SOURCES.values():
        path = find_in_data_dir(source, data_dir / "lists")
        if path is not None:
            out.append(Target(path=path, format=source.format, source=source))
    return out


def content_hash(files: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in sorted(files, key=lambda p: p.name):
        digest.update(path.name.encode() + b"\0")
        with path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


def load(target: Target, workspace: Workspace) -> LoadResult:
    files = target.format.files(target.path)
    digest = content_hash(files)
    known = {v.content_hash: v for v in workspace.versions()}
    previous = known.get(digest)
    if previous is not None and (target.source is None or previous.source == target.source.id):
        if previous.active:
            return LoadResult(previous, LoadStatus.UNCHANGED)
        workspace.activate(previous.source, previous.version_id)
        return LoadResult(replace(previous, active=True), LoadStatus.REACTIVATED)
    parsed = target.format.parse(target.path)
    if not parsed.parties:
        # An empty edition (a header-only or cut-off download) must not replace
        # the active version of the list.
        raise LoadError(target.path, None, None, "no entries found; nothing was loaded")
    _check_unique(parsed)
    sources = {p.source for p in parsed.parties}
    if target.source is not None:
        source_id = target.source.id
        stray = sources - {source_id}
        if stray:
            raise LoadError(
                target.path,
                None,
                None,
                f"expected entries of source {source_id!r}, found {sorted(stray)}",
            )
    elif len(sources) == 1:
        source_id = sources.pop()
    else:
        raise LoadError(
            target.path, None, None, f"one file must hold one source, found {sorted(sources)}"
        )
    label = target.source.label if target.source else _label(source_id)
    version = ListVersion(
        version_id=f"{source_id}@{digest[:12]}",
        source=source_id,
        label=label,
        published=parsed.published or date_from_filename(target.path),
        content_hash=digest,
        entry_count=len(parsed.parties),
        loaded_at=datetime.now(UTC).isoformat(timespec="seconds"),
        origin=str(target.path.absolute()),
        parser=target.format.parser,
        active=True,
    )
    workspace.store_version(version, parsed.parties)
    return LoadResult(version, LoadStatus.LOADED, parsed.skipped)


def _check_unique(parsed: ParsedList) -> None:
    """Two entries with one id would make a list version that cannot be stored."""
    seen: dict[str, str] = {}
    for party in parsed.parties:
        first = seen.get(party.entity_id)
        if first is not None:
            raise LoadError(
                party.source_ref.file,
                party.source_ref.record,
                "entry id",
                f"duplicate entry id {party.list_entry_id!r}, already used by {first}",
            )
        seen[party.entity_id] = party.source_ref.record


def _label(source_id: str) -> str:
    known = SOURCES.get(source_id)
    return known.label if known else source_id
