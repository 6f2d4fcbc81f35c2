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

from econsec.model.rules import Comparison
from econsec.rules.dated import DatedError

#: Parameters a test may name, and what a missing one would change.
PARAMETERS = {
    "tpp": "total processing performance (dense peak rates with bit lengths)",
    "performance_density": "performance density (needs the applicable die area)",
    "memory_bandwidth_density": "memory bandwidth density (needs bandwidth and package area)",
    "interconnect_gbps": "aggregate bidirectional interconnect rate (GB/s)",
    "datacenter": "whether the item is designed or marketed for datacentres",
}

_OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
    "==": operator.eq,
}
_TEST = re.compile(r"^\s*([a-z_]+)\s*(>=|<=|==|>|<)\s*(\S+)\s*$")

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
