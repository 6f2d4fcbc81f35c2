"""The active ownership graph in memory, linked to the loaded lists.

:class:`OwnershipContext` joins the stored graph (entities and holdings) to
the active list entries: a node is a listed party when one of its
``list_refs`` names a list entry (our ``entity_id``, ``LIST:entry id`` or our
own FollowTheMoney export id ``econsec-…``) or when ``--link-names`` linked it
by name at load time. For each rule and date it builds the
:class:`~econsec.screening.ownership.coverage.CoverageEngine` over the
holdings valid on that date and computes coverage from the rule's listed
owners, keeping both in a small memo.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from econsec.lists.ftm import entity_id as ftm_export_id
from econsec.model import ListVersion, Party
from econsec.model.ownership import Holding, OwnershipEntity
from econsec.rules.dated import Period
from econsec.rules.ownership import OwnershipRule, OwnershipRules, Requirement, load_rules
from econsec.screening.ownership.coverage import CoverageEngine, CoverageState
from econsec.store.ownership import StoredGraph, active_graph
from econsec.store.ownership import versions as graph_versions
from econsec.store.workspace import Workspace

#: How many (rule, date) computations one context keeps.
MEMO_SIZE = 16


@dataclass(frozen=True, slots=True)
class ListingLink:
    """Why a graph node is taken to be a list entry."""

    party: Party
    #: ``reference`` (the file names the entry) or ``name`` (matched by name at load).
    method: str
    evidence: str


@dataclass(frozen=True, slots=True)
class Seed:
    link: ListingLink
    requirement: Requirement | None


@dataclass(slots=True)
class RuleCoverage:
    """One rule on one date over the graph."""

    rule: OwnershipRule
    on: date
    period: Period | None
    engine: CoverageEngine | None
    state: CoverageState | None
    #: Holding index in the engine → index into the context's holdings.
    edge_map: np.ndarray | None
    #: Node → the listings that make it a seed of this rule on this date.
    seeds: dict[int, list[Seed]]
    #: Listings matching the rule but not in force on the date (listed later, delisted).
    inactive: dict[int, list[str]]

    @property
    def applies(self) -> bool:
        return self.period is not None and self.period.status.applies


def _day(value: str | None) -> date | None:
    if value and len(value) >= 10:
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


@dataclass
class OwnershipContext:
    graph: StoredGraph
    list_versions: tuple[ListVersion, ...]
    rules: OwnershipRules
    entities: list[OwnershipEntity] = field(init=False)
    holdings: tuple[Holding, ...] = field(init=False)
    index: dict[str, int] = field(init=False)
    links: dict[int, list[ListingLink]] = field(init=False)
    #: List references that name no loaded entry: (node, reference).
    unresolved: list[tuple[int, str]] = field(init=False)
    _memo: OrderedDict[tuple[str, date], RuleCoverage] = field(init=False)
    _lock: threading.Lock = field(init=False)

    @classmethod
    def build(
        cls, workspace: Workspace, rules: OwnershipRules | None = None
    ) -> OwnershipContext | None:
        graph = active_graph(workspace)
        if graph is None:
            return None
        versions, parties = workspace.active_parties() if workspace.versions() else ([], [])
        ctx = cls(graph, tuple(versions), rules or load_rules())
        ctx._link(parties)
        return ctx

    def __post_init__(self) -> None:
        self.entities = list(self.graph.entities)
        self.index = {e.entity_id: i for i, e in enumerate(self.entities)}
        self.holdings = self.graph.holdings
        n = len(self.entities)
        self._owner = np.fromiter(
            (self.index[h.owner_id] for h in self.holdings), np.int64, len(self.holdings)
        )
        self._owned = np.fromiter(
            (self.index[h.owned_id] for h in self.holdings), np.int64, len(self.holdings)
        )
        self._percent = np.fromiter(
            (np.nan if h.percent is None else h.percent for h in self.holdings),
            np.float64,
            len(self.holdings),
        )
        lo, hi = date.min.toordinal(), date.max.toordinal()
        self._from = np.fromiter(
            (h.valid_from.toordinal() if h.valid_from else lo for h in self.holdings),
            np.int64,
            len(self.holdings),
        )
        self._to = np.fromiter(
            (h.valid_to.toordinal() if h.valid_to else hi for h in self.holdings),
            np.int64,
            len(self.holdings),
        )
        self.entity_count = n
        self.links = {}
        self.unresolved = []
        self._memo = OrderedDict()
        self._lock = threading.Lock()

    @property
    def key(self) -> str:
        lists = ",".join(sorted(v.version_id for v in self.list_versions))
        return f"{self.graph.key}|{lists}"

    def _link(self, parties: list[Party]) -> None:
        by_ref: dict[str, Party] = {}
        for p in parties:
            by_ref[p.entity_id] = p
            by_ref.setdefault(f"{p.list.upper()}:{p.list_entry_id}", p)
            by_ref.setdefault(ftm_export_id(p), p)
        for i, entity in enumerate(self.entities):
            for ref in entity.list_refs:
                party = by_ref.get(ref) or by_ref.get(_upper_list(ref))
                if party is not None:
                    self._add_link(i, ListingLink(party, "reference", f"list reference {ref!r}"))
                elif ref != entity.entity_id:  # an FtM node's own id is only a candidate
                    self.unresolved.append((i, ref))
        by_id = {p.entity_id: p for p in parties}
        for link in self.graph.links:
            party = by_id.get(link.party_id)
            node = self.index.get(link.entity_id)
            if party is not None and node is not None:
                evidence = f"name match {link.score:.3f}: {link.evidence}"
                self._add_link(node, ListingLink(party, "name", evidence))

    def _add_link(self, node: int, link: ListingLink) -> None:
        items = self.links.setdefault(node, [])
        if all(x.party.entity_id != link.party.entity_id for x in items):
            items.append(link)

    def find(self, query: str) -> list[int]:
        """Nodes by id, else by exact name (case-insensitive), else by name part."""
        if query in self.index:
            return [self.index[query]]
        wanted = query.strip().casefold()
        exact = [i for i, e in enumerate(self.entities) if e.name.casefold() == wanted]
        if exact:
            return exact
        return [i for i, e in enumerate(self.entities) if wanted and wanted in e.name.casefold()]

    def coverage(self, rule: OwnershipRule, on: date) -> RuleCoverage:
        key = (rule.id, on)
        with self._lock:
            cached = self._memo.get(key)
            if cached is not None:
                self._memo.move_to_end(key)
                return cached
        result = self._compute(rule, on)
        with self._lock:
            self._memo[key] = result
            while len(self._memo) > MEMO_SIZE:
                self._memo.popitem(last=False)
        return result

    def _compute(self, rule: OwnershipRule, on: date) -> RuleCoverage:
        period = rule.period(on)
        seeds: dict[int, list[Seed]] = {}
        inactive: dict[int, list[str]] = {}
        for node, links in self.links.items():
            for link in links:
                if rule.selector_for(link.party) is None:
                    continue
                listed, ended = _day(link.party.listed_on), _day(link.party.end_date)
                if (listed and listed > on) or (ended and ended < on):
                    inactive.setdefault(node, []).append(
                        f"{link.party.entity_id} listed {link.party.listed_on or '?'}"
                        f" to {link.party.end_date or 'now'}: not listed on {on}"
                    )
                    continue
                seeds.setdefault(node, []).append(Seed(link, rule.requirement_for(link.party)))
        if period is None or not period.status.applies:
            return RuleCoverage(rule, on, period, None, None, None, seeds, inactive)
        ordinal = on.toordinal()
        valid = np.nonzero((self._from <= ordinal) & (ordinal <= self._to))[0]
        engine = CoverageEngine(
            self.entity_count,
            self._owner[valid],
            self._owned[valid],
            self._percent[valid],
            rule.threshold_percent,
        )
        state = engine.compute(np.asarray(sorted(seeds), dtype=np.int64))
        return RuleCoverage(rule, on, period, engine, state, valid, seeds, inactive)


def _upper_list(ref: str) -> str:
    head, sep, tail = ref.partition(":")
    return f"{head.upper()}{sep}{tail}" if sep else ref


_CONTEXTS: OrderedDict[str, OwnershipContext] = OrderedDict()
_CONTEXT_LOCK = threading.Lock()


def context(workspace: Workspace) -> OwnershipContext | None:
    """The context over the workspace's active graph and lists, memoised by
    their versions (a new load of either gives a new context)."""
    active = graph_versions(workspace, active_only=True)
    if not active:
        return None
    lists = workspace.versions(active_only=True)
    key = "|".join(
        (
            str(workspace.db_path),
            ",".join(sorted(v.version_id for v in active)),
            ",".join(sorted(v.version_id for v in lists)),
        )
    )
    with _CONTEXT_LOCK:
        found = _CONTEXTS.get(key)
    if found is not None:
        return found
    built = OwnershipContext.build(workspace)
    if built is None:
        return None
    with _CONTEXT_LOCK:
        _CONTEXTS[key] = built
        while len(_CONTEXTS) > 4:
            _CONTEXTS.popitem(last=False)
    return built
