"""Country Group membership on a date (15 CFR 740 Supp. 1).

The eCFR text read at run time gives the membership as of its issue date
(``as_of`` in ``data/us/country_group_changes.yaml``). Earlier membership is
that text with every later dated change undone: a country ``added`` to a
group after the date was not yet in it, a ``removed`` one still was. Changes
that were found but not encoded are listed in the data, and every answer for
a date before ``as_of`` says that membership rests on the text of ``as_of``
adjusted by the encoded changes only (never a silent assumption).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from econsec.rules.dated import DatedError

GROUP_CHANGES_FILE = Path(__file__).parent / "data" / "us" / "country_group_changes.yaml"


@dataclass(frozen=True, slots=True)
class GroupChange:
    country: str
    group: str
    added: bool
    effective_from: date
    citation: str

    def describe(self) -> str:
        verb = "added to" if self.added else "removed from"
        return f"{self.country} {verb} {self.group} from {self.effective_from} ({self.citation})"


@dataclass(frozen=True, slots=True)
class GroupHistory:
    as_of: date
    changes: tuple[GroupChange, ...]
    #: (country, what is known but not encoded), shown with that country's answers.
    not_encoded: tuple[tuple[str, str], ...]
    source: str

    def for_country(self, code: str) -> tuple[GroupChange, ...]:
        return tuple(c for c in self.changes if c.country == code)

    def groups_on(self, code: str, current: frozenset[str], on: date) -> frozenset[str]:
        """Membership of ``code`` on ``on``, from its membership as of ``as_of``."""
        groups = set(current)
        # Undo the changes that took effect after ``on``, latest first.
        for change in sorted(self.for_country(code), key=lambda c: c.effective_from, reverse=True):
            if change.effective_from > on:
                if change.added:
                    groups.discard(change.group)
                else:
                    groups.add(change.group)
        return frozenset(groups)

    def caveat(self, code: str, on: date) -> str | None:
        """What the membership on ``on`` rests on, for any date before ``as_of``."""
        if on >= self.as_of:
            return None
        undone = [c.describe() for c in self.for_country(code) if c.effective_from > on]
        gaps = [note for country, note in self.not_encoded if country == code]
        text = (
            f"Country Group membership on {on}: the eCFR {self.as_of} text"
            + (f", with later changes undone: {'; '.join(undone)}" if undone else "")
            + f"; other membership changes between {on} and {self.as_of} are not encoded"
            + (f" (known gap for {code}: {' | '.join(gaps)})" if gaps else "")
        )
        return " ".join(text.split())

    def dates(self) -> tuple[date, ...]:
        return tuple(sorted({c.effective_from for c in self.changes}))


def _field(data: Mapping[str, Any], name: str, where: str) -> Any:
    value = data.get(name)
    if value is None or value == "":
        raise DatedError(f"{where}, field {name!r}: missing")
    return value


def parse_group_changes(doc: object, origin: str) -> GroupHistory:
    if not isinstance(doc, Mapping):
        raise DatedError(f"{origin}: expected a mapping with 'as_of' and 'changes'")
    as_of = _field(doc, "as_of", origin)
    if not isinstance(as_of, date):
        raise DatedError(f"{origin}, field 'as_of': {as_of!r} is not a date (YYYY-MM-DD)")
    changes = []
    for i, raw in enumerate(doc.get("changes") or []):
        where = f"{origin}, changes[{i}]"
        if not isinstance(raw, Mapping):
            raise DatedError(f"{where}: expected a mapping")
        country = str(_field(raw, "country", where)).upper()
        if len(country) != 2 or not country.isalpha():
            raise DatedError(f"{where}, field 'country': {country!r} is not an ISO alpha-2 code")
        kind = _field(raw, "change", where)
        if kind not in ("added", "removed"):
            raise DatedError(f"{where}, field 'change': {kind!r} is not 'added' or 'removed'")
        day = _field(raw, "effective_from", where)
        if not isinstance(day, date):
            raise DatedError(f"{where}, field 'effective_from': {day!r} is not a date")
        if day > as_of:
            raise DatedError(f"{where}, field 'effective_from': {day} is after as_of {as_of}")
        changes.append(
            GroupChange(
                country=country,
                group=str(_field(raw, "group", where)),
                added=kind == "added",
                effective_from=day,
                citation=" ".join(str(_field(raw, "citation", where)).split()),
            )
        )
    return GroupHistory(
        as_of=as_of,
        changes=tuple(changes),
        not_encoded=_gaps(doc.get("not_encoded"), origin),
        source=origin,
    )


def _gaps(data: object, origin: str) -> tuple[tuple[str, str], ...]:
    out = []
    if data is not None and not isinstance(data, list):
        raise DatedError(f"{origin}, field 'not_encoded': expected a list")
    for i, raw in enumerate(data or []):
        where = f"{origin}, not_encoded[{i}]"
        if not isinstance(raw, Mapping):
            raise DatedError(f"{where}: expected a mapping with 'country' and 'note'")
        country = str(_field(raw, "country", where)).upper()
        if len(country) != 2 or not country.isalpha():
            raise DatedError(f"{where}, field 'country': {country!r} is not an ISO alpha-2 code")
        out.append((country, " ".join(str(_field(raw, "note", where)).split())))
    return tuple(out)


@lru_cache(maxsize=1)
def group_history() -> GroupHistory:
    try:
        doc = yaml.safe_load(GROUP_CHANGES_FILE.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise DatedError(f"{GROUP_CHANGES_FILE}: cannot read ({exc})") from exc
    return parse_group_changes(doc, str(GROUP_CHANGES_FILE))
