"""FollowTheMoney (FtM) entities: export parties, read OpenSanctions-style files.

**Export.** Every party becomes one FtM entity of its schema (Person,
Organization, LegalEntity, Vessel, Airplane) plus one ``Sanction`` entity that
links it to its list, programmes, legal basis and listing date, and, for
people and organisations, one ``Identification`` (or ``Passport``) entity per
identity document, which keeps the document's type and issuing country that a
bare ``idNumber`` property cannot carry. Values go through followthemoney's
own property cleaning, so property names are validated and values normalised
(countries to lower-case ISO codes, dates to ISO prefixes); a value the
library rejects is not written (an identifier falls back to ``idNumber``, or,
on vessels and aircraft, which have no ``idNumber``, to ``notes`` as
``type: value``; such facts come back as remarks). Ids are deterministic:
``econsec-{slug(entity_id)}``, with ``-sanction`` and ``-id-{hash}`` suffixes
for the linked entities.

**Import.** :func:`parse` reads an FtM entities file in JSON lines, the
layout of OpenSanctions' ``entities.ftm.json``: one entity per line with
``id``, ``schema``, ``properties`` and optionally ``datasets``, ``caption``,
``referents``, ``first_seen``, ``last_seen``. Only schemata that make sense
to screen become parties (Person, Organization, Company, PublicBody,
LegalEntity, Vessel, Airplane; Company and PublicBody are read as
Organization). ``Sanction``, ``Identification``/``Passport`` and ``Address``
entities are joined to the entity they point at (references through an
entity's ``referents`` are followed). Other schemata (ownership, family,
positions …) are counted in :attr:`ParsedList.skipped`.

From a joined ``Sanction``: ``program`` → programmes, ``listingDate`` (or
``startDate``) → listed on, ``endDate`` → end date, ``authorityId`` and
``unscId`` → legal basis, ``provisions`` → licence requirement; its
``authority`` and ``reason`` are added to the remarks, since a party has no
field of its own for them. A licence review policy travels as the Sanction's
``description``, prefixed ``Licence review policy:``. The file is read in one
pass, keeping the screened entities and their links in memory.

**Source and list.** A file holds one source. When every screened entity
names the same single dataset, that dataset is the source id (an
OpenSanctions single-dataset export such as ``us_ofac_sdn``). Otherwise (a
collection such as ``sanctions``, where entities come from several datasets,
or no datasets at all) the source id is derived from the file name: the name
without its ``.ftm.json``/``.json``/``.jsonl`` suffixes and without a trailing
date, lower-cased, other characters replaced by ``_``; a generic name
(``entities``, ``targets``) takes the folder's name instead. Stripping the date
keeps the source id the same from one edition to the next, so a new edition
replaces the previous one. Each party's list is its own dataset (several,
sorted and joined with ``, ``), or the source id when the entity names none.

Exporting a single source and importing the file again therefore loads it
under the original source id: it becomes that source's active version.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from followthemoney import EntityProxy, model, registry
from followthemoney.exc import InvalidData

from econsec.lists._common import LoadError, ParsedList, country_code, unique
from econsec.model.party import Address, Alias, Identifier, Party, Schema, SourceRef

PARSER = "ftm/1"

ID_PREFIX = "econsec"

#: FtM schemata read as parties, and the party schema each becomes.
SCREENED_SCHEMATA: dict[str, Schema] = {
    "Person": Schema.PERSON,
    "Organization": Schema.ORGANIZATION,
    "Company": Schema.ORGANIZATION,
    "PublicBody": Schema.ORGANIZATION,
    "LegalEntity": Schema.LEGAL_ENTITY,
    "Vessel": Schema.VESSEL,
    "Airplane": Schema.AIRCRAFT,
}

_OFAC = "Office of Foreign Assets Control (OFAC), US Department of the Treasury"
_BIS = "Bureau of Industry and Security (BIS), US Department of Commerce"
#: Listing authority, its country (FtM code) and FtM topic, by list code.
_LISTS: dict[str, tuple[str, str | None, str]] = {
    "SDN": (_OFAC, "us", "sanction"),
    "NON-SDN": (_OFAC, "us", "sanction"),
    "SSI": (_OFAC, "us", "sanction"),
    "FSE": (_OFAC, "us", "sanction"),
    "PLC": (_OFAC, "us", "sanction"),
    "CAP": (_OFAC, "us", "sanction"),
    "CMIC": (_OFAC, "us", "sanction"),
    "NS-MBS": (_OFAC, "us", "sanction"),
    "EL": (_BIS, "us", "export.control"),
    "MEU": (_BIS, "us", "export.control"),
    "UVL": (_BIS, "us", "export.control"),
    "DPL": (_BIS, "us", "export.control"),
    "DTC": (
        "Directorate of Defense Trade Controls (DDTC), US Department of State",
        "us",
        "debarment",
    ),
    "ISN": (
        "Bureau of International Security and Nonproliferation (ISN), US Department of State",
        "us",
        "sanction",
    ),
    "UN": ("United Nations Security Council", None, "sanction"),
    "EU": ("European Union", "eu", "sanction"),
}

#: Identifier types (as publishers write them) → FtM property, first match wins.
#: A property the schema lacks, or that rejects the value, falls through to
#: the next rule and finally to ``idNumber`` (or ``notes``).
_ID_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), prop)
    for pattern, prop in (
        (r"passport", "passportNumber"),
        (r"\bimo\b", "imoNumber"),
        (r"\bmmsi\b", "mmsi"),
        (r"\bvat\b", "vatCode"),
        (r"\b(tax|tin)\b", "taxNumber"),
        (r"\b(swift|bic)\b", "swiftBic"),
        (r"\blei\b|legal entity (identifier|number)", "leiCode"),
        (r"^call sign", "callSign"),
        (r"^vessel flag", "flag"),
        (r"^vessel type", "type"),
        (r"^gross registered tonnage", "grossRegisteredTonnage"),
        (r"^(gross )?tonnage", "tonnage"),
        (r"^aircraft model", "model"),
        (r"serial number|\bmsn\b", "serialNumber"),
        (r"registration|tail number", "registrationNumber"),
        (r"e-?mail", "email"),
        (r"website", "website"),
        (r"phone", "phone"),
    )
)
#: On import: FtM property → identifier type, for properties that are not
#: identifier-typed but are kept as identifiers (the labels the US lists use).
_IMPORT_ID_LABELS = {
    "imoNumber": "IMO number",
    "email": "Email Address",
    "website": "Website",
    "phone": "Phone Number",
    "callSign": "Call sign",
    "flag": "Vessel flag",
    "type": "Vessel type",
    "tonnage": "Gross tonnage",
    "grossRegisteredTonnage": "Gross registered tonnage",
    "model": "Aircraft model",
    "serialNumber": "Aircraft serial number",
}
_NOT_IDENTIFIERS = frozenset({"programId", "wikidataId"})
_POLICY_PREFIX = "Licence review policy: "
_UN_REFERENCE = re.compile(r"^[A-Z]{2}[ie]\.\d+$")


# -- export -------------------------------------------------------------------


def slug(value: str) -> str:
    """``un_sc:QDi.001`` → ``un-sc-qdi-001``."""
    return re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-")


def entity_id(party: Party) -> str:
    """The FtM id of a party's entity: ``econsec-{slug(entity_id)}``."""
    return f"{ID_PREFIX}-{slug(party.entity_id)}"


