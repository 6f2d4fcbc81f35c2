"""Commerce Country Chart requirements of an ECCN (15 CFR 738 Supp. 1, 738.4(a)(2)).

An ECCN's "License Requirements" paragraph (``ccl.json``, 15 CFR 774 Supp. 1)
names, per reason for control and per set of its paragraphs, either a Country
Chart column (``NS Column 2``) or a destination rule written out
("To or within Macau or a destination specified in Country Group D:5",
"Worldwide control"). A licence is required for a reason when the destination's
row has an X in that column, or the written rule covers the destination
(738.4(a)(2)); each requirement stands on its own.

Paragraph lists such as ``3B001.a.1 to a.3, b, e, f.2 to f.4, g to j`` are
expanded; an item classified to a paragraph falls under a row that lists it or
one of its parents. An item known only by its ECCN (``US:3B001`` declared)
falls under the rows for the entire entry, and *possibly* under the others.
Written rules the engine cannot read (most pointers to part 742 or 746) are
reported as not encoded: never read as "no licence".

Both tables are the eCFR text of one date (2026-07-23); answers for earlier
days say so.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

from econsec.lists._common import country_code
from econsec.rules.ecfr import (
    ECFR_FOLDER,
    RuleSourceError,
    _names_config,
    _read_json,
    destinations,
    rules_dir,
)

_COLUMN = re.compile(r"\b(CB|NP|NS|MT|RS|FC|CC|AT)\s+Column\s+(\d)\b")
_APPLIES = re.compile(r"^\s*([A-Z]{2,3})\s+applies\s+to\s+(.*?)\s*\.?\s*$", re.IGNORECASE)
_ENTIRE = re.compile(r"^(the\s+)?entire\s+entry", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class ChartRow:
    """One line of an ECCN's License Requirements: reason, paragraphs, destinations."""

    eccn: str
    reason: str
    #: Paragraph ids the row applies to; None = the entire entry.
    paragraphs: tuple[str, ...] | None
    #: The "applies to" text and the destination text, as in the CFR.
    control: str
    target: str
    #: Country Chart columns named (``NS 2``); empty when the rule is written out.
    columns: tuple[str, ...]
    #: ``worldwide``, ``macau_d5``, ``china_russia_venezuela`` or None (columns / not encoded).
    rule: str | None

    def covers(self, paragraph: str | None) -> bool | None:
        """Does the row apply to an item of ``paragraph`` (None: paragraph unknown)?"""
        if self.paragraphs is None:
            return True
        if paragraph is None:
            return None
        for listed in self.paragraphs:
            if paragraph == listed or paragraph.startswith(listed + "."):
                return True
        if any(listed.startswith(paragraph + ".") for listed in self.paragraphs):
            return None  # the item is known only to a parent paragraph
        return False

    @property
    def encoded(self) -> bool:
        return bool(self.columns) or self.rule is not None

    def hits(self, code: str, groups: frozenset[str], marks: frozenset[str]) -> bool | None:
        """Licence required for this reason to ``code``? None = rule not encoded."""
        if code == "US":
            return False
        if self.columns:
            return any(c in marks for c in self.columns)
        if self.rule == "worldwide":
            return True
        if self.rule == "macau_d5":
            return code == "MO" or "D:5" in groups
        if self.rule == "china_russia_venezuela":
            return code in ("CN", "HK", "RU", "VE")
        return None

    def describe(self) -> str:
        return f"{self.control}: {self.target}"


@dataclass(frozen=True, slots=True)
class CountryChart:
    #: ISO code → Country Chart columns with an X in its row.
    marks: Mapping[str, frozenset[str]]
    #: Rows without marks that point to part 746 (Cuba, Iran, North Korea, Syria).
    embargoed: frozenset[str]
    rows: Mapping[str, tuple[ChartRow, ...]]
    as_of: date
    citation: str
    source: str

    def marks_of(self, code: str) -> frozenset[str]:
        return self.marks.get(code, frozenset())

    def rows_of(self, eccn: str) -> tuple[ChartRow, ...]:
        if eccn not in self.rows:
            raise RuleSourceError(f"{self.source}: ECCN {eccn!r} has no License Requirements")
        return self.rows[eccn]


def _expand(token: str, eccn: str) -> tuple[str, ...]:
    """``a.1 to a.3`` → a.1, a.2, a.3; ``k to n`` → k … n; ``3B001.q`` → q."""
    token = token.strip().rstrip(".").strip()
    token = re.sub(r"^and\s+", "", token)
    token = token.replace(f"{eccn}.", "")
    if " to " not in token:
        return (token,) if token else ()
    first, last = (t.strip().replace(f"{eccn}.", "") for t in token.split(" to ", 1))
    head_a, _, tail_a = first.rpartition(".")
    head_b, _, tail_b = last.rpartition(".")
    if head_b == "" and head_a:
        head_b = head_a
    if head_a != head_b:
        return (first, last)
    prefix = f"{head_a}." if head_a else ""
    if tail_a.isdigit() and tail_b.isdigit():
        return tuple(f"{prefix}{n}" for n in range(int(tail_a), int(tail_b) + 1))
    if len(tail_a) == 1 and len(tail_b) == 1 and tail_a.isalpha() and tail_b.isalpha():
        return tuple(f"{prefix}{chr(c)}" for c in range(ord(tail_a), ord(tail_b) + 1))
    return (first, last)


