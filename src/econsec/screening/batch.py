"""Batch screening of a counterparty file: chunked, parallel, resumable, recorded.

``batch_screen`` reads a counterparty file (:mod:`econsec.screening.counterparties`),
screens every row against the workspace's active lists (and, where the
ownership module provides one, against the entities covered by the 50 % rules
on a date) and writes one results file.

* **Parallel**: rows are screened in chunks by worker processes forked from
  this one, so they share the loaded screener without copying or rebuilding it.
* **Resumable**: each finished chunk is written (atomically) to ``OUT.partial/``
  next to the output, with a manifest naming the input's SHA-256, the list
  versions, the algorithm, the threshold and the chunk size. Run again with the
  same input and settings, finished chunks are not screened again; if the
  input, the lists or the settings changed, the partial state is refused
  (``restart=True`` discards it).
* **Atomic output**: the results file is written to a temporary name and
  renamed, so ``OUT`` is either absent, the previous file, or complete.
* **Recorded**: the run (input hash, list versions, algorithm, threshold,
  status, output) and every screened row and hit are stored in the workspace
  (:mod:`econsec.store.runs`), and each hit carries the standing reviewer
  decision on its key: a hit cleared before stays cleared (and is reported as
  such, with reviewer, date and reason) until the list entry or the
  counterparty changes.

Output layout, by extension or ``fmt``: JSON lines hold one object per
counterparty with its hits; CSV and Parquet hold one row per hit plus one row
for each counterparty without hits, so every screened row is accounted for.
"""

from __future__ import annotations

import csv
import json
import multiprocessing
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, cast

import pyarrow as pa
import pyarrow.parquet as pq

from econsec.model import ListVersion
from econsec.model.party import Party
from econsec.model.record import (
    Counterparty,
    Decision,
    DecisionKind,
    HitKey,
    HitKind,
    RunStatus,
    ScreenedHit,
    ScreeningRun,
    party_content_hash,
)
from econsec.model.screening import Hit
from econsec.screening.algorithms import name_v1
from econsec.screening.counterparties import (
    CounterpartyFile,
    read_counterparties,
    to_query,
    write_errors,
)
from econsec.screening.index import query_keys
from econsec.screening.ownership import ownership_screener
from econsec.screening.report import feature_json
from econsec.screening.screen import ALGORITHM, Screener
from econsec.store.decisions import latest_decisions
from econsec.store.runs import (
    KEY_SEPARATOR,
    add_hits,
    add_screened,
    get_run,
    save_run,
    screened_count,
)
from econsec.store.workspace import Workspace, WorkspaceError

#: Bump when the chunk files or the manifest change meaning.
PARTIAL_FORMAT = 2
DEFAULT_CHUNK_SIZE = 1000
MANIFEST = "manifest.json"


class BatchError(Exception):
    """A batch that cannot run as asked (the message says why and what to do)."""


class OutputFormat(StrEnum):
    csv = "csv"
    parquet = "parquet"
    jsonl = "jsonl"

    @classmethod
    def for_path(cls, path: Path) -> OutputFormat:
        suffix = path.suffix.lower()
        if suffix == ".csv":
            return cls.csv
        if suffix in (".parquet", ".pq"):
            return cls.parquet
        if suffix in (".jsonl", ".ndjson", ".json"):
            return cls.jsonl
        raise BatchError(
            f"{path}: cannot tell the output format from the extension "
            "(.csv, .parquet, .jsonl); give --format"
        )


@dataclass(frozen=True, slots=True)
class BatchSettings:
    #: None: the algorithm's default threshold.
    threshold: float | None = None
    #: Only these sources or lists; empty: all.
    lists: tuple[str, ...] = ()
    #: Hits kept per counterparty and screener.
    limit: int = 10
    chunk_size: int = DEFAULT_CHUNK_SIZE
    #: Worker processes; None: one per core.
    workers: int | None = None
    #: The date the ownership rules are applied on; None: today.
    on: date | None = None

    @property
    def effective_threshold(self) -> float:
        return name_v1.DEFAULT_THRESHOLD if self.threshold is None else self.threshold

    def worker_count(self) -> int:
        return max(1, self.workers if self.workers is not None else (os.cpu_count() or 1))


