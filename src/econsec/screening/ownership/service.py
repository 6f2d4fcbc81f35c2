"""What the CLI, the API and screening call: load a file, check an entity,
screen against the entities the rules cover."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

from econsec.lists._common import LoadError
from econsec.lists.ftm import source_from_path
from econsec.model import ListVersion
from econsec.model.ownership import LoadWarning, NameLink, OwnershipGraph, OwnershipVersion
from econsec.model.party import Party, Schema, SourceRef
from econsec.model.screening import Hit
from econsec.rules.ownership import RULES_FILE, RuleDataError, load_rules
from econsec.screening.ownership.explain import Explanation, Status, explain
from econsec.screening.ownership.graph import OwnershipContext, context
from econsec.screening.ownership.load import parse
from econsec.screening.report import hit_json
from econsec.screening.screen import Screener, build_query
from econsec.store import ownership as store
from econsec.store.workspace import Workspace

#: Default minimum score to link a graph node to a list entry by name.
LINK_THRESHOLD = 0.95
#: At most this many entities are answered for a name query.
MAX_MATCHES = 10


class OwnershipError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class LoadOutcome:
    version: OwnershipVersion
    written: bool
    warnings: tuple[LoadWarning, ...]
    links: tuple[NameLink, ...]


def link_names(
    workspace: Workspace, graph: OwnershipGraph, threshold: float = LINK_THRESHOLD
) -> list[NameLink]:
    """Link nodes without a list reference to list entries whose name matches
    at ``threshold`` or above (the best hit; the evidence is kept)."""
    from econsec.screening.cache import cached_screener  # noqa: PLC0415

    screener = cached_screener(workspace)
    links: list[NameLink] = []
    for entity in graph.entities:
        if entity.list_refs and not all(r == entity.entity_id for r in entity.list_refs):
            continue
        try:
            schema = Schema.parse(entity.schema).value
        except ValueError:
            schema = None
        query = build_query(entity.name, schema, threshold=threshold, limit=1)
        for hit in screener.screen(query).hits:
            detail = "; ".join(
                f"{f.feature} {f.effect:+.3f} {f.detail}" for f in hit.match.features
            )
            evidence = f"{entity.name!r} matched {hit.match.matched_name!r}: {detail}"
            links.append(NameLink(entity.entity_id, hit.party.entity_id, hit.match.score, evidence))
    return links


def load_file(
    workspace: Workspace,
    path: Path,
    fmt: str | None = None,
    source: str | None = None,
    names: bool = False,
    threshold: float = LINK_THRESHOLD,
) -> LoadOutcome:
    """Parse ``path`` and store it as the active graph of its source (atomically)."""
    if not path.exists():
        raise LoadError(str(path), None, None, "no such file")
    data = path.read_bytes()
    graph, parser = parse(path, fmt)
    links = link_names(workspace, graph, threshold) if names else []
    digest = store.content_hash(data, f"{parser};links={names}@{threshold}")
    version, written = store.store_graph(
        workspace,
        source or source_from_path(path),
        graph,
        digest=digest,
        fmt=parser.split("-")[1].split("/")[0],
        parser=parser,
        origin=str(path),
        links=links,
    )
    return LoadOutcome(version, written, graph.warnings, tuple(links))


def _context(workspace: Workspace) -> OwnershipContext:
    ctx = context(workspace)
    if ctx is None:
        raise OwnershipError("no ownership graph loaded: run `econsec ownership load FILE` first")
    return ctx


def check(
    workspace: Workspace, entity: str, on: date, rules: Sequence[str] | None = None
) -> list[Explanation]:
    """Every selected rule's answer for the entity (a graph id or a name) on ``on``."""
    ctx = _context(workspace)
    try:
        selected = ctx.rules.select(rules)
    except RuleDataError as exc:
        raise OwnershipError(str(exc)) from None
    nodes = ctx.find(entity)
    if not nodes:
        raise OwnershipError(f"entity: {entity!r} is neither an id nor a name in the graph")
    if len(nodes) > MAX_MATCHES:
        names = ", ".join(f"{ctx.entities[n].entity_id} ({ctx.entities[n].name})" for n in nodes)
        raise OwnershipError(f"entity: {entity!r} matches {len(nodes)} entities: {names[:500]}")
    return [explain(ctx, ctx.coverage(rule, on), n) for n in nodes for rule in selected]


def flagged(
    workspace: Workspace, on: date, rules: Sequence[str] | None = None
) -> list[Explanation]:
    """Every entity covered or needing review (not the listed ones) on ``on``."""
    ctx = context(workspace)
    if ctx is None:
        return []
    out: list[Explanation] = []
    for rule in ctx.rules.select(rules):
        cov = ctx.coverage(rule, on)
        if cov.state is None:
            continue
        nodes = (cov.state.possible & ~cov.state.seeds).nonzero()[0]
        out.extend(explain(ctx, cov, int(n)) for n in nodes)
    return out


