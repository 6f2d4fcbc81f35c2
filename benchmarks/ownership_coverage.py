"""Ownership coverage (50 % rules) on a generated graph, against a networkx baseline.

Generates (seeded) a graph of ``--entities`` entities and ``--edges`` holdings
(default: the issue's 1,000,000 and 2,000,000) with power-law out-degrees,
chains of up to depth 10 hanging from listed seeds, cycles, ~2 % unknown
stakes and a few thousand listed seeds. Measures:

* the full vectorised computation (lower and upper fixed points) and the
  peak memory it allocates (tracemalloc) and of the process (ru_maxrss);
* adding one new listing incrementally vs a full recomputation (ratio);
* a straightforward networkx fixed point (every entity sums the stakes of
  covered owners, repeated until nothing changes), with identical results
  asserted.

    python benchmarks/ownership_coverage.py                  # issue sizes
    python benchmarks/ownership_coverage.py --entities 100000 --edges 200000
"""

from __future__ import annotations

import argparse
import resource
import time
import tracemalloc

import networkx as nx
import numpy as np
import numpy.typing as npt

from econsec.screening.ownership.coverage import SUM_TOLERANCE, CoverageEngine

THRESHOLD = 50.0
MAX_DEPTH = 10


def generate(
    n: int, m: int, seeds: int, rng: np.random.Generator
) -> tuple[
    npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.int64]
]:
    chains = min(seeds, n // 40, m // 20)
    chain_edges = chains * MAX_DEPTH
    random_edges = m - chain_edges - chains  # the rest: power-law owners, one back-edge per chain
    # Power-law out-degree: owners drawn with Zipf-like weights over a shuffled order.
    ranks = np.arange(1, n + 1, dtype=np.float64)
    weights = ranks**-1.1
    weights /= weights.sum()
    perm = rng.permutation(n)
    owner = perm[rng.choice(n, size=random_edges, p=weights)]
    owned = rng.integers(0, n, size=random_edges)
    pct = rng.choice(
        [100.0, 60.0, 51.0, 50.0, 40.0, 30.0, 25.0, 20.0, 10.0, 5.0], size=random_edges
    )
    # Chains from a listed seed: depth 1…10, mostly majority stakes.
    heads = rng.choice(n, size=chains, replace=False)
    nodes = rng.integers(0, n, size=(chains, MAX_DEPTH))
    chain_owner = np.concatenate([heads[:, None], nodes[:, :-1]], axis=1).ravel()
    chain_owned = nodes.ravel()
    chain_pct = rng.choice([100.0, 75.0, 50.0, 45.0], size=chain_edges, p=[0.4, 0.3, 0.2, 0.1])
    # Cycles: the end of each chain holds a stake back in its head's first subsidiary.
    back_owner = nodes[:, -1]
    back_owned = nodes[:, 0]
    back_pct = rng.choice([30.0, 60.0], size=chains)
    owner_all = np.concatenate([owner, chain_owner, back_owner]).astype(np.int64)
    owned_all = np.concatenate([owned, chain_owned, back_owned]).astype(np.int64)
    pct_all = np.concatenate([pct, chain_pct, back_pct])
    pct_all[rng.random(pct_all.size) < 0.02] = np.nan  # unknown stakes
    seed_ids = np.unique(np.concatenate([heads, rng.choice(n, size=max(0, seeds - chains))]))
    return owner_all, owned_all, pct_all, seed_ids.astype(np.int64)


def networkx_fixed_point(
    n: int,
    owner: npt.NDArray[np.int64],
    owned: npt.NDArray[np.int64],
    pct: npt.NDArray[np.float64],
    seeds: npt.NDArray[np.int64],
) -> set[int]:
    graph: nx.MultiDiGraph[int] = nx.MultiDiGraph()
    graph.add_nodes_from(range(n))
    known = np.where(np.isnan(pct), 0.0, pct)
    graph.add_weighted_edges_from(
        zip(owner.tolist(), owned.tolist(), known.tolist(), strict=True), weight="pct"
    )
    covered = set(seeds.tolist())
    changed = True
    while changed:
        changed = False
        for node in graph.nodes:
            if node in covered:
                continue
            share = 0.0
            for u, _, data in graph.in_edges(node, data=True):
                if u in covered:
                    share += float(data["pct"])
            if share >= THRESHOLD - SUM_TOLERANCE:
                covered.add(node)
                changed = True
    return covered


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entities", type=int, default=1_000_000)
    parser.add_argument("--edges", type=int, default=2_000_000)
    parser.add_argument("--seeds", type=int, default=3_000)
    parser.add_argument("--random-seed", type=int, default=20260731)
    parser.add_argument("--incremental-trials", type=int, default=20)
    parser.add_argument("--skip-baseline", action="store_true")
    args = parser.parse_args()
    rng = np.random.default_rng(args.random_seed)
    n = args.entities
    owner, owned, pct, seeds = generate(n, args.edges, args.seeds, rng)
    print(
        f"graph: {n:,} entities, {owner.size:,} holdings, {seeds.size:,} listed seeds, "
        f"{int(np.isnan(pct).sum()):,} unknown stakes"
    )

    tracemalloc.start()
    started = time.perf_counter()
    engine = CoverageEngine(n, owner, owned, pct, THRESHOLD)
    built = time.perf_counter()
    state = engine.compute(seeds)
    full = time.perf_counter() - built
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"econsec: layout {built - started:.2f} s, full coverage {full:.2f} s "
        f"(covered {int(state.covered.sum()):,}, needs review "
        f"{int(state.needs_review.sum()):,}); peak allocated {peak / 2**20:,.0f} MiB"
    )

    # Incremental: one new listing at a time vs a full recompute with it.
    seed_set = set(seeds.tolist())
    candidates = [
        int(x) for x in rng.permutation(n)[: args.incremental_trials * 4] if int(x) not in seed_set
    ]
    inc_times, full_times = [], []
    for new in candidates[: args.incremental_trials]:
        t0 = time.perf_counter()
        engine.add_seed(state, new)
        inc_times.append(time.perf_counter() - t0)
        seeds = np.append(seeds, new)
        t0 = time.perf_counter()
        recomputed = engine.compute(seeds)
        full_times.append(time.perf_counter() - t0)
        assert np.array_equal(recomputed.covered, state.covered)
        assert np.array_equal(recomputed.possible, state.possible)
    inc, rec = float(np.median(inc_times)), float(np.median(full_times))
    print(
        f"incremental add of one listing: median {inc * 1e3:.3f} ms vs full recompute "
        f"{rec * 1e3:.0f} ms: {rec / inc:,.0f}x faster (identical results, "
        f"{len(inc_times)} trials)"
    )

    if not args.skip_baseline:
        t0 = time.perf_counter()
        baseline = networkx_fixed_point(n, owner, owned, pct, seeds)
        base = time.perf_counter() - t0
        ours = set(np.nonzero(state.covered)[0].tolist())
        assert baseline == ours, f"results differ: {len(baseline ^ ours)} entities"
        print(
            f"networkx fixed point: {base:.1f} s (identical covered set); econsec full "
            f"coverage is {base / full:,.0f}x faster"
        )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"process peak RSS {rss:,.0f} MiB (includes the networkx baseline)")


if __name__ == "__main__":
    main()