#: Called with (rows done, rows in all) as chunks finish.
Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class BatchSummary:
    run: ScreeningRun
    output: Path
    rows: int
    #: Counterparties by result: no_hit, open, escalated, cleared, confirmed.
    results: dict[str, int]
    hits: int
    chunks_screened: int
    chunks_reused: int
    errors: int
    errors_file: Path | None
    seconds: float
    #: Whether the ownership rules were screened too (the ownership module is there).
    ownership: bool
    #: Delta screening only: counterparties re-screened, new and vanished hits.
    rescreened: int | None = None
    new_hits: int = 0
    vanished_hits: int = 0
    changed_hits: int = 0


def _standing_decisions(workspace: Workspace, keys: Iterable[HitKey]) -> dict[HitKey, Decision]:
    return latest_decisions(workspace, list(keys))


# -- screening rows ------------------------------------------------------------


def explanation_text(features: Sequence[dict[str, Any]]) -> str:
    return "; ".join(f"{f['feature']} {f['effect']:+.3f}: {f['detail']}" for f in features)


@dataclass
class ScreenJob:
    """What every worker needs: the screeners, the settings and the version ids."""

    screener: Screener
    settings: BatchSettings
    ownership: Screener | None = None
    _version_of: dict[str, str] = field(default_factory=dict)
    _hashes: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for screener in (self.screener, self.ownership):
            if screener is not None:
                for v in screener.versions:
                    self._version_of.setdefault(v.source, v.version_id)

    def party_hash(self, party: Party) -> str:
        cached = self._hashes.get(party.entity_id)
        if cached is None:
            cached = self._hashes[party.entity_id] = party_content_hash(party)
        return cached

    def hit_json(self, hit: Hit, kind: HitKind) -> dict[str, Any]:
        party = hit.party
        features = [feature_json(f) for f in hit.match.features]
        explanation = explanation_text(features)
        if kind is HitKind.OWNERSHIP and party.remarks:
            explanation = f"{party.remarks}; name match: {explanation}"
        return {
            "kind": kind.value,
            "entity_id": party.entity_id,
            "party_hash": self.party_hash(party),
            "list": party.list,
            "source": party.source,
            "list_version_id": self._version_of.get(party.source, party.source),
            "listed_name": party.name,
            "matched_name": hit.match.matched_name,
            "score": hit.match.score,
            "explanation": explanation,
            "features": features,
            "programs": list(party.programs),
            "license_requirement": party.license_requirement,
        }

    def screen(self, counterparty: Counterparty) -> list[dict[str, Any]]:
        return self.screen_row(counterparty)[0]

    def screen_row(self, counterparty: Counterparty) -> tuple[list[dict[str, Any]], str]:
        """The row's hits, and the candidate-index keys its name looks up
        (joined by ``KEY_SEPARATOR``), kept so that a later delta re-screen can
        tell which rows may match a new entry without preparing every name again."""
        s = self.settings
        query = to_query(counterparty, s.threshold, s.lists, s.limit)
        prepared = name_v1.prepare_query(query)
        result = self.screener.screen(query, prepared)
        hits = [self.hit_json(h, HitKind.NAME) for h in result.hits]
        keys = KEY_SEPARATOR.join(query_keys(prepared.forms))
        if self.ownership is not None:
            own = to_query(counterparty, s.threshold, (), s.limit)
            hits += [self.hit_json(h, HitKind.OWNERSHIP) for h in self.ownership.screen(own).hits]
        return hits, keys


def _chunk_name(index: int) -> str:
    return f"chunk-{index:06d}.jsonl"


