"""Senzing entity-specification JSON lines (as exported by OpenSanctions).

One JSON object per line. Attributes are either at the top level, grouped in
lists (``NAMES``, ``DATES``, ``COUNTRIES``, ``ADDRESSES``, ``IDENTIFIERS`` as
in the OpenSanctions export) or in a ``FEATURES`` list (the generic Senzing
layout used by the Senzing truth sets). Both are read the same way: every
attribute dictionary is one feature.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from econsec.lists._common import (
    LoadError,
    ParsedList,
    clean,
    country_code,
    json_key_at,
    parse_date,
    read_text,
    unique,
)
from econsec.model.party import Address, Alias, Identifier, Party, Schema, SourceRef

PARSER = "senzing_json/1"

_TYPES = {
    "PERSON": Schema.PERSON,
    "ORGANIZATION": Schema.ORGANIZATION,
    "VESSEL": Schema.VESSEL,
    "AIRCRAFT": Schema.AIRCRAFT,
    None: Schema.LEGAL_ENTITY,
}
_COUNTRY_KEYS = (
    "NATIONALITY",
    "CITIZENSHIP",
    "REGISTRATION_COUNTRY",
    "ADDR_COUNTRY",
    "PLACE_OF_BIRTH_COUNTRY",
)
_ID_KEYS = {
    "PASSPORT_NUMBER": ("Passport", "PASSPORT_COUNTRY"),
    "DRIVERS_LICENSE_NUMBER": ("Driver's licence", "DRIVERS_LICENSE_STATE"),
    "SSN_NUMBER": ("SSN", None),
    "NATIONAL_ID_NUMBER": ("National ID", "NATIONAL_ID_COUNTRY"),
    "TAX_ID_NUMBER": ("Tax ID", "TAX_ID_COUNTRY"),
    "LEI_NUMBER": ("LEI", None),
    "DUNS_NUMBER": ("D-U-N-S", None),
    "TRUSTED_ID_NUMBER": ("Trusted ID", None),
    "OTHER_ID_NUMBER": ("Other ID", "OTHER_ID_COUNTRY"),
    "EMAIL_ADDRESS": ("Email address", None),
    "PHONE_NUMBER": ("Phone", None),
}
_TYPE_KEYS = {
    "NATIONAL_ID_NUMBER": "NATIONAL_ID_TYPE",
    "TAX_ID_NUMBER": "TAX_ID_TYPE",
    "TRUSTED_ID_NUMBER": "TRUSTED_ID_TYPE",
    "OTHER_ID_NUMBER": "OTHER_ID_TYPE",
}


def _features(record: dict[str, Any]) -> Iterator[dict[str, str]]:
    top = {k: v for k, v in record.items() if isinstance(v, str)}
    if top:
        yield top
    for value in record.values():
        if isinstance(value, list):
            for item in value:
                if isinstance(item, dict):
                    yield {k: str(v) for k, v in item.items() if v is not None}


def parse(path: Path) -> ParsedList:
    text = read_text(path, field_at=json_key_at)
    parties: list[Party] = []
    skipped: list[str] = []
    changes: list[str] = []
    # Lines end with "\n" only: str.splitlines() would also split a record at a
    # U+2028 or U+0085 inside a JSON string, where they are valid characters.
    # (A trailing "\r" is JSON white space.)
    for lineno, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise LoadError(
                path,
                f"line {lineno}",
                json_key_at(line[: exc.pos], ""),
                f"invalid JSON at column {exc.colno}: {exc.msg}",
            ) from None
        if not isinstance(record, dict):
            raise LoadError(path, f"line {lineno}", None, "expected a JSON object")
        party = _party(path, lineno, record)
        if party is None:
            skipped.append(f"line {lineno}: record has no name, so it cannot be screened")
            continue
        parties.append(party)
        if isinstance(record.get("LAST_CHANGE"), str):
            changes.append(record["LAST_CHANGE"][:10])
    return ParsedList(
        parties=parties, published=max(changes) if changes else None, skipped=tuple(skipped)
    )


def _party(path: Path, lineno: int, record: dict[str, Any]) -> Party | None:
    where = f"line {lineno}"
    data_source = _string(path, where, record, "DATA_SOURCE")
    if data_source is None:
        raise LoadError(path, where, "DATA_SOURCE", "missing")
    raw_id = record.get("RECORD_ID")
    if isinstance(raw_id, int) and not isinstance(raw_id, bool):
        raw_id = str(raw_id)
    if raw_id is not None and not isinstance(raw_id, str):
        raise LoadError(path, where, "RECORD_ID", f"expected a string, found {raw_id!r}")
    record_id = clean(raw_id)
    if record_id is None:
        raise LoadError(path, where, "RECORD_ID", "missing")
    for key, value in record.items():
        if not isinstance(value, str | list | int | float | bool) and value is not None:
            raise LoadError(
                path, where, key, f"expected a string or a list of attributes, found {value!r}"
            )
        if isinstance(value, list) and not all(isinstance(item, dict) for item in value):
            raise LoadError(path, where, key, "expected a list of attribute objects")
    names: list[tuple[str, bool]] = []
    dobs: list[str] = []
    countries: list[str | None] = []
    nationalities: list[str | None] = []
    addresses: list[Address] = []
    identifiers: list[Identifier] = []
    topics: list[str] = []
    record_type = _string(path, where, record, "RECORD_TYPE")
    gender: str | None = None
    for feat in _features(record):
        record_type = record_type or clean(feat.get("RECORD_TYPE"))
        gender = gender or clean(feat.get("GENDER"))
        name = _name(feat)
        if name:
            primary = (feat.get("NAME_TYPE") or "PRIMARY").upper() == "PRIMARY"
            names.append((name, primary))
        if dob := clean(feat.get("DATE_OF_BIRTH")):
            parsed = parse_date(dob)
            if not parsed:
                raise LoadError(path, where, "DATE_OF_BIRTH", f"not a date: {dob!r}")
            dobs.extend(parsed)
        for key in _COUNTRY_KEYS:
            if value := clean(feat.get(key)):
                code = country_code(value)
                countries.append(code)
                if key in ("NATIONALITY", "CITIZENSHIP"):
                    nationalities.append(code)
        if address := _address(feat):
            addresses.append(address)
        for key, (label, country_key) in _ID_KEYS.items():
            if value := clean(feat.get(key)):
                kind = clean(feat.get(_TYPE_KEYS.get(key, ""))) or label
                country = country_code(feat.get(country_key)) if country_key else None
                identifiers.append(Identifier(type=kind, value=value, country=country))
        if topic := clean(feat.get("TOPIC")):
            topics.append(topic)
    if not names:
        return None
    primary_name = next((n for n, p in names if p), names[0][0])
    if record_type is not None and record_type.upper() not in _TYPES:
        raise LoadError(path, where, "RECORD_TYPE", f"unknown record type {record_type!r}")
    return Party(
        entity_id=f"{data_source.lower()}:{record_id}",
        source=data_source.lower(),
        list=data_source,
        list_entry_id=record_id,
        schema=_TYPES[record_type.upper() if record_type else None],
        name=primary_name,
        source_ref=SourceRef(file=str(path), record=where, url=_string(path, where, record, "URL")),
        aliases=tuple(dict.fromkeys(Alias(n) for n, _ in names if n != primary_name)),
        countries=unique(countries),
        nationalities=unique(nationalities),
        programs=unique(topics),
        dates_of_birth=unique(dobs),
        addresses=tuple(dict.fromkeys(addresses)),
        identifiers=tuple(dict.fromkeys(identifiers)),
        gender=gender,
    )


def _string(path: Path, where: str, record: dict[str, Any], key: str) -> str | None:
    """A top-level string attribute, or None; any other JSON type is an error."""
    value = record.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise LoadError(path, where, key, f"expected a string, found {value!r}")
    return clean(value)


def _name(feat: dict[str, str]) -> str | None:
    for key in ("NAME_FULL", "NAME_ORG"):
        if value := clean(feat.get(key)):
            return value
    parts = [clean(feat.get(k)) for k in ("NAME_FIRST", "NAME_MIDDLE", "NAME_LAST", "NAME_SUFFIX")]
    joined = " ".join(p for p in parts if p)
    return joined or None


def _address(feat: dict[str, str]) -> Address | None:
    full = clean(feat.get("ADDR_FULL"))
    street = clean(feat.get("ADDR_LINE1"))
    city, region = clean(feat.get("ADDR_CITY")), clean(feat.get("ADDR_STATE"))
    postal, country_raw = clean(feat.get("ADDR_POSTAL_CODE")), clean(feat.get("ADDR_COUNTRY"))
    parts = [p for p in (street, city, region, postal, country_raw) if p]
    if not full and not parts:
        return None
    return Address(
        street=street,
        city=city,
        region=region,
        postal_code=postal,
        country=country_code(country_raw),
        full=full or ", ".join(parts),
    )
