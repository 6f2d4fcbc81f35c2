"""Answers with their reasons: why an entity is (or is not) covered by a rule.

An :class:`Explanation` names the rule, the date and the period in force (or
suspended) with its citation, the entity's status, the stakes that make up its
covered share, and for every covered owner behind those stakes the same again,
down to the list entries (the *steps*, each entity once, from the entity back
to the listings). ``chains`` spells the paths out (``EL entry → 100 % B →
50 % C``). Needs-review answers name the unknown stakes that stand between the
entity and a pass. The inherited licence requirement is the most restrictive
among the listed owners whose ownership reaches the entity through covered
entities.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

import numpy as np

from econsec.rules.dated import Period
from econsec.rules.ownership import Requirement
from econsec.screening.ownership.graph import OwnershipContext, RuleCoverage

#: At most this many chains are spelt out (a dense graph has many).
MAX_CHAINS = 10


class Status(StrEnum):
    #: The entity is itself a listed party of the rule.
    LISTED = "listed"
    #: Covered through ownership (stakes of covered owners ≥ threshold).
    COVERED = "covered"
    #: Covered if unknown stakes are large enough: a red flag for review.
    NEEDS_REVIEW = "needs_review"
    NOT_COVERED = "not_covered"
    #: The rule does not apply on the date (not yet in force, suspended).
    RULE_NOT_IN_FORCE = "rule_not_in_force"


@dataclass(frozen=True, slots=True)
class Listing:
    party_id: str
    list: str
    name: str
    programs: tuple[str, ...]
    #: ``reference`` or ``name`` (linked by name, with the evidence).
    method: str
    evidence: str


@dataclass(frozen=True, slots=True)
class Stake:
    owner_id: str
    owner_name: str
    owned_id: str
    #: None = unknown.
    percent: float | None
    share_class: str | None
    valid_from: date | None
    valid_to: date | None
    source: str | None
    #: File and record of the holding.
    record: str


@dataclass(frozen=True, slots=True)
class Step:
    """One entity on the way: listed, or covered by the stakes named."""

    entity_id: str
    name: str
    status: Status
    listings: tuple[Listing, ...]
    stakes: tuple[Stake, ...]
    #: Sum of the known stakes counted (for needs-review steps: unknown ones excluded).
    share: float


@dataclass(frozen=True, slots=True)
class Explanation:
    entity_id: str
    name: str
    rule_id: str
    rule_title: str
    on: date
    status: Status
    period: Period | None
    consequence: str
    threshold: float
    #: Known stakes held by covered owners (direct), in percent.
    covered_share: float
    steps: tuple[Step, ...]
    chains: tuple[str, ...]
    #: Stakes of unknown size that could make the entity covered.
    unknown_stakes: tuple[Stake, ...]
    #: The requirement inherited (most restrictive) and every listed owner's.
    requirement: Requirement | None
    owner_requirements: tuple[tuple[str, Requirement], ...]
    notes: tuple[str, ...]

    @property
    def flagged(self) -> bool:
        return self.status in (Status.LISTED, Status.COVERED, Status.NEEDS_REVIEW)

    def summary(self) -> str:
        """The explanation in one readable line."""
        period = self.period.describe() if self.period else "no period in force"
        head = f"{self.rule_id} on {self.on}: {self.name} ({self.entity_id}) is "
        if self.status is Status.RULE_NOT_IN_FORCE:
            return head + f"not assessed: the rule does not apply on this date ({period})"
        if self.status is Status.NOT_COVERED:
            return head + (
                f"not covered: stakes held by covered owners add up to "
                f"{self.covered_share:g} % (< {self.threshold:g} %)"
            )
        words = {
            Status.LISTED: "listed",
            Status.COVERED: f"covered ({self.covered_share:g} % held by covered owners)",
            Status.NEEDS_REVIEW: "NEEDS REVIEW (unknown stakes could make it covered)",
        }[self.status]
        text = head + words
        if self.chains:
            text += "; via " + " | ".join(self.chains[:3])
        if self.unknown_stakes:
            text += "; unknown stakes: " + ", ".join(
                f"{s.owner_name} → {s.owned_id} ({s.record})" for s in self.unknown_stakes[:3]
            )
        if self.requirement is not None:
            text += f"; inherits: {self.requirement.describe()}"
        return text + f"; rule {period}"


def _pct(value: float | None) -> str:
    return "? %" if value is None else f"{value:g} %"


class _Explainer:
    def __init__(self, ctx: OwnershipContext, cov: RuleCoverage) -> None:
        self.ctx = ctx
        self.cov = cov

    def stake(self, edge: int) -> Stake:
        assert self.cov.edge_map is not None
        h = self.ctx.holdings[int(self.cov.edge_map[edge])]
        owner = self.ctx.entities[self.ctx.index[h.owner_id]]
        return Stake(
            owner_id=h.owner_id,
            owner_name=owner.name,
            owned_id=h.owned_id,
            percent=h.percent,
            share_class=h.share_class,
            valid_from=h.valid_from,
            valid_to=h.valid_to,
            source=h.source,
            record=f"{h.source_ref.file}, {h.source_ref.record}" if h.source_ref else "",
        )

    def listings(self, node: int) -> tuple[Listing, ...]:
        return tuple(
            Listing(
                party_id=s.link.party.entity_id,
                list=s.link.party.list,
                name=s.link.party.name,
                programs=s.link.party.programs,
                method=s.link.method,
                evidence=s.link.evidence,
            )
            for s in self.cov.seeds.get(node, [])
        )

    def status(self, node: int) -> Status:
        state = self.cov.state
        assert state is not None
        if state.seeds[node]:
            return Status.LISTED
        if state.covered[node]:
            return Status.COVERED
        if state.possible[node]:
            return Status.NEEDS_REVIEW
        return Status.NOT_COVERED

    def steps(self, node: int, upper: bool) -> tuple[list[Step], dict[int, list[int]]]:
        """Steps from ``node`` back to the listings, and each step's contributing owners."""
        engine, state = self.cov.engine, self.cov.state
        assert engine is not None
        assert state is not None
        steps: list[Step] = []
        parents: dict[int, list[int]] = {}
        queue = [node]
        seen = {node}
        while queue:
            current = queue.pop(0)
            status = self.status(current)
            edges: np.ndarray = np.asarray([], dtype=np.int64)
            if status is not Status.LISTED:
                edges = engine.contributions(state, current, upper or status is Status.NEEDS_REVIEW)
            owners = [int(engine.owner[e]) for e in edges.tolist()]
            parents[current] = owners
            stakes = tuple(self.stake(e) for e in edges.tolist())
            entity = self.ctx.entities[current]
            steps.append(
                Step(
                    entity_id=entity.entity_id,
                    name=entity.name,
                    status=status,
                    listings=self.listings(current),
                    stakes=stakes,
                    share=float(sum(s.percent for s in stakes if s.percent is not None)),
                )
            )
            for owner in owners:
                if owner not in seen:
                    seen.add(owner)
                    queue.append(owner)
        return steps, parents

    def chains(self, node: int, parents: dict[int, list[int]]) -> tuple[str, ...]:
        engine = self.cov.engine
        assert engine is not None
        out: list[str] = []

        def label(n: int) -> str:
            listing = self.cov.seeds.get(n)
            name = self.ctx.entities[n].name
            if listing:
                party = listing[0].link.party
                return f"{name} [{party.list} {party.entity_id}]"
            return name

        def walk(n: int, path: list[int]) -> None:
            if len(out) >= MAX_CHAINS:
                return
            owners = parents.get(n, [])
            if not owners:
                parts = [label(path[-1])]
                for child, parent in zip(reversed(path[:-1]), reversed(path[1:]), strict=True):
                    pct = self._direct(parent, child)
                    parts.append(f"{pct} → {label(child)}")
                out.append(" ".join(parts))
                return
            for owner in owners:
                if owner not in path:
                    walk(owner, [*path, owner])

        walk(node, [node])
        return tuple(out)

    def _direct(self, owner: int, owned: int) -> str:
        engine = self.cov.engine
        assert engine is not None
        edges = engine.holdings_into(owned)
        pcts = engine.percent[edges[engine.owner[edges] == owner]]
        known = pcts[~np.isnan(pcts)]
        if known.size < pcts.size and known.size == 0:
            return "? %"
        return f"{float(known.sum()):g} %"