def _add(entity: EntityProxy, prop: str, values: str | Iterable[str | None] | None) -> None:
    """Add values if the schema has ``prop``; followthemoney cleans them and drops
    those its property type rejects."""
    if prop not in entity.schema.properties:
        return
    items = [values] if values is None or isinstance(values, str) else list(values)
    entity.add(prop, [v for v in items if v])


def topics(party: Party) -> tuple[str, ...]:
    """FtM topics: by list where known; programmes that are topics (``role.pep``);
    ``sanction`` otherwise, since econsec's lists are restricted-party lists."""
    known = _LISTS.get(party.list.upper())
    if known is not None:
        return (known[2],)
    from_programs = tuple(p for p in party.programs if registry.topic.clean(p) is not None)
    return from_programs or ("sanction",)


def party_to_entity(party: Party, ftm_id: str | None = None) -> EntityProxy:
    """The FtM entity of a party itself, without its Sanction/Identification links."""
    entity = model.make_entity(party.schema.value)
    entity.id = ftm_id or entity_id(party)
    person = party.schema is Schema.PERSON
    _add(entity, "name", party.name)
    for alias in party.aliases:
        if alias.weak:
            prop = "weakAlias"
        elif alias.kind == "fka":
            prop = "previousName"
        else:
            prop = "alias"
        _add(entity, prop, alias.name)
    _add(entity, "country", (c.lower() for c in party.countries))
    if person:
        _add(entity, "nationality", (c.lower() for c in party.nationalities))
        _add(entity, "birthDate", party.dates_of_birth)
        _add(entity, "birthPlace", party.places_of_birth)
        _add(entity, "gender", party.gender)
        _add(entity, "position", party.titles)
    for address in party.addresses:
        _add(entity, "address", _address_text(address))
    for ident in party.identifiers:
        _add_identifier(entity, ident)
    _add(entity, "program", party.programs)
    _add(entity, "topics", topics(party))
    _add(entity, "notes", party.remarks)
    _add(entity, "sourceUrl", party.source_ref.url)
    return entity