def _write_atomic(path: Path, write: Callable[[Path], None]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@dataclass
class _ChunkWork:
    job: ScreenJob
    counterparties: Sequence[Counterparty]
    chunk_size: int
    folder: Path


#: Set in the parent before forking the workers, which inherit it.
_WORK: _ChunkWork | None = None


def _screen_chunk(index: int) -> int:
    work = _WORK
    assert work is not None, "worker started without work"
    start = index * work.chunk_size
    part = work.counterparties[start : start + work.chunk_size]
    lines = []
    for offset, cp in enumerate(part):
        hits, keys = work.job.screen_row(cp)
        record = {"i": start + offset, "reference": cp.reference, "hits": hits, "keys": keys}
        lines.append(json.dumps(record, ensure_ascii=False))

    def write(tmp: Path) -> None:
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")

    _write_atomic(work.folder / _chunk_name(index), write)
    return len(part)


def screen_in_chunks(
    job: ScreenJob,
    counterparties: Sequence[Counterparty],
    folder: Path,
    progress: Progress | None = None,
) -> tuple[int, int]:
    """Screen every chunk not yet in ``folder``; (chunks screened, chunks reused)."""
    global _WORK  # noqa: PLW0603 (inherited by the forked workers)
    size = job.settings.chunk_size
    total_chunks = (len(counterparties) + size - 1) // size
    done = {i for i in range(total_chunks) if (folder / _chunk_name(i)).exists()}
    pending = [i for i in range(total_chunks) if i not in done]
    rows_done = sum(min(size, len(counterparties) - i * size) for i in done)
    if progress:
        progress(rows_done, len(counterparties))
    _WORK = _ChunkWork(job, counterparties, size, folder)
    try:
        workers = min(job.settings.worker_count(), len(pending))
        if workers <= 1 or "fork" not in multiprocessing.get_all_start_methods():
            for index in pending:
                rows_done += _screen_chunk(index)
                if progress:
                    progress(rows_done, len(counterparties))
        else:
            context = multiprocessing.get_context("fork")
            with context.Pool(workers) as pool:
                for n in pool.imap_unordered(_screen_chunk, pending):
                    rows_done += n
                    if progress:
                        progress(rows_done, len(counterparties))
    finally:
        _WORK = None
    return len(pending), len(done)


def read_chunks(
    folder: Path, count: int, chunk_size: int
) -> tuple[list[list[dict[str, Any]]], list[str | None]]:
    """The hits of each counterparty, by input position, from the chunk files,
    and the index keys of each (None in chunks written before keys were kept)."""
    results: list[list[dict[str, Any]] | None] = [None] * count
    keys: list[str | None] = [None] * count
    for index in range((count + chunk_size - 1) // chunk_size):
        path = folder / _chunk_name(index)
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                record = json.loads(line)
                results[record["i"]] = record["hits"]
                keys[record["i"]] = record.get("keys")
    missing = [i for i, r in enumerate(results) if r is None]
    if missing:
        raise BatchError(f"{folder}: no result for input row position {missing[0]}; use --restart")
    return cast(list[list[dict[str, Any]]], results), keys


# -- the partial state -----------------------------------------------------------


def partial_dir(out: Path) -> Path:
    return out.with_name(out.name + ".partial")


def _manifest(
    source: CounterpartyFile,
    versions: Sequence[ListVersion],
    settings: BatchSettings,
    ownership: Screener | None,
    on: date,
) -> dict[str, Any]:
    return {
        "format": PARTIAL_FORMAT,
        "input_file": str(source.path),
        "input_sha256": source.sha256,
        "columns": source.columns,
        "rows": len(source.counterparties),
        "list_versions": sorted(f"{v.version_id} {v.content_hash}" for v in versions),
        "ownership_versions": sorted(
            f"{v.version_id} {v.content_hash}" for v in (ownership.versions if ownership else ())
        ),
        "ownership_date": on.isoformat() if ownership is not None else None,
        "algorithm": ALGORITHM,
        "threshold": settings.effective_threshold,
        "lists": list(settings.lists),
        "limit": settings.limit,
        "chunk_size": settings.chunk_size,
    }


def _prepare_partial(folder: Path, manifest: dict[str, Any], restart: bool) -> str | None:
    """Set up the partial folder; the run id of an interrupted run it continues."""
    path = folder / MANIFEST
    if folder.exists() and restart:
        shutil.rmtree(folder)
    if path.exists():
        stored = json.loads(path.read_text(encoding="utf-8"))
        run_id = stored.pop("run_id", None)
        if stored != manifest:
            changed = sorted(
                k for k in set(stored) | set(manifest) if stored.get(k) != manifest.get(k)
            )
            raise BatchError(
                f"{folder} holds an interrupted batch with other "
                f"{', '.join(changed)} (the input file, the lists or the settings changed "
                "since); run again with --restart to discard it, or restore what changed"
            )
        return str(run_id) if run_id else None
    folder.mkdir(parents=True, exist_ok=True)
    return None


def _save_manifest(folder: Path, manifest: dict[str, Any], run_id: str) -> None:
    def write(tmp: Path) -> None:
        tmp.write_text(json.dumps({**manifest, "run_id": run_id}, indent=2), encoding="utf-8")

    _write_atomic(folder / MANIFEST, write)


# -- results: decisions, output file, run record ---------------------------------

#: Counterparty result, most pressing first.
RESULT_ORDER = ("confirmed", "open", "escalated", "cleared", "no_hit")
_DECISION_RESULT = {
    DecisionKind.CONFIRMED: "confirmed",
    DecisionKind.ESCALATED: "escalated",
    DecisionKind.CLEARED: "cleared",
}


def hit_key(counterparty: Counterparty, cp_hash: str, hit: Mapping[str, Any]) -> HitKey:
    return HitKey(counterparty.reference, cp_hash, hit["entity_id"], hit["party_hash"])


def annotate(
    workspace: Workspace,
    counterparties: Sequence[Counterparty],
    hashes: Sequence[str],
    results: Sequence[list[dict[str, Any]]],
) -> list[str]:
    """Attach the standing decision to every hit; each counterparty's result."""
    keys = [
        hit_key(cp, h, hit)
        for cp, h, hits in zip(counterparties, hashes, results, strict=True)
        for hit in hits
    ]
    decisions = _standing_decisions(workspace, keys) if keys else {}
    outcome = []
    for cp, h, hits in zip(counterparties, hashes, results, strict=True):
        best = "no_hit"
        for hit in hits:
            decision = decisions.get(hit_key(cp, h, hit))
            hit["status"] = "open" if decision is None else _DECISION_RESULT[decision.kind]
            hit["decision"] = (
                None
                if decision is None
                else {
                    "kind": decision.kind.value,
                    "reviewer": decision.reviewer,
                    "decided_at": decision.decided_at,
                    "reason": decision.reason,
                    "decision_id": decision.decision_id,
                }
            )
            if RESULT_ORDER.index(hit["status"]) < RESULT_ORDER.index(best):
                best = hit["status"]
        outcome.append(best)
    return outcome


_FLAT_COLUMNS = (
    "row",
    "reference",
    "name",
    "schema",
    "countries",
    "dates_of_birth",
    "identifiers",
    "result",
    "change",
    "kind",
    "score",
    "entity_id",
    "list",
    "listed_name",
    "matched_name",
    "list_version_id",
    "programs",
    "license_requirement",
    "explanation",
    "status",
    "decision",
    "reviewer",
    "decided_at",
    "decision_reason",
    "counterparty_hash",
    "party_hash",
)


def _flat_rows(records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for r in records:
        base = {
            "row": r["row"],
            "reference": r["reference"],
            "name": r["name"],
            "schema": r["schema"],
            "countries": ";".join(r["countries"]),
            "dates_of_birth": ";".join(r["dates_of_birth"]),
            "identifiers": ";".join(r["identifiers"]),
            "result": r["result"],
            "counterparty_hash": r["counterparty_hash"],
        }
        entries = [(h, h.get("change")) for h in r["hits"]]
        entries += [(h, "vanished") for h in r.get("vanished_hits", [])]
        if not entries:
            rows.append({**base, "change": None})
        for hit, change in entries:
            decision = hit.get("decision") or {}
            rows.append(
                {
                    **base,
                    "change": change,
                    "kind": hit["kind"],
                    "score": hit["score"],
                    "entity_id": hit["entity_id"],
                    "list": hit["list"],
                    "listed_name": hit["listed_name"],
                    "matched_name": hit["matched_name"],
                    "list_version_id": hit["list_version_id"],
                    "programs": ";".join(hit["programs"]),
                    "license_requirement": hit["license_requirement"],
                    "explanation": hit["explanation"],
                    "status": hit.get("status"),
                    "decision": decision.get("kind"),
                    "reviewer": decision.get("reviewer"),
                    "decided_at": decision.get("decided_at"),
                    "decision_reason": decision.get("reason"),
                    "party_hash": hit["party_hash"],
                }
            )
    return rows


def write_results(records: Sequence[dict[str, Any]], out: Path, fmt: OutputFormat) -> None:
    """Write the results file atomically."""
    out.parent.mkdir(parents=True, exist_ok=True)

    def write(tmp: Path) -> None:
        if fmt is OutputFormat.jsonl:
            with tmp.open("w", encoding="utf-8") as fh:
                for record in records:
                    fh.write(json.dumps(record, ensure_ascii=False) + "\n")
            return
        rows = _flat_rows(records)
        if fmt is OutputFormat.csv:
            with tmp.open("w", encoding="utf-8", newline="") as fh:
                writer = csv.DictWriter(fh, fieldnames=_FLAT_COLUMNS, extrasaction="raise")
                writer.writeheader()
                writer.writerows(rows)
            return
        numeric = {"row": pa.int64(), "score": pa.float64()}
        schema = pa.schema([(c, numeric.get(c, pa.string())) for c in _FLAT_COLUMNS])
        table = pa.Table.from_pylist(
            [{c: row.get(c) for c in _FLAT_COLUMNS} for row in rows], schema=schema
        )
        pq.write_table(table, tmp)

    _write_atomic(out, write)


def build_records(
    counterparties: Sequence[Counterparty],
    rows: Sequence[int],
    hashes: Sequence[str],
    results: Sequence[list[dict[str, Any]]],
    outcome: Sequence[str],
) -> list[dict[str, Any]]:
    return [
        {
            "row": row,
            "reference": cp.reference,
            "name": cp.name,
            "schema": cp.schema,
            "countries": list(cp.countries),
            "dates_of_birth": list(cp.dates_of_birth),
            "identifiers": list(cp.identifiers),
            "counterparty_hash": h,
            "result": result,
            "hits": hits,
        }
        for cp, row, h, hits, result in zip(
            counterparties, rows, hashes, results, outcome, strict=True
        )
    ]


def screened_hits(run_id: str, records: Sequence[dict[str, Any]]) -> list[ScreenedHit]:
    return [
        ScreenedHit(
            run_id=run_id,
            key=HitKey(r["reference"], r["counterparty_hash"], h["entity_id"], h["party_hash"]),
            kind=HitKind(h["kind"]),
            score=h["score"],
            matched_name=h["matched_name"],
            list=h["list"],
            list_version_id=h["list_version_id"],
            explanation=h["explanation"],
        )
        for r in records
        for h in r["hits"]
    ]


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]


def record_run(
    workspace: Workspace,
    run: ScreeningRun,
    counterparties: Sequence[Counterparty],
    records: Sequence[dict[str, Any]],
    index_keys: Sequence[str | None] | None = None,
) -> ScreeningRun:
    """Store the rows (with their index keys, where known) and hits (once, even
    when a recording was cut short) and mark the run completed."""
    if screened_count(workspace, run.run_id) == 0:
        add_screened(workspace, run.run_id, counterparties, index_keys)
        add_hits(workspace, screened_hits(run.run_id, records))
    done = replace(run, status=RunStatus.COMPLETED, finished_at=now())
    save_run(workspace, done)
    return done


def count_results(outcome: Iterable[str]) -> dict[str, int]:
    counts = dict.fromkeys(RESULT_ORDER, 0)
    for result in outcome:
        counts[result] += 1
    return counts


# -- the batch -------------------------------------------------------------------


def batch_screen(
    workspace: Workspace,
    input_file: Path,
    out: Path,
    *,
    settings: BatchSettings | None = None,
    mapping: Mapping[str, str] | None = None,
    fmt: OutputFormat | None = None,
    skip_bad: bool = False,
    restart: bool = False,
    screener: Screener | None = None,
    progress: Progress | None = None,
    source: CounterpartyFile | None = None,
) -> BatchSummary:
    """Screen a counterparty file into ``out`` (see the module documentation).

    ``screener`` is the workspace's cached screener unless given (one already
    built over the workspace's active lists). ``source`` is the file already
    read (the API reads it on upload).
    """
    started = time.perf_counter()
    settings = settings or BatchSettings()
    fmt = fmt or OutputFormat.for_path(out)
    if settings.chunk_size < 1:
        raise BatchError(f"chunk size: must be at least 1, got {settings.chunk_size}")
    if source is None:
        source = read_counterparties(input_file, mapping, skip_bad)
    if screener is None:
        from econsec.screening.cache import cached_screener  # noqa: PLC0415 (heavy)

        screener = cached_screener(workspace)
    if not screener.versions:
        raise BatchError("no lists loaded: run `econsec lists load` first")
    on = settings.on or date.today()
    own = ownership_screener(workspace, on)
    job = ScreenJob(screener, settings, own)
    # Check the list restriction once, before any chunk (a typo fails fast).
    if source.counterparties:
        job.screen(source.counterparties[0])

    folder = partial_dir(out)
    manifest = _manifest(source, screener.versions, settings, own, on)
    run_id = _prepare_partial(folder, manifest, restart) or new_run_id()
    _save_manifest(folder, manifest, run_id)
    try:
        previous = get_run(workspace, run_id)
        started_at = previous.started_at
    except WorkspaceError:
        started_at = now()
    versions = screener.versions + (own.versions if own else ())
    run = ScreeningRun(
        run_id=run_id,
        started_at=started_at,
        finished_at=None,
        input_file=str(input_file),
        input_sha256=source.sha256,
        row_count=len(source.counterparties),
        list_versions=tuple(dict.fromkeys(versions)),
        algorithm=ALGORITHM,
        threshold=settings.effective_threshold,
        status=RunStatus.RUNNING,
        output_file=None,
    )
    save_run(workspace, run)
    errors_file = None
    if source.errors:
        errors_file = out.with_name(out.name + ".errors.csv")
        write_errors(source.errors, errors_file, input_file)
    try:
        screened, reused = screen_in_chunks(job, source.counterparties, folder, progress)
        results, keys = read_chunks(folder, len(source.counterparties), settings.chunk_size)
        hashes = [cp.content_hash() for cp in source.counterparties]
        outcome = annotate(workspace, source.counterparties, hashes, results)
        records = build_records(source.counterparties, source.rows, hashes, results, outcome)
        write_results(records, out, fmt)
        run = replace(run, output_file=str(out))
        run = record_run(workspace, run, source.counterparties, records, keys)
    except BaseException:
        save_run(workspace, replace(run, status=RunStatus.FAILED))
        raise
    shutil.rmtree(folder, ignore_errors=True)
    return BatchSummary(
        run=run,
        output=out,
        rows=len(source.counterparties),
        results=count_results(outcome),
        hits=sum(len(r) for r in results),
        chunks_screened=screened,
        chunks_reused=reused,
        errors=len(source.errors),
        errors_file=errors_file,
        seconds=time.perf_counter() - started,
        ownership=own is not None,
    )


def summary_json(summary: BatchSummary) -> dict[str, Any]:
    run = asdict(summary.run)
    run["list_versions"] = [v["version_id"] for v in run["list_versions"]]
    return {
        "run": run,
        "output": str(summary.output),
        "rows": summary.rows,
        "results": summary.results,
        "hits": summary.hits,
        "chunks_screened": summary.chunks_screened,
        "chunks_reused": summary.chunks_reused,
        "errors": summary.errors,
        "errors_file": str(summary.errors_file) if summary.errors_file else None,
        "seconds": round(summary.seconds, 3),
        "ownership": summary.ownership,
        "rescreened": summary.rescreened,
        "new_hits": summary.new_hits,
        "vanished_hits": summary.vanished_hits,
        "changed_hits": summary.changed_hits,
    }