def explain(ctx: OwnershipContext, cov: RuleCoverage, node: int) -> Explanation:
    """Why ``node`` is or is not covered by ``cov``'s rule on its date."""
    rule = cov.rule
    entity = ctx.entities[node]
    notes: list[str] = list(cov.inactive.get(node, []))
    for n, ref in ctx.unresolved:
        if n == node:
            notes.append(f"list reference {ref!r} names no loaded list entry")

    def answer(
        status: Status,
        share: float = 0.0,
        steps: tuple[Step, ...] = (),
        chains: tuple[str, ...] = (),
        unknown: tuple[Stake, ...] = (),
        requirement: Requirement | None = None,
        owner_requirements: tuple[tuple[str, Requirement], ...] = (),
    ) -> Explanation:
        return Explanation(
            entity_id=entity.entity_id,
            name=entity.name,
            rule_id=rule.id,
            rule_title=rule.title,
            on=cov.on,
            status=status,
            period=cov.period,
            consequence=rule.consequence,
            threshold=rule.threshold_percent,
            covered_share=share,
            steps=steps,
            chains=chains,
            unknown_stakes=unknown,
            requirement=requirement,
            owner_requirements=owner_requirements,
            notes=tuple(notes),
        )

    if not cov.applies or cov.state is None or cov.engine is None:
        if cov.period is None:
            notes.append("the rule has no period covering this date (not yet in force)")
        return answer(Status.RULE_NOT_IN_FORCE)
    x = _Explainer(ctx, cov)
    status = x.status(node)
    state, engine = cov.state, cov.engine
    upper = status is Status.NEEDS_REVIEW
    steps: list[Step] = []
    chains: tuple[str, ...] = ()
    if status is not Status.NOT_COVERED:
        steps, parents = x.steps(node, upper)
        chains = x.chains(node, parents) if status is not Status.LISTED else ()
    else:
        # Say what was there: the stakes of covered owners that fell short, and
        # any unknown stake from an owner that is at least possibly covered.
        edges = engine.holdings_into(node)
        owners = engine.owner[edges]
        mine = edges[state.covered[owners]]
        steps = [
            Step(
                entity.entity_id,
                entity.name,
                status,
                (),
                tuple(x.stake(e) for e in mine.tolist()),
                float(state.share[node]),
            )
        ]
    unknown: list[Stake] = []
    if upper:
        for e in engine.holdings_into(node).tolist():
            owner = int(engine.owner[e])
            if state.possible[owner] and (np.isnan(engine.percent[e]) or not state.covered[owner]):
                unknown.append(x.stake(e))
    # Requirements: every listed owner reaching the entity through covered entities.
    owner_requirements: list[tuple[str, Requirement]] = []
    if status is not Status.NOT_COVERED:
        reach = engine.covered_owners_of(state, node, upper).tolist()
        for n in sorted({node, *reach}):
            for seed in cov.seeds.get(n, []):
                if seed.requirement is not None:
                    owner_requirements.append((seed.link.party.entity_id, seed.requirement))
    requirement = ctx.rules.restrictiveness.most_restrictive(r for _, r in owner_requirements)
    return answer(
        status,
        float(state.share[node]),
        tuple(steps),
        chains,
        tuple(unknown),
        requirement,
        tuple(owner_requirements),
    )
