"""Load trade files into the workspace's ``trade_flows`` table.

One run (:func:`load_all`) parses the files (in worker processes when there
are several workbooks), checks them against each other and against the flows
already loaded, and commits every file before the first failing one in one
transaction; nothing of the failing file (or of those after it) is written.
Reloading an unchanged file is a no-op; a changed file replaces its earlier
rows (the rows it replaces are set aside before the checks). A flow present in
two files (same reporter, partner, product, flow and period) is kept from the
first and dropped from the later one with a recorded warning when the value is
the same (the same extraction exported twice, e.g. in label and code-label
style), and stops the run with an error naming both files and rows when it
differs: never a doubled or silently chosen total. A flow twice in one file is
an error.

Speed (docs/trade.md): a file that shares no (product, flow) with an earlier
one or with the table is inserted as soon as it is parsed, while the next
files parse (the 22 CN8 workbooks cover distinct products: their 15.9 M flows
need no join); the duplicate check reads only the other files' rows of shared
products, once; each file is one ``INSERT … SELECT`` from Arrow columns. On an
error the run is rolled back and the files before the failing one are written
again in a new transaction.
"""

from __future__ import annotations

import csv
import hashlib
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from econsec.lists._common import LoadError
from econsec.model.trade import LoadOutcome, LoadWarning, TradeSource
from econsec.settings import data_dir
from econsec.store import Workspace
from econsec.store import trade as store
from econsec.trade.nomenclature import Nomenclature, load_nomenclature
from econsec.trade.readers import (
    BACI_HEADER,
    COMTRADE_SIGNATURE,
    FlowColumns,
    TradeLoadError,
    read_baci_countries,
    read_baci_csv,
    read_comext_xlsx,
    read_comtrade_csv,
    read_relational_csv,
)

TRADE_DIRS = ("trade/eurostat_comext_cn8_2020-2022", "trade/eurostat_totals_2019-2024")
#: Two values within this many currency units are the same figure (rounding).
SAME_VALUE_TOLERANCE = 0.5
#: Parse in worker processes only when the run holds at least this many workbooks.
POOL_MIN_WORKBOOKS = 2
#: Default number of parsing processes: the CPU count, at most this (each holds
#: ~0.35 GiB while it parses a workbook).
MAX_WORKERS = 8

#: ``progress(stage, path, nbytes)``: stage ``"parsed"`` then ``"written"`` (or
#: ``"unchanged"``) for every file, with the file's size in bytes.
Progress = Callable[[str, Path, int], None]


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
    names = tuple(h.strip() for h in header.split(","))
    if names == BACI_HEADER:
        return "baci"
    if set(COMTRADE_SIGNATURE) <= set(names):
        return "comtrade"
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
    if kind == "comtrade":
        return read_comtrade_csv(path, nomenclature, ref)
    raise TradeLoadError(ref, None, 1, None, "not a recognised trade layout")


# -- parsing, in worker processes for large runs -----------------------------------


@dataclass
class _Job:
    index: int
    path: Path
    ref: str
    sha: str
    size: int
    previous: TradeSource | None
    table: pa.Table | None = None
    warnings: list[LoadWarning] = field(default_factory=list)
    #: (product, flow) pairs the file holds.
    pairs: set[tuple[str, str]] = field(default_factory=set)


_ErrorArgs = tuple[str, str | None, int | None, str | None, str]
_Parsed = tuple[pa.Table | None, list[LoadWarning], _ErrorArgs | None]


def _parse_job(path: Path, ref: str, nomenclature: Nomenclature | Path) -> _Parsed:
    """Parse one file; a load error comes back as its parts (exceptions do not pickle).

    In a worker process ``nomenclature`` is the shared data folder to read it
    from (once per process): the tables are too large to send to each worker.
    """
    if isinstance(nomenclature, Path):
        nomenclature = load_nomenclature(nomenclature)
    try:
        columns = parse(path, nomenclature, ref)
    except TradeLoadError as exc:
        return None, [], (exc.file, exc.sheet, exc.row, exc.field, exc.message)
    except LoadError as exc:
        return None, [], (exc.file, None, None, exc.field, exc.message)
    except (UnicodeDecodeError, csv.Error) as exc:
        return None, [], (ref, None, None, None, f"not a readable text file: {exc}")
    return columns.table(), columns.warnings, None


