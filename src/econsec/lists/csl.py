"""US Consolidated Screening List (trade.gov), CSV.

Two column layouts are in use: the 2019 layout (no ``_id`` column; ``ids``
written ``country, number, type``) and the current layout (leading ``_id``;
``ids`` written ``type, number, country``). The layout is recognised from the
header; any column outside the layout is an error, since a silently ignored
column is a silently ignored fact.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from pathlib import Path

from econsec.lists._common import (
    LoadError,
    ParsedList,
    check_width,
    clean,
    country_code,
    csv_error,
    csv_field_at,
    merge_duplicates,
    read_text,
    split_list,
    unique,
)
from econsec.lists.listed_names import listed_remarks, split_listed_name
from econsec.model.party import Address, Alias, Identifier, Party, Schema, SourceRef

PARSER = "us_csl/1"

_BASE_COLUMNS = (
    "source",
    "entity_number",
    "type",
    "programs",
    "name",
    "title",
    "addresses",
    "federal_register_notice",
    "start_date",
    "end_date",
    "standard_order",
    "license_requirement",
    "license_policy",
    "call_sign",
    "vessel_type",
    "gross_tonnage",
    "gross_registered_tonnage",
    "vessel_flag",
    "vessel_owner",
    "remarks",
    "source_list_url",
    "alt_names",
    "citizenships",
    "dates_of_birth",
    "nationalities",
    "places_of_birth",
    "source_information_url",
    "ids",
)
LAYOUT_2019 = _BASE_COLUMNS
LAYOUT_CURRENT = ("_id", *_BASE_COLUMNS)

_TYPES = {
    "individual": Schema.PERSON,
    "entity": Schema.ORGANIZATION,
    "vessel": Schema.VESSEL,
    "aircraft": Schema.AIRCRAFT,
    "": Schema.LEGAL_ENTITY,
}
_LIST_CODE = re.compile(r"\(([A-Za-z][A-Za-z0-9 .-]*?)(?: List)?\)")
_ISO2 = re.compile(r"^[A-Z]{2}$")
_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
_AND = re.compile(r"^and\s+")


def list_code(source: str) -> str:
    """``Entity List (EL) - Bureau of Industry and Security`` → ``EL``."""
    m = _LIST_CODE.search(source)
    return m.group(1) if m else source.strip()


def parse(path: Path) -> ParsedList:
    text = read_text(path, field_at=csv_field_at(","))
    # Strict: a stray quote is an error, not a value silently run into its neighbours.
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise LoadError(path, "line 1", None, "empty file, expected a CSL header") from None
    except csv.Error as exc:
        raise csv_error(path, text, 1, exc, ()) from None
    current = _check_header(path, header)
    parties: list[Party] = []
    while True:
        line = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise csv_error(path, text, line, exc, header) from None
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        check_width(path, line, row, header)
        parties.append(_party(path, line, dict(zip(header, row, strict=True)), current))
    return ParsedList(parties=merge_duplicates(parties))


def _check_header(path: Path, header: list[str]) -> bool:
    """Whether the header is the current layout (else the 2019 one); else a LoadError."""
    if tuple(header) == LAYOUT_CURRENT:
        return True
    if tuple(header) == LAYOUT_2019:
        return False
    known = set(LAYOUT_CURRENT)
    unknown = [h for h in header if h not in known]
    if unknown:
        raise LoadError(path, "line 1", unknown[0], "unknown column; not part of either CSL layout")
    repeated = [h for h in header if header.count(h) > 1]
    if repeated:
        raise LoadError(path, "line 1", repeated[0], "column appears more than once")
    missing = [h for h in _BASE_COLUMNS if h not in header]
    if missing:
        raise LoadError(
            path, "line 1", missing[0], "missing column; the CSL layouts have all of them"
        )
    expected = LAYOUT_CURRENT if "_id" in header else LAYOUT_2019
    index, column = next((i, h) for i, h in enumerate(header) if h != expected[i])
    raise LoadError(
        path,
        "line 1",
        column,
        f"column out of order: found at position {index + 1}, "
        f"where the CSL layout has {expected[index]!r}",
    )


def _party(path: Path, line: int, row: dict[str, str], current: bool) -> Party:
    where = f"line {line}"
    source = clean(row["source"])
    if source is None:
        raise LoadError(path, where, "source", "empty; every CSL row names its list")
    name = clean(row["name"])
    if name is None:
        raise LoadError(path, where, "name", "empty name")
    kind = (row["type"] or "").strip().lower()
    if kind not in _TYPES:
        raise LoadError(path, where, "type", f"unknown entry type {row['type']!r}")
    entry_id = clean(row.get("_id")) or clean(row["entity_number"])
    if entry_id is None:
        # The 2019 layout has no id for BIS and State lists: derive a stable one
        # from the facts that identify the listing.
        key = "|".join((source, name, row["federal_register_notice"], row["start_date"]))
        entry_id = "h" + hashlib.sha1(key.encode()).hexdigest()[:16]
    addresses = tuple(dict.fromkeys(_address(a) for a in _items(row["addresses"])))
    nationalities = _codes(path, where, "nationalities", row["nationalities"])
    citizenships = _codes(path, where, "citizenships", row["citizenships"])
    dobs = split_list(row["dates_of_birth"])
    for dob in dobs:
        if not _DATE.match(dob):
            raise LoadError(path, where, "dates_of_birth", f"not an ISO date: {dob!r}")
    identifiers, gender = _identifiers(row["ids"], current)
    identifiers += _vessel_facts(row)
    listed = split_listed_name(name)
    inline = tuple(Alias(a) for a in listed.aliases)
    code = list_code(source)
    url = clean(row["source_information_url"]) or clean(row["source_list_url"])
    return Party(
        entity_id=f"us_csl:{entry_id}",
        source="us_csl",
        list=code,
        list_entry_id=entry_id,
        schema=_TYPES[kind],
        name=listed.name,
        source_ref=SourceRef(file=str(path), record=where, url=url),
        aliases=tuple(
            dict.fromkeys(
                a
                for a in inline + tuple(Alias(a) for a in _items(row["alt_names"]))
                if a.name != listed.name
            )
        ),
        countries=unique([a.country for a in addresses] + list(nationalities) + list(citizenships)),
        nationalities=unique(nationalities + citizenships),
        programs=split_list(row["programs"]),
        dates_of_birth=dobs,
        places_of_birth=split_list(row["places_of_birth"]),
        addresses=addresses,
        identifiers=identifiers,
        titles=split_list(row["title"]),
        gender=gender,
        license_requirement=clean(row["license_requirement"]),
        license_policy=clean(row["license_policy"]),
        legal_basis=unique([clean(row["federal_register_notice"])]),
        listed_on=clean(row["start_date"]),
        end_date=clean(row["end_date"]),
        remarks=listed_remarks(clean(row["remarks"]), name, listed),
    )


def _items(value: str) -> tuple[str, ...]:
    """Split a ``;``-separated field, dropping the ``and`` that joins a list's last item.

    The Entity List writes ``A; B; and C``: the last alias or address is ``C``.
    """
    return unique(_AND.sub("", item) for item in split_list(value))


def _address(text: str) -> Address:
    parts = [p.strip() for p in text.split(",")]
    last = parts[-1]
    # trade.gov ends an address with the ISO code, but writes "UK" for GB, and
    # some US addresses end with a state code; only real codes are kept.
    country = country_code(last) if _ISO2.match(last) else None
    if country is None:
        # A whole address that is a country name: "TURKIYE", "PRC", "MAN, ISLE OF".
        country = country_code(text)
        if country is not None:
            return Address(country=country, full=None if text == country else text)
    if country is not None and len(parts) == 1 and last == country:
        return Address(country=country)
    return Address(country=country, full=text)


def _codes(path: Path, where: str, field: str, value: str) -> tuple[str, ...]:
    codes = split_list(value)
    out: list[str] = []
    for code in codes:
        iso = country_code(code) if _ISO2.match(code) else None
        if iso is None:
            raise LoadError(path, where, field, f"not an ISO 3166 alpha-2 code: {code!r}")
        out.append(iso)
    return unique(out)


def _identifiers(value: str, current: bool) -> tuple[tuple[Identifier, ...], str | None]:
    out: list[Identifier] = []
    gender: str | None = None
    for item in split_list(value):
        parts = [p.strip() for p in item.split(",")]
        if current:
            # type, number[, ..., country]
            kind = parts[0]
            country = parts[-1] if len(parts) > 2 and _ISO2.match(parts[-1]) else None
            rest = parts[1:-1] if country else parts[1:]
        else:
            # [country, ]number[, ...], type
            kind = parts[-1]
            country = parts[0] if len(parts) > 2 and _ISO2.match(parts[0]) else None
            rest = parts[1:-1] if country else parts[:-1]
        number = ", ".join(rest)
        if kind.lower() == "gender":
            gender = number or None
            continue
        if not number:
            continue
        out.append(Identifier(type=kind.rstrip(":- "), value=number, country=country))
    return tuple(out), gender


_VESSEL_FIELDS = {
    "call_sign": "Call sign",
    "vessel_type": "Vessel type",
    "gross_tonnage": "Gross tonnage",
    "gross_registered_tonnage": "Gross registered tonnage",
    "vessel_flag": "Vessel flag",
    "vessel_owner": "Vessel owner",
}


def _vessel_facts(row: dict[str, str]) -> tuple[Identifier, ...]:
    return tuple(
        Identifier(type=label, value=v)
        for field, label in _VESSEL_FIELDS.items()
        if (v := clean(row[field]))
    )
