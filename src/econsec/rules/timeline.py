"""How answers move with time, and where the allies' answers diverge.

* :func:`timeline`: the dated sequence of changed answers for one item and
  destination between two dates (evaluated on every rule-change date).
* :func:`diff`: which rules (entries, controls, their enforcement, licence
  exceptions, general authorisations, national lists) differ between two dates.
* :func:`align`: the item × destination combinations where the US and EU
  answers diverge on a date.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from econsec.model.rules import Determination, Item, Regime
from econsec.rules.batch import AnswerKey, answer_key, determine_many
from econsec.rules.dated import Timeline
from econsec.rules.determine import DeterminationError, determine
from econsec.rules.entries import load_entries
from econsec.rules.items import load_catalogue
from econsec.rules.regimes import change_dates, eu_rules, us_rules


@dataclass(frozen=True, slots=True)
class Step:
    """The answer from ``on`` until the next step, and what changed."""

    on: date
    determination: Determination
    changes: tuple[str, ...]


def _describe_change(regime: Regime, before: AnswerKey | None, after: AnswerKey) -> list[str]:
    if before is None:
        return [f"{regime}: licence required {after.licence_required}, {after.policy}"]
    out = []
    if before.licence_required != after.licence_required:
        out.append(
            f"{regime}: licence required {before.licence_required} → {after.licence_required}"
        )
    if before.policy != after.policy:
        out.append(f"{regime}: policy {before.policy} → {after.policy}")
    if before.classification != after.classification:
        out.append(
            f"{regime}: classification {list(before.classification)} → {list(after.classification)}"
        )
    if before.exceptions != after.exceptions:
        avail_b = [s for s, ok in before.exceptions if ok]
        avail_a = [s for s, ok in after.exceptions if ok]
        if avail_b != avail_a:
            out.append(f"{regime}: exceptions available {avail_b} → {avail_a}")
        else:
            seen_b = [s for s, _ in before.exceptions]
            seen_a = [s for s, _ in after.exceptions]
            out.append(f"{regime}: exceptions considered (none available) {seen_b} → {seen_a}")
    if before.requirements != after.requirements and not out:
        ids_b = [r[0] for r in before.requirements]
        ids_a = [r[0] for r in after.requirements]
        out.append(f"{regime}: rules applied {ids_b} → {ids_a}")
    if before.conditions != after.conditions:
        out.append(f"{regime}: conditions changed")
    if before.missing != after.missing:
        out.append(f"{regime}: missing inputs {list(before.missing)} → {list(after.missing)}")
    return out


def timeline(
    item: Item,
    destination: str,
    start: date,
    end: date,
    regime: str | Regime | None = None,
    end_user: str | None = None,
    screener: object | None = None,
) -> tuple[Step, ...]:
    """Every date in [start, end] on which the answer changes, with the answer."""
    if end < start:
        raise DeterminationError(f"to {end}: before from {start}")
    days = [start] + [d for d in change_dates() if start < d <= end]
    steps: list[Step] = []
    previous: dict[Regime, AnswerKey] = {}
    for day in days:
        result = determine(item, destination, day, end_user, regime, screener)
        changes: list[str] = []
        for answer in result.answers:
            key = answer_key(answer)
            if previous.get(answer.regime) != key:
                changes.extend(_describe_change(answer.regime, previous.get(answer.regime), key))
            previous[answer.regime] = key
        if changes:
            steps.append(Step(day, result, tuple(changes)))
    return tuple(steps)


@dataclass(frozen=True, slots=True)
class RuleChange:
    kind: str
    rule_id: str
    before: str
    after: str
    citation: str


def _status(timeline: Timeline, on: date) -> tuple[str, str]:
    period = timeline.as_of(on)
    if period is None:
        return "not in force", ""
    return period.status.value.replace("_", " "), period.citation


def diff(date_a: date, date_b: date) -> tuple[RuleChange, ...]:
    """The rules whose status or version differs between ``date_a`` and ``date_b``."""
    out: list[RuleChange] = []
    for rule in load_entries():
        va, vb = rule.version_on(date_a), rule.version_on(date_b)
        a = va.version if va else "not in force"
        b = vb.version if vb else "not in force"
        if a != b:
            known = vb or va
            cite = known.period.citation if known is not None else ""
            out.append(RuleChange("entry", f"{rule.regime} {rule.entry}", a, b, cite))
    us = us_rules()
    for control in us.controls:
        a, ca = _status(control.timeline, date_a)
        b, cb = _status(control.timeline, date_b)
        if control.enforcement is not None:
            ea, eca = _status(control.enforcement, date_a)
            eb, ecb = _status(control.enforcement, date_b)
            if a == "in force" and ea != "in force":
                a, ca = "in force, not enforced", eca
            if b == "in force" and eb != "in force":
                b, cb = "in force, not enforced", ecb
        if a != b:
            out.append(RuleChange("US control", control.rule_id, a, b, cb or ca))
    for symbol, exc in us.exceptions.items():
        a, ca = _status(exc.timeline, date_a)
        b, cb = _status(exc.timeline, date_b)
        if a != b:
            out.append(RuleChange("US licence exception", symbol, a, b, cb or ca))
    eu = eu_rules()
    for auth in eu.authorisations:
        a, ca = _status(auth.timeline, date_a)
        b, cb = _status(auth.timeline, date_b)
        if a != b:
            out.append(RuleChange("EU general authorisation", auth.symbol, a, b, cb or ca))
    for national in eu.national_lists:
        a, ca = _status(national.timeline, date_a)
        b, cb = _status(national.timeline, date_b)
        if a != b:
            out.append(RuleChange("EU national list", national.list_id, a, b, cb or ca))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class Divergence:
    item_id: str
    destination: str
    us: AnswerKey
    eu: AnswerKey

    def describe(self) -> str:
        return (
            f"{self.item_id} → {self.destination}: US licence {self.us.licence_required} "
            f"({self.us.policy}; {', '.join(self.us.classification) or 'not listed'}), "
            f"EU licence {self.eu.licence_required} ({self.eu.policy}; "
            f"{', '.join(self.eu.classification) or 'not listed'})"
        )


@dataclass(frozen=True, slots=True)
class Alignment:
    on: date
    combinations: int
    divergent: tuple[Divergence, ...]
    #: Combinations where one side could not be determined (missing inputs).
    undetermined: tuple[Divergence, ...]


def align(
    on: date, items: Sequence[Item] | None = None, dests: Sequence[str] | None = None
) -> Alignment:
    """Item × destination combinations where the US and EU answers differ on ``on``."""
    chosen = list(items) if items is not None else list(load_catalogue())
    result = determine_many(chosen, dests, [on], "both")
    divergent: list[Divergence] = []
    undetermined: list[Divergence] = []
    for i, item_id in enumerate(result.items):
        for c, code in enumerate(result.destinations):
            us = result.key(Regime.US, i, c, 0)
            eu = result.key(Regime.EU, i, c, 0)
            pair = Divergence(item_id, code, us, eu)
            if us.licence_required is None or eu.licence_required is None:
                if us.licence_required != eu.licence_required:
                    undetermined.append(pair)
            elif us.licence_required != eu.licence_required:
                divergent.append(pair)
    return Alignment(
        on=on,
        combinations=len(result.items) * len(result.destinations),
        divergent=tuple(divergent),
        undetermined=tuple(undetermined),
    )