def _address_text(address: Address) -> str | None:
    if address.full:
        return address.full
    parts = [address.street, address.city, address.region, address.postal_code]
    text = ", ".join(p for p in parts if p)
    return text or None


def _id_property(entity: EntityProxy, ident: Identifier) -> str | None:
    """The property that will hold an identifier (None: it goes to the notes)."""
    for pattern, prop in _ID_RULES:
        # "IMO 1234567" is an IMO number whatever the publisher calls it.
        text = f"{ident.type} {ident.value}" if prop == "imoNumber" else ident.type
        if pattern.search(text) and _accepts(entity, prop, ident.value):
            return prop
    if "idNumber" in entity.schema.properties:
        return "idNumber"
    return None


def _accepts(entity: EntityProxy, prop: str, value: str) -> bool:
    found = entity.schema.properties.get(prop)
    if found is None or found.stub:
        return False
    return found.type.clean_text(value, format=found.format, proxy=entity) is not None


def _add_identifier(entity: EntityProxy, ident: Identifier) -> None:
    prop = _id_property(entity, ident)
    if prop is None:
        _add(entity, "notes", f"{ident.type}: {ident.value}")
    else:
        _add(entity, prop, ident.value)


def linked_entities(party: Party, entity: EntityProxy) -> list[EntityProxy]:
    """The Sanction entity and the identity documents of a party's entity."""
    assert entity.id is not None
    out = [_sanction(party, entity.id)]
    if entity.schema.is_a("LegalEntity"):
        # Identifier-typed properties hold document numbers: their type,
        # issuing country and note go on an Identification entity.
        for ident in party.identifiers:
            prop = _id_property(entity, ident)
            if prop is not None and entity.schema.properties[prop].type is registry.identifier:
                out.append(_identification(entity.id, ident, passport=prop == "passportNumber"))
    return out


def _sanction(party: Party, target: str) -> EntityProxy:
    sanction = model.make_entity("Sanction")
    sanction.id = f"{target}-sanction"
    _add(sanction, "entity", target)
    known = _LISTS.get(party.list.upper())
    if known is not None:
        _add(sanction, "authority", known[0])
        _add(sanction, "country", known[1])
    _add(sanction, "program", party.programs)
    _add(sanction, "authorityId", party.legal_basis)
    if party.list.upper() == "UN":
        _add(sanction, "unscId", (b for b in party.legal_basis if _UN_REFERENCE.match(b)))
    _add(sanction, "listingDate", party.listed_on)
    _add(sanction, "endDate", party.end_date)
    _add(sanction, "provisions", party.license_requirement)
    if party.license_policy:
        _add(sanction, "description", _POLICY_PREFIX + party.license_policy)
    _add(sanction, "recordId", party.list_entry_id)
    _add(sanction, "sourceUrl", party.source_ref.url)
    return sanction


