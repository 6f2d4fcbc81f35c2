"""Single-query throughput and latency of `econsec screen`, against a brute-force baseline.

Both run in this process, on one core, over the same queries, against every
list in ../shared/data/lists (about 38,000 entries, 88,000 names):

* econsec: ``Screener.screen`` (candidate index + name-v1, default threshold);
* baseline: a brute-force rapidfuzz scan (``process.extract`` with
  ``fuzz.token_sort_ratio`` over every preprocessed name), best 3 entries.

Queries: the UN treated and US Congress positives (with their date of birth
and nationality) and a sample of the global and US negatives. Recall@3 is
measured on the positives for both matchers, so the speed-up is reported at
the recall each achieves. The baseline is slow, so it runs on a sample of the
queries (``--baseline-queries``); its throughput is the rate on that sample.

Usage: python benchmarks/screening_throughput.py [--negatives N] [--baseline-queries N]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections.abc import Sequence

import numpy as np
from rapidfuzz import fuzz, process, utils

from econsec.model import Party
from econsec.screening import evaluation as ev
from econsec.screening.names import warm_up
from econsec.settings import data_dir


class BruteForce:
    """Score every name of every entry with rapidfuzz; keep the best 3 entries."""

    def __init__(self, parties: Sequence[Party]) -> None:
        self.names: list[str] = []
        self.owner: list[str] = []
        for party in parties:
            for name in party.all_names:
                self.names.append(utils.default_process(name))
                self.owner.append(party.entity_id)

    def top(self, name: str, k: int = 3) -> list[str]:
        found = process.extract(
            utils.default_process(name),
            self.names,
            scorer=fuzz.token_sort_ratio,
            processor=None,
            limit=k * 20,
        )
        out: list[str] = []
        for _, _, index in found:
            entity = self.owner[index]
            if entity not in out:
                out.append(entity)
            if len(out) == k:
                break
        return out


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--negatives", type=int, default=4000, help="negatives per set")
    parser.add_argument("--baseline-queries", type=int, default=600)
    parser.add_argument("--seed", type=int, default=20261122)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core
    data = data_dir()
    if data is None:
        print("no ../shared/data folder (set ECONSEC_DATA)", file=sys.stderr)
        return 2
    matching = data / "matching"
    screener = ev.screener_over_data(data)
    un = [p for p in screener.parties if p.source == "un_sc"]
    congress = [p for p in screener.parties if p.source == "os_us_congress"]
    _, treated = ev.label_positives(
        matching / "yente_positives_un_untreated.csv",
        matching / "yente_positives_un_treated.csv",
        un,
        (),
    )
    congress_rows, _ = ev.label_positives(
        matching / "yente_positives_us_congress_untreated.csv", None, congress, ()
    )
    positives = [q for q in treated + congress_rows if q.truth]
    negatives = [
        q
        for name in ("yente_negatives_global.csv", "yente_negatives_us.csv")
        for _, q, _ in ev.read_people(matching / name)[: args.negatives]
    ]
    queries = [p.query for p in positives] + negatives
    rng = random.Random(args.seed)
    rng.shuffle(queries)
    print(
        f"{len(screener.parties)} entries, {screener.form_count} names; "
        f"{len(queries)} queries ({len(positives)} positives), one core"
    )

    warm_up()  # rigour's data and the lazily loaded transliterators
    for query in queries[:200]:  # warm-up (caches)
        screener.screen(query)
    latencies: list[float] = []
    started = time.perf_counter()
    for query in queries:
        t = time.perf_counter()
        screener.screen(query)
        latencies.append(time.perf_counter() - t)
    elapsed = time.perf_counter() - started
    ours_qps = len(queries) / elapsed
    found = sum(
        bool(p.truth & {h.party.entity_id for h in screener.screen(p.query).hits[:3]})
        for p in positives
    )
    ours_recall = found / len(positives)

    baseline = BruteForce(screener.parties)
    sample = queries[: args.baseline_queries]
    base_lat: list[float] = []
    for query in sample:
        t = time.perf_counter()
        baseline.top(query.name)
        base_lat.append(time.perf_counter() - t)
    base_qps = len(sample) / sum(base_lat)
    base_found = sum(bool(p.truth & set(baseline.top(p.query.name))) for p in positives)
    base_recall = base_found / len(positives)

    print(f"{'':24s} {'queries/s':>10s} {'p50 ms':>8s} {'p99 ms':>8s} {'recall@3':>9s}")
    print(
        f"{'econsec name-v1':24s} {ours_qps:10.0f} {percentile(latencies, 50) * 1e3:8.2f} "
        f"{percentile(latencies, 99) * 1e3:8.2f} {ours_recall:9.4f}"
    )
    print(
        f"{'brute-force rapidfuzz':24s} {base_qps:10.1f} {percentile(base_lat, 50) * 1e3:8.2f} "
        f"{percentile(base_lat, 99) * 1e3:8.2f} {base_recall:9.4f}"
    )
    print(
        f"speed-up x{ours_qps / base_qps:.0f} (queries/s ratio), "
        f"recall difference {ours_recall - base_recall:+.4f}; "
        f"mean latency {statistics.fmean(latencies) * 1e3:.2f} ms"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
