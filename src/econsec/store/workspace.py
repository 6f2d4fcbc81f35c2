"""The embedded workspace: a folder holding one DuckDB database.

List versions are written in one transaction each: the parties of the new
version are inserted, the version row is added and the previous version of the
same source is deactivated, then the transaction commits. A reader therefore
sees either the old version or the new one, never a half-loaded list. Older
versions are kept (inactive) so results can be reproduced and lists compared.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pyarrow as pa
from pydantic import TypeAdapter

from econsec.model import ListVersion, Party
from econsec.settings import home_dir

DB_NAME = "econsec.duckdb"
SCHEMA_VERSION = 1

_PARTY = TypeAdapter(Party)

_DDL = (
    """
    CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)
    """,
    """
    CREATE TABLE IF NOT EXISTS list_versions (
        version_id VARCHAR PRIMARY KEY,
        source VARCHAR NOT NULL,
        label VARCHAR NOT NULL,
        published VARCHAR,
        content_hash VARCHAR NOT NULL,
        entry_count INTEGER NOT NULL,
        loaded_at VARCHAR NOT NULL,
        origin VARCHAR NOT NULL,
        parser VARCHAR NOT NULL,
        active BOOLEAN NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS parties (
        version_id VARCHAR NOT NULL,
        entity_id VARCHAR NOT NULL,
        list VARCHAR NOT NULL,
        schema VARCHAR NOT NULL,
        name VARCHAR NOT NULL,
        data JSON NOT NULL,
        PRIMARY KEY (version_id, entity_id)
    )
    """,
    # Screening runs (econsec.store.runs).
    """
    CREATE TABLE IF NOT EXISTS screening_runs (
        run_id VARCHAR PRIMARY KEY,
        started_at VARCHAR NOT NULL,
        finished_at VARCHAR,
        input_file VARCHAR NOT NULL,
        input_sha256 VARCHAR NOT NULL,
        row_count BIGINT NOT NULL,
        list_versions JSON NOT NULL,
        algorithm VARCHAR NOT NULL,
        threshold DOUBLE NOT NULL,
        status VARCHAR NOT NULL,
        output_file VARCHAR,
        based_on_run VARCHAR
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS screened_counterparties (
        run_id VARCHAR NOT NULL,
        seq BIGINT NOT NULL,
        reference VARCHAR NOT NULL,
        content_hash VARCHAR NOT NULL,
        name VARCHAR NOT NULL,
        schema VARCHAR,
        countries VARCHAR[] NOT NULL,
        dates_of_birth VARCHAR[] NOT NULL,
        identifiers VARCHAR[] NOT NULL,
        -- the candidate-index keys the row's name looked up (delta screening)
        index_keys VARCHAR
    )
    """,
    # Workspaces made before index keys were kept.
    "ALTER TABLE screened_counterparties ADD COLUMN IF NOT EXISTS index_keys VARCHAR",
    """
    CREATE TABLE IF NOT EXISTS screening_hits (
        run_id VARCHAR NOT NULL,
        seq BIGINT NOT NULL,
        counterparty_reference VARCHAR NOT NULL,
        counterparty_hash VARCHAR NOT NULL,
        entity_id VARCHAR NOT NULL,
        party_hash VARCHAR NOT NULL,
        kind VARCHAR NOT NULL,
        score DOUBLE NOT NULL,
        matched_name VARCHAR NOT NULL,
        list VARCHAR NOT NULL,
        list_version_id VARCHAR NOT NULL,
        explanation VARCHAR NOT NULL
    )
    """,
    # The decision log (econsec.store.decisions): append-only, hash-chained.
    """
    CREATE TABLE IF NOT EXISTS decisions (
        seq BIGINT PRIMARY KEY,
        decision_id VARCHAR NOT NULL UNIQUE,
        counterparty_reference VARCHAR NOT NULL,
        counterparty_hash VARCHAR NOT NULL,
        entity_id VARCHAR NOT NULL,
        party_hash VARCHAR NOT NULL,
        kind VARCHAR NOT NULL,
        reviewer VARCHAR NOT NULL,
        reason VARCHAR NOT NULL,
        decided_at VARCHAR NOT NULL,
        run_id VARCHAR,
        previous_hash VARCHAR NOT NULL UNIQUE,
        entry_hash VARCHAR NOT NULL
    )
    """,
    # Ownership graphs (econsec.store.ownership): versioned like lists.
    """
    CREATE TABLE IF NOT EXISTS ownership_versions (
        version_id VARCHAR PRIMARY KEY,
        source VARCHAR NOT NULL,
        content_hash VARCHAR NOT NULL,
        format VARCHAR NOT NULL,
        entity_count BIGINT NOT NULL,
        holding_count BIGINT NOT NULL,
        warning_count BIGINT NOT NULL,
        loaded_at VARCHAR NOT NULL,
        origin VARCHAR NOT NULL,
        parser VARCHAR NOT NULL,
        active BOOLEAN NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS ownership_entities (
        version_id VARCHAR NOT NULL,
        entity_id VARCHAR NOT NULL,
        name VARCHAR NOT NULL,
        schema VARCHAR NOT NULL,
        countries VARCHAR[] NOT NULL,
        list_refs VARCHAR[] NOT NULL,
        file VARCHAR,
        record VARCHAR,
        PRIMARY KEY (version_id, entity_id)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS ownership_holdings (
        version_id VARCHAR NOT NULL,
        seq BIGINT NOT NULL,
        owner_id VARCHAR NOT NULL,
        owned_id VARCHAR NOT NULL,
        percent DOUBLE,
        share_class VARCHAR,
        voting BOOLEAN,
        valid_from DATE,
        valid_to DATE,
        source VARCHAR,
        file VARCHAR,
        record VARCHAR
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS ownership_warnings (
        version_id VARCHAR NOT NULL,
        seq BIGINT NOT NULL,
        file VARCHAR NOT NULL,
        record VARCHAR NOT NULL,
        field VARCHAR,
        message VARCHAR NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS ownership_links (
        version_id VARCHAR NOT NULL,
        entity_id VARCHAR NOT NULL,
        party_id VARCHAR NOT NULL,
        method VARCHAR NOT NULL,
        score DOUBLE NOT NULL,
        evidence VARCHAR NOT NULL
    )
    """,
)

_VERSION_COLUMNS = (
    "version_id, source, label, published, content_hash, entry_count, loaded_at, "
    "origin, parser, active"
)


class WorkspaceError(Exception):
    pass


_LOCKS: dict[Path, threading.RLock] = {}
_LOCKS_GUARD = threading.Lock()


def _process_lock(path: Path) -> threading.RLock:
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(path, threading.RLock())


def party_to_json(party: Party) -> str:
    return _PARTY.dump_json(party).decode()


def party_from_json(data: str | bytes) -> Party:
    return _PARTY.validate_json(data)


class Workspace:
    """A workspace folder (``ECONSEC_HOME``) and its DuckDB database."""

    def __init__(self, home: Path | None = None) -> None:
        self.home = (home or home_dir()).absolute()
        self.db_path = self.home / DB_NAME

    def exists(self) -> bool:
        return self.db_path.exists()

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        if read_only and not self.exists():
            raise WorkspaceError(
                f"no workspace at {self.home}: run `econsec lists load` first (or set ECONSEC_HOME)"
            )
        self.home.mkdir(parents=True, exist_ok=True)
        # DuckDB refuses a read-only and a read-write connection to one file in
        # one process at the same time, so connections of one process (the API
        # server's request threads, its batch jobs) take turns; they are short.
        with _process_lock(self.db_path):
            try:
                con = duckdb.connect(str(self.db_path), read_only=read_only)
            except duckdb.IOException as exc:
                raise WorkspaceError(f"cannot open {self.db_path}: {exc}") from None
            try:
                if not read_only:
                    self._migrate(con)
                yield con
            finally:
                con.close()

    @staticmethod
    def _migrate(con: duckdb.DuckDBPyConnection) -> None:
        for ddl in _DDL:
            con.execute(ddl)
        row = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        if row is None:
            con.execute("INSERT INTO meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)])
        elif int(row[0]) > SCHEMA_VERSION:
            raise WorkspaceError(
                f"workspace schema version {row[0]} is newer than this econsec "
                f"({SCHEMA_VERSION}); upgrade econsec"
            )

    # -- list versions -----------------------------------------------------

    def versions(self, source: str | None = None, active_only: bool = False) -> list[ListVersion]:
        if not self.exists():
            return []
        with self.connect(read_only=True) as con:
            return _versions(con, source, active_only)

    def store_version(self, version: ListVersion, parties: Sequence[Party]) -> None:
        """Insert a new version and make it the active one, atomically."""
        table = pa.table(
            {
                "version_id": pa.array([version.version_id] * len(parties), pa.string()),
                "entity_id": pa.array([p.entity_id for p in parties], pa.string()),
                "list": pa.array([p.list for p in parties], pa.string()),
                "schema": pa.array([p.schema.value for p in parties], pa.string()),
                "name": pa.array([p.name for p in parties], pa.string()),
                "data": pa.array([party_to_json(p) for p in parties], pa.string()),
            }
        )
        with self.connect() as con:
            con.execute("BEGIN TRANSACTION")
            try:
                con.register("incoming_parties", table)
                con.execute("INSERT INTO parties SELECT * FROM incoming_parties")
                con.unregister("incoming_parties")
                con.execute(
                    f"INSERT INTO list_versions ({_VERSION_COLUMNS}) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, FALSE)",
                    [
                        version.version_id,
                        version.source,
                        version.label,
                        version.published,
                        version.content_hash,
                        version.entry_count,
                        version.loaded_at,
                        version.origin,
                        version.parser,
                    ],
                )
                _activate(con, version.source, version.version_id)
                con.execute("COMMIT")
            except BaseException as exc:
                con.execute("ROLLBACK")
                if isinstance(exc, duckdb.Error):
                    raise WorkspaceError(
                        f"cannot store {version.version_id} in {self.db_path}: {exc}; "
                        "nothing was written"
                    ) from exc
                raise

    def activate(self, source: str, version_id: str) -> None:
        """Make a stored version the active one for its source (a reload of old content)."""
        with self.connect() as con:
            con.execute("BEGIN TRANSACTION")
            try:
                found = con.execute(
                    "SELECT count(*) FROM list_versions WHERE source = ? AND version_id = ?",
                    [source, version_id],
                ).fetchone()
                if not found or not found[0]:
                    # Activating nothing would leave the source with no active version.
                    raise WorkspaceError(f"no version {version_id!r} of source {source!r}")
                _activate(con, source, version_id)
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise

    # -- parties -----------------------------------------------------------

    def active_parties(self) -> tuple[list[ListVersion], list[Party]]:
        """The active version of every source and all their parties."""
        with self.connect(read_only=True) as con:
            versions = _versions(con, None, active_only=True)
            rows = con.execute(
                "SELECT p.data FROM parties p JOIN list_versions v USING (version_id) "
                "WHERE v.active ORDER BY p.version_id, p.entity_id"
            ).fetchall()
        return versions, [party_from_json(r[0]) for r in rows]

    def parties(self, version_id: str) -> list[Party]:
        with self.connect(read_only=True) as con:
            rows = con.execute(
                "SELECT data FROM parties WHERE version_id = ? ORDER BY entity_id", [version_id]
            ).fetchall()
        return [party_from_json(r[0]) for r in rows]


def _activate(con: duckdb.DuckDBPyConnection, source: str, version_id: str) -> None:
    con.execute(
        "UPDATE list_versions SET active = (version_id = ?) WHERE source = ?",
        [version_id, source],
    )


def _versions(
    con: duckdb.DuckDBPyConnection, source: str | None, active_only: bool
) -> list[ListVersion]:
    sql = f"SELECT {_VERSION_COLUMNS} FROM list_versions WHERE 1 = 1"
    params: list[object] = []
    if source is not None:
        sql += " AND source = ?"
        params.append(source)
    if active_only:
        sql += " AND active"
    sql += " ORDER BY source, loaded_at"
    return [
        ListVersion(
            version_id=r[0],
            source=r[1],
            label=r[2],
            published=r[3],
            content_hash=r[4],
            entry_count=r[5],
            loaded_at=r[6],
            origin=r[7],
            parser=r[8],
            active=r[9],
        )
        for r in con.execute(sql, params).fetchall()
    ]