def _identification(holder: str, ident: Identifier, passport: bool) -> EntityProxy:
    key = "\x1f".join((ident.type, ident.value, ident.country or ""))
    doc = model.make_entity("Passport" if passport else "Identification")
    doc.id = f"{holder}-id-{hashlib.sha1(key.encode()).hexdigest()[:12]}"
    _add(doc, "holder", holder)
    _add(doc, "type", ident.type)
    _add(doc, "number", ident.value)
    _add(doc, "country", ident.country.lower() if ident.country else None)
    _add(doc, "summary", ident.note)
    return doc


def _to_dict(entity: EntityProxy, party: Party, target: bool) -> dict[str, Any]:
    data: dict[str, Any] = {"id": entity.id, "schema": entity.schema.name}
    if target:
        data["caption"] = party.name
    data["properties"] = entity.properties
    data["datasets"] = [party.source]
    if target:
        data["target"] = True
    return data


def export_entities(parties: Iterable[Party]) -> Iterator[dict[str, Any]]:
    """FtM entity dictionaries (the ``entities.ftm.json`` layout) for parties.

    Each party gives its entity followed by its linked entities. Two parties
    whose ids slug to the same FtM id get a hash suffix on the second one; the
    same party twice is an error.
    """
    seen: dict[str, str] = {}
    for party in parties:
        ftm_id = entity_id(party)
        if ftm_id in seen:
            if seen[ftm_id] == party.entity_id:
                raise ValueError(f"party {party.entity_id!r} is exported twice")
            digest = hashlib.sha1(party.entity_id.encode()).hexdigest()[:8]
            ftm_id = f"{ftm_id}-{digest}"
        seen[ftm_id] = party.entity_id
        entity = party_to_entity(party, ftm_id)
        yield _to_dict(entity, party, target=True)
        for linked in linked_entities(party, entity):
            yield _to_dict(linked, party, target=False)


