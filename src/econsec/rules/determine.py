"""Determine licence requirements: item × destination × date (× end user), per regime.

US EAR: the controls of ``data/us/licensing.yaml`` that are in force on the
date, match one of the item's entries (or the named product) and cover the
destination make a licence required, unless the codified text is not enforced
on that date (the AI Diffusion rule after 2025-05-13), which is reported but
requires nothing. The policy is the most restrictive among the enforced
requirements; a licence exception is available only where every enforced
requirement lists it and its own conditions hold (15 CFR 738.4(a)(2): each
requirement is overcome separately). A foreign-made item is checked against
de minimis first; an end user is screened against the loaded lists when a
screener is at hand (an Entity List hit makes a licence required).

EU: an Annex I item needs an authorisation for export to any destination
outside the Union (Art. 3); EU001 covers its countries; national-list entries
(Art. 9) apply from their member state; the Art. 4 catch-all is always a
flagged condition, stressed for arms-embargoed destinations.

An input the answer rests on that is missing makes ``licence_required`` None
with the missing inputs named: never a confident wrong answer.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from econsec.model.rules import (
    Classification,
    Determination,
    Evaluation,
    ExceptionOption,
    Item,
    Missing,
    Policy,
    Regime,
    RegimeAnswer,
    Requirement,
)
from econsec.rules import criteria
from econsec.rules.chart import country_chart
from econsec.rules.classify import NEEDS, ClassifyError, classify, figures
from econsec.rules.ecfr import Destinations, RuleSourceError, destinations
from econsec.rules.groups import group_history
from econsec.rules.ownership import load_rules as load_ownership_rules
from econsec.rules.regimes import Control, EuRules, UsRules, eu_rules, us_rules


class DeterminationError(ClassifyError):
    """A request that cannot be answered (unknown destination, date out of range …)."""


@dataclass(frozen=True, slots=True)
class EndUserHit:
    entity_id: str
    list: str
    name: str
    score: float
    requirement: str | None
    policy: str | None


@dataclass(frozen=True, slots=True)
class EndUserCheck:
    """Outcome of screening the end user (None hits = not screened)."""

    name: str
    hits: tuple[EndUserHit, ...] | None
    note: str = ""


def screen_end_user(name: str, screener: object | None) -> EndUserCheck:
    """Screen ``name`` with a :class:`~econsec.screening.Screener`, if there is one."""
    if screener is None:
        return EndUserCheck(name, None, "no screening workspace: the end user was not screened")
    from econsec.screening.screen import Screener, build_query  # noqa: PLC0415

    assert isinstance(screener, Screener)
    result = screener.screen(build_query(name))
    hits = tuple(
        EndUserHit(
            entity_id=h.party.entity_id,
            list=h.party.list,
            name=h.party.name,
            score=h.match.score,
            requirement=h.party.license_requirement,
            policy=h.party.license_policy,
        )
        for h in result.hits
    )
    versions = ", ".join(v.version_id for v in result.list_versions)
    return EndUserCheck(name, hits, f"screened with {result.algorithm} against {versions}")


def _regimes(regime: str | Regime | Iterable[Regime] | None) -> tuple[Regime, ...]:
    if regime is None or regime == "both":
        return (Regime.US, Regime.EU)
    if isinstance(regime, Regime):
        return (regime,)
    if isinstance(regime, str):
        try:
            return (Regime(regime.upper()),)
        except ValueError:
            raise DeterminationError(f"regime: {regime!r} is not us, eu or both") from None
    return tuple(regime)


def _policy_of(text: str | None, rules: UsRules) -> Policy:
    for pattern, policy in rules.end_user_policies:
        if text and re.search(pattern, text, re.IGNORECASE):
            return policy
    return Policy.CASE_BY_CASE


def _matched(control: Control, item: Item, entries: dict[str, bool]) -> bool | None:
    """True/None (possible)/False: does the control cover the item."""
    if control.all_items or item.item_id in control.products:
        return True
    hits = [entries[e] for e in control.entries if e in entries]
    if not hits:
        return False
    return True if any(hits) else None


def _us(
    item: Item,
    cls: Classification,
    code: str,
    on: date,
    dests: Destinations,
    end_user: EndUserCheck | None,
    rules: UsRules,
) -> RegimeAnswer:
    history = group_history()
    groups = history.groups_on(code, dests.groups[code], on)
    entries = {m.entry: m.certain for m in cls.entries if m.regime is Regime.US}
    if code == rules.home:
        return RegimeAnswer(
            regime=Regime.US,
            classification=tuple(entries),
            licence_required=False,
            policy=Policy.NOT_REQUIRED,
            requirements=(),
            exceptions=(),
            conditions=(),
            reasoning=(f"{code} is the regime's own territory: not an export or reexport",),
            citations=("15 CFR 734.13 (export), 734.14 (reexport)",),
        )
    reasoning: list[str] = []
    conditions: list[str] = []
    citations: list[str] = [dests.citation]
    missing: list[Missing] = []
    missing_cls = [m for m in cls.missing if "US" in m.effect or "contained" in m.effect]
    subject_missing: list[Missing] = []
    unscreened: Missing | None = None
    if code in dests.inherited:
        reasoning.append(f"{code} takes the row of {dests.names[code]}: {dests.inherited[code]}")
    reasoning.append(
        f"{code} ({dests.names[code]}): Country Groups "
        + (", ".join(sorted(groups)) or "none")
        + f" on {on} ({dests.citation}; group membership as of that text"
        + (", adjusted by dated changes)" if groups != dests.groups[code] else ")")
    )
    caveat = history.caveat(code, on)
    if caveat is not None:
        reasoning.append(caveat)
        citations.extend(c.citation for c in history.for_country(code) if c.effective_from > on)
    if entries:
        reasoning.append(
            "US classification: "
            + ", ".join(e if c else f"{e} (possible)" for e, c in entries.items())
        )
    else:
        reasoning.append("US classification: no advanced-computing entry matched")
    # Subject to the EAR? (de minimis for foreign-made items)
    subject: bool | None = True
    if item.origin is not None and item.origin != "US":
        threshold = next((t for t in rules.de_minimis if t.scope.contains(code, groups)), None)
        assert threshold is not None, "de minimis data must cover every destination"
        citations.append(rules.de_minimis_citation)
        if item.us_content_percent is None:
            subject = None
            subject_missing.append(
                Missing(
                    "us_content_percent",
                    f"decides whether the item made in {item.origin} is subject to the EAR "
                    f"(de minimis {threshold.percent:g} % for {code}, "
                    f"{rules.de_minimis_citation}); foreign-direct-product rules may apply",
                )
            )
        elif item.us_content_percent > threshold.percent:
            reasoning.append(
                f"made in {item.origin} with {item.us_content_percent:g} % US content, above the "
                f"de minimis level of {threshold.percent:g} % for {code}: subject to the EAR"
            )
        else:
            fdp = ", ".join(f"{f['rule']} ({f['title']})" for f in rules.fdp)
            subject = None
            subject_missing.append(
                Missing(
                    "foreign_direct_product",
                    f"US content {item.us_content_percent:g} % is at or below the de minimis "
                    f"level of {threshold.percent:g} %; whether the item is a foreign direct "
                    f"product subject to the EAR decides the answer (parameters: {fdp})",
                )
            )
    else:
        reasoning.append(
            "item taken as subject to the EAR (US-origin or no origin given; give origin and "
            "us_content_percent for a foreign-made item)"
        )
    requirements: list[Requirement] = []
    possible: list[Requirement] = []
    offered: dict[str, list[str]] = {}
    overrides: list[Control] = []
    open_overrides: list[tuple[Control, tuple[str, ...]]] = []
    values, _ = figures(item)
    for control in rules.controls:
        period = control.timeline.as_of(on)
        if period is None or not period.status.applies:
            continue
        covered = _matched(control, item, entries)
        if covered is False:
            continue
        if not control.scope.contains(code, groups):
            reasoning.append(
                f"{control.rule_id}: not for {code} (scope: {control.scope.describe()})"
            )
            continue
        if control.item_tests:
            met, tested = criteria.evaluate_groups(control.item_tests, values)
            shown = criteria.explain(Evaluation(tested, met))
            if met is False:
                reasoning.append(f"{control.rule_id}: item criteria not met — {shown}")
                continue
            if met is None:
                unknown = sorted(
                    {c.parameter for g in tested for c in g.comparisons if c.holds is None}
                )
                reasoning.append(f"{control.rule_id}: item criteria undecided — {shown}")
                if control.overrides:
                    open_overrides.append((control, tuple(unknown)))
                    continue
                covered = None
            else:
                reasoning.append(f"{control.rule_id}: item criteria met — {shown}")
        note = "" if control.codified else "announced, not codified"
        if control.verify:
            reasoning.append(f"to verify: {control.rule_id}: {control.verify}")
        if control.announcement_only:
            conditions.extend(control.conditions_for(code, groups))
            citations.append(period.citation)
            continue
        if control.overrides:
            overrides.append(control)
            continue
        is_enforced = control.enforced(on)
        requirement = Requirement(
            rule_id=control.rule_id,
            title=control.title,
            policy=control.policy_for(code, groups),
            citation=period.citation,
            enforced=is_enforced,
            note=note
            if is_enforced
            else "; ".join(
                x for x in (note, "in the codified text but not enforced on this date") if x
            ),
        )
        citations.append(period.citation)
        if not is_enforced and control.enforcement is not None:
            ep = control.enforcement.as_of(on)
            if ep is not None:
                citations.append(ep.citation)
                reasoning.append(f"{control.rule_id}: {ep.describe()}")
        if covered is None:
            possible.append(requirement)
            continue
        requirements.append(requirement)
        if is_enforced:
            conditions.extend(control.conditions_for(code, groups))
            offered[control.rule_id] = list(control.exceptions)
    for override in overrides:
        period = override.timeline.as_of(on)
        assert period is not None
        for i, r in enumerate(requirements):
            if r.rule_id in override.overrides:
                policy = override.policy_for(code, groups)
                requirements[i] = Requirement(
                    r.rule_id,
                    r.title,
                    policy,
                    r.citation,
                    r.enforced,
                    f"policy {policy} by {override.rule_id} ({period.citation})",
                )
                conditions.extend(override.conditions_for(code, groups))
                citations.append(period.citation)
                reasoning.append(f"{override.rule_id}: review policy {policy} replaces {r.policy}")
    policy_open: list[Missing] = []
    for override, open_params in open_overrides:
        period = override.timeline.as_of(on)
        assert period is not None
        policy = override.policy_for(code, groups)
        for r in requirements:
            if r.rule_id in override.overrides and r.enforced and r.policy is not policy:
                fields = ", ".join(dict.fromkeys(NEEDS.get(u, u) for u in open_params))
                policy_open.append(
                    Missing(
                        fields,
                        f"decides whether {override.rule_id} ({period.citation}) replaces the "
                        f"review policy of {r.rule_id} ({r.policy}) by {policy}",
                    )
                )
                citations.append(period.citation)
    # End user
    if end_user is not None:
        affiliates = load_ownership_rules().get(rules.affiliates_rule)
        period = affiliates.period(on)
        state = period.describe() if period is not None else "not in force"
        reasoning.append(f"{affiliates.title} on {on}: {state}")
        if period is not None:
            citations.append(period.citation)
        if affiliates.applies(on):
            conditions.append(
                f"{affiliates.title} in force: entities owned {affiliates.threshold_percent:g} % "
                "or more by listed parties are covered too; check the end user's owners "
                "(econsec ownership check)"
            )
        if end_user.hits is None:
            unscreened = Missing(
                "end_user screening",
                f"{end_user.note}; an Entity List hit would require a licence for all "
                "items subject to the EAR",
            )
        else:
            reasoning.append(f"end user {end_user.name!r}: {end_user.note}")
            for hit in end_user.hits:
                text = f"{hit.name} ({hit.list}, {hit.entity_id}, score {hit.score:.2f})"
                if hit.list in rules.end_user_lists:
                    policy = _policy_of(hit.policy, rules)
                    requirements.append(
                        Requirement(
                            rule_id=f"entity-list:{hit.entity_id}",
                            title=f"end user matches the Entity List: {text}",
                            policy=policy,
                            citation=rules.end_user_citation,
                            note=f"licence requirement: {hit.requirement or 'as listed'}; "
                            f"policy: {hit.policy or 'as listed'}",
                        )
                    )
                    citations.append(rules.end_user_citation)
                elif hit.list in rules.end_user_review_lists:
                    conditions.append(f"end user matches {text}: review before export")
            if not end_user.hits:
                reasoning.append(f"end user {end_user.name!r}: no hit on the loaded lists")
    chart_missing = _chart(
        item, entries, code, groups, on, rules, requirements, reasoning, missing_cls
    )
    citations.extend(r.citation for r in requirements if r.rule_id.startswith("chart:"))
    enforced = [r for r in requirements if r.enforced]
    for r in requirements:
        if not r.enforced:
            reasoning.append(
                f"{r.rule_id}: requires a licence in the codified text; not enforced on {on}"
            )
    for r in possible:
        reasoning.append(f"{r.rule_id}: would apply if the possible classification holds")
    for r in enforced:
        reasoning.append(f"{r.rule_id}: licence required, {r.policy} ({r.citation})")
    licence: bool | None
    if enforced:
        licence = True
    elif any(r.enforced for r in possible):
        licence = None
        missing.extend(missing_cls)
    else:
        licence = False
        for m in missing_cls:
            reasoning.append(f"{m.field} unknown: does not change the answer for {code} on {on}")
    if chart_missing and licence is not True:
        licence = None
        missing.extend(chart_missing)
    elif chart_missing:
        for m in chart_missing:
            reasoning.append(f"{m.field}: does not change the answer ({m.effect})")
    if subject is None:
        if licence is False:
            reasoning.append(
                "whether the foreign-made item is subject to the EAR does not change the "
                f"answer: no requirement applies to it for {code} on {on}"
            )
        else:
            licence = None
            missing.extend(subject_missing)
    if unscreened is not None:
        missing.append(unscreened)
        if licence is False:
            licence = None
    if licence is True and policy_open:
        missing.extend(policy_open)
    policy = (
        Policy.UNDETERMINED
        if licence is True and policy_open
        else min((r.policy for r in enforced), key=lambda p: p.rank)
        if licence is True
        else Policy.NOT_REQUIRED
        if licence is False
        else Policy.UNDETERMINED
    )
    exceptions = _exceptions(item, cls, code, groups, on, rules, requirements, offered)
    if licence is True:
        citations.extend(e.citation for e in exceptions)
    return RegimeAnswer(
        regime=Regime.US,
        classification=tuple(entries),
        licence_required=licence,
        policy=policy,
        requirements=tuple(requirements + possible),
        exceptions=exceptions,
        conditions=tuple(dict.fromkeys(conditions)),
        reasoning=tuple(reasoning),
        citations=tuple(dict.fromkeys(c for c in citations if c)),
        missing=tuple(missing),
    )


_ECCN = re.compile(r"^(\d[A-E]\d{3})(?:\.(.+))?$")
_REVIEW = {
    "NS": "742.4",
    "RS": "742.6",
    "MT": "742.5",
    "NP": "742.3",
    "CB": "742.2",
    "AT": "742.19",
}


def _chart(
    item: Item,
    entries: dict[str, bool],
    code: str,
    groups: frozenset[str],
    on: date,
    rules: UsRules,
    requirements: list[Requirement],
    reasoning: list[str],
    missing_cls: Sequence[Missing] = (),
) -> list[Missing]:
    """Country Chart requirements of the item's ECCNs outside the encoded controls.

    Adds a requirement per reason for control whose row covers the destination
    (738.4(a)(2)); returns what is missing where the answer cannot be reached:
    a row written out in a way the engine does not read, an item known only by
    its ECCN where a row for some paragraphs applies, a date before the text.
    """
    controlled = {e for c in rules.controls for e in c.entries}
    candidates = dict(entries)
    for d in item.declared:
        if d.startswith("US:"):
            candidates.setdefault(d.split(":", 1)[1], True)
    found: dict[str, list[tuple[str | None, bool]]] = {}
    for entry, certain in candidates.items():
        if entry in controlled:
            continue
        match = _ECCN.match(entry)
        if match is None:
            continue
        found.setdefault(match.group(1), []).append((match.group(2), certain))
    chart = country_chart()
    if not found:
        if on < chart.as_of and figures(item)[0].get("lithography") is True:
            return [
                Missing(
                    "US classification of lithography equipment on the date",
                    f"exposure tools are classified from parameters by the 3B001.f.1 and "
                    f"3B993.f.1 texts encoded; other entries that applied before "
                    f"{chart.as_of} (e.g. under 88 FR 73424, 2023-11-17) are not encoded",
                )
            ]
        return []
    marks = chart.marks_of(code)
    missing: list[Missing] = []
    before = on < chart.as_of
    for eccn, paragraphs in sorted(found.items()):
        known = [p for p in paragraphs if p[0] is not None]
        chosen = known or paragraphs  # the most specific classification counts
        try:
            rows = chart.rows_of(eccn)
        except RuleSourceError as exc:
            missing.append(Missing("Commerce Country Chart", f"{exc}: {eccn} not evaluated"))
            continue
        for paragraph, certain in chosen:
            label = eccn if paragraph is None else f"{eccn}.{paragraph}"
            hits: list[str] = []
            open_before = len(missing)
            for row in rows:
                covers = row.covers(paragraph)
                if covers is False:
                    continue
                hit = row.hits(code, groups, marks)
                if hit is False:
                    if covers:
                        reasoning.append(f"{label} {row.reason}: not for {code} — {row.describe()}")
                    continue
                if hit is None:
                    missing.append(
                        Missing(
                            f"Commerce Country Chart: {label} {row.reason}",
                            f"the License Requirements line '{row.describe()}' is not encoded; "
                            f"it may require a licence for {code}",
                        )
                    )
                    continue
                if not certain and covers is not None and missing_cls:
                    missing.extend(m for m in missing_cls if m not in missing)
                    continue
                if covers is None or not certain:
                    why = (
                        f"the paragraph of {eccn} (applies to {', '.join(row.paragraphs or ())})"
                        if covers is None
                        else f"whether the item is {label}"
                    )
                    missing.append(
                        Missing(
                            f"{label} paragraph" if covers is None else f"{label} classification",
                            f"decides whether {row.reason} ({row.describe()}) requires a licence "
                            f"for {code}: {why}",
                        )
                    )
                    continue
                hits.append(row.reason)
                section = _REVIEW.get(row.reason)
                requirements.append(
                    Requirement(
                        rule_id=f"chart:{label}:{row.reason}",
                        title=f"{label}, reason for control {row.reason}: {row.describe()}",
                        policy=Policy.NOT_ENCODED,
                        citation=(
                            f"15 CFR 774 Supp. 1, ECCN {eccn}, License Requirements "
                            f"('{row.describe()}'); {chart.citation}"
                        ),
                        note="review policy "
                        + (f"of 15 CFR {section}(b) " if section else "")
                        + "not encoded",
                    )
                )
            undecided = len(missing) - open_before
            reasoning.append(
                f"{label}: Commerce Country Chart for {code} (marks: "
                f"{', '.join(sorted(marks)) or 'none'}) — "
                + (f"licence required for {', '.join(hits)}" if hits else "no requirement found")
                + (f"; {undecided} line(s) undecided" if undecided else "")
            )
    if before:
        moved = [r for r in requirements if r.rule_id.startswith("chart:")]
        for r in moved:
            requirements.remove(r)
        missing.append(
            Missing(
                "Commerce Country Chart on the date",
                f"the License Requirements of {', '.join(sorted(found))} and the Country Chart "
                f"are encoded as of {chart.as_of}; on {on} they may differ (on {chart.as_of}: "
                + (
                    "licence required for " + ", ".join(r.rule_id for r in moved)
                    if moved
                    else "no requirement"
                )
                + f" for {code})",
            )
        )
    return missing


def _exceptions(
    item: Item,
    cls: Classification,
    code: str,
    groups: frozenset[str],
    on: date,
    rules: UsRules,
    requirements: Sequence[Requirement],
    offered: dict[str, list[str]],
) -> tuple[ExceptionOption, ...]:
    enforced = [r for r in requirements if r.enforced]
    symbols = list(dict.fromkeys(s for lst in offered.values() for s in lst))
    if not symbols:
        return ()
    values, _ = figures(item)
    entries = {m.entry for m in cls.entries if m.regime is Regime.US and m.certain}
    out: list[ExceptionOption] = []
    for symbol in symbols:
        rule = rules.exceptions[symbol]
        period = rule.timeline.as_of(on)
        reason = ""
        if period is None or not period.status.applies:
            reason = f"not in force on {on}"
        elif not entries & rule.entries:
            reason = f"covers {', '.join(sorted(rule.entries))} only"
        elif not rule.scope.contains(code, groups):
            reason = f"not for {code} (scope: {rule.scope.describe()})"
        else:
            outcome, comparisons = (
                criteria.evaluate(rule.item_tests, values) if rule.item_tests else (True, ())
            )
            if outcome is not True:
                shown = "; ".join(c.describe() for c in comparisons)
                reason = (
                    "item conditions unknown: " if outcome is None else "item conditions not met: "
                ) + shown
            else:
                blocking = [r.rule_id for r in enforced if symbol not in offered.get(r.rule_id, [])]
                if blocking:
                    reason = (
                        f"does not overcome {', '.join(blocking)} "
                        "(each requirement is overcome separately, 738.4(a)(2))"
                    )
        conditions = tuple(rule.conditions) + (
            (f"to verify: {rule.verify}",) if rule.verify else ()
        )
        out.append(
            ExceptionOption(
                symbol=symbol,
                available=not reason,
                reason=reason or f"{rule.title}: available for {code}",
                citation=rule.citation,
                conditions=conditions,
            )
        )
    return tuple(out)


def _eu(item: Item, cls: Classification, code: str, on: date, rules: EuRules) -> RegimeAnswer:
    entries = [m for m in cls.entries if m.regime is Regime.EU]
    reasoning: list[str] = []
    citations = [rules.citation]
    conditions: list[str] = []
    eu_missing = [m for m in cls.missing if "EU" in m.effect]
    missing: list[Missing] = []
    requirements: list[Requirement] = []
    exceptions: list[ExceptionOption] = []
    annex = [m for m in entries if ":" not in m.entry]
    national = [m for m in entries if ":" in m.entry]
    if code in rules.member_states:
        reasoning.append(
            f"{code} is an EU member state: an intra-Union transfer, not an export; "
            "only Annex IV items need an authorisation (not encoded)"
        )
        licence: bool | None = False
    else:
        for m in annex:
            requirements.append(
                Requirement(
                    rule_id=f"annex-i:{m.entry}",
                    title=f"Annex I {m.entry}: {m.title}",
                    policy=Policy.CASE_BY_CASE,
                    citation=f"{rules.citation}; {m.citation}",
                    note=rules.annex_i_policy,
                )
                if m.certain
                else Requirement(
                    rule_id=f"annex-i:{m.entry}",
                    title=f"Annex I {m.entry} (possible)",
                    policy=Policy.CASE_BY_CASE,
                    citation=m.citation,
                    note="classification rests on missing inputs",
                )
            )
            citations.append(m.citation)
        for m in national:
            state = m.entry.split(":", 1)[0]
            requirements.append(
                Requirement(
                    rule_id=f"national:{m.entry}",
                    title=f"national list of {state}: {m.title}",
                    policy=Policy.CASE_BY_CASE,
                    citation=m.citation,
                    note=f"applies to exporters established in {state} (Art. 9 of 2021/821)",
                )
            )
            citations.append(m.citation)
        certain = [r for r in requirements if "possible" not in r.title]
        licence = True if certain else (None if requirements else False)
        for auth in rules.authorisations:
            period = auth.timeline.as_of(on)
            if period is None or not period.status.applies or not annex:
                continue
            if national and not annex:
                continue
            ok = code in auth.countries
            listed = ", ".join(m.entry for m in national)
            members = ", ".join(sorted(auth.countries))
            exceptions.append(
                ExceptionOption(
                    symbol=auth.symbol,
                    available=ok and not national,
                    reason=(
                        f"{auth.title}: covers Annex I items to {code}"
                        if ok and not national
                        else f"does not cover national-list entries ({listed})"
                        if ok
                        else f"{code} is not an {auth.symbol} destination ({members})"
                    ),
                    citation=auth.citation,
                    conditions=auth.conditions,
                )
            )
            citations.append(auth.citation)
        if not entries:
            reasoning.append("no Annex I or national-list entry matched")
        flag = rules.catch_all_condition
        if code in rules.arms_embargo:
            flag = f"{code} is under an arms embargo ({rules.arms_embargo_citation}): " + flag
        conditions.append(f"flagged: {flag}")
        citations.append(rules.catch_all_citation)
    for m in entries:
        reasoning.append(
            f"EU {m.entry} ({m.version})" + ("" if m.certain else " possible") + f": {m.citation}"
        )
    if licence is None:
        missing = eu_missing
    else:
        for gap in eu_missing:
            reasoning.append(f"{gap.field} unknown: does not change the answer for {code} on {on}")
    policy = (
        Policy.CASE_BY_CASE
        if licence is True
        else Policy.NOT_REQUIRED
        if licence is False
        else Policy.UNDETERMINED
    )
    if licence is True:
        reasoning.append(f"authorisation required: {rules.annex_i_policy}")
    return RegimeAnswer(
        regime=Regime.EU,
        classification=tuple(m.entry for m in entries),
        licence_required=licence,
        policy=policy,
        requirements=tuple(requirements),
        exceptions=tuple(exceptions),
        conditions=tuple(conditions),
        reasoning=tuple(reasoning),
        citations=tuple(dict.fromkeys(c for c in citations if c)),
        missing=tuple(missing),
    )


def destination_code(destination: str, dests: Destinations | None = None) -> str:
    """The ISO code of a destination the EAR tables know, or a DeterminationError."""
    try:
        return (dests or destinations()).require(destination)
    except RuleSourceError as exc:
        raise DeterminationError(str(exc)) from None


def check_date(on: date, regimes: Sequence[Regime]) -> None:
    for regime in regimes:
        first = us_rules().coverage_from if regime is Regime.US else eu_rules().coverage_from
        if on < first:
            raise DeterminationError(
                f"date {on}: before the first {regime} rule encoded ({first}); "
                "earlier dates are not covered"
            )


def determine(
    item: Item,
    destination: str,
    on: date,
    end_user: str | None = None,
    regime: str | Regime | Iterable[Regime] | None = None,
    screener: object | None = None,
    end_user_check: EndUserCheck | None = None,
) -> Determination:
    """Is an authorisation needed to send ``item`` to ``destination`` on ``on``?"""
    regimes = _regimes(regime)
    dests = destinations()
    code = destination_code(destination, dests)
    check_date(on, regimes)
    cls = classify(item, on, regimes)
    check = end_user_check
    if end_user is not None and check is None:
        check = screen_end_user(end_user, screener)
    answers = []
    for r in regimes:
        if r is Regime.US:
            answers.append(_us(item, cls, code, on, dests, check, us_rules()))
        else:
            answers.append(_eu(item, cls, code, on, eu_rules()))
    return Determination(
        item_id=item.item_id, on=on, destination=code, end_user=end_user, answers=tuple(answers)
    )
