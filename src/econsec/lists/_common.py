"""Helpers shared by the list parsers: errors, text decoding, countries, dates."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

from rigour.territories import lookup_territory

from econsec.model.party import Alias, Party

_T = TypeVar("_T")


class LoadError(Exception):
    """A source file could not be read. Names the file, the record and the field."""

    def __init__(
        self, file: str | Path, record: str | None, field: str | None, message: str
    ) -> None:
        self.file = str(file)
        self.record = record
        self.field = field
        self.message = message
        where = self.file
        if record:
            where += f", {record}"
        if field:
            where += f", field {field!r}"
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True, slots=True)
class ParsedList:
    """What a parser returns: the parties and what it learned about the edition."""

    parties: list[Party]
    #: Publication date found in the file's own metadata (ISO), if any.
    published: str | None = None
    #: Records that were read but deliberately left out, each naming its record
    #: and why (for example a watch-list record that has no name to screen).
    skipped: tuple[str, ...] = ()


def read_text(path: Path, encoding: str = "utf-8") -> str:
    """Read a whole text file; a decoding error names the line and byte offset."""
    data = path.read_bytes()
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise LoadError(
            path,
            f"line {line}",
            None,
            f"not valid {encoding} (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "re-export the file as UTF-8",
        ) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    return text


def clean(value: str | None) -> str | None:
    """Strip a field; empty strings and OFAC's ``-0-`` become None."""
    if value is None:
        return None
    value = value.strip()
    if not value or value == "-0-":
        return None
    return value


def split_list(value: str | None, sep: str = ";") -> tuple[str, ...]:
    """Split a multi-valued field, dropping blanks and duplicates, keeping order."""
    if not value:
        return ()
    out: dict[str, None] = {}
    for raw in value.split(sep):
        part = raw.strip()
        if part:
            out.setdefault(part, None)
    return tuple(out)


@lru_cache(maxsize=4096)
def country_code(value: str | None) -> str | None:
    """ISO 3166-1 alpha-2 code (upper case) for a country name or code, or None.

    Uses rigour's territory database, which knows official and common names
    ("Korea, North", "Burma", "Congo, Democratic Republic of the") and codes.
    Sub-national or historic territories (Crimea, the Soviet Union) that have no
    alpha-2 code give None: the raw text stays in the address.
    """
    value = clean(value)
    if value is None:
        return None
    territory = lookup_territory(value)
    if territory is None:
        return None
    code = territory.code
    if len(code) != 2:
        return None
    return code.upper()


def country_codes(values: Iterable[str | None]) -> tuple[str, ...]:
    out: dict[str, None] = {}
    for value in values:
        code = country_code(value)
        if code is not None:
            out.setdefault(code, None)
    return tuple(out)


def unique(values: Iterable[str | None]) -> tuple[str, ...]:
    out: dict[str, None] = {}
    for value in values:
        if value:
            out.setdefault(value, None)
    return tuple(out)


_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    )
}
_ISO_DATE = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")
_DMY_TEXT = re.compile(r"^(?:(\d{1,2})\s+)?([A-Za-z]{3})[a-z]*\.?\s+(\d{4})$")
_SLASH_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})$")
_DASH_TEXT = re.compile(r"^(\d{1,2})-([A-Za-z]{3})-(\d{4}|\d{2})$")
_MDY_TEXT = re.compile(r"^([A-Za-z]{3})[a-z]*\.?\s+(\d{1,2}),?\s+(\d{4})$")
_YEAR_RANGE = re.compile(r"^(\d{4})\s*(?:to|-|–)\s*(\d{4})$")


