"""Screening runs in the workspace: what was screened, against what, with which hits.

Three tables (DDL in :mod:`econsec.store.workspace`):

* ``screening_runs``: one row per run (input file and its SHA-256, list
  versions, algorithm, threshold, status, output file, the run it re-screened);
* ``screened_counterparties``: every row screened in a run, with the hash of
  its screened content, in input order;
* ``screening_hits``: every hit reported in a run, keyed as in
  :class:`econsec.model.record.HitKey` so decisions can be matched to it.

Rows are appended in bulk through Arrow tables (100,000 counterparties take
well under a second). A run row is inserted when the run starts and updated
(status, finish time, output file) when it ends; everything else is append-only.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict

import duckdb
import pyarrow as pa

from econsec.model import ListVersion
from econsec.model.record import (
    Counterparty,
    HitKey,
    HitKind,
    RunStatus,
    ScreenedHit,
    ScreeningRun,
)
from econsec.store.workspace import Workspace, WorkspaceError

_RUN_COLUMNS = (
    "run_id, started_at, finished_at, input_file, input_sha256, row_count, list_versions, "
    "algorithm, threshold, status, output_file, based_on_run"
)
_STRINGS = pa.list_(pa.string())


def save_run(workspace: Workspace, run: ScreeningRun) -> None:
    """Insert the run, or, when its id is known, update its status, finish time
    and output file (the rest of a run never changes)."""
    with workspace.connect() as con:
        con.execute(
            f"INSERT INTO screening_runs ({_RUN_COLUMNS}) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (run_id) DO UPDATE SET status = excluded.status, "
            "finished_at = excluded.finished_at, output_file = excluded.output_file",
            [
                run.run_id,
                run.started_at,
                run.finished_at,
                run.input_file,
                run.input_sha256,
                run.row_count,
                json.dumps([asdict(v) for v in run.list_versions]),
                run.algorithm,
                run.threshold,
                run.status.value,
                run.output_file,
                run.based_on_run,
            ],
        )


def _append(
    workspace: Workspace, table: str, run_ids: list[str], columns: dict[str, pa.Array]
) -> None:
    """Insert rows in one transaction, numbering them after the run's earlier rows."""
    with workspace.connect() as con:
        con.execute("BEGIN TRANSACTION")
        try:
            wanted = sorted(set(run_ids))
            known = {
                r[0]
                for r in con.execute(
                    "SELECT run_id FROM screening_runs WHERE list_contains(?, run_id)", [wanted]
                ).fetchall()
            }
            unknown = [r for r in wanted if r not in known]
            if unknown:
                raise WorkspaceError(f"no screening run {unknown[0]!r}: save the run first")
            counts = {
                str(r[0]): int(r[1])
                for r in con.execute(
                    f"SELECT run_id, count(*) FROM {table} "
                    "WHERE list_contains(?, run_id) GROUP BY run_id",
                    [wanted],
                ).fetchall()
            }
            seqs = []
            for run_id in run_ids:
                seq = counts.get(run_id, 0)
                seqs.append(seq)
                counts[run_id] = seq + 1
            data = pa.table(
                {
                    "run_id": pa.array(run_ids, pa.string()),
                    "seq": pa.array(seqs, pa.int64()),
                    **columns,
                }
            )
            con.register("incoming_rows", data)
            con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM incoming_rows")
            con.unregister("incoming_rows")
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise


def add_screened(
    workspace: Workspace,
    run_id: str,
    counterparties: Sequence[Counterparty],
    index_keys: Sequence[str | None] | None = None,
) -> None:
    """Record the counterparties screened in a run (appended after earlier calls),
    with the candidate-index keys each one's name looked up where known
    (``KEY_SEPARATOR``-joined, see :func:`rows_sharing_keys`)."""
    if not counterparties:
        return
    cps = counterparties
    if index_keys is None:
        index_keys = [None] * len(cps)
    elif len(index_keys) != len(cps):
        raise ValueError(f"index_keys: {len(index_keys)} given for {len(cps)} counterparties")
    columns = {
        "reference": pa.array([c.reference for c in cps], pa.string()),
        "content_hash": pa.array([c.content_hash() for c in cps], pa.string()),
        "name": pa.array([c.name for c in cps], pa.string()),
        "schema": pa.array([c.schema for c in cps], pa.string()),
        "countries": pa.array([list(c.countries) for c in cps], _STRINGS),
        "dates_of_birth": pa.array([list(c.dates_of_birth) for c in cps], _STRINGS),
        "identifiers": pa.array([list(c.identifiers) for c in cps], _STRINGS),
        "index_keys": pa.array(index_keys, pa.string()),
    }
    _append(workspace, "screened_counterparties", [run_id] * len(cps), columns)


#: Joins the candidate-index keys of one row in ``screened_counterparties.index_keys``.
KEY_SEPARATOR = "\x1f"


def rows_sharing_keys(workspace: Workspace, run_id: str, keys: Iterable[str]) -> set[str] | None:
    """References of the run's rows whose name looked up at least one of ``keys``.

    None when some row of the run has no keys recorded (a run recorded before
    keys were kept): the caller must then consider every row.
    """
    wanted = sorted(set(keys))
    with workspace.connect(read_only=True) as con:
        missing = con.execute(
            "SELECT count(*) FROM screened_counterparties WHERE run_id = ? AND index_keys IS NULL",
            [run_id],
        ).fetchall()[0][0]
        if missing:
            return None
        if not wanted:
            return set()
        con.register("wanted_keys", pa.table({"k": pa.array(wanted, pa.string())}))
        rows = con.execute(
            "SELECT DISTINCT s.reference FROM ("
            "  SELECT reference, unnest(string_split(index_keys, ?)) AS k"
            "  FROM screened_counterparties WHERE run_id = ?"
            ") s JOIN wanted_keys w ON s.k = w.k",
            [KEY_SEPARATOR, run_id],
        ).fetchall()
    return {str(r[0]) for r in rows}


def inherit_index_keys(workspace: Workspace, run_id: str, base_run_id: str) -> None:
    """Copy index keys the run lacks from ``base_run_id``'s rows with the same
    reference and content (a delta run re-screens only some rows)."""
    with workspace.connect() as con:
        con.execute(
            "UPDATE screened_counterparties AS n SET index_keys = b.index_keys "
            "FROM screened_counterparties AS b "
            "WHERE n.run_id = ? AND n.index_keys IS NULL AND b.run_id = ? "
            "AND b.reference = n.reference AND b.content_hash = n.content_hash",
            [run_id, base_run_id],
        )


def add_hits(workspace: Workspace, hits: Sequence[ScreenedHit]) -> None:
    """Record hits (of one or several runs), in the order given."""
    if not hits:
        return
    columns = {
        "counterparty_reference": pa.array(
            [h.key.counterparty_reference for h in hits], pa.string()
        ),
        "counterparty_hash": pa.array([h.key.counterparty_hash for h in hits], pa.string()),
        "entity_id": pa.array([h.key.entity_id for h in hits], pa.string()),
        "party_hash": pa.array([h.key.party_hash for h in hits], pa.string()),
        "kind": pa.array([h.kind.value for h in hits], pa.string()),
        "score": pa.array([h.score for h in hits], pa.float64()),
        "matched_name": pa.array([h.matched_name for h in hits], pa.string()),
        "list": pa.array([h.list for h in hits], pa.string()),
        "list_version_id": pa.array([h.list_version_id for h in hits], pa.string()),
        "explanation": pa.array([h.explanation for h in hits], pa.string()),
    }
    _append(workspace, "screening_hits", [h.run_id for h in hits], columns)