def _parsed(
    jobs: Sequence[_Job], nomenclature: Nomenclature, workers: int
) -> Iterator[tuple[_Job, _Parsed]]:
    """Each job with its parse result, in order; stops after the first error.

    With ``workers`` > 1 and at least :data:`POOL_MIN_WORKBOOKS` workbooks the files
    are parsed in a pool of spawned processes (not forked: the parent holds DuckDB
    threads); as with any use of multiprocessing, a script that calls this must
    guard its entry point with ``if __name__ == "__main__":``.
    """
    books = sum(1 for j in jobs if j.path.suffix.lower() == ".xlsx")
    if workers < 2 or books < POOL_MIN_WORKBOOKS:
        for job in jobs:
            result = _parse_job(job.path, job.ref, nomenclature)
            yield job, result
            if result[2] is not None:
                return
        return
    folder = Path(nomenclature.hs_file).parent.parent
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=context) as pool:
        futures: list[Future[_Parsed]] = [
            pool.submit(_parse_job, job.path, job.ref, folder) for job in jobs
        ]
        try:
            for job, future in zip(jobs, futures, strict=True):
                result = future.result()
                yield job, result
                if result[2] is not None:
                    return
        finally:
            for future in futures:
                future.cancel()


def _pairs(table: pa.Table) -> set[tuple[str, str]]:
    """(product, flow) pairs of a parsed table (a superset when a block mixes several)."""
    out: set[tuple[str, str]] = set()
    for batch in table.to_batches():
        products = _values(batch.column(table.schema.get_field_index("product")))
        flows = _values(batch.column(table.schema.get_field_index("flow")))
        out.update((p, f) for p in products for f in flows)
    return out


def _values(array: pa.Array) -> list[str]:
    if isinstance(array, pa.DictionaryArray):
        array = array.dictionary
    return [str(v) for v in pc.unique(array).to_pylist() if v is not None]


# -- the duplicate check -------------------------------------------------------------

_KEY_COLUMNS = ", ".join(store.KEY)


@dataclass
class _Check:
    #: index of the first file with a flow that clashes, and the error.
    clash: tuple[int, TradeLoadError] | None = None
    #: file index → (flows to drop as a key table, the warning).
    drops: dict[int, tuple[pa.Table, LoadWarning]] = field(default_factory=dict)


def _pairs_loaded(con: duckdb.DuckDBPyConnection, replaced: list[str]) -> set[tuple[str, str]]:
    """(product, flow) pairs of the rows loaded, less the sources this run replaces."""
    rows = con.execute(
        "SELECT DISTINCT product, flow FROM trade_flows WHERE NOT list_contains(?, source_id)",
        [replaced],
    ).fetchall()
    return {(str(p), str(f)) for p, f in rows}


