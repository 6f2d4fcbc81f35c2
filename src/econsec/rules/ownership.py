"""The ownership (50 %) rules, read from ``rules/data/ownership_rules.yaml``.

Each rule says which listed parties are covered owners (by list code, source
and programme tags), the threshold, its dated periods (in force, suspended …)
with citations, and the licence requirement an affiliate inherits from each
kind of owner. When several owners' requirements apply, the most restrictive
wins: review policies and requirement scopes are ranked in the same file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from econsec.model.party import Party
from econsec.rules.dated import DatedError, Period, Timeline, timeline_from_list

RULES_FILE = "data/ownership_rules.yaml"
FORMAT = 1


class RuleDataError(DatedError):
    pass


@dataclass(frozen=True, slots=True)
class Requirement:
    """A licence requirement (scope) and review policy, with where it comes from."""

    scope: str
    policy: str
    citation: str
    #: ``rule default for EL`` or ``list entry us_csl:…``.
    origin: str

    def describe(self) -> str:
        policy = self.policy or "review policy not stated"
        return f"licence required for {self.scope}; {policy} ({self.citation}; {self.origin})"


@dataclass(frozen=True, slots=True)
class Ranked:
    id: str
    label: str
    patterns: tuple[re.Pattern[str], ...]
    #: Higher is more restrictive.
    rank: int
    match_order: int


@dataclass(frozen=True, slots=True)
class Restrictiveness:
    """Orderings of review policies and requirement scopes (most restrictive wins)."""

    policies: tuple[Ranked, ...]
    scopes: tuple[Ranked, ...]

    @staticmethod
    def _classify(items: Sequence[Ranked], text: str) -> Ranked | None:
        for item in sorted(items, key=lambda r: r.match_order):
            if any(p.search(text) for p in item.patterns):
                return item
        return None

    def policy(self, text: str) -> Ranked | None:
        return self._classify(self.policies, text)

    def scope(self, text: str) -> Ranked | None:
        return self._classify(self.scopes, text)

    def key(self, requirement: Requirement) -> tuple[int, int]:
        """Sort key: review policy first, then scope; unclassified text ranks lowest."""
        policy = self.policy(requirement.policy)
        scope = self.scope(requirement.scope)
        return (policy.rank if policy else 0, scope.rank if scope else 0)

    def most_restrictive(self, requirements: Iterable[Requirement]) -> Requirement | None:
        """The most restrictive requirement (ties: the first given)."""
        best: Requirement | None = None
        best_key = (-1, -1)
        for requirement in requirements:
            key = self.key(requirement)
            if key > best_key:
                best, best_key = requirement, key
        return best


def _norm_program(value: str) -> str:
    return value.strip().strip("[]").strip().upper()


@dataclass(frozen=True, slots=True)
class OwnerSelector:
    """Which listed parties are covered owners under a rule, and what they pass on."""

    lists: tuple[str, ...]
    sources: tuple[str, ...]
    programs_any: tuple[str, ...]
    programs_note: str
    requirement: Requirement

    def matches(self, party: Party) -> bool:
        if party.list.upper() not in self.lists:
            return False
        if self.sources and party.source not in self.sources:
            return False
        if self.programs_any:
            return any(_norm_program(p) in self.programs_any for p in party.programs)
        return True

    def describe(self) -> str:
        text = "list " + "/".join(self.lists)
        if self.sources:
            text += " from " + "/".join(self.sources)
        if self.programs_any:
            text += " under programmes " + ", ".join(self.programs_any)
        return text


@dataclass(frozen=True, slots=True)
class OwnershipRule:
    id: str
    title: str
    authority: str
    threshold_percent: float
    consequence: str
    timeline: Timeline
    owners: tuple[OwnerSelector, ...]

    def period(self, on: date) -> Period | None:
        return self.timeline.as_of(on)

    def applies(self, on: date) -> bool:
        return self.timeline.applies(on)

    def selector_for(self, party: Party) -> OwnerSelector | None:
        return next((s for s in self.owners if s.matches(party)), None)

    def requirement_for(self, party: Party) -> Requirement | None:
        """What a covered owner passes on: the entry's own requirement and policy
        where the list states them, else the rule's default for its list."""
        selector = self.selector_for(party)
        if selector is None:
            return None
        default = selector.requirement
        if party.license_requirement or party.license_policy:
            return Requirement(
                scope=party.license_requirement or default.scope,
                policy=party.license_policy or default.policy,
                citation=default.citation,
                origin=f"list entry {party.entity_id}",
            )
        return default


@dataclass(frozen=True, slots=True)
class OwnershipRules:
    rules: Mapping[str, OwnershipRule]
    restrictiveness: Restrictiveness
    #: Where they were read from (for explanations and errors).
    origin: str

    def get(self, rule_id: str) -> OwnershipRule:
        try:
            return self.rules[rule_id]
        except KeyError:
            raise RuleDataError(
                f"rule: unknown ownership rule {rule_id!r}; known: {', '.join(self.rules)}"
            ) from None

    def select(self, rule_ids: Sequence[str] | None) -> tuple[OwnershipRule, ...]:
        if not rule_ids:
            return tuple(self.rules.values())
        return tuple(self.get(r) for r in dict.fromkeys(rule_ids))


