"""Many determinations at once: items × destinations × dates, vectorised.

The answer of :func:`econsec.rules.determine.determine` depends on the item
only through its *item signature* on the date (the entries it falls under and
how certain, the product id where a control names products, the outcome of
each licence exception's and control's item conditions, origin, US content,
declared entries) and on the destination only through its *destination class*
(its country groups, its Commerce Country Chart row, and its code where some
rule names the code). So the batch:

1. computes each item's signature per date (items × dates classifications);
2. groups destinations into classes (a few dozen of ~200);
3. runs the real engine once per (signature, class, date) on a representative;
4. broadcasts the answers to every (item, destination) with numpy indexing.

The result holds, per regime, a table of distinct answers (:class:`AnswerKey`)
and an int32 index array of shape (items, destinations, dates) into it. The
benchmark ``benchmarks/determinations.py`` checks that a sample equals the
one-call-at-a-time loop.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt

from econsec.model.rules import Determination, Item, Policy, Regime, RegimeAnswer
from econsec.rules import criteria
from econsec.rules.chart import country_chart
from econsec.rules.classify import classify, figures
from econsec.rules.determine import _regimes, check_date, destination_code, determine
from econsec.rules.ecfr import destinations
from econsec.rules.groups import group_history
from econsec.rules.regimes import eu_rules, us_rules


@dataclass(frozen=True, slots=True)
class AnswerKey:
    """What a determination decides, without its explanation text."""

    licence_required: bool | None
    policy: Policy
    classification: tuple[str, ...]
    requirements: tuple[tuple[str, str, bool], ...]
    exceptions: tuple[tuple[str, bool], ...]
    conditions: tuple[str, ...]
    missing: tuple[str, ...]


def answer_key(answer: RegimeAnswer) -> AnswerKey:
    return AnswerKey(
        licence_required=answer.licence_required,
        policy=answer.policy,
        classification=answer.classification,
        requirements=tuple((r.rule_id, r.policy.value, r.enforced) for r in answer.requirements),
        exceptions=tuple((e.symbol, e.available) for e in answer.exceptions),
        conditions=answer.conditions,
        missing=tuple(m.field for m in answer.missing),
    )


@dataclass(frozen=True)
class BatchResult:
    items: tuple[str, ...]
    destinations: tuple[str, ...]
    dates: tuple[date, ...]
    regimes: tuple[Regime, ...]
    #: Per regime: the distinct answers.
    keys: dict[Regime, list[AnswerKey]]
    #: Per regime: int32 (items, destinations, dates) index into ``keys``.
    index: dict[Regime, npt.NDArray[np.int32]]
    #: Engine calls actually made (distinct signature × class × date).
    engine_calls: int

    @property
    def size(self) -> int:
        return len(self.items) * len(self.destinations) * len(self.dates) * len(self.regimes)

    def key(self, regime: Regime, item: int, destination: int, day: int) -> AnswerKey:
        return self.keys[regime][int(self.index[regime][item, destination, day])]

    def licence_required(self, regime: Regime) -> npt.NDArray[np.int8]:
        """1 = required, 0 = not required, -1 = undetermined; same shape as ``index``."""
        codes = np.array(
            [
                -1 if k.licence_required is None else int(k.licence_required)
                for k in self.keys[regime]
            ],
            dtype=np.int8,
        )
        return codes[self.index[regime]]


def _named_codes() -> frozenset[str]:
    us, eu = us_rules(), eu_rules()
    named: set[str] = set(eu.member_states) | set(eu.arms_embargo)
    for scope in us.scopes.values():
        named |= scope.countries | scope.except_countries
    for auth in eu.authorisations:
        named |= auth.countries
    return frozenset(named)


def _item_signature(item: Item, on: date, regimes: tuple[Regime, ...]) -> tuple[object, ...]:
    us = us_rules()
    cls = classify(item, on, regimes)
    values, _ = figures(item)
    products = {p for c in us.controls for p in c.products}
    tests = tuple(
        criteria.evaluate(e.item_tests, values)[0] if e.item_tests else True
        for e in us.exceptions.values()
    ) + tuple(
        criteria.evaluate(c.item_tests, values)[0] if c.item_tests else True for c in us.controls
    )
    return (
        tuple((m.regime.value, m.entry, m.certain) for m in cls.entries),
        tuple((m.field, m.effect) for m in cls.missing),
        item.item_id if item.item_id in products else None,
        tests,
        item.origin,
        item.us_content_percent,
        item.declared,
        values.get("lithography"),
    )


def determine_many(
    items: Sequence[Item],
    dests: Sequence[str] | None = None,
    dates: Sequence[date] = (),
    regime: str | Regime | None = None,
) -> BatchResult:
    """Determinations for every item × destination × date (no end user)."""
    regimes = _regimes(regime)
    table = destinations()
    codes = tuple(destination_code(d, table) for d in (dests or table.codes()))
    days = tuple(dates)
    for day in days:
        check_date(day, regimes)
    named = _named_codes()
    history = group_history()
    chart = country_chart()
    class_of: dict[tuple[object, ...], int] = {}
    representative: list[str] = []
    country_class = np.empty(len(codes), dtype=np.int32)
    for c, code in enumerate(codes):
        # Destinations whose membership changed over time get classes of their own.
        place = (
            table.groups[code],
            code if code in named else None,
            history.for_country(code),
            chart.marks_of(code),
        )
        if place not in class_of:
            class_of[place] = len(representative)
            representative.append(code)
        country_class[c] = class_of[place]
    keys: dict[Regime, list[AnswerKey]] = {r: [] for r in regimes}
    key_ids: dict[Regime, dict[AnswerKey, int]] = {r: {} for r in regimes}
    index = {r: np.empty((len(items), len(codes), len(days)), dtype=np.int32) for r in regimes}
    calls = 0
    for d, day in enumerate(days):
        sig_of: dict[tuple[object, ...], int] = {}
        sig_items: list[Item] = []
        item_sig = np.empty(len(items), dtype=np.int32)
        for i, item in enumerate(items):
            sig = _item_signature(item, day, regimes)
            if sig not in sig_of:
                sig_of[sig] = len(sig_items)
                sig_items.append(item)
            item_sig[i] = sig_of[sig]
        grid = {r: np.empty((len(sig_items), len(representative)), dtype=np.int32) for r in regimes}
        for s, item in enumerate(sig_items):
            for k, code in enumerate(representative):
                result: Determination = determine(item, code, day, regime=regimes)
                calls += 1
                for answer in result.answers:
                    key = answer_key(answer)
                    ids = key_ids[answer.regime]
                    if key not in ids:
                        ids[key] = len(keys[answer.regime])
                        keys[answer.regime].append(key)
                    grid[answer.regime][s, k] = ids[key]
        for r in regimes:
            index[r][:, :, d] = grid[r][item_sig[:, None], country_class[None, :]]
    return BatchResult(
        items=tuple(i.item_id for i in items),
        destinations=codes,
        dates=days,
        regimes=regimes,
        keys=keys,
        index=index,
        engine_calls=calls,
    )