def parse_date(value: str | None) -> tuple[str, ...]:
    """Parse the date spellings lists use into partial ISO dates.

    ``1962-03-14``, ``14 Mar 1962``, ``Mar 1962``, ``Mar 14, 1962``,
    ``14-Mar-62``, ``1962``, ``3/14/1962`` and ``3/14/62`` (US order, unless
    the first number cannot be a month), ``circa 1962`` (kept as the year) and
    ``1962 to 1964`` (every year of the range). Two-digit years are read as the
    most recent past year with those digits. Unparseable text gives an empty tuple; callers keep the
    raw text in the remarks so nothing is lost.
    """
    text = clean(value)
    if text is None:
        return ()
    text = re.sub(r"^(?:circa|approximately|approx\.?|about|ca\.?)\s+", "", text, flags=re.I)
    text = text.strip().rstrip(".")
    if m := _ISO_DATE.match(text):
        year, month, day = m.groups()
        return (_iso(int(year), month and int(month), day and int(day)),)
    if m := _DMY_TEXT.match(text):
        day, mon, year = m.groups()
        month = _MONTHS.get(mon.lower())
        if month is None:
            return ()
        return (_iso(int(year), month, day and int(day)),)
    if m := _SLASH_DATE.match(text):
        first, second, year = int(m.group(1)), int(m.group(2)), _year(m.group(3))
        month, day = (second, first) if first > 12 >= second else (first, second)
        return (_iso(year, month, day),)
    if m := _DASH_TEXT.match(text):
        day, mon, year = m.groups()
        month = _MONTHS.get(mon.lower())
        return (_iso(_year(year), month, int(day)),) if month else ()
    if m := _MDY_TEXT.match(text):
        mon, day, year = m.groups()
        month = _MONTHS.get(mon.lower())
        return (_iso(int(year), month, int(day)),) if month else ()
    if m := _YEAR_RANGE.match(text):
        start, end = int(m.group(1)), int(m.group(2))
        if start <= end <= start + 20:
            return tuple(str(y) for y in range(start, end + 1))
    return ()


def _year(text: str) -> int:
    if len(text) == 4:
        return int(text)
    two = int(text)
    this_year = date.today().year
    year = this_year - this_year % 100 + two
    return year if year <= this_year else year - 100


def _iso(year: int, month: int | str | None = None, day: int | str | None = None) -> str:
    if not month:
        return f"{year:04d}"
    month = int(month)
    if not day:
        if not 1 <= month <= 12:
            return f"{year:04d}"
        return f"{year:04d}-{month:02d}"
    try:
        return date(year, month, int(day)).isoformat()
    except ValueError:
        return f"{year:04d}"


_FILENAME_DATE = re.compile(r"(\d{4})-(\d{2})(?:-(\d{2}))?")


def date_from_filename(path: Path) -> str | None:
    """``us_csl_2026-07-31.csv`` → ``2026-07-31``; ``ofac_sdn_2021-07`` → ``2021-07``."""
    for part in (path.name, path.parent.name):
        m = _FILENAME_DATE.search(part)
        if m:
            return m.group(0)
    return None


def _union(a: tuple[_T, ...], b: tuple[_T, ...]) -> tuple[_T, ...]:
    return tuple(dict.fromkeys(a + b))


def merge_duplicates(parties: Iterable[Party]) -> list[Party]:
    """Merge records that a publisher repeats under one entry id.

    The CSL repeats a Denied Persons List entry once per order (same ``_id``,
    different Federal Register citation); the BIS text file repeats a party
    once per address. One list entry must give one screening hit, so the rows
    are folded into one party carrying the union of their facts, and the
    source reference names every record it came from.
    """
    merged: dict[str, Party] = {}
    for party in parties:
        seen = merged.get(party.entity_id)
        if seen is None:
            merged[party.entity_id] = party
            continue
        names = {seen.name}
        aliases = seen.aliases + tuple(a for a in party.aliases if a.name not in names)
        if party.name not in names and party.name not in {a.name for a in aliases}:
            aliases += (Alias(party.name),)
        merged[party.entity_id] = replace(
            seen,
            aliases=tuple(dict.fromkeys(aliases)),
            countries=_union(seen.countries, party.countries),
            nationalities=_union(seen.nationalities, party.nationalities),
            programs=_union(seen.programs, party.programs),
            dates_of_birth=_union(seen.dates_of_birth, party.dates_of_birth),
            places_of_birth=_union(seen.places_of_birth, party.places_of_birth),
            addresses=_union(seen.addresses, party.addresses),
            identifiers=_union(seen.identifiers, party.identifiers),
            titles=_union(seen.titles, party.titles),
            legal_basis=_union(seen.legal_basis, party.legal_basis),
            source_ref=replace(
                seen.source_ref,
                record=f"{seen.source_ref.record}; {party.source_ref.record}",
            ),
        )
    return list(merged.values())
