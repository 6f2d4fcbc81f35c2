"""Helpers shared by the list parsers: errors, text decoding, countries, dates."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Sequence
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


#: Given the text of a line up to a bad byte and the file's first line, the
#: name of the field the byte falls in (or None when it cannot be told).
FieldLocator = Callable[[str, str], str | None]


def read_text(path: Path, encoding: str = "utf-8", field_at: FieldLocator | None = None) -> str:
    """Read a whole text file; a decoding error names the line, the field and the byte.

    ``field_at`` lets a parser name the field that holds the undecodable byte
    (see :func:`csv_field_at` and :func:`json_key_at`).
    """
    data = path.read_bytes()
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        start = data.rfind(b"\n", 0, exc.start) + 1
        column = len(data[start : exc.start].decode(encoding, errors="replace")) + 1
        field = None
        if field_at is not None:
            prefix = data[start : exc.start].decode(encoding, errors="replace")
            first = data.split(b"\n", 1)[0].decode(encoding, errors="replace")
            field = field_at(prefix, first.lstrip("\ufeff"))
        raise LoadError(
            path,
            f"line {line}",
            field,
            f"not valid {encoding}: byte 0x{data[exc.start]:02x} at column {column} "
            f"(offset {exc.start}); re-export the file as UTF-8",
        ) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    return text


def csv_field_at(delimiter: str = ",", columns: Sequence[str] | None = None) -> FieldLocator:
    """A :data:`FieldLocator` for delimited text.

    The fields are named by ``columns`` or, for a file with a header, by its first line.
    """

    def locate(prefix: str, first_line: str) -> str | None:
        names = list(columns) if columns is not None else _csv_fields(first_line, delimiter)
        index = len(_csv_fields(prefix, delimiter)) - 1
        if 0 <= index < len(names):
            return names[index].strip()
        return None

    return locate


def _csv_fields(text: str, delimiter: str) -> list[str]:
    rows = list(csv.reader(io.StringIO(text.rstrip("\r\n")), delimiter=delimiter))
    return rows[0] if rows else [""]


_JSON_KEY = re.compile(r'"([^"\\]+)"\s*:')


def json_key_at(prefix: str, first_line: str) -> str | None:
    """A :data:`FieldLocator` for JSON lines: the last key before the position."""
    keys = _JSON_KEY.findall(prefix)
    return keys[-1] if keys else None


def csv_error(
    path: Path,
    text: str,
    line: int,
    exc: csv.Error,
    columns: Sequence[str],
    delimiter: str = ",",
) -> LoadError:
    """A LoadError for a CSV syntax error in the record starting on ``line``.

    The csv module does not say where in the record it failed, so the record
    is scanned again to find the field whose quotes are broken.
    """
    start = 0
    for _ in range(line - 1):
        start = text.find("\n", start) + 1
        if start == 0:
            start = len(text)
            break
    index = _bad_quote(text, start, delimiter)
    field = columns[index] if index is not None and index < len(columns) else None
    message = f"malformed CSV: {exc}"
    if index is not None:
        message += "; a quote inside a quoted value must be doubled, and a quoted value closed"
    return LoadError(path, f"line {line}", field, message)


def _bad_quote(text: str, start: int, delimiter: str) -> int | None:
    """Index of the field whose quoting is broken in the record starting at ``start``."""
    index, i, quoted, field_start = 0, start, False, True
    while i < len(text):
        c = text[i]
        if quoted:
            if c == '"':
                if text.startswith('""', i):
                    i += 2
                    continue
                quoted = False
                after = text[i + 1 : i + 2]
                if after not in ("", delimiter, "\r", "\n"):
                    return index
        elif c == '"' and field_start:
            quoted = True
        elif c == delimiter:
            index += 1
        elif c == "\n":
            return None
        field_start = c == delimiter and not quoted
        i += 1
    return index if quoted else None


def check_width(path: Path, line: int, row: list[str], columns: Sequence[str]) -> None:
    """Raise a LoadError naming the field when a delimited row has the wrong width."""
    width = len(columns)
    if len(row) == width:
        return
    where = f"line {line}"
    found = f"expected {width} fields, found {len(row)}"
    if len(row) < width:
        for index, value in enumerate(row):
            if "\n" in value:
                # A quote that is never closed swallows the lines after it into one field.
                raise LoadError(
                    path,
                    where,
                    columns[index],
                    f"unbalanced quote: the field runs on over {value.count(chr(10)) + 1} "
                    f"lines; {found}",
                )
        raise LoadError(path, where, columns[len(row)], f"missing ({found})")
    raise LoadError(
        path,
        where,
        columns[-1],
        f"{len(row) - width} value(s) after the last column ({found}); "
        "is a delimiter inside an unquoted value?",
    )


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
