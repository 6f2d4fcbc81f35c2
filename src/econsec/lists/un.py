"""UN Security Council consolidated list, XML (``CONSOLIDATED_LIST``).

Individuals carry their name in up to four parts (``FIRST_NAME`` …
``FOURTH_NAME``), the name in original script, aliases graded ``Good`` or
``Low``, dates of birth as exact dates, years or year ranges, and documents.
Entities carry their whole name in ``FIRST_NAME``.
"""

from __future__ import annotations

import re
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
    root: str | None = None
    try:
        # No entity expansion: a list file has no business defining entities.
        events = etree.iterparse(str(path), events=("start", "end"), resolve_entities=False)
        for event, el in events:
            if event == "start":
                if root is None:
                    root = el.tag
                    if root != "CONSOLIDATED_LIST":
                        raise LoadError(
                            path,
                            f"line {el.sourceline}",
                            "CONSOLIDATED_LIST",
                            f"not a UN consolidated list: the root element is <{root}>",
                        )
                    published = _generated(path, el)
                continue
            if el.tag in ("INDIVIDUAL", "ENTITY"):
                parties.append(_party(path, el))
                el.clear(keep_tail=False)
    except etree.XMLSyntaxError as exc:
        raise _syntax_error(path, exc) from None
    return ParsedList(parties=parties, published=published)


def _generated(path: Path, root: etree._Element) -> str | None:
    """The edition date, from the root's ``dateGenerated`` (``2026-02-27T00:00:09.554Z``)."""
    generated = root.get("dateGenerated")
    if generated is None:
        return None
    if _LISTED_ON.match(generated[:10]) is None:
        raise LoadError(
            path,
            f"line {root.sourceline}",
            "dateGenerated",
            f"not an ISO date and time: {generated!r}",
        )
    return generated[:10]


_TAG = re.compile(rb"<(/?)([A-Za-z_][\w.-]*)[^<>]*?(/?)>")


def _syntax_error(path: Path, exc: etree.XMLSyntaxError) -> LoadError:
    """A LoadError naming the line, the entry and the element a syntax error is in.

    lxml reports the line; the open elements at that point are found by
    scanning the file up to it, so a truncated file names the element it
    stops in and the entry that element belongs to.
    """
    line, column = exc.position if exc.position else (0, 0)
    data = path.read_bytes()
    end = len(data)
    if line:
        # Offset of the error: the start of its line, plus its (1-based) column.
        start = 0
        for _ in range(line - 1):
            start = data.find(b"\n", start) + 1
            if start == 0:
                start = len(data)
                break
        end = min(len(data), start + max(column - 1, 0))
    stack: list[tuple[str, int]] = []
    for m in _TAG.finditer(data, 0, end):
        closing, name, empty = m.group(1), m.group(2).decode(), m.group(3)
        if closing:
            if stack and stack[-1][0] == name:
                stack.pop()
        elif not empty:
            stack.append((name, data.count(b"\n", 0, m.start()) + 1))
    record = f"line {line}" if line else "end of file"
    names = [name for name, _ in stack]
    # Nothing open yet: the list's root element itself is missing or broken.
    field = names[-1] if names else "CONSOLIDATED_LIST"
    for depth in range(len(stack) - 1, -1, -1):
        name, at = stack[depth]
        if name in ("INDIVIDUAL", "ENTITY"):
            record += f" ({name} starting on line {at})"
            field = "/".join(names[depth + 1 :]) or name
            break
    message = f"invalid XML: {exc.msg}"
    if "encoding" in exc.msg.lower() or "utf-8" in exc.msg.lower():
        message += " (bytes not valid in the declared encoding; the UN list is UTF-8)"
    return LoadError(path, record, field, message)


_LISTED_ON = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:Z|[+-]\d{2}:\d{2})?$")


def _listed_on(path: Path, record: str, el: etree._Element) -> str | None:
    """``LISTED_ON`` as an ISO date; some entries carry a time zone (``2015-04-07-04:00``)."""
    value = _text(el, "LISTED_ON")
    if value is None:
        return None
    m = _LISTED_ON.match(value)
    if m is None:
        raise LoadError(path, record, "LISTED_ON", f"not an ISO date: {value!r}")
    return m.group(1)


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
        listed_on=_listed_on(path, record, el),
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
