"""Threshold tests written as data (``tpp >= 4800``) and their three-valued outcome.

A test on a parameter the item lacks is *unknown* (None), not false: a group
of tests that must all hold is False if one is False, unknown if one is
unknown, else True; a list of alternative groups is True if one is True,
unknown if one is unknown, else False. That is how a missing die area turns
into "possibly 3A090.a" instead of a confident "not controlled".
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from econsec.model.rules import Comparison, Evaluation, TestGroup
from econsec.rules.dated import DatedError

#: Parameters a test may name, and what a missing one would change.
PARAMETERS = {
    "tpp": "total processing performance (dense peak rates with bit lengths)",
    "performance_density": "performance density (needs the applicable die area)",
    "memory_bandwidth_density": "memory bandwidth density (needs bandwidth and package area)",
    "interconnect_gbps": "aggregate bidirectional interconnect rate (GB/s)",
    "datacenter": "whether the item is designed or marketed for datacentres",
    "dram_bandwidth": "total DRAM bandwidth of the IC (GB/s)",
    "light_source_wavelength_nm": "lithography light-source wavelength (nm)",
    "minimum_resolvable_feature_nm": (
        "lithography 'Minimum Resolvable Feature size' (nm; wavelength × 0.25 ÷ NA)"
    ),
    "minimum_resolvable_feature_k035_nm": (
        "lithography MRF with the earlier K factor (nm; wavelength × 0.35 ÷ NA)"
    ),
    "dedicated_chuck_overlay_nm": "lithography 'dedicated chuck overlay' (nm)",
    "lithography": "whether the equipment is a wafer exposure (lithography) tool",
}

_OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
    "==": operator.eq,
}
_TEST = re.compile(r"^\s*([a-z_0-9]+)\s*(>=|<=|==|>|<)\s*(\S+)\s*$")

Value = float | bool | None


@dataclass(frozen=True, slots=True)
class Test:
    parameter: str
    op: str
    threshold: float | bool

    def evaluate(self, values: Mapping[str, Value]) -> Comparison:
        value = values.get(self.parameter)
        holds: bool | None
        if value is None:
            holds = None
        elif isinstance(self.threshold, bool):
            holds = (value is self.threshold) if self.op == "==" else None
        else:
            holds = _OPS[self.op](float(value), self.threshold)
        return Comparison(self.parameter, value, self.op, self.threshold, holds)

    def text(self) -> str:
        shown = str(self.threshold).lower() if isinstance(self.threshold, bool) else self.threshold
        return f"{self.parameter} {self.op} {shown}"


def parse_test(text: object, where: str) -> Test:
    match = _TEST.match(str(text)) if isinstance(text, str) else None
    if match is None:
        raise DatedError(f"{where}: {text!r} is not a test such as 'tpp >= 4800'")
    name, op, raw = match.groups()
    if name not in PARAMETERS:
        raise DatedError(
            f"{where}: unknown parameter {name!r} (known: {', '.join(sorted(PARAMETERS))})"
        )
    threshold: float | bool
    if raw in ("true", "false"):
        if op != "==":
            raise DatedError(f"{where}: {text!r}: true/false can only be compared with ==")
        threshold = raw == "true"
    else:
        try:
            threshold = float(raw)
        except ValueError:
            raise DatedError(f"{where}: {text!r}: threshold {raw!r} is not a number") from None
    return Test(name, op, threshold)


def parse_alternatives(data: object, where: str) -> tuple[tuple[Test, ...], ...]:
    """``[[test, test], [test]]`` → alternatives of all-of groups."""
    if data is None:
        return ()
    if not isinstance(data, list):
        raise DatedError(f"{where}: expected a list of lists of tests")
    out = []
    for i, group in enumerate(data):
        if not isinstance(group, list) or not group:
            raise DatedError(f"{where}[{i}]: expected a non-empty list of tests")
        out.append(tuple(parse_test(t, f"{where}[{i}]") for t in group))
    return tuple(out)


def all_of(results: Sequence[Comparison]) -> bool | None:
    if any(r.holds is False for r in results):
        return False
    if any(r.holds is None for r in results):
        return None
    return True


def any_of(outcomes: Sequence[bool | None]) -> bool | None:
    if any(o is True for o in outcomes):
        return True
    if any(o is None for o in outcomes):
        return None
    return False


def evaluate(
    alternatives: Sequence[Sequence[Test]], values: Mapping[str, Value]
) -> tuple[bool | None, tuple[Comparison, ...]]:
    """Outcome of alternatives and every comparison made (for the explanation)."""
    comparisons: list[Comparison] = []
    outcomes: list[bool | None] = []
    for group in alternatives:
        results = [t.evaluate(values) for t in group]
        comparisons.extend(results)
        outcomes.append(all_of(results))
    return any_of(outcomes), tuple(comparisons)


def evaluate_groups(
    alternatives: Sequence[Sequence[Test]], values: Mapping[str, Value]
) -> tuple[bool | None, tuple[TestGroup, ...]]:
    """Like :func:`evaluate`, keeping each all-of group with its outcome."""
    groups = []
    for group in alternatives:
        results = tuple(t.evaluate(values) for t in group)
        groups.append(TestGroup(results, all_of(results)))
    return any_of([g.holds for g in groups]), tuple(groups)


#: How a parameter is named in explanations.
LABELS = {
    "tpp": "TPP",
    "performance_density": "PD",
    "memory_bandwidth_density": "memory bandwidth density",
    "interconnect_gbps": "interconnect GB/s",
    "datacenter": "datacenter",
    "dram_bandwidth": "total DRAM bandwidth (GB/s)",
    "light_source_wavelength_nm": "wavelength (nm)",
    "minimum_resolvable_feature_nm": "MRF (nm)",
    "minimum_resolvable_feature_k035_nm": "MRF with K 0.35 (nm)",
    "dedicated_chuck_overlay_nm": "dedicated chuck overlay (nm)",
    "lithography": "lithography tool",
}
_SYMBOLS = {">=": "≥", "<=": "≤", ">": ">", "<": "<", "==": "="}
_MARK = {True: "✓", False: "✗", None: "? (missing)"}


def _num(x: float | bool | str) -> str:
    if isinstance(x, bool | str):
        return str(x).lower()
    if abs(x - round(x)) < 1e-9:
        return f"{x:.0f}"
    return f"{x:.2f}".rstrip("0").rstrip(".") if abs(x) >= 0.1 else f"{x:.3g}"


def describe(c: Comparison, with_values: bool = True) -> str:
    """``TPP 15831.2 ≥ 4800 ✓`` (or, without values, ``TPP < 4800``)."""
    label = LABELS.get(c.parameter, c.parameter)
    if isinstance(c.threshold, bool):
        text = label if c.threshold else f"not {label}"
        if not with_values:
            return text
        shown = "missing" if c.value is None else _num(c.value)
        return f"{text} ({label}: {shown}) {_MARK[c.holds]}"
    if not with_values:
        return f"{label} {_SYMBOLS[c.operator]} {_num(c.threshold)}"
    shown = "" if c.value is None else f" {_num(c.value)}"
    return f"{label}{shown} {_SYMBOLS[c.operator]} {_num(c.threshold)} {_MARK[c.holds]}"


def _groups(groups: Sequence[TestGroup], with_values: bool, seen: set[str]) -> str:
    """Groups joined by "or", tests by "and"; each value is shown once per line."""
    parts = []
    for g in groups:
        tests = []
        for c in g.comparisons:
            text = describe(c, with_values and c.parameter not in seen)
            if with_values and c.parameter in seen:
                text += f" {_MARK[c.holds]}"
            if with_values:
                seen.add(c.parameter)
            tests.append(text)
        parts.append("(" + " and ".join(tests) + ")")
    return " or ".join(parts)


def explain(evaluation: Evaluation) -> str:
    """One line keeping the any-of / all-of structure and the exclusion.

    ``(TPP 15831.2 ≥ 4800 ✓) or (TPP ≥ 1600 ✓ and PD 19.45 ≥ 5.92 ✓);
    exclusion (not datacenter and TPP < 4800) does not apply``
    """
    seen: set[str] = set()
    text = _groups(evaluation.when, True, seen)
    if evaluation.unless:
        rule = _groups(evaluation.unless, False, seen)
        label = "exclusions" if len(evaluation.unless) > 1 else "exclusion"
        if evaluation.excluded is True:
            hit = [g for g in evaluation.unless if g.holds is True]
            text += f"; {label} {rule} applies: {_groups(hit, True, seen)}"
        elif evaluation.excluded is False:
            text += f"; {label} {rule} does not apply"
        else:
            open_ = [g for g in evaluation.unless if g.holds is None]
            text += f"; {label} {rule} undecided (inputs missing): {_groups(open_, True, seen)}"
    return text


def evaluation_json(evaluation: Evaluation) -> dict[str, object]:
    """The structured form: any-of groups of all-of tests, for ``when`` and ``unless``."""

    def groups(gs: Sequence[TestGroup]) -> list[dict[str, object]]:
        return [
            {
                "all_of": [
                    {
                        "parameter": c.parameter,
                        "value": c.value,
                        "operator": c.operator,
                        "threshold": c.threshold,
                        "holds": c.holds,
                    }
                    for c in g.comparisons
                ],
                "holds": g.holds,
            }
            for g in gs
        ]

    return {
        "when": {"any_of": groups(evaluation.when), "holds": evaluation.matched},
        "unless": {"any_of": groups(evaluation.unless), "holds": evaluation.excluded},
        "outcome": evaluation.outcome,
        "text": explain(evaluation),
    }