def parse_row(eccn: str, control: str, target: str) -> ChartRow:
    """A License Requirements line of ``eccn`` (see the module docstring)."""
    match = _APPLIES.match(control)
    reason = match.group(1).upper() if match else control.split(maxsplit=1)[0].upper()
    scope_text = match.group(2) if match else ""
    paragraphs: tuple[str, ...] | None
    if not match or _ENTIRE.match(scope_text):
        paragraphs = None
    else:
        listed: list[str] = []
        for token in re.split(r",\s*|\s+and\s+", scope_text):
            listed.extend(_expand(token, eccn))
        paragraphs = tuple(p for p in listed if p)
    text = " ".join(target.split())
    lowered = text.lower()
    columns = tuple(f"{a} {n}" for a, n in _COLUMN.findall(text))
    if lowered.startswith(("see ", "to or within", "a license", "worldwide", "refer")):
        columns = ()  # a written-out rule that may mention columns in passing
    rule: str | None = None
    if columns:
        pass
    elif lowered.startswith("worldwide control") or "any destination worldwide" in lowered:
        rule = "worldwide"
    elif re.match(
        r"^to or within macau or a destination specified in country group d:5\b", lowered
    ):
        rule = "macau_d5"
    elif re.match(r"^china, russia,? or venezuela\b", lowered):
        rule = "china_russia_venezuela"
    return ChartRow(eccn, reason, paragraphs, control, text, columns, rule)


def load_country_chart(folder: Path | None = None) -> CountryChart:
    """The Country Chart rows by ISO code and every ECCN's License Requirements lines."""
    base = folder or rules_dir() / ECFR_FOLDER
    chart_path = base / "country-chart.json"
    ccl_path = base / "ccl.json"
    chart = _read_json(chart_path)
    ccl = _read_json(ccl_path)
    overrides: dict[str, str] = _names_config().get("names") or {}
    marks: dict[str, frozenset[str]] = {}
    countries = chart.get("countries")
    if not isinstance(countries, dict):
        raise RuleSourceError(f"{chart_path}, field 'countries': missing")
    columns = set(chart.get("columns") or ())
    for name, row in countries.items():
        code = overrides.get(name) or country_code(str(name))
        if code is None:
            raise RuleSourceError(f"{chart_path}, countries[{name!r}]: no ISO alpha-2 code")
        if not isinstance(row, dict) or not isinstance(row.get("marks"), list):
            raise RuleSourceError(f"{chart_path}, countries[{name!r}], field 'marks': missing")
        unknown = [m for m in row["marks"] if m not in columns]
        if unknown:
            raise RuleSourceError(
                f"{chart_path}, countries[{name!r}], field 'marks': unknown column {unknown[0]!r}"
            )
        marks[code] = frozenset(str(m) for m in row["marks"])
    embargoed = frozenset(
        overrides.get(n) or country_code(str(n)) or "" for n in chart.get("embargoed") or {}
    )
    table = destinations()
    for code, row_code in ((c, _row_of(c, table.names)) for c in table.inherited):
        if row_code in marks:
            marks[code] = marks[row_code]
    rows: dict[str, tuple[ChartRow, ...]] = {}
    for i, entry in enumerate(ccl.get("entries") or []):
        if not isinstance(entry, dict) or not entry.get("eccn"):
            raise RuleSourceError(f"{ccl_path}, entries[{i}], field 'eccn': missing")
        eccn = str(entry["eccn"])
        lines = []
        for j, line in enumerate(entry.get("countryChart") or []):
            if not isinstance(line, dict) or "control" not in line:
                raise RuleSourceError(
                    f"{ccl_path}, entries[{i}] ({eccn}), countryChart[{j}]: expected "
                    "{control, countryChart}"
                )
            lines.append(parse_row(eccn, str(line["control"]), str(line.get("countryChart"))))
        rows[eccn] = tuple(lines)
    issued = str(chart.get("ecfrIssueDate") or "")
    try:
        as_of = date.fromisoformat(issued)
    except ValueError:
        raise RuleSourceError(f"{chart_path}, field 'ecfrIssueDate': {issued!r}") from None
    return CountryChart(
        marks=marks,
        embargoed=embargoed - {""},
        rows=rows,
        as_of=as_of,
        citation=f"{chart.get('citation')} (eCFR {issued}), 15 CFR 738.4(a)(2)",
        source=str(ccl_path),
    )


def _row_of(code: str, names: Mapping[str, str]) -> str:
    """The code of the row an inheriting destination takes (Hong Kong → China)."""
    name = names[code]
    return next((c for c, n in names.items() if n == name and c != code), code)


@lru_cache(maxsize=1)
def country_chart() -> CountryChart:
    return load_country_chart()
