"""Load trade files into the workspace's ``trade_flows`` table.

One file is one source, written atomically. Reloading an unchanged file is a
no-op; a changed file replaces its earlier rows. A flow already present from
another file (same reporter, partner, product, flow and period) is dropped
with a recorded warning when the value is the same (the same extraction
exported twice, e.g. in label and code-label style) and stops the load with
an error naming both files and rows when it differs: never a doubled or
silently chosen total.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from econsec.model.trade import LoadOutcome, LoadWarning, TradeSource
from econsec.settings import data_dir
from econsec.store import Workspace
from econsec.store import trade as store
from econsec.trade.nomenclature import Nomenclature, load_nomenclature
from econsec.trade.readers import (
    BACI_HEADER,
    FlowColumns,
    TradeLoadError,
    read_baci_countries,
    read_baci_csv,
    read_comext_xlsx,
    read_relational_csv,
)

TRADE_DIRS = ("trade/eurostat_comext_cn8_2020-2022", "trade/eurostat_totals_2019-2024")
#: Two values within this many currency units are the same figure (rounding).
SAME_VALUE_TOLERANCE = 0.5

Progress = Callable[[Path, int], None]


def default_files(folder: Path | None = None) -> list[Path]:
    """Every trade file of the shared data folder, in load order."""
    base = folder or data_dir()
    if base is None:
        raise TradeLoadError("trade", None, None, None, "shared data folder not found")
    files: list[Path] = []
    for sub in TRADE_DIRS:
        root = base / sub
        files += sorted(root.glob("*.xlsx"))
        files += sorted(p for p in root.rglob("*.csv") if _kind(p) != "other")
    return files


def _kind(path: Path) -> str:
    if path.suffix.lower() == ".xlsx":
        return "comext_xlsx"
    if path.suffix.lower() != ".csv" or path.name.startswith("country_codes"):
        return "other"
    with path.open(encoding="utf-8-sig") as handle:
        header = handle.readline().strip().replace('"', "")
    if header.startswith("REPORTER,PARTNER,PRODUCT,FLOW"):
        return "national" if "national" in path.parent.name else "comext_csv"
    if tuple(header.split(",")) == BACI_HEADER:
        return "baci"
    return "other"


def _ref(path: Path) -> str:
    base = data_dir()
    try:
        return str(path.resolve().relative_to(base.resolve())) if base else str(path)
    except ValueError:
        return str(path)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def parse(path: Path, nomenclature: Nomenclature, ref: str | None = None) -> FlowColumns:
    """Read a file of any supported layout (detected from its name and header)."""
    ref = ref or _ref(path)
    kind = _kind(path)
    if kind == "comext_xlsx":
        return read_comext_xlsx(path, nomenclature, ref)
    if kind in ("comext_csv", "national"):
        return read_relational_csv(path, nomenclature, ref)
    if kind == "baci":
        country_files = sorted(path.parent.glob("country_codes*.csv"))
        if not country_files:
            raise TradeLoadError(ref, None, None, None, "BACI file without country_codes*.csv")
        return read_baci_csv(path, read_baci_countries(country_files[-1]), nomenclature, ref)
    raise TradeLoadError(ref, None, 1, None, "not a recognised trade layout")


def _parse_table(
    path: Path, ref: str, nomenclature: Nomenclature | None = None
) -> tuple[pa.Table, list[LoadWarning]]:
    columns = parse(path, nomenclature or load_nomenclature(), ref)
    return pa.table(columns.data, schema=store.SCHEMA), columns.warnings


def load_file(
    path: Path, workspace: Workspace, nomenclature: Nomenclature | None = None
) -> LoadOutcome:
    """Load one file (atomically); a no-op when the same content is already loaded."""
    ref, sha, previous = _check(path, workspace)
    if previous is not None and previous.sha256 == sha:
        return LoadOutcome(previous, changed=False)
    table, warnings = _parse_table(path, ref, nomenclature)
    with workspace.connect() as con:
        return _write(path, ref, sha, previous, table, warnings, con)


def _check(path: Path, workspace: Workspace) -> tuple[str, str, TradeSource | None]:
    ref = _ref(path)
    sha = _sha256(path)
    with workspace.connect() as con:
        previous = store.source_for_path(con, ref)
    return ref, sha, previous


def _write(
    path: Path,
    ref: str,
    sha: str,
    previous: TradeSource | None,
    table: pa.Table,
    parsed_warnings: list[LoadWarning],
    con: duckdb.DuckDBPyConnection,
) -> LoadOutcome:
    source_id = f"{Path(ref).stem[:40]}@{sha[:12]}"
    warnings = list(parsed_warnings)
    store.ensure_schema(con)
    con.execute("BEGIN TRANSACTION")
    try:
        if previous is not None:
            for name in ("trade_flows", "trade_warnings", "trade_sources"):
                con.execute(f"DELETE FROM {name} WHERE source_id = ?", [previous.source_id])
        table, dropped = _drop_duplicates(con, table, ref)
        warnings += dropped
        source = TradeSource(
            source_id=source_id,
            path=ref,
            kind=_kind(path),
            sha256=sha,
            rows=table.num_rows,
            warnings=len(warnings),
            loaded_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        store.write_source(con, source, table, warnings, replaces=None)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return LoadOutcome(source, changed=True, warnings=tuple(warnings))


def _drop_duplicates(
    con: duckdb.DuckDBPyConnection, table: pa.Table, ref: str
) -> tuple[pa.Table, list[LoadWarning]]:
    con.register("_incoming", table)
    try:
        # one join against the (large) flows table; the clash and duplicate checks
        # then read the (usually empty) matches
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE _matches AS
            SELECT n.ref_sheet, n.ref_row, n.value AS nv, n.currency AS nc,
                   o.value AS ov, o.currency AS oc, o.source_id,
                   o.ref_sheet AS osheet, o.ref_row AS orow,
                   n.reporter, n.partner, n.product, n.flow, n.period
            FROM _incoming n
            JOIN trade_flows o USING (reporter, partner, product, flow, period)
            """
        )
        clash_rows = con.execute(
            """
            SELECT m.ref_sheet, m.ref_row, m.nv || ' ' || m.nc, m.ov || ' ' || m.oc, s.path,
                   m.osheet, m.orow, m.reporter, m.partner, m.product, m.flow, m.period
            FROM _matches m JOIN trade_sources s ON s.source_id = m.source_id
            WHERE (m.nv IS NULL) <> (m.ov IS NULL) OR abs(m.nv - m.ov) > ? OR m.nc <> m.oc
            ORDER BY m.ref_row LIMIT 1
            """,
            [SAME_VALUE_TOLERANCE],
        ).fetchall()
        clash = clash_rows[0] if clash_rows else None
        if clash is not None:
            sheet, row, new, old, other, osheet, orow, *key = clash
            where = f"{other}" + (f" sheet {osheet!r}" if osheet else "") + f" row {orow}"
            raise TradeLoadError(
                ref,
                sheet,
                row,
                "value",
                f"{'/'.join(map(str, key))}: {new} here but {old} in {where}",
            )
        dup_rows = con.execute(
            """
            SELECT count(*), min(m.ref_row), any_value(s.path)
            FROM _matches m JOIN trade_sources s ON s.source_id = m.source_id
            """
        ).fetchall()
        dup = dup_rows[0] if dup_rows else None
        if dup is None or not dup[0]:
            return table, []
        kept = con.execute(
            """
            SELECT n.* FROM _incoming n ANTI JOIN trade_flows o
            USING (reporter, partner, product, flow, period)
            """
        ).to_arrow_table()
    finally:
        con.unregister("_incoming")
        con.execute("DROP TABLE IF EXISTS _matches")
    warning = LoadWarning(
        ref,
        None,
        dup[1],
        None,
        f"{dup[0]} flows already loaded with the same values from {dup[2]}: not loaded twice",
    )
    assert kept is not None
    return kept.cast(store.SCHEMA), [warning]


def load_all(
    paths: Iterable[Path],
    workspace: Workspace,
    progress: Progress | None = None,
) -> list[LoadOutcome]:
    """Load files in order, each in its own transaction.

    An error stops the run: the files before it stay loaded and nothing of the
    failing file is written.
    """
    nomenclature = load_nomenclature()
    outcomes: list[LoadOutcome] = []
    with workspace.connect() as con:
        known = {s.path: s for s in store.sources(con)}
        for path in paths:
            ref, sha = _ref(path), _sha256(path)
            previous = known.get(ref)
            if previous is not None and previous.sha256 == sha:
                outcomes.append(LoadOutcome(previous, changed=False))
            else:
                table, warnings = _parse_table(path, ref, nomenclature)
                outcomes.append(_write(path, ref, sha, previous, table, warnings, con))
            if progress is not None:
                progress(path, path.stat().st_size)
    return outcomes
