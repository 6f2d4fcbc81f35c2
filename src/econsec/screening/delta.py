"""Delta screening: after a new list edition, re-screen only what can have changed.

Given an earlier run, the counterparties whose result can differ against the
lists active now are:

* those whose own record is new or changed (a new content hash);
* those that had a hit in the earlier run (the entry may have been removed,
  changed, or outranked; they are few, and re-screening them gives fresh
  scores and explanations);
* those whose name, in the earlier run, looked up a candidate-index key that
  an entry added, removed or changed since is filed under (each run keeps the
  keys each row looked up). Candidates come only through shared keys, so for
  every other row the candidates, and hence the result, are what they were.

Everyone else had no hit and can have none now: the score of a counterparty
against an entry depends only on the two (``name-v1`` has no corpus
statistics), and their candidates did not change. One residue remains: the
candidate ranking weighs keys by their rarity among all list names, and that
shifts very slightly with any change of the lists; a ranking flip far down a
row's candidate list could in principle change where the candidate walk stops.
The benchmark (benchmarks/batch_screening.py) compares a delta with a full
re-screen of 100,000 rows hit for hit; periodic full re-screens remain good
practice. The ownership rules (when a graph is loaded) are applied to every
counterparty again, since coverage also depends on the date.

The result is a complete new run (``based_on_run`` names the earlier one)
whose output marks each hit ``new``, ``changed`` (same counterparty and entry,
but either record changed, so an earlier decision no longer applies) or
``unchanged``, and lists the hits that vanished.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

from econsec.lists.diff import ListDiff, diff_versions
from econsec.model.party import Party
from econsec.model.record import Counterparty, HitKind, RunStatus, ScreenedHit, ScreeningRun
from econsec.screening.batch import (
    BatchError,
    BatchSettings,
    BatchSummary,
    OutputFormat,
    Progress,
    ScreenJob,
    annotate,
    build_records,
    count_results,
    new_run_id,
    now,
    read_chunks,
    record_run,
    screen_in_chunks,
    write_results,
)
from econsec.screening.counterparties import CounterpartyFile, to_query
from econsec.screening.ownership import ownership_screener
from econsec.screening.screen import ALGORITHM, Screener
from econsec.store.runs import (
    get_run,
    hits_for_run,
    inherit_index_keys,
    rows_sharing_keys,
    save_run,
    screened_for_run,
)
from econsec.store.workspace import Workspace, WorkspaceError


@dataclass(frozen=True, slots=True)
class ListChanges:
    """What changed in the lists between a run and now, by source."""

    diffs: dict[str, ListDiff]

    @property
    def touched(self) -> set[str]:
        """Entity ids removed or changed."""
        out: set[str] = set()
        for d in self.diffs.values():
            out.update(p.entity_id for p in d.removed)
            out.update(c.entity_id for c in d.changed)
        return out

    @property
    def fresh(self) -> list[Party]:
        """The entries added or changed (as they are now)."""
        out: list[Party] = []
        for d in self.diffs.values():
            out.extend(d.added)
            out.extend(c.new for c in d.changed)
        return out

    @property
    def gone(self) -> list[Party]:
        """The entries removed, and changed entries as they were."""
        out: list[Party] = []
        for d in self.diffs.values():
            out.extend(d.removed)
            out.extend(c.old for c in d.changed)
        return out


def list_changes(workspace: Workspace, base: ScreeningRun, screener: Screener) -> ListChanges:
    """Diff every source whose active version differs from the run's."""
    before = {v.source: v for v in base.list_versions}
    after = {v.source: v for v in screener.versions}
    current: dict[str, list[Party]] = {}
    for party in screener.parties:
        current.setdefault(party.source, []).append(party)
    diffs: dict[str, ListDiff] = {}
    for source in sorted(set(before) | set(after)):
        old_v, new_v = before.get(source), after.get(source)
        if old_v is not None and new_v is not None and old_v.version_id == new_v.version_id:
            continue
        old_parties = [] if old_v is None else _stored(workspace, old_v.version_id)
        if old_parties is None:
            if new_v is None:
                # Not a list the name screener holds (the ownership rules' data, say):
                # those are applied to every counterparty again anyway.
                continue
            raise BatchError(
                f"list version {old_v.version_id if old_v else '?'} of run {base.run_id} is no "
                "longer in the workspace: cannot tell what changed; run a full batch instead"
            )
        diffs[source] = diff_versions(old_parties, current.get(source, []))
    return ListChanges(diffs)


