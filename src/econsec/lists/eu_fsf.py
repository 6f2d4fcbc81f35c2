"""EU Financial Sanctions Files (FSF), full list XML (``xmlFullSanctionsList_1_1``).

The European Commission's consolidated list of persons, groups and entities
under EU financial sanctions. The root ``export`` element (namespace
``http://eu.europa.ec/fpi/fsd/export``) carries the ``generationDate``; each
``sanctionEntity`` carries its EU reference number (``EU.27.28``) and holds:

* ``regulation`` elements (legal act, ``programme`` code, publication date and
  a ``publicationUrl`` child); an entry moved between regimes has several;
* ``subjectType``: ``code`` ``person`` or ``enterprise`` (``classificationCode``
  ``P``/``E``); the file has no vessel or aircraft type;
* ``nameAlias`` elements, every name the entry is listed under, in its parts
  and whole, with its language and a ``strong`` flag (false: a weak alias);
  translations into the EU languages (Cyrillic, Greek …) are aliases too;
* ``citizenship``, ``birthdate`` (full date, year/month/day parts, or a range
  of years, each with the place of birth), ``address`` (with ``contactInfo``)
  and ``identification`` (documents and registration numbers);
* ``remark`` texts.

Every fact element also nests a ``regulationSummary`` naming the act that
introduced it; those are not kept. The file is read as a stream, so the whole
list (tens of megabytes) never sits in memory at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from lxml import etree

from econsec.lists._common import (
    LoadError,
    ParsedList,
    clean,
    country_code,
    merge_duplicates,
    unique,
)
from econsec.model.party import Address, Alias, Identifier, Party, Schema, SourceRef

PARSER = "eu_fsf_xml/1"
SOURCE = "eu_fsf"
LIST = "EU FSF"
NAMESPACE = "http://eu.europa.ec/fpi/fsd/export"

_SUBJECT_CODES = {"person": Schema.PERSON, "enterprise": Schema.ORGANIZATION}
_CLASSIFICATIONS = {"P": Schema.PERSON, "E": Schema.ORGANIZATION}
#: Labels for identification types when the file gives no description.
_ID_TYPES = {
    "passport": "Passport",
    "id": "National identification card",
    "regnumber": "Registration Number",
    "fiscalcode": "Tax ID No.",
    "swiftbic": "SWIFT/BIC",
    "imo": "IMO number",
}
#: Identification flags the file sets to "true", as written into the note.
_ID_FLAGS = (
    ("diplomatic", "diplomatic"),
    ("knownFalse", "known to be false"),
    ("knownExpired", "known to be expired"),
    ("reportedLost", "reported lost"),
    ("revokedByIssuer", "revoked by issuer"),
)
#: ``contactInfo`` keys → identifier types (the labels the US lists use).
_CONTACTS = {
    "PHONE": "Phone Number",
    "FAX": "Fax Number",
    "EMAIL": "Email Address",
    "WEB": "Website",
}
_GENDERS = {"M": "Male", "F": "Female"}
#: "(a) Mullah, (b) Maulavi": titles and functions are listed with letters.
_LETTERED = re.compile(r"\s*\([a-z]\)\s*")
_LOW_QUALITY = re.compile(r"\blow?\s+quality\b", re.IGNORECASE)
_QUALITY = re.compile(r"\b(?:good|god|high)\s+quality\b", re.IGNORECASE)


def parse(path: Path) -> ParsedList:
    """Read an FSF full-list XML file into parties (one per ``sanctionEntity``)."""
    parties: list[Party] = []
    published: str | None = None
    reader: _Reader | None = None
    #: The entry being read, named in the error if the XML breaks inside it.
    inside: str | None = None
    try:
        for event, el in etree.iterparse(
            str(path), events=("start", "end"), resolve_entities=False, no_network=True
        ):
            if reader is None:
                # The first event is the root element's start.
                reader = _root(path, el)
                published = _published(path, el)
                continue
            if el.tag != reader.entity_tag:
                continue
            if event == "start":
                inside = _record(el)
                continue
            parties.append(reader.party(el))
            inside = None
            el.clear(keep_tail=False)
            # Drop the entries already read from the root too.
            parent = el.getparent()
            if parent is not None:
                while el.getprevious() is not None:
                    del parent[0]
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if exc.lineno else "?"
        where = f" (inside the entry starting at {inside})" if inside else ""
        raise LoadError(path, f"line {line}", None, f"invalid XML: {exc.msg}{where}") from None
    if reader is None:
        raise LoadError(path, "line 1", "export", "empty file, not an EU FSF export")
    return ParsedList(parties=merge_duplicates(parties), published=published)


def _root(path: Path, el: etree._Element) -> _Reader:
    qname = etree.QName(el)
    if qname.localname != "export" or qname.namespace not in (NAMESPACE, None):
        found = f"{{{qname.namespace}}}{qname.localname}" if qname.namespace else qname.localname
        raise LoadError(
            path,
            f"line {el.sourceline}",
            "export",
            f"root element is <{found}>, expected <export> in namespace {NAMESPACE} "
            "(not an EU Financial Sanctions Files export)",
        )
    return _Reader(path, f"{{{qname.namespace}}}" if qname.namespace else "")


def _published(path: Path, el: etree._Element) -> str | None:
    value = clean(el.get("generationDate"))
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value).date().isoformat()
    except ValueError:
        raise LoadError(
            path, f"line {el.sourceline}", "export.generationDate", f"not a date: {value!r}"
        ) from None


def _record(el: etree._Element) -> str:
    """``line 12 (sanctionEntity EU.27.28, logicalId 13)``: where an entry is."""
    eu_ref, logical_id = _attr(el, "euReferenceNumber"), _attr(el, "logicalId")
    label = ", ".join(p for p in (eu_ref, f"logicalId {logical_id}" if logical_id else None) if p)
    return f"line {el.sourceline} (sanctionEntity{' ' + label if label else ''})"


def _attr(el: etree._Element, name: str) -> str | None:
    return clean(el.get(name))


def _country_name(el: etree._Element) -> str | None:
    """The country as the publisher wrote it; ``UNKNOWN`` means none."""
    description = _attr(el, "countryDescription")
    return None if description is None or description.upper() == "UNKNOWN" else description


def _flag(el: etree._Element, name: str) -> bool:
    return (el.get(name) or "").strip().lower() in ("true", "1", "yes")


@dataclass(frozen=True, slots=True)
class _Reader:
    path: Path
    #: ``{namespace}`` of the file's elements ("" when the file has none).
    prefix: str

    @property
    def entity_tag(self) -> str:
        return f"{self.prefix}sanctionEntity"

    def children(self, el: etree._Element, tag: str) -> list[etree._Element]:
        return el.findall(f"{self.prefix}{tag}")

    def texts(self, el: etree._Element, tag: str) -> list[str]:
        return [t for t in (clean(c.text) for c in self.children(el, tag)) if t]

    def party(self, el: etree._Element) -> Party:
        logical_id = _attr(el, "logicalId")
        eu_ref = _attr(el, "euReferenceNumber")
        record = _record(el)
        entry_id = eu_ref or logical_id
        if entry_id is None:
            raise LoadError(self.path, record, "euReferenceNumber", "missing, and no logicalId")
        entry = _Entry(self, record)
        schema = entry.schema(el)
        entry.names(el)
        if entry.name is None:
            raise LoadError(self.path, record, "nameAlias", "no name (wholeName or name parts)")
        entry.regulations(el)
        for tag, read in (
            ("citizenship", entry.citizenship),
            ("birthdate", entry.birthdate),
            ("address", entry.address),
            ("identification", entry.identification),
        ):
            for child in self.children(el, tag):
                read(child)
        remarks = self.texts(el, "remark")
        details = _attr(el, "designationDetails")
        if details:
            remarks.insert(0, details)
        designated = entry.date(_attr(el, "designationDate"), "sanctionEntity.designationDate")
        listed = [d for d in [designated, *entry.published] if d]
        un_id = _attr(el, "unitedNationId")
        return Party(
            entity_id=f"{SOURCE}:{entry_id}",
            source=SOURCE,
            list=LIST,
            list_entry_id=entry_id,
            schema=schema,
            name=entry.name,
            source_ref=SourceRef(file=str(self.path), record=record, url=entry.url),
            aliases=tuple(entry.aliases),
            countries=unique(entry.nationalities + entry.address_countries + entry.birth_countries),
            nationalities=unique(entry.nationalities),
            programs=unique(entry.programmes),
            dates_of_birth=unique(entry.dobs),
            places_of_birth=unique(entry.pobs),
            addresses=tuple(dict.fromkeys(entry.addresses)),
            identifiers=tuple(dict.fromkeys(entry.identifiers)),
            titles=unique(entry.titles),
            gender=entry.gender,
            legal_basis=unique([*entry.acts, un_id]),
            listed_on=min(listed) if listed else None,
            remarks="\n".join(unique(remarks + entry.remarks)) or None,
        )


@dataclass(slots=True)
class _Entry:
    """What has been read of one ``sanctionEntity`` so far."""

    reader: _Reader
    record: str
    name: str | None = None
    aliases: list[Alias] = field(default_factory=list)
    titles: list[str] = field(default_factory=list)
    gender: str | None = None
    programmes: list[str | None] = field(default_factory=list)
    acts: list[str | None] = field(default_factory=list)
    published: list[str] = field(default_factory=list)
    url: str | None = None
    nationalities: list[str | None] = field(default_factory=list)
    address_countries: list[str | None] = field(default_factory=list)
    birth_countries: list[str | None] = field(default_factory=list)
    dobs: list[str] = field(default_factory=list)
    pobs: list[str] = field(default_factory=list)
    addresses: list[Address] = field(default_factory=list)
    identifiers: list[Identifier] = field(default_factory=list)
    remarks: list[str] = field(default_factory=list)

    def error(self, fld: str, message: str) -> LoadError:
        return LoadError(self.reader.path, self.record, fld, message)

    def date(self, value: str | None, fld: str) -> str | None:
        """An ISO date (``2022-02-23``, time or zone after it allowed), checked."""
        if value is None:
            return None
        try:
            return date.fromisoformat(value[:10]).isoformat()
        except ValueError:
            raise self.error(fld, f"not a date: {value!r}") from None

    def schema(self, el: etree._Element) -> Schema:
        found = self.reader.children(el, "subjectType")
        if not found:
            raise self.error("subjectType", "missing")
        subject = found[0]
        code = _attr(subject, "code")
        if code is not None:
            schema = _SUBJECT_CODES.get(code.lower())
            if schema is None:
                raise self.error(
                    "subjectType.code",
                    f"unknown subject type {code!r}; expected one of {', '.join(_SUBJECT_CODES)}",
                )
            return schema
        classification = _attr(subject, "classificationCode")
        schema = _CLASSIFICATIONS.get((classification or "").upper())
        if schema is None:
            raise self.error(
                "subjectType.classificationCode",
                f"unknown subject type {classification!r}; expected P or E",
            )
        return schema

    def names(self, el: etree._Element) -> None:
        names: list[tuple[str, bool, bool]] = []  # (name, weak, whole name given)
        for alias in self.reader.children(el, "nameAlias"):
            whole = _attr(alias, "wholeName")
            parts = [_attr(alias, p) for p in ("firstName", "middleName", "lastName")]
            name = whole or " ".join(p for p in parts if p)
            weak = alias.get("strong") is not None and not _flag(alias, "strong")
            for remark in self.reader.texts(alias, "remark"):
                if _LOW_QUALITY.search(remark):
                    weak = True
                elif not _QUALITY.search(remark):
                    self.remarks.append(f"{name}: {remark}" if name else remark)
            for attr in ("title", "function"):
                for title in _LETTERED.split(_attr(alias, attr) or ""):
                    if title.strip(" ,;"):
                        self.titles.append(title.strip(" ,;"))
            gender = _attr(alias, "gender")
            if gender and self.gender is None:
                self.gender = _GENDERS.get(gender.upper(), gender)
            if name:
                names.append((name, weak, whole is not None))
        if not names:
            return
        primary = next(
            (n for n, weak, whole in names if whole and not weak),
            next((n for n, weak, _ in names if not weak), names[0][0]),
        )
        self.name = primary
        # One alias per name; a name given both strong and weak stays strong.
        strength: dict[str, bool] = {}
        for name, weak, _ in names:
            if name != primary:
                strength[name] = strength.get(name, True) and weak
        self.aliases = [Alias(name=n, weak=w) for n, w in strength.items()]

    def regulations(self, el: etree._Element) -> None:
        earliest: tuple[str, int] | None = None
        for i, regulation in enumerate(self.reader.children(el, "regulation")):
            self.programmes.append(_attr(regulation, "programme"))
            self.acts.append(_attr(regulation, "numberTitle"))
            published = self.date(
                _attr(regulation, "publicationDate"), "regulation.publicationDate"
            )
            urls = self.reader.texts(regulation, "publicationUrl")
            if published is not None:
                self.published.append(published)
            # The source link is the act that listed the entry (the earliest).
            key = (published or "9999", i)
            if urls and (earliest is None or key < earliest):
                earliest = key
                self.url = urls[0]

    def country(self, el: etree._Element) -> str | None:
        """The ISO code of a fact's country; ``00``/``UNKNOWN`` mean none."""
        code = _attr(el, "countryIso2Code")
        if code and code != "00":
            found = country_code(code)
            if found is not None:
                return found
        return country_code(_country_name(el))

    def citizenship(self, el: etree._Element) -> None:
        self.nationalities.append(self.country(el))

    def birthdate(self, el: etree._Element) -> None:
        calendar = (_attr(el, "calendarType") or "GREGORIAN").upper()
        dates: list[str] = []
        full = self.date(_attr(el, "birthdate"), "birthdate.birthdate")
        if full:
            dates.append(full)
        year = self._number(el, ("year",), 1, 9999)
        month = self._number(el, ("monthOfYear", "month"), 1, 12)
        day = self._number(el, ("dayOfMonth", "day"), 1, 31)
        if year is not None:
            if month is None:
                dates.append(f"{year:04d}")
            elif day is None:
                dates.append(f"{year:04d}-{month:02d}")
            else:
                try:
                    dates.append(date(year, month, day).isoformat())
                except ValueError:
                    raise self.error(
                        "birthdate.dayOfMonth", f"not a date: {year}-{month}-{day}"
                    ) from None
        start = self._number(el, ("yearRangeFrom",), 1, 9999)
        end = self._number(el, ("yearRangeTo",), 1, 9999)
        # An open or very wide range says too little to screen on: remarks only.
        if start is not None and end is not None:
            if start <= end <= start + 20:
                dates.extend(str(y) for y in range(start, end + 1))
            else:
                self.remarks.append(f"Date of birth: between {start} and {end}")
        elif start is not None:
            self.remarks.append(f"Date of birth: {start} or later")
        elif end is not None:
            self.remarks.append(f"Date of birth: {end} or earlier")
        if calendar == "GREGORIAN":
            self.dobs.extend(dates)
        elif dates:
            # Dates in another calendar would match the wrong Gregorian date.
            self.remarks.append(f"Date of birth ({calendar.lower()} calendar): {dates[0]}")
        country = self.country(el)
        self.birth_countries.append(country)
        parts = (_attr(el, "place"), _attr(el, "city"), _attr(el, "region"), _country_name(el))
        place = ", ".join(p for p in parts if p)
        if place:
            self.pobs.append(place)

    def _number(
        self, el: etree._Element, names: tuple[str, ...], low: int, high: int
    ) -> int | None:
        for name in names:
            value = _attr(el, name)
            if value is None:
                continue
            if not value.isdigit() or not low <= int(value) <= high:
                raise self.error(f"birthdate.{name}", f"not a date part: {value!r}")
            return int(value)
        return None

    def address(self, el: etree._Element) -> None:
        street, city = _attr(el, "street"), _attr(el, "city")
        region, postal = _attr(el, "region"), _attr(el, "zipCode")
        po_box, place = _attr(el, "poBox"), _attr(el, "place")
        country, description = self.country(el), _country_name(el)
        for remark in self.reader.texts(el, "remark"):
            self.remarks.append(f"Address: {remark}")
        for contact in self.reader.children(el, "contactInfo"):
            key = (_attr(contact, "key") or "").upper()
            label = _CONTACTS.get(key, key.title() or "Contact")
            for value in re.split(r"[;,]", contact.get("value") or ""):
                if value.strip():
                    self.identifiers.append(Identifier(type=label, value=value.strip()))
        parts = [p for p in (street, po_box, place, city, region, postal, description) if p]
        if not parts:
            return
        self.address_countries.append(country)
        self.addresses.append(
            Address(
                street=", ".join(p for p in (street, po_box) if p) or None,
                city=city,
                region=region,
                postal_code=postal,
                country=country,
                full=", ".join(parts),
            )
        )

    def identification(self, el: etree._Element) -> None:
        code = _attr(el, "identificationTypeCode")
        kind = (
            _attr(el, "identificationTypeDescription")
            or _ID_TYPES.get((code or "").lower())
            or code
            or "Identification"
        )
        number, latin = _attr(el, "number"), _attr(el, "latinNumber")
        notes: list[str] = [text for key, text in _ID_FLAGS if _flag(el, key)]
        for attr, text in (("issuedBy", "issued by"), ("issueDate", "issued on")):
            value = _attr(el, attr)
            if value:
                notes.append(f"{text} {value}")
        holder = _attr(el, "nameOnDocument")
        if holder:
            notes.append(f"name on document: {holder}")
        notes.extend(self.reader.texts(el, "remark"))
        note = "; ".join(notes) or None
        country = self.country(el)
        for value in unique([number, latin]):
            self.identifiers.append(Identifier(type=kind, value=value, country=country, note=note))