def _text(data: Mapping[str, Any], key: str, where: str, required: bool = True) -> str:
    value = data.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise RuleDataError(f"{where}, field {key!r}: missing or not text")
    return " ".join(value.split())


def _strings(data: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = data.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise RuleDataError(f"{where}, field {key!r}: expected a list of strings")
    return tuple(value)


def _ranked(items: Any, where: str) -> tuple[Ranked, ...]:
    if not isinstance(items, list) or not items:
        raise RuleDataError(f"{where}: expected a non-empty list")
    out: list[Ranked] = []
    for i, item in enumerate(items):
        at = f"{where}[{i}]"
        if not isinstance(item, Mapping):
            raise RuleDataError(f"{at}: expected a mapping")
        patterns: list[re.Pattern[str]] = []
        for p in _strings(item, "patterns", at):
            try:
                patterns.append(re.compile(p, re.IGNORECASE))
            except re.error as exc:
                raise RuleDataError(f"{at}, field 'patterns': bad pattern {p!r}: {exc}") from None
        out.append(
            Ranked(
                id=_text(item, "id", at),
                label=_text(item, "label", at),
                patterns=tuple(patterns),
                rank=len(items) - i,
                match_order=int(item.get("match_order", i)),
            )
        )
    return tuple(out)


def _requirement(data: Any, where: str, origin: str) -> Requirement:
    if not isinstance(data, Mapping):
        raise RuleDataError(f"{where}, field 'requirement': expected a mapping")
    return Requirement(
        scope=_text(data, "scope", f"{where}.requirement"),
        policy=_text(data, "policy", f"{where}.requirement", required=False),
        citation=_text(data, "citation", f"{where}.requirement"),
        origin=origin,
    )


def _rule(data: Any, where: str) -> OwnershipRule:
    if not isinstance(data, Mapping):
        raise RuleDataError(f"{where}: expected a mapping")
    rule_id = _text(data, "id", where)
    where = f"{where} ({rule_id})"
    threshold = data.get("threshold_percent")
    if not isinstance(threshold, int | float) or not 0 < threshold <= 100:
        raise RuleDataError(f"{where}, field 'threshold_percent': must be in (0, 100]")
    owners: list[OwnerSelector] = []
    for i, item in enumerate(data.get("owners") or []):
        at = f"{where}, owners[{i}]"
        if not isinstance(item, Mapping):
            raise RuleDataError(f"{at}: expected a mapping")
        lists = tuple(x.upper() for x in _strings(item, "lists", at))
        if not lists:
            raise RuleDataError(f"{at}, field 'lists': at least one list code is required")
        owners.append(
            OwnerSelector(
                lists=lists,
                sources=_strings(item, "sources", at),
                programs_any=tuple(_norm_program(p) for p in _strings(item, "programs_any", at)),
                programs_note=_text(item, "programs_note", at, required=False),
                requirement=_requirement(
                    item.get("requirement"), at, f"rule default for {'/'.join(lists)}"
                ),
            )
        )
    if not owners:
        raise RuleDataError(f"{where}, field 'owners': at least one owner selector is required")
    return OwnershipRule(
        id=rule_id,
        title=_text(data, "title", where),
        authority=_text(data, "authority", where),
        threshold_percent=float(threshold),
        consequence=_text(data, "consequence", where),
        timeline=timeline_from_list(data.get("periods") or [], where),
        owners=tuple(owners),
    )


def parse_rules(text: str, origin: str) -> OwnershipRules:
    """Rules from YAML text; every problem names ``origin``, the record and the field."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RuleDataError(f"{origin}: not valid YAML: {exc}") from None
    if not isinstance(data, Mapping):
        raise RuleDataError(f"{origin}: expected a mapping at the top level")
    if data.get("format") != FORMAT:
        raise RuleDataError(f"{origin}, field 'format': expected {FORMAT}")
    rules: dict[str, OwnershipRule] = {}
    for i, item in enumerate(data.get("rules") or []):
        rule = _rule(item, f"{origin}, rules[{i}]")
        if rule.id in rules:
            raise RuleDataError(f"{origin}, rules[{i}], field 'id': duplicate rule {rule.id!r}")
        rules[rule.id] = rule
    if not rules:
        raise RuleDataError(f"{origin}, field 'rules': no rules")
    return OwnershipRules(
        rules=rules,
        restrictiveness=Restrictiveness(
            policies=_ranked(data.get("policies"), f"{origin}, policies"),
            scopes=_ranked(data.get("scopes"), f"{origin}, scopes"),
        ),
        origin=origin,
    )


def load_rules(path: Path | None = None) -> OwnershipRules:
    """The ownership rules: the packaged file, or ``path``."""
    if path is not None:
        return parse_rules(path.read_text(encoding="utf-8"), str(path))
    return _packaged()


@lru_cache(maxsize=1)
def _packaged() -> OwnershipRules:
    resource = resources.files("econsec.rules").joinpath(RULES_FILE)
    return parse_rules(resource.read_text(encoding="utf-8"), f"econsec/rules/{RULES_FILE}")