def _run(row: tuple[object, ...]) -> ScreeningRun:
    versions = tuple(ListVersion(**v) for v in json.loads(str(row[6])))
    return ScreeningRun(
        run_id=str(row[0]),
        started_at=str(row[1]),
        finished_at=None if row[2] is None else str(row[2]),
        input_file=str(row[3]),
        input_sha256=str(row[4]),
        row_count=int(str(row[5])),
        list_versions=versions,
        algorithm=str(row[7]),
        threshold=float(str(row[8])),
        status=RunStatus(str(row[9])),
        output_file=None if row[10] is None else str(row[10]),
        based_on_run=None if row[11] is None else str(row[11]),
    )


def get_run(workspace: Workspace, run_id: str) -> ScreeningRun:
    if not workspace.exists():
        raise WorkspaceError(f"no screening run {run_id!r}: no workspace at {workspace.home}")
    with workspace.connect(read_only=True) as con:
        if not _has_runs(con):
            raise WorkspaceError(f"no screening run {run_id!r} in {workspace.db_path}")
        row = con.execute(
            f"SELECT {_RUN_COLUMNS} FROM screening_runs WHERE run_id = ?", [run_id]
        ).fetchone()
    if row is None:
        raise WorkspaceError(f"no screening run {run_id!r} in {workspace.db_path}")
    return _run(row)


def list_runs(workspace: Workspace) -> list[ScreeningRun]:
    """Every run, newest first."""
    if not workspace.exists():
        return []
    with workspace.connect(read_only=True) as con:
        if not _has_runs(con):
            return []
        rows = con.execute(
            f"SELECT {_RUN_COLUMNS} FROM screening_runs ORDER BY started_at DESC, run_id DESC"
        ).fetchall()
    return [_run(r) for r in rows]


def screened_count(workspace: Workspace, run_id: str) -> int:
    """How many counterparties were recorded for a run (0 for an unknown run)."""
    if not workspace.exists():
        return 0
    with workspace.connect(read_only=True) as con:
        if not _has_runs(con):
            return 0
        row = con.execute(
            "SELECT count(*) FROM screened_counterparties WHERE run_id = ?", [run_id]
        ).fetchone()
    return int(row[0]) if row else 0


def screened_for_run(workspace: Workspace, run_id: str) -> list[Counterparty]:
    """The counterparties screened in a run, in input order."""
    get_run(workspace, run_id)
    with workspace.connect(read_only=True) as con:
        rows = con.execute(
            "SELECT reference, name, schema, countries, dates_of_birth, identifiers "
            "FROM screened_counterparties WHERE run_id = ? ORDER BY seq",
            [run_id],
        ).fetchall()
    return [
        Counterparty(
            reference=ref,
            name=name,
            schema=schema,
            countries=tuple(countries),
            dates_of_birth=tuple(dobs),
            identifiers=tuple(ids),
        )
        for ref, name, schema, countries, dobs, ids in rows
    ]


def hits_for_run(workspace: Workspace, run_id: str) -> list[ScreenedHit]:
    """The hits reported in a run, in the order they were recorded."""
    get_run(workspace, run_id)
    with workspace.connect(read_only=True) as con:
        rows = con.execute(
            "SELECT counterparty_reference, counterparty_hash, entity_id, party_hash, kind, "
            "score, matched_name, list, list_version_id, explanation "
            "FROM screening_hits WHERE run_id = ? ORDER BY seq",
            [run_id],
        ).fetchall()
    return [
        ScreenedHit(
            run_id=run_id,
            key=HitKey(ref, chash, entity_id, phash),
            kind=HitKind(kind),
            score=score,
            matched_name=matched,
            list=lst,
            list_version_id=version,
            explanation=explanation,
        )
        for ref, chash, entity_id, phash, kind, score, matched, lst, version, explanation in rows
    ]


def _has_runs(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the (possibly older, read-only) database has the run tables yet."""
    row = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'screening_runs'"
    ).fetchone()
    return bool(row and row[0])