def derived_party(ex: Explanation, ctx: OwnershipContext) -> Party:
    """A screenable party for a covered (or needs-review) entity."""
    node = ctx.entities[ctx.index[ex.entity_id]]
    try:
        schema = Schema.parse(node.schema)
    except ValueError:
        schema = Schema.LEGAL_ENTITY
    ref = node.source_ref or SourceRef("ownership graph", ex.entity_id)
    return Party(
        entity_id=f"ownership:{ex.rule_id}:{ex.entity_id}",
        source="ownership",
        list=ex.rule_id.upper(),
        list_entry_id=ex.entity_id,
        schema=schema,
        name=node.name,
        source_ref=ref,
        countries=node.countries,
        programs=(ex.status.value,),
        license_requirement=ex.requirement.scope if ex.requirement else None,
        license_policy=ex.requirement.policy if ex.requirement else None,
        legal_basis=(ex.period.citation,) if ex.period else (),
        remarks=ex.summary(),
    )


_SCREENERS: OrderedDict[tuple[str, date, tuple[str, ...]], Screener] = OrderedDict()
_LOCK = threading.Lock()


def ownership_screener(
    workspace: Workspace, on: date, rules: Sequence[str] | None = None
) -> Screener | None:
    """A screener over the entities covered by the ownership rules on ``on``
    (or needing review), one party per entity and rule; None when no graph is
    loaded. Memoised per (graph and list versions, date, rules)."""
    ctx = context(workspace)
    if ctx is None:
        return None
    selected = tuple(r.id for r in ctx.rules.select(rules))
    key = (ctx.key, on, selected)
    with _LOCK:
        found = _SCREENERS.get(key)
    if found is not None:
        return found
    parties = [derived_party(ex, ctx) for ex in flagged(workspace, on, selected)]
    record = coverage_version(workspace, on, selected, len(parties))
    screener = Screener(parties, (*ctx.list_versions, record))
    with _LOCK:
        _SCREENERS[key] = screener
        while len(_SCREENERS) > 8:
            _SCREENERS.popitem(last=False)
    return screener


def coverage_version(
    workspace: Workspace, on: date, rules: Sequence[str], entry_count: int
) -> ListVersion:
    """What the ownership hits of a run rest on, in the form a run records its
    list versions: the active graph versions and their content hashes, the rule
    data file's hash, the rules applied and the date."""
    graphs = store.versions(workspace, active_only=True)
    rule_data = resources.files("econsec.rules").joinpath(RULES_FILE).read_bytes()
    rules_hash = hashlib.sha256(rule_data).hexdigest()
    content = hashlib.sha256(
        "|".join(
            [*(f"{v.version_id}:{v.content_hash}" for v in graphs), rules_hash, *rules]
        ).encode()
    ).hexdigest()
    return ListVersion(
        version_id=f"ownership@{content[:12]}:{on.isoformat()}",
        source="ownership",
        label=(
            f"ownership rules {', '.join(rules)} as of {on.isoformat()}; graph "
            + ", ".join(f"{v.version_id} (sha256 {v.content_hash[:12]})" for v in graphs)
            + f"; rule data {RULES_FILE} (sha256 {rules_hash[:12]})"
        ),
        published=on.isoformat(),
        content_hash=content,
        entry_count=entry_count,
        loaded_at=max((v.loaded_at for v in graphs), default=""),
        origin=", ".join(v.origin for v in graphs),
        parser="ownership/1",
        active=True,
    )


def explanation_json(ex: Explanation) -> dict[str, Any]:
    """The JSON form of an answer (CLI ``--format json`` and the API)."""
    data = asdict(ex)
    data["on"] = ex.on.isoformat()
    data["summary"] = ex.summary()
    data["period"] = (
        None
        if ex.period is None
        else {
            "effective_from": ex.period.effective_from.isoformat(),
            "effective_to": ex.period.effective_to.isoformat() if ex.period.effective_to else None,
            "status": ex.period.status.value,
            "citation": ex.period.citation,
            "note": ex.period.note,
        }
    )
    data["owner_requirements"] = [{"party_id": p, **asdict(r)} for p, r in ex.owner_requirements]
    for key in ("steps", "unknown_stakes"):
        _dates_to_text(data[key])
    return data


def _dates_to_text(value: Any) -> None:
    if isinstance(value, list):
        for item in value:
            _dates_to_text(item)
    elif isinstance(value, dict):
        for k, v in value.items():
            if isinstance(v, date):
                value[k] = v.isoformat()
            else:
                _dates_to_text(v)


def ownership_hit_json(hit: Hit) -> dict[str, Any]:
    """A name hit against a covered entity, with the ownership explanation as ``remarks``."""
    return hit_json(hit)


def default_rules() -> tuple[str, ...]:
    return tuple(load_rules().rules)


__all__ = [
    "LoadOutcome",
    "OwnershipError",
    "Status",
    "check",
    "explanation_json",
    "flagged",
    "load_file",
    "ownership_hit_json",
    "ownership_screener",
]
