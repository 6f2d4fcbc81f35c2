"""Ownership graphs in the workspace, versioned like lists.

Each loaded file is an :class:`~econsec.model.ownership.OwnershipVersion` of
a *source* (a name, by default derived from the file name). Storing a version
inserts its entities, holdings, accepted warnings and name links and makes it
the active version of its source, in one transaction: readers see the old
graph or the new one, never half of it. Reloading a file whose content is
already stored reactivates that version and writes nothing else. The active
graph is the union of the active versions of every source.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import duckdb
import pyarrow as pa

from econsec.model.ownership import (
    Holding,
    LoadWarning,
    NameLink,
    OwnershipEntity,
    OwnershipGraph,
    OwnershipVersion,
)
from econsec.model.party import SourceRef
from econsec.store.workspace import Workspace, WorkspaceError

_COLUMNS = (
    "version_id, source, content_hash, format, entity_count, holding_count, warning_count, "
    "loaded_at, origin, parser, active"
)


@dataclass(frozen=True, slots=True)
class StoredGraph:
    """The active ownership graph: every active version, merged."""

    versions: tuple[OwnershipVersion, ...]
    entities: tuple[OwnershipEntity, ...]
    holdings: tuple[Holding, ...]
    links: tuple[NameLink, ...]

    @property
    def key(self) -> str:
        """Identifies the graph's content (for memoising computations on it)."""
        return ",".join(sorted(v.version_id for v in self.versions))


def _version(row: tuple[object, ...]) -> OwnershipVersion:
    return OwnershipVersion(
        version_id=str(row[0]),
        source=str(row[1]),
        content_hash=str(row[2]),
        format=str(row[3]),
        entity_count=int(str(row[4])),
        holding_count=int(str(row[5])),
        warning_count=int(str(row[6])),
        loaded_at=str(row[7]),
        origin=str(row[8]),
        parser=str(row[9]),
        active=bool(row[10]),
    )


def versions(workspace: Workspace, active_only: bool = False) -> list[OwnershipVersion]:
    if not workspace.exists():
        return []
    with workspace.connect(read_only=True) as con:
        if not _has_tables(con):
            return []
        sql = f"SELECT {_COLUMNS} FROM ownership_versions"
        if active_only:
            sql += " WHERE active"
        rows = con.execute(sql + " ORDER BY source, loaded_at").fetchall()
    return [_version(r) for r in rows]


def _has_tables(con: duckdb.DuckDBPyConnection) -> bool:
    row = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'ownership_versions'"
    ).fetchone()
    return bool(row and row[0])


def content_hash(data: bytes, extra: str = "") -> str:
    digest = hashlib.sha256(data)
    digest.update(extra.encode())
    return digest.hexdigest()


def store_graph(
    workspace: Workspace,
    source: str,
    graph: OwnershipGraph,
    *,
    digest: str,
    fmt: str,
    parser: str,
    origin: str,
    links: Sequence[NameLink] = (),
) -> tuple[OwnershipVersion, bool]:
    """Store a parsed graph as the active version of ``source``.

    Returns the version and whether anything new was written (False when the
    same content was already stored: it is made active again)."""
    version_id = f"{source}@{digest[:12]}"
    with workspace.connect() as con:
        con.execute("BEGIN TRANSACTION")
        try:
            row = con.execute(
                f"SELECT {_COLUMNS} FROM ownership_versions WHERE version_id = ?", [version_id]
            ).fetchone()
            if row is not None:
                _activate(con, source, version_id)
                con.execute("COMMIT")
                return _version((*row[:-1], True)), False
            version = OwnershipVersion(
                version_id=version_id,
                source=source,
                content_hash=digest,
                format=fmt,
                entity_count=len(graph.entities),
                holding_count=len(graph.holdings),
                warning_count=len(graph.warnings),
                loaded_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                origin=origin,
                parser=parser,
                active=True,
            )
            _insert(con, version, graph, links)
            _activate(con, source, version_id)
            con.execute("COMMIT")
        except BaseException as exc:
            con.execute("ROLLBACK")
            if isinstance(exc, duckdb.Error):
                raise WorkspaceError(
                    f"cannot store ownership graph {version_id} in {workspace.db_path}: {exc}; "
                    "nothing was written"
                ) from exc
            raise
    return version, True


def _activate(con: duckdb.DuckDBPyConnection, source: str, version_id: str) -> None:
    con.execute(
        "UPDATE ownership_versions SET active = (version_id = ?) WHERE source = ?",
        [version_id, source],
    )


