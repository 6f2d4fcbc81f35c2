"""Licensing rule data of both regimes: ``data/us/licensing.yaml`` and
``data/eu/dual_use.yaml``, loaded into typed, dated objects.

Destination scopes are country groups (15 CFR 740 Supp. 1) and named
countries; controls, licence exceptions and general authorisations are dated
with :mod:`econsec.rules.dated` timelines. Every problem names the file, the
record and the field.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from econsec.model.rules import Policy
from econsec.rules.criteria import Test, parse_alternatives
from econsec.rules.dated import DatedError, Timeline, parse_day, timeline_from_list
from econsec.rules.entries import load_entries
from econsec.rules.groups import group_history

US_FILE = "data/us/licensing.yaml"
EU_FILE = "data/eu/dual_use.yaml"


class RuleDataError(DatedError):
    """Bad licensing rule data (names the file, the record and the field)."""


@dataclass(frozen=True, slots=True)
class Scope:
    """A set of destinations: all, or named countries and country groups, minus exceptions."""

    name: str
    everywhere: bool = False
    countries: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()
    except_countries: frozenset[str] = frozenset()
    except_groups: frozenset[str] = frozenset()
    note: str = ""

    def contains(self, code: str, groups: frozenset[str]) -> bool:
        if code in self.except_countries or groups & self.except_groups:
            return False
        return self.everywhere or code in self.countries or bool(groups & self.groups)

    def describe(self) -> str:
        parts = []
        if self.everywhere:
            parts.append("all destinations")
        if self.countries:
            parts.append(", ".join(sorted(self.countries)))
        if self.groups:
            parts.append("Country Groups " + ", ".join(sorted(self.groups)))
        text = " and ".join(parts) or "no destination"
        excluded = sorted(self.except_countries) + sorted(self.except_groups)
        return f"{text} except {', '.join(excluded)}" if excluded else text


@dataclass(frozen=True, slots=True)
class PolicyRule:
    scope: Scope
    policy: Policy


@dataclass(frozen=True, slots=True)
class Control:
    rule_id: str
    title: str
    entries: frozenset[str]
    products: frozenset[str]
    all_items: bool
    scope: Scope
    policy: tuple[PolicyRule, ...]
    exceptions: tuple[str, ...]
    conditions: tuple[tuple[Scope | None, str], ...]
    timeline: Timeline
    enforcement: Timeline | None
    overrides: tuple[str, ...]
    codified: bool
    announcement_only: bool
    verify: str
    #: Item conditions (alternatives of tests) the control also needs, e.g. the
    #: TPP and DRAM-bandwidth limits of the 2026-01-15 case-by-case policy.
    item_tests: tuple[tuple[Test, ...], ...] = ()

    def policy_for(self, code: str, groups: frozenset[str]) -> Policy:
        for rule in self.policy:
            if rule.scope.contains(code, groups):
                return rule.policy
        return Policy.CASE_BY_CASE

    def conditions_for(self, code: str, groups: frozenset[str]) -> tuple[str, ...]:
        return tuple(
            text for scope, text in self.conditions if scope is None or scope.contains(code, groups)
        )

    def enforced(self, on: date) -> bool:
        return self.enforcement is None or self.enforcement.applies(on)

    def changes(self) -> tuple[date, ...]:
        days = set(self.timeline.changes())
        if self.enforcement is not None:
            days.update(self.enforcement.changes())
        return tuple(sorted(days))


@dataclass(frozen=True, slots=True)
class ExceptionRule:
    symbol: str
    title: str
    citation: str
    entries: frozenset[str]
    item_tests: tuple[tuple[Test, ...], ...]
    scope: Scope
    conditions: tuple[str, ...]
    timeline: Timeline
    verify: str


@dataclass(frozen=True, slots=True)
class Threshold:
    scope: Scope
    percent: float


@dataclass(frozen=True, slots=True)
class UsRules:
    coverage_from: date
    home: str
    scopes: Mapping[str, Scope]
    controls: tuple[Control, ...]
    exceptions: Mapping[str, ExceptionRule]
    de_minimis: tuple[Threshold, ...]
    de_minimis_citation: str
    de_minimis_note: str
    fdp: tuple[Mapping[str, Any], ...]
    end_user_lists: frozenset[str]
    end_user_review_lists: frozenset[str]
    end_user_citation: str
    end_user_policies: tuple[tuple[str, Policy], ...]
    #: Id of the affiliates (50 %) rule in rules/data/ownership_rules.yaml.
    affiliates_rule: str

    def changes(self) -> tuple[date, ...]:
        days: set[date] = {self.coverage_from}
        for c in self.controls:
            days.update(c.changes())
        for e in self.exceptions.values():
            days.update(e.timeline.changes())
        return tuple(sorted(days))


@dataclass(frozen=True, slots=True)
class Authorisation:
    symbol: str
    title: str
    citation: str
    countries: frozenset[str]
    conditions: tuple[str, ...]
    timeline: Timeline


@dataclass(frozen=True, slots=True)
class NationalList:
    list_id: str
    member_state: str
    title: str
    citation: str
    timeline: Timeline
    verify: str


@dataclass(frozen=True, slots=True)
class EuRules:
    citation: str
    timeline: Timeline
    member_states: frozenset[str]
    annex_i_policy: str
    authorisations: tuple[Authorisation, ...]
    national_lists: tuple[NationalList, ...]
    catch_all_citation: str
    catch_all_condition: str
    arms_embargo: frozenset[str]
    arms_embargo_citation: str

    @property
    def coverage_from(self) -> date:
        return self.timeline.periods[0].effective_from

    def changes(self) -> tuple[date, ...]:
        days = set(self.timeline.changes())
        for a in self.authorisations:
            days.update(a.timeline.changes())
        for n in self.national_lists:
            days.update(n.timeline.changes())
        return tuple(sorted(days))


def _load_yaml(name: str) -> tuple[Mapping[str, Any], str]:
    origin = f"econsec/rules/{name}"
    try:
        doc = yaml.safe_load(resources.files("econsec.rules").joinpath(name).read_text())
    except yaml.YAMLError as exc:
        raise RuleDataError(f"{origin}: not valid YAML: {exc}") from None
    if not isinstance(doc, Mapping) or doc.get("format") != 1:
        raise RuleDataError(f"{origin}, field 'format': expected 1")
    return doc, origin


def _strs(data: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = data.get(key) or []
    if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
        raise RuleDataError(f"{where}, field {key!r}: expected a list of strings")
    return tuple(value)


def _policy(text: object, where: str) -> Policy:
    try:
        return Policy(str(text))
    except ValueError:
        raise RuleDataError(
            f"{where}, field 'policy': {text!r} is not one of " + ", ".join(p.value for p in Policy)
        ) from None


def _scope(name: str, data: Any, where: str) -> Scope:
    if not isinstance(data, Mapping):
        raise RuleDataError(f"{where}: expected a mapping")
    known = {"all", "countries", "groups", "except_countries", "except_groups", "note"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise RuleDataError(f"{where}, field {unknown[0]!r}: unknown field")
    return Scope(
        name=name,
        everywhere=bool(data.get("all")),
        countries=frozenset(_strs(data, "countries", where)),
        groups=frozenset(_strs(data, "groups", where)),
        except_countries=frozenset(_strs(data, "except_countries", where)),
        except_groups=frozenset(_strs(data, "except_groups", where)),
        note=str(data.get("note") or ""),
    )


def _scope_ref(scopes: Mapping[str, Scope], name: object, where: str) -> Scope:
    if not isinstance(name, str) or name not in scopes:
        raise RuleDataError(f"{where}, field 'scope': {name!r} is not a scope defined in 'scopes'")
    return scopes[name]


def _conditions(
    data: Any, where: str, scopes: Mapping[str, Scope]
) -> tuple[tuple[Scope | None, str], ...]:
    out: list[tuple[Scope | None, str]] = []
    for i, c in enumerate(data or []):
        if isinstance(c, str):
            out.append((None, " ".join(c.split())))
        elif isinstance(c, Mapping) and isinstance(c.get("text"), str):
            scope = _scope_ref(scopes, c.get("scope"), f"{where}, conditions[{i}]")
            out.append((scope, " ".join(c["text"].split())))
        else:
            raise RuleDataError(f"{where}, conditions[{i}]: expected text or {{scope, text}}")
    return tuple(out)


def _control(data: Any, where: str, scopes: Mapping[str, Scope]) -> Control:
    if not isinstance(data, Mapping):
        raise RuleDataError(f"{where}: expected a mapping")
    rule_id = str(data.get("id") or "")
    if not rule_id:
        raise RuleDataError(f"{where}, field 'id': missing")
    where = f"{where} ({rule_id})"
    policies = []
    for i, p in enumerate(data.get("policy") or []):
        policies.append(
            PolicyRule(
                _scope_ref(scopes, p.get("scope"), f"{where}, policy[{i}]"),
                _policy(p.get("policy"), f"{where}, policy[{i}]"),
            )
        )
    entries = frozenset(_strs(data, "entries", where))
    products = frozenset(_strs(data, "products", where))
    all_items = bool(data.get("all_items"))
    if not entries and not products and not all_items:
        raise RuleDataError(f"{where}: needs 'entries', 'products' or 'all_items'")
    announcement = bool(data.get("announcement_only"))
    if not policies and not announcement:
        raise RuleDataError(f"{where}, field 'policy': missing")
    enforcement = data.get("enforcement")
    return Control(
        rule_id=rule_id,
        title=str(data.get("title") or rule_id),
        entries=entries,
        products=products,
        all_items=all_items,
        scope=_scope_ref(scopes, data.get("scope"), where),
        policy=tuple(policies),
        exceptions=_strs(data, "exceptions", where),
        conditions=_conditions(data.get("conditions"), where, scopes),
        timeline=timeline_from_list(data.get("periods") or [], where),
        enforcement=None
        if enforcement is None
        else timeline_from_list(enforcement, f"{where}, enforcement"),
        overrides=_strs(data, "overrides", where),
        codified=bool(data.get("codified", True)),
        announcement_only=announcement,
        verify=str(data.get("verify") or "").strip(),
        item_tests=parse_alternatives(data.get("item"), f"{where}, field 'item'"),
    )


def _exception(data: Any, where: str, scopes: Mapping[str, Scope]) -> ExceptionRule:
    if not isinstance(data, Mapping) or not data.get("symbol"):
        raise RuleDataError(f"{where}, field 'symbol': missing")
    where = f"{where} ({data['symbol']})"
    return ExceptionRule(
        symbol=str(data["symbol"]),
        title=str(data.get("title") or ""),
        citation=str(data.get("citation") or ""),
        entries=frozenset(_strs(data, "entries", where)),
        item_tests=parse_alternatives(data.get("item"), f"{where}, field 'item'"),
        scope=_scope_ref(scopes, data.get("scope"), where),
        conditions=_strs(data, "conditions", where),
        timeline=timeline_from_list(data.get("periods") or [], where),
        verify=str(data.get("verify") or "").strip(),
    )


def parse_us(doc: Mapping[str, Any], origin: str) -> UsRules:
    scopes = {
        str(name): _scope(str(name), data, f"{origin}, scopes[{name}]")
        for name, data in (doc.get("scopes") or {}).items()
    }
    controls = tuple(
        _control(c, f"{origin}, controls[{i}]", scopes)
        for i, c in enumerate(doc.get("controls") or [])
    )
    ids = [c.rule_id for c in controls]
    for c in controls:
        for target in c.overrides:
            if target not in ids:
                raise RuleDataError(f"{origin}, control {c.rule_id}: overrides unknown {target!r}")
    exceptions = {}
    for i, e in enumerate(doc.get("exceptions") or []):
        rule = _exception(e, f"{origin}, exceptions[{i}]", scopes)
        exceptions[rule.symbol] = rule
    for c in controls:
        for symbol in c.exceptions:
            if symbol not in exceptions:
                raise RuleDataError(
                    f"{origin}, control {c.rule_id}: exception {symbol!r} undefined"
                )
    dm = doc.get("de_minimis") or {}
    thresholds = tuple(
        Threshold(
            _scope_ref(scopes, t.get("scope"), f"{origin}, de_minimis.thresholds[{i}]"),
            float(t["percent"]),
        )
        for i, t in enumerate(dm.get("thresholds") or [])
    )
    eu = doc.get("end_user") or {}
    return UsRules(
        coverage_from=parse_day(doc.get("coverage_from"), origin, "coverage_from"),
        home=str(doc.get("home") or ""),
        scopes=scopes,
        controls=controls,
        exceptions=exceptions,
        de_minimis=thresholds,
        de_minimis_citation=str(dm.get("citation") or ""),
        de_minimis_note=str(dm.get("note") or "").strip(),
        fdp=tuple(doc.get("foreign_direct_product") or ()),
        end_user_lists=frozenset(_strs(eu, "requirement_lists", f"{origin}, end_user")),
        end_user_review_lists=frozenset(_strs(eu, "review_lists", f"{origin}, end_user")),
        end_user_citation=str(eu.get("citation") or ""),
        affiliates_rule=str(eu.get("affiliates_rule") or ""),
        end_user_policies=tuple(
            (str(p["pattern"]), _policy(p.get("policy"), f"{origin}, end_user.policies[{i}]"))
            for i, p in enumerate(eu.get("policies") or [])
        ),
    )


def parse_eu(doc: Mapping[str, Any], origin: str) -> EuRules:
    reg = doc.get("regulation") or {}
    auths = tuple(
        Authorisation(
            symbol=str(a.get("symbol")),
            title=str(a.get("title") or ""),
            citation=str(a.get("citation") or ""),
            countries=frozenset(_strs(a, "countries", f"{origin}, general_authorisations[{i}]")),
            conditions=_strs(a, "conditions", f"{origin}, general_authorisations[{i}]"),
            timeline=timeline_from_list(
                a.get("periods") or [], f"{origin}, general_authorisations[{i}]"
            ),
        )
        for i, a in enumerate(doc.get("general_authorisations") or [])
    )
    national = tuple(
        NationalList(
            list_id=str(n.get("id")),
            member_state=str(n.get("member_state")),
            title=str(n.get("title") or ""),
            citation=str(n.get("citation") or ""),
            timeline=timeline_from_list(n.get("periods") or [], f"{origin}, national_lists[{i}]"),
            verify=str(n.get("verify") or "").strip(),
        )
        for i, n in enumerate(doc.get("national_lists") or [])
    )
    catch = doc.get("catch_all") or {}
    return EuRules(
        citation=str(reg.get("citation") or ""),
        timeline=timeline_from_list(reg.get("periods") or [], f"{origin}, regulation"),
        member_states=frozenset(_strs(doc, "member_states", origin)),
        annex_i_policy=str(doc.get("annex_i_policy") or "").strip(),
        authorisations=auths,
        national_lists=national,
        catch_all_citation=str(catch.get("citation") or ""),
        catch_all_condition=" ".join(str(catch.get("condition") or "").split()),
        arms_embargo=frozenset(_strs(catch, "arms_embargo", f"{origin}, catch_all")),
        arms_embargo_citation=str(catch.get("arms_embargo_citation") or ""),
    )


@lru_cache(maxsize=1)
def us_rules() -> UsRules:
    doc, origin = _load_yaml(US_FILE)
    return parse_us(doc, origin)


@lru_cache(maxsize=1)
def eu_rules() -> EuRules:
    doc, origin = _load_yaml(EU_FILE)
    return parse_eu(doc, origin)


def change_dates(extra: Sequence[date] = ()) -> tuple[date, ...]:
    """Every day on which some encoded rule starts, ends or changes enforcement."""
    days: set[date] = set(us_rules().changes()) | set(eu_rules().changes()) | set(extra)
    days.update(group_history().dates())
    # The Country Chart and the License Requirements are encoded as of the eCFR
    # text's date (the group history's as_of): answers change there.
    days.add(group_history().as_of)
    for rule in load_entries():
        days.update(rule.changes())
    return tuple(sorted(days))