def _check(con: duckdb.DuckDBPyConnection, jobs: Sequence[_Job]) -> _Check:
    """Flows of these files found in an earlier file or among the rows already loaded."""
    replaced = [j.previous.source_id for j in jobs if j.previous is not None]
    products = sorted({p for j in jobs for p, _ in j.pairs})
    if not products:
        return _Check()
    # IN with constants: DuckDB skips row groups by their min/max (the CN8 codes of
    # the workbooks never bracket 'TOTAL')
    existing: dict[tuple[str, str], int] = {}
    for product, flow, n in con.execute(
        f"SELECT product, flow, count(*) FROM trade_flows WHERE product IN ({_marks(products)}) "
        "AND NOT list_contains(?, source_id) GROUP BY ALL",
        [*products, replaced],
    ).fetchall():
        existing[product, flow] = n
    seen: dict[tuple[str, str], int] = {}
    for job in jobs:
        for pair in job.pairs:
            seen[pair] = seen.get(pair, 0) + 1
    shared = {p for p, n in seen.items() if n > 1 or p in existing}
    if not shared:
        return _Check()
    shared_products = sorted({p for p, _ in shared})
    parts: list[pa.Table] = []
    for job in jobs:
        if job.table is None or not (job.pairs & shared):
            continue
        keep = pc.is_in(
            pc.binary_join_element_wise(
                job.table.column("product").cast(pa.string()),
                job.table.column("flow").cast(pa.string()),
                "\x1f",
            ),
            pa.array([f"{p}\x1f{f}" for p, f in shared]),
        )
        part = job.table.filter(keep).select([*store.KEY, "value", "currency", "ref_sheet"])
        part = part.append_column("ref_row", job.table.column("ref_row").filter(keep))
        parts.append(part.append_column("file_no", pa.repeat(pa.scalar(job.index), part.num_rows)))
    candidates = (
        pa.concat_tables([p.cast(_CANDIDATE_SCHEMA) for p in parts])
        if parts
        else _CANDIDATE_SCHEMA.empty_table()
    )
    con.register("_candidates", candidates)
    try:
        rows = con.execute(
            f"""
            WITH a AS (
                SELECT {_KEY_COLUMNS}, value, currency, ref_sheet, ref_row, file_no,
                       NULL::VARCHAR AS path
                FROM _candidates
                UNION ALL
                SELECT {_KEY_COLUMNS}, f.value, f.currency, f.ref_sheet, f.ref_row, -1, s.path
                FROM trade_flows f JOIN trade_sources s USING (source_id)
                WHERE f.product IN ({_marks(shared_products)})
                  AND NOT list_contains(?, f.source_id)
                  AND list_contains(?, f.product || chr(31) || f.flow)
            ),
            w AS (
                SELECT *, row_number() OVER k AS rn,
                       first_value(value) OVER k AS fv, first_value(currency) OVER k AS fc,
                       first_value(file_no) OVER k AS ff, first_value(path) OVER k AS fp,
                       first_value(ref_sheet) OVER k AS fs, first_value(ref_row) OVER k AS fr
                FROM a
                WINDOW k AS (PARTITION BY {_KEY_COLUMNS} ORDER BY file_no, ref_row)
            )
            SELECT file_no, ref_sheet, ref_row, value, currency, ff, fp, fs, fr, fv, fc,
                   coalesce((value IS NULL) <> (fv IS NULL) OR abs(value - fv) > ?
                            OR currency <> fc, false) AS clash,
                   {_KEY_COLUMNS}
            FROM w WHERE rn > 1
            ORDER BY file_no, ref_row
            """,
            [
                *shared_products,
                replaced,
                [f"{p}\x1f{f}" for p, f in shared],
                SAME_VALUE_TOLERANCE,
            ],
        ).fetchall()
    finally:
        con.unregister("_candidates")
    by_index = {j.index: j for j in jobs}
    out = _Check()
    dropped: dict[int, list[tuple[object, ...]]] = {}
    for row in rows:
        file_no, sheet, ref_row, value, currency, ff, fp, fs, fr, fv, fc, clash, *key = row
        job = by_index[file_no]
        if clash or ff == file_no:
            where = fp if ff == -1 else by_index[ff].ref
            if ff == file_no:
                where = "this file"
            where += (f" sheet {fs!r}" if fs else "") + f" row {fr}"
            message = (
                f"{'/'.join(map(str, key))}: {_money(value, currency)} here but "
                f"{_money(fv, fc)} in {where}"
            )
            out.clash = (file_no, TradeLoadError(job.ref, sheet, ref_row, "value", message))
            break
        dropped.setdefault(file_no, []).append(
            (*key, ref_row, fp if ff == -1 else by_index[ff].ref)
        )
    for file_no, items in dropped.items():
        if out.clash is not None and file_no >= out.clash[0]:
            continue
        keys = pa.table(
            {name: pa.array([str(i[n]) for i in items]) for n, name in enumerate(store.KEY)}
        )
        first = min(int(str(i[5])) for i in items)
        warning = LoadWarning(
            by_index[file_no].ref,
            None,
            first,
            None,
            f"{len(items)} flows already loaded with the same values from {items[0][6]}: "
            "not loaded twice",
        )
        out.drops[file_no] = (keys, warning)
    return out


_CANDIDATE_SCHEMA = pa.schema(
    [
        *[(name, pa.string()) for name in store.KEY],
        ("value", pa.float64()),
        ("currency", pa.string()),
        ("ref_sheet", pa.string()),
        ("ref_row", pa.int32()),
        ("file_no", pa.int64()),
    ]
)


def _marks(values: Sequence[object]) -> str:
    return ", ".join("?" * len(values))


def _money(value: object, currency: object) -> str:
    return f"{value} {currency}" if value is not None else f"':' (not available, {currency})"


# -- writing -------------------------------------------------------------------------


