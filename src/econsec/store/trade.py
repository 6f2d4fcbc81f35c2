"""Trade tables in the workspace: sources, flows and load warnings.

The tables are created by this module on first use (``ensure_schema``), not
through the shared ``_DDL`` of :mod:`econsec.store.workspace`. One file is one
source; a source is written in one transaction (flows, warnings, source row),
so a reader never sees half a file. Reloading an unchanged file (same path,
same SHA-256) writes nothing; a changed file replaces its previous rows.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import pyarrow as pa

from econsec.model.trade import LoadWarning, TradeSource

DDL = (
    """
    CREATE TABLE IF NOT EXISTS trade_sources (
        source_id VARCHAR PRIMARY KEY,
        path VARCHAR NOT NULL,
        kind VARCHAR NOT NULL,
        sha256 VARCHAR NOT NULL,
        rows BIGINT NOT NULL,
        warnings BIGINT NOT NULL,
        loaded_at VARCHAR NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS trade_flows (
        source_id VARCHAR NOT NULL,
        reporter VARCHAR NOT NULL,
        partner VARCHAR NOT NULL,
        product VARCHAR NOT NULL,
        nomenclature VARCHAR NOT NULL,
        level TINYINT NOT NULL,
        hs6 VARCHAR,
        chpl_tier VARCHAR,
        flow VARCHAR NOT NULL,
        period VARCHAR NOT NULL,
        year SMALLINT NOT NULL,
        month TINYINT,
        value DOUBLE,
        currency VARCHAR NOT NULL,
        quantity DOUBLE,
        unit VARCHAR,
        ref_sheet VARCHAR,
        ref_row INTEGER NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS trade_warnings (
        source_id VARCHAR NOT NULL,
        file VARCHAR NOT NULL,
        sheet VARCHAR,
        row INTEGER,
        field VARCHAR,
        message VARCHAR NOT NULL
    )
    """,
)

SCHEMA = pa.schema(
    [
        ("reporter", pa.string()),
        ("partner", pa.string()),
        ("product", pa.string()),
        ("nomenclature", pa.string()),
        ("level", pa.int8()),
        ("hs6", pa.string()),
        ("chpl_tier", pa.string()),
        ("flow", pa.string()),
        ("period", pa.string()),
        ("year", pa.int16()),
        ("month", pa.int8()),
        ("value", pa.float64()),
        ("currency", pa.string()),
        ("quantity", pa.float64()),
        ("unit", pa.string()),
        ("ref_sheet", pa.string()),
        ("ref_row", pa.int32()),
    ]
)

KEY = ("reporter", "partner", "product", "flow", "period")


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    for ddl in DDL:
        con.execute(ddl)


def source_for_path(con: duckdb.DuckDBPyConnection, path: str) -> TradeSource | None:
    ensure_schema(con)
    row = con.execute(
        "SELECT source_id, path, kind, sha256, rows, warnings, loaded_at "
        "FROM trade_sources WHERE path = ?",
        [path],
    ).fetchall()
    return TradeSource(*row[0]) if row else None


def sources(con: duckdb.DuckDBPyConnection) -> list[TradeSource]:
    ensure_schema(con)
    rows = con.execute(
        "SELECT source_id, path, kind, sha256, rows, warnings, loaded_at "
        "FROM trade_sources ORDER BY path"
    ).fetchall()
    return [TradeSource(*r) for r in rows]


def warnings(con: duckdb.DuckDBPyConnection, source_id: str | None = None) -> list[LoadWarning]:
    ensure_schema(con)
    sql = "SELECT file, sheet, row, field, message FROM trade_warnings"
    params: list[object] = []
    if source_id is not None:
        sql += " WHERE source_id = ?"
        params.append(source_id)
    return [LoadWarning(*r) for r in con.execute(sql + " ORDER BY file, row", params).fetchall()]


def write_source(
    con: duckdb.DuckDBPyConnection,
    source: TradeSource,
    load_warnings: Sequence[LoadWarning],
) -> None:
    """Write a source's row and its warnings in the caller's open transaction.

    Its flows are inserted by the loader (one ``INSERT … SELECT`` from Arrow).
    """
    if load_warnings:
        con.executemany(
            "INSERT INTO trade_warnings VALUES (?, ?, ?, ?, ?, ?)",
            [(source.source_id, w.file, w.sheet, w.row, w.field, w.message) for w in load_warnings],
        )
    con.execute(
        "INSERT INTO trade_sources VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            source.source_id,
            source.path,
            source.kind,
            source.sha256,
            source.rows,
            source.warnings,
            source.loaded_at,
        ],
    )
