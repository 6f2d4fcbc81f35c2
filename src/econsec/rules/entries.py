"""Control-list entries as dated data (``data/entries.yaml``).

Each entry (``US 3A090.a``, ``EU 3B001`` …) has versions; a version is a
:class:`~econsec.rules.dated.Period` plus the tests that put an item in it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from econsec.model.rules import ItemKind, Regime
from econsec.rules.criteria import Test, parse_alternatives
from econsec.rules.dated import DatedError, Period, Timeline, period_from_mapping

ENTRIES_FILE = "data/entries.yaml"
_PERIOD_FIELDS = ("effective_from", "effective_to", "status", "citation", "note")
_VERSION_FIELDS = {
    *_PERIOD_FIELDS,
    "version",
    "paragraphs",
    "when",
    "unless",
    "derived_from",
    "requires_declared",
    "verify",
}


@dataclass(frozen=True, slots=True)
class EntryVersion:
    version: str
    period: Period
    paragraphs: tuple[str, ...]
    when: tuple[tuple[Test, ...], ...]
    unless: tuple[tuple[Test, ...], ...]
    derived_from: tuple[str, ...]
    requires_declared: tuple[str, ...]
    verify: str


@dataclass(frozen=True, slots=True)
class EntryRule:
    regime: Regime
    entry: str
    title: str
    kinds: frozenset[ItemKind]
    versions: tuple[EntryVersion, ...]

    def version_on(self, on: date) -> EntryVersion | None:
        for v in self.versions:
            if v.period.contains(on):
                return v if v.period.status.applies else None
        return None

    def changes(self) -> tuple[date, ...]:
        return Timeline(tuple(v.period for v in self.versions)).changes()


def _strings(data: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = data.get(key) or []
    if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
        raise DatedError(f"{where}, field {key!r}: expected a list of strings")
    return tuple(value)


def _version(data: Any, where: str) -> EntryVersion:
    if not isinstance(data, Mapping):
        raise DatedError(f"{where}: expected a mapping")
    unknown = sorted(set(data) - _VERSION_FIELDS)
    if unknown:
        raise DatedError(f"{where}, field {unknown[0]!r}: unknown field")
    period = period_from_mapping({k: data[k] for k in _PERIOD_FIELDS if k in data}, where)
    when = parse_alternatives(data.get("when"), f"{where}, field 'when'")
    derived = _strings(data, "derived_from", where)
    declared = _strings(data, "requires_declared", where)
    if not when and not derived and not declared:
        raise DatedError(f"{where}: a version needs 'when', 'derived_from' or 'requires_declared'")
    return EntryVersion(
        version=str(data.get("version") or period.effective_from.isoformat()),
        period=period,
        paragraphs=_strings(data, "paragraphs", where),
        when=when,
        unless=parse_alternatives(data.get("unless"), f"{where}, field 'unless'"),
        derived_from=derived,
        requires_declared=declared,
        verify=str(data.get("verify") or "").strip(),
    )


def parse_entries(text: str, origin: str) -> tuple[EntryRule, ...]:
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise DatedError(f"{origin}: not valid YAML: {exc}") from None
    if not isinstance(doc, Mapping) or doc.get("format") != 1:
        raise DatedError(f"{origin}, field 'format': expected 1")
    rules: list[EntryRule] = []
    seen: set[tuple[str, str]] = set()
    for i, data in enumerate(doc.get("entries") or []):
        where = f"{origin}, entries[{i}]"
        if not isinstance(data, Mapping):
            raise DatedError(f"{where}: expected a mapping")
        try:
            regime = Regime(str(data.get("regime")))
        except ValueError:
            raise DatedError(f"{where}, field 'regime': must be US or EU") from None
        entry = str(data.get("entry") or "")
        if not entry:
            raise DatedError(f"{where}, field 'entry': missing")
        if (regime.value, entry) in seen:
            raise DatedError(f"{where}, field 'entry': {regime} {entry} defined twice")
        seen.add((regime.value, entry))
        try:
            kinds = frozenset(ItemKind(k) for k in data.get("kinds") or [])
        except ValueError as exc:
            raise DatedError(f"{where}, field 'kinds': {exc}") from None
        versions = tuple(
            _version(v, f"{where} ({entry}), versions[{j}]")
            for j, v in enumerate(data.get("versions") or [])
        )
        if not versions:
            raise DatedError(f"{where}, field 'versions': at least one is required")
        try:
            Timeline(tuple(v.period for v in versions))
        except DatedError as exc:
            raise DatedError(f"{where}, field 'versions': {exc}") from None
        rules.append(EntryRule(regime, entry, str(data.get("title") or ""), kinds, versions))
    for rule in rules:
        names = {r.entry for r in rules if r.regime is rule.regime}
        for v in rule.versions:
            for base in v.derived_from:
                if base not in names:
                    raise DatedError(
                        f"{origin}, {rule.regime} {rule.entry}: "
                        f"derived_from {base!r} is not defined"
                    )
    return tuple(rules)


def load_entries(path: Path | None = None) -> tuple[EntryRule, ...]:
    if path is not None:
        return parse_entries(path.read_text(encoding="utf-8"), str(path))
    return _packaged()


@lru_cache(maxsize=1)
def _packaged() -> tuple[EntryRule, ...]:
    text = resources.files("econsec.rules").joinpath(ENTRIES_FILE).read_text(encoding="utf-8")
    return parse_entries(text, f"econsec/rules/{ENTRIES_FILE}")