def _stored(workspace: Workspace, version_id: str) -> list[Party] | None:
    try:
        parties = workspace.parties(version_id)
    except WorkspaceError:
        return None
    return parties or None


def _key3(reference: str, entity_id: str, kind: str) -> tuple[str, str, str]:
    return (reference, entity_id, kind)


def _vanished_json(hit: ScreenedHit) -> dict[str, Any]:
    return {
        "kind": hit.kind.value,
        "entity_id": hit.key.entity_id,
        "party_hash": hit.key.party_hash,
        "list": hit.list,
        "list_version_id": hit.list_version_id,
        "listed_name": hit.matched_name,
        "matched_name": hit.matched_name,
        "score": hit.score,
        "explanation": hit.explanation,
        "programs": [],
        "license_requirement": None,
        "previous_run": hit.run_id,
    }


def rescreen(
    workspace: Workspace,
    base_run_id: str,
    out: Path,
    *,
    source: CounterpartyFile | None = None,
    settings: BatchSettings | None = None,
    fmt: OutputFormat | None = None,
    screener: Screener | None = None,
    progress: Progress | None = None,
) -> BatchSummary:
    """Re-screen a run's counterparties (or ``source``, a new edition of the
    counterparty file) against the lists active now, screening only those whose
    result can have changed (see the module documentation)."""
    started = time.perf_counter()
    base = get_run(workspace, base_run_id)
    settings = settings or BatchSettings()
    fmt = fmt or OutputFormat.for_path(out)
    if base.algorithm != ALGORITHM:
        raise BatchError(
            f"run {base.run_id} used {base.algorithm}, this econsec screens with {ALGORITHM}: "
            "every result can differ; run a full batch"
        )
    if settings.threshold is None:
        settings = replace(settings, threshold=base.threshold)
    elif settings.threshold != base.threshold:
        raise BatchError(
            f"threshold: run {base.run_id} used {base.threshold}, not {settings.threshold}; "
            "a delta keeps the threshold (run a full batch to change it)"
        )
    if screener is None:
        from econsec.screening.cache import cached_screener  # noqa: PLC0415 (heavy)

        screener = cached_screener(workspace)
    on = settings.on or date.today()
    own = ownership_screener(workspace, on)
    job = ScreenJob(screener, settings, own)

    changes = list_changes(workspace, base, screener)
    base_hits = hits_for_run(workspace, base.run_id)
    base_cps = screened_for_run(workspace, base.run_id)
    if source is None:
        counterparties: Sequence[Counterparty] = base_cps
        rows: Sequence[int] = range(1, len(base_cps) + 1)
        input_file, input_sha = base.input_file, base.input_sha256
    else:
        counterparties, rows = source.counterparties, source.rows
        input_file, input_sha = str(source.path), source.sha256
    before_hash = {c.reference: c.content_hash() for c in base_cps}
    hashes = [c.content_hash() for c in counterparties]
    had_hit = {h.key.counterparty_reference for h in base_hits}

    needs = {
        i
        for i, (cp, h) in enumerate(zip(counterparties, hashes, strict=True))
        if before_hash.get(cp.reference) != h or cp.reference in had_hit
    }
    touched = changes.fresh + changes.gone
    if settings.lists:  # a run restricted to some lists cannot reach entries of others
        wanted = {x.lower() for x in settings.lists}
        touched = [p for p in touched if p.source.lower() in wanted or p.list.lower() in wanted]
    if touched:
        # A row's candidates come only from list names sharing one of the index
        # keys its name looked up, so only rows sharing a key with an added,
        # removed or changed entry can see their candidates change (a new
        # entry to match, a competitor gone or renamed).
        keys_touched = Screener(touched).index_keys()
        reachable = rows_sharing_keys(workspace, base.run_id, keys_touched)
        if reachable is None:  # the earlier run kept no keys: screen every row
            needs.update(range(len(counterparties)))
        else:
            needs.update(i for i, cp in enumerate(counterparties) if cp.reference in reachable)

    chosen = sorted(needs)
    results: list[list[dict[str, Any]]] = [[] for _ in counterparties]
    keys: list[str | None] = [None] * len(counterparties)
    if chosen:
        subset = [counterparties[i] for i in chosen]
        with tempfile.TemporaryDirectory(prefix="econsec-delta-") as tmp:
            screen_in_chunks(job, subset, Path(tmp), progress)
            hits_of, keys_of = read_chunks(Path(tmp), len(subset), settings.chunk_size)
            for i, hits, row_keys in zip(chosen, hits_of, keys_of, strict=True):
                results[i] = hits
                keys[i] = row_keys
    if own is not None:
        for i, cp in enumerate(counterparties):
            if i not in needs:
                query = to_query(cp, settings.threshold, (), settings.limit)
                results[i] = [job.hit_json(h, HitKind.OWNERSHIP) for h in own.screen(query).hits]

    run = ScreeningRun(
        run_id=new_run_id(),
        started_at=now(),
        finished_at=None,
        input_file=input_file,
        input_sha256=input_sha,
        row_count=len(counterparties),
        list_versions=tuple(dict.fromkeys(screener.versions + (own.versions if own else ()))),
        algorithm=ALGORITHM,
        threshold=settings.effective_threshold,
        status=RunStatus.RUNNING,
        output_file=None,
        based_on_run=base.run_id,
    )
    save_run(workspace, run)

    previous = {
        _key3(h.key.counterparty_reference, h.key.entity_id, h.kind.value): h for h in base_hits
    }
    new_hits = changed_hits = 0
    seen: set[tuple[str, str, str]] = set()
    for cp, h, hits in zip(counterparties, hashes, results, strict=True):
        for hit in hits:
            k = _key3(cp.reference, hit["entity_id"], hit["kind"])
            seen.add(k)
            old = previous.get(k)
            if old is None:
                hit["change"] = "new"
                new_hits += 1
            elif old.key.party_hash != hit["party_hash"] or old.key.counterparty_hash != h:
                hit["change"] = "changed"
                changed_hits += 1
            else:
                hit["change"] = "unchanged"
    outcome = annotate(workspace, counterparties, hashes, results)
    records = build_records(counterparties, rows, hashes, results, outcome)
    by_ref = {r["reference"]: r for r in records}
    vanished = 0
    for k, old in previous.items():
        if k in seen:
            continue
        vanished += 1
        record = by_ref.get(k[0])
        if record is not None:
            record.setdefault("vanished_hits", []).append(_vanished_json(old))
    write_results(records, out, fmt)
    run = record_run(workspace, replace(run, output_file=str(out)), counterparties, records, keys)
    # Rows not screened again keep the keys of the earlier run, for the next delta.
    inherit_index_keys(workspace, run.run_id, base.run_id)
    return BatchSummary(
        run=run,
        output=out,
        rows=len(counterparties),
        results=count_results(outcome),
        hits=sum(len(r) for r in results),
        chunks_screened=0,
        chunks_reused=0,
        errors=len(source.errors) if source else 0,
        errors_file=None,
        seconds=time.perf_counter() - started,
        ownership=own is not None,
        rescreened=len(chosen),
        new_hits=new_hits,
        vanished_hits=vanished,
        changed_hits=changed_hits,
    )