def _insert(
    con: duckdb.DuckDBPyConnection,
    version: OwnershipVersion,
    graph: OwnershipGraph,
    links: Sequence[NameLink],
) -> None:
    vid = version.version_id
    ents = graph.entities
    entities = pa.table(
        {
            "version_id": pa.array([vid] * len(ents), pa.string()),
            "entity_id": pa.array([e.entity_id for e in ents], pa.string()),
            "name": pa.array([e.name for e in ents], pa.string()),
            "schema": pa.array([e.schema for e in ents], pa.string()),
            "countries": pa.array([list(e.countries) for e in ents], pa.list_(pa.string())),
            "list_refs": pa.array([list(e.list_refs) for e in ents], pa.list_(pa.string())),
            "file": pa.array([e.source_ref.file if e.source_ref else None for e in ents]),
            "record": pa.array([e.source_ref.record if e.source_ref else None for e in ents]),
        }
    )
    hs = graph.holdings
    holdings = pa.table(
        {
            "version_id": pa.array([vid] * len(hs), pa.string()),
            "seq": pa.array(range(len(hs)), pa.int64()),
            "owner_id": pa.array([h.owner_id for h in hs], pa.string()),
            "owned_id": pa.array([h.owned_id for h in hs], pa.string()),
            "percent": pa.array([h.percent for h in hs], pa.float64()),
            "share_class": pa.array([h.share_class for h in hs], pa.string()),
            "voting": pa.array([h.voting for h in hs], pa.bool_()),
            "valid_from": pa.array([h.valid_from for h in hs], pa.date32()),
            "valid_to": pa.array([h.valid_to for h in hs], pa.date32()),
            "source": pa.array([h.source for h in hs], pa.string()),
            "file": pa.array([h.source_ref.file if h.source_ref else None for h in hs]),
            "record": pa.array([h.source_ref.record if h.source_ref else None for h in hs]),
        }
    )
    ws = graph.warnings
    warnings = pa.table(
        {
            "version_id": pa.array([vid] * len(ws), pa.string()),
            "seq": pa.array(range(len(ws)), pa.int64()),
            "file": pa.array([w.file for w in ws], pa.string()),
            "record": pa.array([w.record for w in ws], pa.string()),
            "field": pa.array([w.field for w in ws], pa.string()),
            "message": pa.array([w.message for w in ws], pa.string()),
        }
    )
    link_table = pa.table(
        {
            "version_id": pa.array([vid] * len(links), pa.string()),
            "entity_id": pa.array([x.entity_id for x in links], pa.string()),
            "party_id": pa.array([x.party_id for x in links], pa.string()),
            "method": pa.array(["name"] * len(links), pa.string()),
            "score": pa.array([x.score for x in links], pa.float64()),
            "evidence": pa.array([x.evidence for x in links], pa.string()),
        }
    )
    for table_name, table in (
        ("ownership_entities", entities),
        ("ownership_holdings", holdings),
        ("ownership_warnings", warnings),
        ("ownership_links", link_table),
    ):
        con.register("incoming_ownership", table)
        con.execute(f"INSERT INTO {table_name} SELECT * FROM incoming_ownership")
        con.unregister("incoming_ownership")
    con.execute(
        f"INSERT INTO ownership_versions ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, FALSE)",
        [
            vid,
            version.source,
            version.content_hash,
            version.format,
            version.entity_count,
            version.holding_count,
            version.warning_count,
            version.loaded_at,
            version.origin,
            version.parser,
        ],
    )


def _ref(file: object, record: object) -> SourceRef | None:
    return SourceRef(str(file), str(record or "")) if file is not None else None


def active_graph(workspace: Workspace) -> StoredGraph | None:
    """The active graph (every source's active version merged), or None if none is loaded."""
    if not workspace.exists():
        return None
    with workspace.connect(read_only=True) as con:
        if not _has_tables(con):
            return None
        vers = [
            _version(r)
            for r in con.execute(
                f"SELECT {_COLUMNS} FROM ownership_versions WHERE active ORDER BY source"
            ).fetchall()
        ]
        if not vers:
            return None
        ids = [v.version_id for v in vers]
        marks = ", ".join("?" for _ in ids)
        entity_rows = con.execute(
            "SELECT entity_id, name, schema, countries, list_refs, file, record "
            f"FROM ownership_entities WHERE version_id IN ({marks}) ORDER BY version_id, entity_id",
            ids,
        ).fetchall()
        holding_rows = con.execute(
            "SELECT owner_id, owned_id, percent, share_class, voting, valid_from, valid_to, "
            f"source, file, record FROM ownership_holdings WHERE version_id IN ({marks}) "
            "ORDER BY version_id, seq",
            ids,
        ).fetchall()
        link_rows = con.execute(
            "SELECT entity_id, party_id, score, evidence FROM ownership_links "
            f"WHERE version_id IN ({marks}) ORDER BY version_id, entity_id, party_id",
            ids,
        ).fetchall()
    merged: dict[str, OwnershipEntity] = {}
    for r in entity_rows:
        entity = OwnershipEntity(
            entity_id=r[0],
            name=r[1],
            schema=r[2],
            countries=tuple(r[3]),
            list_refs=tuple(r[4]),
            source_ref=_ref(r[5], r[6]),
        )
        previous = merged.get(entity.entity_id)
        if previous is not None:  # the same id in two sources: one node
            entity = OwnershipEntity(
                entity_id=previous.entity_id,
                name=previous.name,
                schema=previous.schema,
                countries=tuple(dict.fromkeys(previous.countries + entity.countries)),
                list_refs=tuple(dict.fromkeys(previous.list_refs + entity.list_refs)),
                source_ref=previous.source_ref,
            )
        merged[entity.entity_id] = entity
    holdings = tuple(
        Holding(
            owner_id=r[0],
            owned_id=r[1],
            percent=r[2],
            share_class=r[3],
            voting=r[4],
            valid_from=r[5],
            valid_to=r[6],
            source=r[7],
            source_ref=_ref(r[8], r[9]),
        )
        for r in holding_rows
    )
    links = tuple(NameLink(r[0], r[1], r[2], r[3]) for r in link_rows)
    return StoredGraph(tuple(vers), tuple(merged.values()), holdings, links)


def warnings(workspace: Workspace, version_id: str) -> list[LoadWarning]:
    with workspace.connect(read_only=True) as con:
        rows = con.execute(
            "SELECT file, record, field, message FROM ownership_warnings "
            "WHERE version_id = ? ORDER BY seq",
            [version_id],
        ).fetchall()
    return [LoadWarning(r[0], r[1], r[2], r[3]) for r in rows]