def write_entities(parties: Iterable[Party], out: Path) -> int:
    """Write parties as FtM JSON lines to ``out`` atomically; the number of entities.

    The file is written next to ``out`` under a temporary name and renamed
    over it only once complete, so readers never see a half-written file.
    """
    out = out.absolute()
    out.parent.mkdir(parents=True, exist_ok=True)
    # Not mkstemp: its 0600 mode would stick to the export.
    tmp = out.with_name(f".{out.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.part")
    count = 0
    try:
        with tmp.open("x", encoding="utf-8", newline="\n") as fh:
            for data in export_entities(parties):
                fh.write(json.dumps(data, ensure_ascii=False, separators=(",", ":")))
                fh.write("\n")
                count += 1
        tmp.replace(out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return count


# -- import -------------------------------------------------------------------


@dataclass(slots=True)
class _Record:
    line: int
    entity: EntityProxy
    datasets: tuple[str, ...]
    caption: str | None


@dataclass(slots=True)
class _Collected:
    records: list[_Record] = field(default_factory=list)
    sanctions: dict[str, list[EntityProxy]] = field(default_factory=lambda: defaultdict(list))
    documents: dict[str, list[EntityProxy]] = field(default_factory=lambda: defaultdict(list))
    addresses: dict[str, EntityProxy] = field(default_factory=dict)
    #: Referent id → canonical id.
    referents: dict[str, str] = field(default_factory=dict)
    #: Schema → (count, first line) of entities that are not read.
    other: dict[str, tuple[int, int]] = field(default_factory=dict)
    last_seen: list[str] = field(default_factory=list)


def json_lines(path: Path) -> Iterator[tuple[int, str]]:
    """The non-blank lines of a JSON-lines file with their numbers; LoadError
    naming the line for bytes that are not UTF-8."""
    try:
        fh = path.open("rb")
    except OSError as exc:
        raise LoadError(path, None, None, f"cannot read: {exc.strerror}") from None
    with fh:
        for lineno, raw in enumerate(fh, start=1):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise LoadError(
                    path,
                    f"line {lineno}",
                    None,
                    f"not valid utf-8 (byte 0x{raw[exc.start]:02x} at column {exc.start + 1})",
                ) from None
            if lineno == 1:
                text = text.removeprefix("\ufeff")
            if text.strip():
                yield lineno, text


def string_list(path: str | Path, where: str, name: str, value: Any) -> list[str]:
    """An FtM property value (a string or a list of strings) as a list."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    raise LoadError(path, where, name, "expected a list of strings")


def _collect(path: Path) -> _Collected:
    out = _Collected()
    for lineno, text in json_lines(path):
        where = f"line {lineno}"
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise LoadError(path, where, None, f"invalid JSON: {exc.msg}") from None
        if not isinstance(data, dict):
            raise LoadError(path, where, None, "expected a JSON object (one entity per line)")
        ftm_id = data.get("id")
        if not isinstance(ftm_id, str) or not ftm_id.strip():
            raise LoadError(path, where, "id", "missing entity id")
        schema_name = data.get("schema")
        if not isinstance(schema_name, str) or not schema_name.strip():
            raise LoadError(path, where, "schema", f"missing schema (entity {ftm_id})")
        schema = model.get(schema_name)
        if schema is None:
            raise LoadError(path, where, "schema", f"unknown FollowTheMoney schema {schema_name!r}")
        raw_props = data.get("properties", {})
        if not isinstance(raw_props, dict):
            raise LoadError(path, where, "properties", "expected a JSON object")
        props = {
            key: string_list(path, where, f"properties.{key}", value)
            for key, value in raw_props.items()
        }
        try:
            entity = model.get_proxy(
                {"id": ftm_id, "schema": schema.name, "properties": props}, cleaned=False
            )
        except InvalidData as exc:
            raise LoadError(path, where, None, f"invalid entity: {exc}") from None
        for referent in string_list(path, where, "referents", data.get("referents")):
            out.referents[referent] = ftm_id
        if isinstance(data.get("last_seen"), str):
            out.last_seen.append(data["last_seen"][:10])
        if schema.name in SCREENED_SCHEMATA:
            datasets = tuple(string_list(path, where, "datasets", data.get("datasets")))
            caption = data.get("caption")
            out.records.append(
                _Record(lineno, entity, datasets, caption if isinstance(caption, str) else None)
            )
        elif schema.is_a("Sanction"):
            for target in entity.get("entity"):
                out.sanctions[target].append(entity)
        elif schema.is_a("Identification"):
            for holder in entity.get("holder"):
                out.documents[holder].append(entity)
        elif schema.name == "Address":
            out.addresses[ftm_id] = entity
        else:
            count, first = out.other.get(schema.name, (0, lineno))
            out.other[schema.name] = (count + 1, first)
    return out


_GENERIC_STEMS = frozenset({"", "entities", "targets", "export", "data", "index"})
_TRAILING_DATE = re.compile(r"[_.-]?\d{4}-\d{2}(?:-\d{2})?$")


def source_from_path(path: Path) -> str:
    """The source id for a multi-dataset FtM file, from its name (see module docs)."""

    def stem(name: str) -> str:
        name = name.lower()
        for suffix in (".gz", ".jsonl", ".ndjson", ".json", ".ftm", ".entities"):
            name = name.removesuffix(suffix)
        name = _TRAILING_DATE.sub("", name)
        return re.sub(r"[^a-z0-9]+", "_", name).strip("_")

    name = stem(path.name)
    if name in _GENERIC_STEMS:
        name = stem(path.absolute().parent.name)
    return name or "ftm"


def parse(path: Path) -> ParsedList:
    collected = _collect(path)
    datasets = {d for r in collected.records for d in r.datasets}
    if len(datasets) == 1 and all(r.datasets for r in collected.records):
        source = datasets.pop()
    else:
        source = source_from_path(path)

    def canonical(ref: str) -> str:
        return collected.referents.get(ref, ref)

    # Links may point at a referent (an older or merged id) of their target.
    sanctions: dict[str, list[EntityProxy]] = defaultdict(list)
    for target, items in collected.sanctions.items():
        sanctions[canonical(target)].extend(items)
    documents: dict[str, list[EntityProxy]] = defaultdict(list)
    for holder, items in collected.documents.items():
        documents[canonical(holder)].extend(items)

    def address(ref: str) -> EntityProxy | None:
        return collected.addresses.get(canonical(ref))

    parties: list[Party] = []
    skipped: list[str] = []
    for record in collected.records:
        assert record.entity.id is not None
        party = _party(
            path,
            source,
            record,
            sanctions.get(record.entity.id, []),
            documents.get(record.entity.id, []),
            address,
        )
        if party is None:
            skipped.append(
                f"line {record.line} ({record.entity.schema.name} {record.entity.id}): "
                "no name, so it cannot be screened"
            )
        else:
            parties.append(party)
    for schema_name, (count, first) in sorted(collected.other.items()):
        skipped.append(
            f"{count} {schema_name} entit{'y' if count == 1 else 'ies'} (first at line {first}): "
            "not a party to screen"
        )
    return ParsedList(
        parties=parties,
        published=max(collected.last_seen) if collected.last_seen else None,
        skipped=tuple(skipped),
    )


def _countries(values: Iterable[str]) -> tuple[str, ...]:
    """FtM country codes → ISO 3166-1 alpha-2 (``eu``, ``zz``, ``suhh`` … dropped)."""
    return unique(country_code(v) if len(v) == 2 else None for v in values)


def _norm_id(value: str) -> str:
    return re.sub(r"[^0-9A-Z]", "", value.upper()).removeprefix("IMO")


def _party(
    path: Path,
    source: str,
    record: _Record,
    sanctions: list[EntityProxy],
    documents: list[EntityProxy],
    address_entity: Callable[[str], EntityProxy | None],
) -> Party | None:
    entity = record.entity
    assert entity.id is not None
    names = list(entity.get("name"))
    if not names:
        parts = [entity.first(p, quiet=True) for p in ("firstName", "middleName", "lastName")]
        joined = " ".join(p for p in parts if p)
        if joined:
            names = [joined]
    if not names:
        return None
    primary = record.caption if record.caption in names else names[0]
    aliases: list[Alias] = [Alias(n) for n in names if n != primary]
    aliases += [Alias(n) for n in entity.get("alias")]
    aliases += [Alias(n, kind="fka") for n in entity.get("previousName", quiet=True)]
    aliases += [Alias(n, weak=True) for n in entity.get("weakAlias")]
    seen_names = {primary}
    kept_aliases: list[Alias] = []
    for alias in aliases:
        if alias.name not in seen_names:
            seen_names.add(alias.name)
            kept_aliases.append(alias)

    addresses: list[Address] = []
    for ref in entity.get("addressEntity", quiet=True):
        found = address_entity(ref)
        if found is not None:
            addresses.append(_address(found))
    known_full = {a.full for a in addresses}
    addresses += [Address(full=a) for a in entity.get("address") if a not in known_full]

    nationalities = _countries(
        entity.get("nationality", quiet=True) + entity.get("citizenship", quiet=True)
    )
    countries = _countries(
        entity.get("country")
        + list(nationalities)
        + entity.get("jurisdiction", quiet=True)
        + entity.get("mainCountry", quiet=True)
        + [a.country for a in addresses if a.country]
        + entity.get("flag", quiet=True)
    )

    identifiers = [i for i in (_document(doc) for doc in documents) if i is not None]
    known_ids = {_norm_id(i.value) for i in identifiers}
    for prop in entity.iterprops():
        if prop.name == "type" and entity.schema.is_a("Airplane"):
            label = "Aircraft type"
        elif prop.name in _IMPORT_ID_LABELS:
            label = _IMPORT_ID_LABELS[prop.name]
        elif prop.type is registry.identifier and prop.name not in _NOT_IDENTIFIERS:
            label = prop.label
        else:
            continue
        for value in entity.get(prop):
            if _norm_id(value) not in known_ids:
                known_ids.add(_norm_id(value))
                shown = value.upper() if prop.type is registry.country else value
                identifiers.append(Identifier(type=label, value=shown))

    programs = unique(
        [p for s in sanctions for p in s.get("program")] + list(entity.get("program"))
    )
    listed = sorted(d for s in sanctions for d in s.get("listingDate") or s.get("startDate"))
    ends = sorted(d for s in sanctions for d in s.get("endDate"))
    legal_basis = unique([b for s in sanctions for b in s.get("authorityId") + s.get("unscId")])
    provisions = unique(p for s in sanctions for p in s.get("provisions"))
    policies = unique(
        d.removeprefix(_POLICY_PREFIX)
        for s in sanctions
        for d in s.get("description")
        if d.startswith(_POLICY_PREFIX)
    )
    remarks = list(entity.get("notes"))
    for sanction in sanctions:
        for authority in sanction.get("authority"):
            remarks.append(f"Listed by {authority}")
        remarks.extend(sanction.get("reason"))
    urls = list(entity.get("sourceUrl")) + [u for s in sanctions for u in s.get("sourceUrl")]
    titles = entity.get("position", quiet=True) + entity.get("title", quiet=True)
    return Party(
        entity_id=f"{source}:{entity.id}",
        source=source,
        list=", ".join(sorted(record.datasets)) if record.datasets else source,
        list_entry_id=entity.id,
        schema=SCREENED_SCHEMATA[entity.schema.name],
        name=primary,
        source_ref=SourceRef(
            file=str(path),
            record=f"line {record.line} ({entity.id})",
            url=urls[0] if urls else None,
        ),
        aliases=tuple(kept_aliases),
        countries=countries,
        nationalities=nationalities,
        programs=programs,
        dates_of_birth=unique(entity.get("birthDate", quiet=True)),
        places_of_birth=unique(entity.get("birthPlace", quiet=True)),
        addresses=tuple(dict.fromkeys(addresses)),
        identifiers=tuple(dict.fromkeys(identifiers)),
        titles=unique(titles),
        gender=entity.first("gender", quiet=True),
        license_requirement="; ".join(provisions) or None,
        license_policy="; ".join(policies) or None,
        legal_basis=legal_basis,
        listed_on=listed[0] if listed else None,
        end_date=ends[-1] if ends else None,
        remarks="\n".join(unique(remarks)) or None,
    )


def _address(entity: EntityProxy) -> Address:
    country = entity.first("country")
    street = entity.first("street")
    city, region = entity.first("city"), entity.first("region") or entity.first("state")
    postal = entity.first("postalCode")
    full = entity.first("full") or ", ".join(
        p for p in (street, city, region, postal, country.upper() if country else None) if p
    )
    return Address(
        street=street,
        city=city,
        region=region,
        postal_code=postal,
        country=country.upper() if country and len(country) == 2 else None,
        full=full or None,
    )


def _document(doc: EntityProxy) -> Identifier | None:
    number = doc.first("number") or doc.first("passportNumber", quiet=True)
    if number is None:
        return None
    kind = doc.first("type") or ("Passport" if doc.schema.is_a("Passport") else "Identification")
    country = doc.first("country")
    return Identifier(
        type=kind,
        value=number,
        country=country.upper() if country and len(country) == 2 else None,
        note=doc.first("summary") or doc.first("description"),
    )