def _write(
    con: duckdb.DuckDBPyConnection,
    job: _Job,
    drop: tuple[pa.Table, LoadWarning] | None,
) -> LoadOutcome:
    """Write one parsed file in the caller's open transaction."""
    assert job.table is not None
    source_id = f"{Path(job.ref).stem[:40]}@{job.sha[:12]}"
    if job.previous is not None:
        for name in ("trade_flows", "trade_warnings", "trade_sources"):
            con.execute(f"DELETE FROM {name} WHERE source_id = ?", [job.previous.source_id])
    warnings = list(job.warnings)
    con.register("_new_flows", job.table)
    try:
        if drop is None:
            con.execute("INSERT INTO trade_flows SELECT ?, * FROM _new_flows", [source_id])
            rows = job.table.num_rows
        else:
            keys, warning = drop
            warnings.append(warning)
            con.register("_drop", keys)
            try:
                con.execute(
                    f"INSERT INTO trade_flows SELECT ?, n.* FROM _new_flows n "
                    f"ANTI JOIN _drop USING ({_KEY_COLUMNS})",
                    [source_id],
                )
            finally:
                con.unregister("_drop")
            rows = job.table.num_rows - keys.num_rows
    finally:
        con.unregister("_new_flows")
    source = TradeSource(
        source_id=source_id,
        path=job.ref,
        kind=_kind(job.path),
        sha256=job.sha,
        rows=rows,
        warnings=len(warnings),
        loaded_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    store.write_source(con, source, warnings)
    return LoadOutcome(source, changed=True, warnings=tuple(warnings))


def load_all(
    paths: Iterable[Path],
    workspace: Workspace,
    progress: Progress | None = None,
    *,
    workers: int | None = None,
    nomenclature: Nomenclature | None = None,
) -> list[LoadOutcome]:
    """Load files in order (see the module doc); returns one outcome per file.

    An error stops the run: the files before it are written (in one
    transaction), nothing of the failing file is, and the error is raised.
    ``workers``: parsing processes (default: the CPU count, at most
    :data:`MAX_WORKERS`; 1 parses in this process).
    """
    nomenclature = nomenclature or load_nomenclature()
    workers = workers if workers is not None else min(os.cpu_count() or 1, MAX_WORKERS)
    paths = list(paths)
    outcomes: dict[int, LoadOutcome] = {}
    jobs: list[_Job] = []
    with workspace.connect() as con:
        store.ensure_schema(con)
        # rows need no order in the table (every query sorts); lets DuckDB insert in parallel
        con.execute("SET preserve_insertion_order = false")
        known = {s.path: s for s in store.sources(con)}
        first: dict[str, int] = {}  # a file named twice in one run is loaded once
        repeats: dict[int, int] = {}
        for index, path in enumerate(paths):
            ref, sha = _ref(path), _sha256(path)
            previous = known.get(ref)
            size = path.stat().st_size
            if ref in first:
                repeats[index] = first[ref]
                if progress is not None:
                    progress("unchanged", path, 2 * size)
                continue
            first[ref] = index
            if previous is not None and previous.sha256 == sha:
                outcomes[index] = LoadOutcome(previous, changed=False)
                if progress is not None:
                    progress("unchanged", path, 2 * size)
            else:
                jobs.append(_Job(index, path, ref, sha, size, previous))
        error: tuple[int, TradeLoadError] | None = None
        parsed: list[_Job] = []
        replaced = [j.previous.source_id for j in jobs if j.previous is not None]
        seen = _pairs_loaded(con, replaced)
        committed = False
        con.execute("BEGIN TRANSACTION")
        try:
            # a file none of whose (product, flow) pairs occurs before it is written at
            # once, while the next ones parse; the others wait for the duplicate check
            for job, (table, warnings, failure) in _parsed(jobs, nomenclature, workers):
                if failure is not None:
                    error = (job.index, TradeLoadError(*failure))
                    break
                job.table, job.warnings, job.pairs = table, warnings, _pairs(table)
                parsed.append(job)
                if progress is not None:
                    progress("parsed", job.path, job.size)
                if not job.pairs & seen:
                    outcomes[job.index] = _write(con, job, None)
                    if progress is not None:
                        progress("written", job.path, job.size)
                seen |= job.pairs
            if error is None:
                waiting = [j for j in parsed if j.index not in outcomes]
                check = _check(con, waiting)
                if check.clash is None:
                    for job in waiting:
                        outcomes[job.index] = _write(con, job, check.drops.get(job.index))
                        if progress is not None:
                            progress("written", job.path, job.size)
                    con.execute("COMMIT")
                    committed = True
                else:
                    error = check.clash
            if not committed:
                con.execute("ROLLBACK")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        if not committed:
            # an error: write every file before it, checked again without the rest
            for job in parsed:
                outcomes.pop(job.index, None)
            parsed = [j for j in parsed if error is None or j.index < error[0]]
            while True:  # a clash moves the end of the run forward
                check = _check(con, parsed)
                if check.clash is None:
                    break
                error = check.clash
                parsed = [j for j in parsed if j.index < check.clash[0]]
            con.execute("BEGIN TRANSACTION")
            try:
                for job in parsed:
                    outcomes[job.index] = _write(con, job, check.drops.get(job.index))
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
    if error is not None:
        raise error[1]
    for index, original in repeats.items():
        outcomes[index] = LoadOutcome(outcomes[original].source, changed=False)
    return [outcomes[i] for i in sorted(outcomes)]


def load_file(
    path: Path, workspace: Workspace, nomenclature: Nomenclature | None = None
) -> LoadOutcome:
    """Load one file (atomically); a no-op when the same content is already loaded."""
    return load_all([path], workspace, nomenclature=nomenclature, workers=1)[0]
