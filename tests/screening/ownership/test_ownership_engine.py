"""The vectorised fixed point against a straightforward networkx one, and the
incremental update against a full recomputation, on random graphs."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from econsec.screening.ownership.coverage import SUM_TOLERANCE, CoverageEngine

THRESHOLD = 50.0


def networkx_fixed_point(
    n: int, edges: list[tuple[int, int, float]], seeds: set[int], unknown_as: float
) -> set[int]:
    """Iterate: every entity sums the stakes of covered owners, until nothing changes."""
    graph: nx.MultiDiGraph[int] = nx.MultiDiGraph()
    graph.add_nodes_from(range(n))
    for owner, owned, pct in edges:
        graph.add_edge(owner, owned, pct=unknown_as if math.isnan(pct) else pct)
    covered = set(seeds)
    changed = True
    while changed:
        changed = False
        for node in graph.nodes:
            if node in covered:
                continue
            share = sum(d["pct"] for u, _, d in graph.in_edges(node, data=True) if u in covered)
            if share >= THRESHOLD - SUM_TOLERANCE:
                covered.add(node)
                changed = True
    return covered


percents = st.one_of(
    st.sampled_from([100.0, 50.0, 49.9, 25.0, 30.0, 20.0, 60.0, float("nan")]),
    st.floats(0, 100, allow_nan=False),
)


@st.composite
def graphs(draw: st.DrawFn) -> tuple[int, list[tuple[int, int, float]], set[int], int]:
    n = draw(st.integers(2, 30))
    nodes = st.integers(0, n - 1)
    edges = draw(st.lists(st.tuples(nodes, nodes, percents), max_size=80))
    seeds = draw(st.sets(nodes, max_size=4))
    extra = draw(nodes)
    return n, edges, seeds, extra


def _engine(n: int, edges: list[tuple[int, int, float]]) -> CoverageEngine:
    return CoverageEngine(
        n,
        np.asarray([e[0] for e in edges], dtype=np.int64),
        np.asarray([e[1] for e in edges], dtype=np.int64),
        np.asarray([e[2] for e in edges], dtype=np.float64),
        THRESHOLD,
    )


@settings(max_examples=150, deadline=None)
@given(graphs())
def test_engine_equals_networkx_baseline(
    case: tuple[int, list[tuple[int, int, float]], set[int], int],
) -> None:
    n, edges, seeds, _ = case
    state = _engine(n, edges).compute(sorted(seeds))
    assert set(np.nonzero(state.covered)[0].tolist()) == networkx_fixed_point(n, edges, seeds, 0.0)
    assert set(np.nonzero(state.possible)[0].tolist()) == networkx_fixed_point(
        n, edges, seeds, 100.0
    )


@settings(max_examples=150, deadline=None)
@given(graphs())
def test_incremental_equals_full_recompute(
    case: tuple[int, list[tuple[int, int, float]], set[int], int],
) -> None:
    n, edges, seeds, extra = case
    engine = _engine(n, edges)
    state = engine.compute(sorted(seeds))
    engine.add_seed(state, extra)
    full = engine.compute(sorted(seeds | {extra}))
    for name in ("seeds", "covered", "possible"):
        assert np.array_equal(getattr(state, name), getattr(full, name)), name
    assert np.allclose(state.share, full.share)
    assert np.allclose(state.share_upper, full.share_upper)


@settings(max_examples=100, deadline=None)
@given(graphs())
def test_explanations_reach_the_threshold_and_end_at_seeds(
    case: tuple[int, list[tuple[int, int, float]], set[int], int],
) -> None:
    n, edges, seeds, extra = case
    engine = _engine(n, edges)
    state = engine.compute(sorted(seeds))
    engine.add_seed(state, extra)  # explanations stay valid after an incremental update
    for node in np.nonzero(state.covered & ~state.seeds)[0].tolist():
        holdings = engine.contributions(state, node)
        assert engine.percent[holdings].sum() >= THRESHOLD - SUM_TOLERANCE
        owners = engine.owner[holdings]
        assert (state.step[owners] < state.step[node]).all()
