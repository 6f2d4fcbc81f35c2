"""The 50 % rules' fixed point, vectorised over a whole ownership graph.

Entities are numbered ``0 … n-1`` and holdings are three parallel arrays
(owner, owned, percent; ``NaN`` = unknown percentage). Starting from the seeds
(listed parties of the rule), every entity whose stakes held by covered
parties add up to the threshold (50 %) or more becomes covered, and so on until
nothing changes. The stakes of a newly covered owner count fully, so
A (listed) → 100 % B → 50 % C covers C, while A → 40 % B → 100 % C does not
(B is not covered, so its stake in C counts for nothing).

Two fixed points are computed side by side:

* the **lower** one counts known percentages only: what is certainly covered;
* the **upper** one counts an unknown stake as possibly sufficient (100 %):
  what may be covered. An entity in the upper but not the lower fixed point
  *needs review*: an unknown stake stands between it and a pass.

The computation is a frontier walk: only the entities covered in the last step
push their stakes (gathered from a CSR layout of the holdings by owner), so
each holding is added once, cycles end (an entity is covered once) and the
cost is linear in the holdings of covered entities. Both accumulators, the
covered flags and the step at which each entity was covered are kept in a
:class:`CoverageState`, so a new listing is propagated from that one entity
(:meth:`CoverageEngine.add_seed`): coverage only grows when seeds are added,
so the result equals a full recomputation. A removed listing needs a full
recomputation (coverage may shrink).

The step numbers give the explanation: an entity covered at step ``k`` owes
its coverage to the holdings of owners covered before ``k``, whose stakes add
up to the threshold, and those owners in turn to earlier steps, down to the
listed seeds; the chains therefore always end.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: Tolerance on the threshold, in percentage points, for sums of decimal
#: percentages (33.3 + 16.7 is 49.99999999999999 in binary floating point).
#: Far below any percentage a register states (at most 4 decimals).
SUM_TOLERANCE = 1e-6
#: What an unknown stake may be at most, for the upper fixed point.
UNKNOWN_STAKE_UPPER = 100.0
NOT_COVERED = -1


@dataclass(slots=True)
class CoverageState:
    """Result of a coverage computation, kept up to date by incremental updates."""

    #: Listed parties of the rule (the seeds).
    seeds: BoolArray
    #: Certainly covered (known percentages only).
    covered: BoolArray
    #: Possibly covered (unknown percentages counted as sufficient); ⊇ covered.
    possible: BoolArray
    #: Sum of known stakes held by covered owners.
    share: FloatArray
    #: Sum of stakes held by possibly covered owners, unknown ones at their upper bound.
    share_upper: FloatArray
    #: Step at which each entity became covered (seeds: the step they were added).
    step: IntArray
    step_upper: IntArray
    next_step: int
    next_step_upper: int

    @property
    def needs_review(self) -> BoolArray:
        result: BoolArray = self.possible & ~self.covered
        return result


class CoverageEngine:
    """The holdings of one graph on one date, laid out for propagation."""

    def __init__(
        self,
        entity_count: int,
        owner: IntArray,
        owned: IntArray,
        percent: FloatArray,
        threshold: float,
    ) -> None:
        owner = np.asarray(owner, dtype=np.int64)
        owned = np.asarray(owned, dtype=np.int64)
        percent = np.asarray(percent, dtype=np.float64)
        if not owner.shape == owned.shape == percent.shape:
            raise ValueError("owner, owned and percent must have the same length")
        if owner.size and (
            min(owner.min(), owned.min()) < 0 or max(owner.max(), owned.max()) >= entity_count
        ):
            raise ValueError("an owner or owned index is outside 0 … entity_count-1")
        self.entity_count = entity_count
        self.threshold = float(threshold)
        self.owner = owner
        self.owned = owned
        self.percent = percent
        # CSR by owner: the out-holdings of entity i are positions indptr[i]:indptr[i+1].
        by_owner = np.argsort(owner, kind="stable")
        self._edge = by_owner
        self._dst = owned[by_owner]
        pct = percent[by_owner]
        unknown = np.isnan(pct)
        self._w_lower = np.where(unknown, 0.0, pct)
        self._w_upper = np.where(unknown, UNKNOWN_STAKE_UPPER, pct)
        self._indptr = np.zeros(entity_count + 1, dtype=np.int64)
        np.cumsum(np.bincount(owner, minlength=entity_count), out=self._indptr[1:])
        self._in: tuple[IntArray, IntArray] | None = None

    # -- full computation ---------------------------------------------------

    def compute(self, seeds: Iterable[int] | IntArray) -> CoverageState:
        n = self.entity_count
        seed_ids = np.unique(
            np.asarray(list(seeds) if not isinstance(seeds, np.ndarray) else seeds, dtype=np.int64)
        )
        state = CoverageState(
            seeds=np.zeros(n, dtype=bool),
            covered=np.zeros(n, dtype=bool),
            possible=np.zeros(n, dtype=bool),
            share=np.zeros(n, dtype=np.float64),
            share_upper=np.zeros(n, dtype=np.float64),
            step=np.full(n, NOT_COVERED, dtype=np.int64),
            step_upper=np.full(n, NOT_COVERED, dtype=np.int64),
            next_step=0,
            next_step_upper=0,
        )
        if seed_ids.size:
            self._seed(state, seed_ids)
        return state

    def add_seed(self, state: CoverageState, seed: int) -> None:
        """A new listing: propagate from that entity only (in place)."""
        if state.seeds[seed]:
            return
        self._seed(state, np.asarray([seed], dtype=np.int64))

    def _seed(self, state: CoverageState, seed_ids: IntArray) -> None:
        state.seeds[seed_ids] = True
        fresh = seed_ids[~state.covered[seed_ids]]
        if fresh.size:
            state.covered[fresh] = True
            state.step[fresh] = state.next_step
            state.next_step = self._propagate(
                fresh, state.covered, state.step, state.share, self._w_lower, state.next_step
            )
        fresh = seed_ids[~state.possible[seed_ids]]
        if fresh.size:
            state.possible[fresh] = True
            state.step_upper[fresh] = state.next_step_upper
            state.next_step_upper = self._propagate(
                fresh,
                state.possible,
                state.step_upper,
                state.share_upper,
                self._w_upper,
                state.next_step_upper,
            )

    def _propagate(
        self,
        frontier: IntArray,
        covered: BoolArray,
        step: IntArray,
        share: FloatArray,
        weights: FloatArray,
        current: int,
    ) -> int:
        """Push the stakes of ``frontier`` (covered at step ``current``) until
        nothing new is covered; returns the next free step number."""
        limit = self.threshold - SUM_TOLERANCE
        indptr = self._indptr
        while frontier.size:
            starts = indptr[frontier]
            counts = indptr[frontier + 1] - starts
            total = int(counts.sum())
            current += 1
            if total == 0:
                break
            # Positions of every out-holding of the frontier, without a Python loop.
            offsets = np.repeat(starts - (np.cumsum(counts) - counts), counts)
            positions = offsets + np.arange(total, dtype=np.int64)
            targets = self._dst[positions]
            np.add.at(share, targets, weights[positions])
            touched = np.unique(targets)
            frontier = touched[(share[touched] >= limit) & ~covered[touched]]
            covered[frontier] = True
            step[frontier] = current
        return current

    # -- explanations ---------------------------------------------------------

    def _in_edges(self) -> tuple[IntArray, IntArray]:
        """CSR by owned entity (built on first use): (indptr, holding indices)."""
        if self._in is None:
            by_owned = np.argsort(self.owned, kind="stable")
            indptr = np.zeros(self.entity_count + 1, dtype=np.int64)
            np.cumsum(np.bincount(self.owned, minlength=self.entity_count), out=indptr[1:])
            self._in = (indptr, by_owned.astype(np.int64))
        return self._in

    def holdings_into(self, entity: int) -> IntArray:
        """Indices (into the owner/owned/percent arrays) of the holdings in ``entity``."""
        indptr, edges = self._in_edges()
        result: IntArray = edges[indptr[entity] : indptr[entity + 1]]
        return result

    def contributions(self, state: CoverageState, entity: int, upper: bool = False) -> IntArray:
        """The holdings that made ``entity`` covered: those of owners covered
        before it (in the lower or, with ``upper``, the upper fixed point),
        known stakes only for the lower one."""
        edges = self.holdings_into(entity)
        owners = self.owner[edges]
        step = state.step_upper if upper else state.step
        flags = state.possible if upper else state.covered
        mine = step[entity]
        keep = flags[owners] & (step[owners] < mine) & (owners != entity)
        if not upper:
            keep &= ~np.isnan(self.percent[edges])
        result: IntArray = edges[keep]
        return result

    def covered_owners_of(self, state: CoverageState, entity: int, upper: bool = False) -> IntArray:
        """Every covered (or possibly covered) entity whose ownership reaches
        ``entity`` through covered entities: whose licence requirements it inherits."""
        flags = state.possible if upper else state.covered
        seen = {entity}
        stack = [entity]
        while stack:
            node = stack.pop()
            for owner in self.owner[self.holdings_into(node)].tolist():
                if flags[owner] and owner not in seen:
                    seen.add(owner)
                    stack.append(owner)
        seen.discard(entity)
        return np.asarray(sorted(seen), dtype=np.int64)
