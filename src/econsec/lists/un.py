"""UN Security Council consolidated list, XML (``CONSOLIDATED_LIST``).

Individuals carry their name in up to four parts (``FIRST_NAME`` …
``FOURTH_NAME``), the name in original script, aliases graded ``Good`` or
``Low``, dates of birth as exact dates, years or year ranges, and documents.
Entities carry their whole name in ``FIRST_NAME``.
"""

from __future__ import annotations

from pathlib import Path

from lxml import etree

from econsec.lists._common import (
    LoadError,
    ParsedList,
    clean,
    country_code,
    parse_date,
    unique,
)
from econsec.model.party import Address, Alias, Identifier, Party, Schema, SourceRef

PARSER = "un_xml/1"
_URL = "https://main.un.org/securitycouncil/en/content/un-sc-consolidated-list"


def _text(el: etree._Element, tag: str) -> str | None:
    child = el.find(tag)
    if child is None or child.text is None:
        return None
    return clean(child.text)


def _values(el: etree._Element, tag: str) -> list[str]:
    out: list[str] = []
    for container in el.findall(tag):
        for value in container.findall("VALUE"):
            if value.text and value.text.strip():
                out.append(value.text.strip())
    return out


def parse(path: Path) -> ParsedList:
    parties: list[Party] = []
    published: str | None = None
    try:
        for event, el in etree.iterparse(str(path), events=("start", "end")):
            if event == "start":
                if el.tag == "CONSOLIDATED_LIST":
                    generated = el.get("dateGenerated")
                    published = generated[:10] if generated else None
                continue
            if el.tag in ("INDIVIDUAL", "ENTITY"):
                parties.append(_party(path, el))
                el.clear(keep_tail=False)
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if exc.lineno else "?"
        raise LoadError(path, f"line {line}", None, f"invalid XML: {exc.msg}") from None
    if published is None:
        raise LoadError(path, "line 1", "CONSOLIDATED_LIST", "not a UN consolidated list")
    return ParsedList(parties=parties, published=published)


def _party(path: Path, el: etree._Element) -> Party:
    person = el.tag == "INDIVIDUAL"
    dataid = _text(el, "DATAID")
    record = f"line {el.sourceline} ({el.tag} {dataid})"
    if dataid is None:
        raise LoadError(path, record, "DATAID", "missing")
    ref = _text(el, "REFERENCE_NUMBER")
    if ref is None:
        raise LoadError(path, record, "REFERENCE_NUMBER", "missing")
    parts = [_text(el, t) for t in ("FIRST_NAME", "SECOND_NAME", "THIRD_NAME", "FOURTH_NAME")]
    name = " ".join(p for p in parts if p)
    if not name:
        raise LoadError(path, record, "FIRST_NAME", "empty name")
    prefix = "INDIVIDUAL" if person else "ENTITY"
    aliases: list[Alias] = []
    for alias in el.findall(f"{prefix}_ALIAS"):
        alias_name = _text(alias, "ALIAS_NAME")
        if alias_name:
            quality = (_text(alias, "QUALITY") or "").lower()
            kind = "fka" if quality.startswith("f.k.a") else "aka"
            aliases.append(Alias(name=alias_name, kind=kind, weak=quality == "low"))
    original = _text(el, "NAME_ORIGINAL_SCRIPT")
    if original:
        aliases.append(Alias(name=original, kind="original_script"))
    addresses = tuple(
        a for a in (_address(x) for x in el.findall(f"{prefix}_ADDRESS")) if a is not None
    )
    nationalities = unique(country_code(v) for v in _values(el, "NATIONALITY"))
    dobs: list[str] = []
    for dob in el.findall("INDIVIDUAL_DATE_OF_BIRTH"):
        dobs.extend(_dates_of_birth(dob))
    pobs: list[str] = []
    for pob in el.findall("INDIVIDUAL_PLACE_OF_BIRTH"):
        place = ", ".join(
            p for p in (_text(pob, t) for t in ("CITY", "STATE_PROVINCE", "COUNTRY")) if p
        )
        if place:
            pobs.append(place)
    identifiers: list[Identifier] = []
    for doc in el.findall("INDIVIDUAL_DOCUMENT"):
        number = _text(doc, "NUMBER")
        if number:
            identifiers.append(
                Identifier(
                    type=_text(doc, "TYPE_OF_DOCUMENT") or "Document",
                    value=number,
                    country=country_code(
                        _text(doc, "ISSUING_COUNTRY") or _text(doc, "COUNTRY_OF_ISSUE")
                    ),
                    note=_text(doc, "NOTE"),
                )
            )
    return Party(
        entity_id=f"un_sc:{ref}",
        source="un_sc",
        list="UN",
        list_entry_id=ref,
        schema=Schema.PERSON if person else Schema.ORGANIZATION,
        name=name,
        source_ref=SourceRef(file=str(path), record=record, url=_URL),
        aliases=tuple(dict.fromkeys(a for a in aliases if a.name != name)),
        countries=unique([a.country for a in addresses] + list(nationalities)),
        nationalities=nationalities,
        programs=unique([_text(el, "UN_LIST_TYPE")]),
        dates_of_birth=unique(dobs),
        places_of_birth=unique(pobs),
        addresses=addresses,
        identifiers=tuple(identifiers),
        titles=tuple(_values(el, "TITLE") + _values(el, "DESIGNATION")),
        gender=_text(el, "GENDER"),
        legal_basis=(ref,),
        listed_on=_text(el, "LISTED_ON"),
        remarks=_text(el, "COMMENTS1"),
    )


def _address(el: etree._Element) -> Address | None:
    street, city = _text(el, "STREET"), _text(el, "CITY")
    region, postal = _text(el, "STATE_PROVINCE"), _text(el, "ZIP_CODE")
    country_name = _text(el, "COUNTRY")
    parts = [p for p in (street, city, region, postal, country_name) if p]
    if not parts:
        return None
    return Address(
        street=street,
        city=city,
        region=region,
        postal_code=postal,
        country=country_code(country_name),
        full=", ".join(parts),
    )


def _dates_of_birth(el: etree._Element) -> list[str]:
    out: list[str] = []
    for tag in ("DATE", "YEAR"):
        out.extend(parse_date(_text(el, tag)))
    start, end = _text(el, "FROM_YEAR"), _text(el, "TO_YEAR")
    if start and end:
        out.extend(parse_date(f"{start} to {end}"))
    return out
