"""OFAC legacy CSV sets: the SDN list and the consolidated non-SDN lists.

A set is four header-less CSV files (``sdn.csv``, ``add.csv``, ``alt.csv``,
``sdn_comments.csv``, or the same with a ``cons_`` prefix) joined on the entry
number. ``-0-`` marks an empty field and the files end with a DOS end-of-file
byte (0x1A). Much of what other formats give as columns (dates of birth,
nationality, passports, weak aliases) is written into the free-text remarks,
which run on into the comments file when they are long; it is parsed back out
here, and the full remarks are kept verbatim.
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from econsec.lists._common import (
    LoadError,
    ParsedList,
    check_width,
    clean,
    country_code,
    csv_error,
    csv_field_at,
    parse_date,
    read_text,
    unique,
)
from econsec.model.party import Address, Alias, Identifier, Party, Schema, SourceRef

PARSER = "ofac_legacy/1"

SDN_FILES = ("sdn.csv", "add.csv", "alt.csv", "sdn_comments.csv")
CONS_FILES = ("cons_prim.csv", "cons_add.csv", "cons_alt.csv", "cons_comments.csv")
_PRIM_FIELDS = (
    "ent_num",
    "SDN_Name",
    "SDN_Type",
    "Program",
    "Title",
    "Call_Sign",
    "Vess_type",
    "Tonnage",
    "GRT",
    "Vess_flag",
    "Vess_owner",
    "Remarks",
)
_TYPES = {
    "individual": Schema.PERSON,
    "vessel": Schema.VESSEL,
    "aircraft": Schema.AIRCRAFT,
    None: Schema.ORGANIZATION,
}
_URL = {
    "SDN": "https://sanctionssearch.ofac.treas.gov/Details.aspx?id={}",
    "NON-SDN": "https://sanctionssearch.ofac.treas.gov/Details.aspx?id={}",
}


@dataclass(frozen=True, slots=True)
class _Files:
    prim: Path
    add: Path | None
    alt: Path | None
    comments: Path | None
    list_code: str


def files_in(path: Path) -> _Files:
    """Recognise an SDN or a non-SDN set from a directory or its main file."""
    folder = path if path.is_dir() else path.parent
    for names, code in ((SDN_FILES, "SDN"), (CONS_FILES, "NON-SDN")):
        prim = folder / names[0]
        if prim.exists() and (path.is_dir() or path.name in names):
            found = [folder / n if (folder / n).exists() else None for n in names[1:]]
            return _Files(prim, found[0], found[1], found[2], code)
    raise LoadError(
        path,
        None,
        None,
        "not an OFAC legacy CSV set: expected sdn.csv or cons_prim.csv "
        "(with add/alt/comments files beside it)",
    )


def set_files(path: Path) -> list[Path]:
    f = files_in(path)
    return [p for p in (f.prim, f.add, f.alt, f.comments) if p is not None]


#: Column names of each file of a set, as in OFAC's data specification.
_COLUMNS = {
    "prim": _PRIM_FIELDS,
    "add": (
        "ent_num",
        "Add_num",
        "Address",
        "City/State/Province/Postal Code",
        "Country",
        "Add_remarks",
    ),
    "alt": ("ent_num", "alt_num", "alt_type", "alt_name", "alt_remarks"),
    "comments": ("ent_num", "Remarks_Extension"),
}


def _rows(path: Path, kind: str) -> Iterator[tuple[int, list[str]]]:
    columns = _COLUMNS[kind]
    text = read_text(path, encoding="utf-8", field_at=csv_field_at(",", columns))
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    while True:
        line = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise csv_error(path, text, line, exc, columns) from None
        if not row or (len(row) == 1 and row[0].strip() in ("", "\x1a")):
            continue
        check_width(path, line, row, columns)
        yield line, row


def _ent_num(path: Path, line: int, value: str) -> str:
    value = value.strip()
    if not value.isdigit():
        raise LoadError(path, f"line {line}", "ent_num", f"not an entry number: {value!r}")
    return value


def parse(path: Path) -> ParsedList:
    files = files_in(path)
    addresses: dict[str, list[Address]] = defaultdict(list)
    aliases: dict[str, list[Alias]] = defaultdict(list)
    comments: dict[str, str] = {}
    known: set[str] = set()
    prim_rows: list[tuple[int, list[str]]] = []
    for line, row in _rows(files.prim, "prim"):
        known.add(_ent_num(files.prim, line, row[0]))
        prim_rows.append((line, row))
    if files.add is not None:
        for line, row in _rows(files.add, "add"):
            ent = _check_ref(files.add, line, row[0], known)
            addr = _address(row)
            if addr is not None:
                addresses[ent].append(addr)
    if files.alt is not None:
        for line, row in _rows(files.alt, "alt"):
            ent = _check_ref(files.alt, line, row[0], known)
            name = clean(row[3])
            if name is None:
                raise LoadError(files.alt, f"line {line}", "alt_name", "empty alias")
            kind = (clean(row[2]) or "aka").lower()
            aliases[ent].append(Alias(name=name, kind=kind))
    if files.comments is not None:
        for line, row in _rows(files.comments, "comments"):
            ent = _check_ref(files.comments, line, row[0], known)
            comments[ent] = row[1]
    parties = [_party(files, line, row, addresses, aliases, comments) for line, row in prim_rows]
    return ParsedList(parties=parties)


def _check_ref(path: Path, line: int, value: str, known: set[str]) -> str:
    ent = _ent_num(path, line, value)
    if ent not in known:
        raise LoadError(path, f"line {line}", "ent_num", f"entry {ent} is not in the main file")
    return ent


def _address(row: list[str]) -> Address | None:
    street, city, country_name = clean(row[2]), clean(row[3]), clean(row[4])
    parts = [p for p in (street, city, country_name) if p]
    if not parts:
        return None
    return Address(
        street=street,
        city=city,
        country=country_code(country_name),
        full=", ".join(parts),
    )


def _party(
    files: _Files,
    line: int,
    row: list[str],
    addresses: dict[str, list[Address]],
    aliases: dict[str, list[Alias]],
    comments: dict[str, str],
) -> Party:
    path = files.prim
    where = f"line {line}"
    ent = row[0].strip()
    name = clean(row[1])
    if name is None:
        raise LoadError(path, where, "SDN_Name", "empty name")
    sdn_type = clean(row[2])
    kind = sdn_type.lower() if sdn_type else None
    if kind not in _TYPES:
        raise LoadError(path, where, "SDN_Type", f"unknown entry type {sdn_type!r}")
    # Remarks longer than the column run on into the comments file, cut anywhere
    # (even just before a space), so the two parts are joined before cleaning.
    remarks = clean(row[11] + comments[ent]) if ent in comments else clean(row[11])
    remarks = remarks or ""
    facts = parse_remarks(remarks)
    entry_addresses = tuple(addresses.get(ent, ()))
    all_aliases = tuple(aliases.get(ent, ())) + facts.aliases
    vessel = tuple(
        Identifier(type=label, value=v)
        for label, v in zip(
            (
                "Call sign",
                "Vessel type",
                "Tonnage",
                "Gross registered tonnage",
                "Vessel flag",
                "Vessel owner",
            ),
            (clean(x) for x in row[5:11]),
            strict=True,
        )
        if v
    )
    programs = tuple(p.strip() for p in (clean(row[3]) or "").split("] [") if p.strip())
    return Party(
        entity_id=f"ofac_{'sdn' if files.list_code == 'SDN' else 'cons'}:{ent}",
        source="ofac_sdn" if files.list_code == "SDN" else "ofac_cons",
        list=files.list_code,
        list_entry_id=ent,
        schema=_TYPES[kind],
        name=name,
        source_ref=SourceRef(file=str(path), record=where, url=_URL[files.list_code].format(ent)),
        aliases=tuple(dict.fromkeys(a for a in all_aliases if a.name != name)),
        countries=unique(
            [a.country for a in entry_addresses]
            + list(facts.nationalities)
            + [i.country for i in facts.identifiers]
        ),
        nationalities=facts.nationalities,
        programs=programs,
        dates_of_birth=facts.dates_of_birth,
        places_of_birth=facts.places_of_birth,
        addresses=entry_addresses,
        identifiers=vessel + facts.identifiers,
        titles=unique([clean(row[4])]),
        gender=facts.gender,
        remarks=remarks or None,
    )


@dataclass(frozen=True, slots=True)
class RemarkFacts:
    dates_of_birth: tuple[str, ...] = ()
    places_of_birth: tuple[str, ...] = ()
    nationalities: tuple[str, ...] = ()
    aliases: tuple[Alias, ...] = ()
    identifiers: tuple[Identifier, ...] = ()
    gender: str | None = None


_WEAK_ALIAS = re.compile(r"\b([afn])\.k\.a\.,?\s+'(.+?)'(?=\s*(?:;|\.?$|\.\s))")
_ITEM_SPLIT = re.compile(r";\s+")
_COUNTRY_SUFFIX = re.compile(r"\s*\(([^()]+)\)\s*(.*)$")
_TEXT_VALUED = ("Website", "Email Address", "Digital Currency Address", "SWIFT/BIC")
#: Remarks that carry a number but are legal references, not identifiers.
_NOT_IDENTIFIERS = ("Executive Order", "CAATSA Section")


def parse_remarks(remarks: str) -> RemarkFacts:
    """Pull structured facts out of OFAC's remarks text.

    ``DOB 12 Mar 1962; alt. DOB 1963; POB Shati; nationality Iran; Passport
    A1234 (Iran) expires 2020; a.k.a. 'ABU X'.`` Items that are not recognised
    stay in the remarks only.
    """
    dobs: list[str] = []
    pobs: list[str] = []
    nationalities: list[str] = []
    identifiers: list[Identifier] = []
    gender: str | None = None
    weak = tuple(
        Alias(name=m.group(2).strip(), kind=f"{m.group(1)}ka", weak=True)
        for m in _WEAK_ALIAS.finditer(remarks)
    )
    for raw in _ITEM_SPLIT.split(remarks.strip().rstrip(".")):
        item = raw.strip()
        if item.startswith("alt. "):
            item = item[5:]
        head, _, value = item.partition(" ")
        value = value.strip()
        if head == "DOB":
            dobs.extend(parse_date(value))
        elif head == "POB":
            pobs.append(value)
        elif head in ("nationality", "citizen"):
            code = country_code(value)
            if code:
                nationalities.append(code)
        elif head == "Gender":
            gender = value or None
        elif head in ("a.k.a.", "f.k.a.", "n.k.a.", "Linked", "Additional"):
            continue
        elif ident := _identifier(item):
            identifiers.append(ident)
    return RemarkFacts(
        dates_of_birth=unique(dobs),
        places_of_birth=unique(pobs),
        nationalities=unique(nationalities),
        aliases=weak,
        identifiers=tuple(dict.fromkeys(identifiers)),
        gender=gender,
    )


def _identifier(item: str) -> Identifier | None:
    for kind in _TEXT_VALUED:
        if item.startswith(kind + " "):
            rest = item[len(kind) :].strip(" -")
            return Identifier(type=kind, value=rest) if rest else None
    words = item.split(" ")
    # The value is the first word carrying a digit; the words before it are the type.
    for i, word in enumerate(words):
        if i > 0 and any(c.isdigit() for c in word):
            kind = " ".join(words[:i])
            if any(c.isdigit() for c in kind) or len(kind) > 60:
                return None
            if (
                kind.count("(") != kind.count(")")  # "Listing Date (EO 14024 Directive 3): …"
                or ":" in kind.rstrip(":")  # "Secondary sanctions risk: See Section 11 …"
                or kind.startswith(_NOT_IDENTIFIERS)
                or ("Date" in kind and parse_date(" ".join(words[i:])))  # "… Date 31 Jul 1990"
            ):
                return None
            tail = " ".join(words[i + 1 :])
            country = None
            note = None
            if m := _COUNTRY_SUFFIX.match(tail):
                country = country_code(m.group(1))
                note = clean(m.group(2)) if country else clean(tail)
            else:
                note = clean(tail)
            return Identifier(type=kind, value=word, country=country, note=note)
    return None
