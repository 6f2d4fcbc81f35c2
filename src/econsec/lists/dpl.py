"""BIS Denied Persons List, tab-separated text (``dpl.txt``).

The file has no entry identifier and repeats a denied party once per address,
so rows are grouped by (name, effective date, Federal Register citation): one
denial order, one entry. The entry id is derived from that key, so it stays
the same from one edition to the next while the order stands.
"""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import date
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
    parse_date,
    read_text,
    unique,
)
from econsec.lists.listed_names import listed_remarks, split_listed_name
from econsec.model.party import Address, Alias, Party, Schema, SourceRef

PARSER = "bis_dpl/1"
COLUMNS = (
    "Name",
    "Street_Address",
    "City",
    "State",
    "Country",
    "Postal_Code",
    "Effective_Date",
    "Expiration_Date",
    "Standard_Order",
    "Last_Update",
    "Action",
    "FR_Citation",
)
_URL = "https://www.bis.gov/licensing/end-user-guidance/denied-persons-list-dpl"


def parse(path: Path) -> ParsedList:
    text = read_text(path, field_at=csv_field_at("\t"))
    first = text.split("\n", 1)[0]
    if "\t" not in first and "," in first:
        raise LoadError(
            path, "line 1", None, "the DPL text file is tab-separated; this header has commas"
        )
    reader = csv.reader(io.StringIO(text, newline=""), delimiter="\t", strict=True)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise LoadError(path, "line 1", None, "empty file, expected the DPL header") from None
    except csv.Error as exc:
        raise csv_error(path, text, 1, exc, (), "\t") from None
    unknown = [h for h in header if h not in COLUMNS]
    if unknown:
        raise LoadError(path, "line 1", unknown[0], "unknown column in the DPL header")
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise LoadError(path, "line 1", missing[0], "missing column in the DPL header")
    repeated = [h for h in header if header.count(h) > 1]
    if repeated:
        raise LoadError(path, "line 1", repeated[0], "column appears more than once")
    parties: list[Party] = []
    last_update: list[str] = []
    while True:
        line = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise csv_error(path, text, line, exc, header, "\t") from None
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        check_width(path, line, row, header)
        rec = dict(zip(header, row, strict=True))
        parties.append(_party(path, line, rec))
        last_update.extend(parse_date(rec["Last_Update"]))
    # The file carries no edition date; the latest "Last_Update" is the best
    # proxy. The real file has a typo (year 3017), so dates in the future are ignored.
    today = date.today().isoformat()
    plausible = [d for d in last_update if d <= today]
    return ParsedList(
        parties=merge_duplicates(parties), published=max(plausible) if plausible else None
    )


def _party(path: Path, line: int, rec: dict[str, str]) -> Party:
    where = f"line {line}"
    name = clean(rec["Name"])
    if name is None:
        raise LoadError(path, where, "Name", "empty name")
    effective = rec["Effective_Date"].strip()
    dates = parse_date(effective)
    if effective and not dates:
        raise LoadError(path, where, "Effective_Date", f"not a date: {effective!r}")
    expiry = rec["Expiration_Date"].strip()
    expiry_dates = parse_date(expiry)
    if expiry and not expiry_dates:
        raise LoadError(path, where, "Expiration_Date", f"not a date: {expiry!r}")
    citation = clean(rec["FR_Citation"])
    key = "|".join((name.upper(), effective, citation or ""))
    entry_id = hashlib.sha1(key.encode()).hexdigest()[:16]
    street, city, state = clean(rec["Street_Address"]), clean(rec["City"]), clean(rec["State"])
    postal, country_raw = clean(rec["Postal_Code"]), clean(rec["Country"])
    country = country_code(country_raw)
    parts = [p for p in (street, city, state, postal, country_raw) if p]
    addresses = (
        (
            Address(
                street=street,
                city=city,
                region=state,
                postal_code=postal,
                country=country,
                full=", ".join(parts),
            ),
        )
        if parts
        else ()
    )
    listed = split_listed_name(name)
    return Party(
        entity_id=f"bis_dpl:{entry_id}",
        source="bis_dpl",
        list="DPL",
        list_entry_id=entry_id,
        schema=Schema.LEGAL_ENTITY,
        name=listed.name,
        aliases=tuple(Alias(a) for a in listed.aliases),
        source_ref=SourceRef(file=str(path), record=where, url=_URL),
        countries=unique([country]),
        addresses=addresses,
        legal_basis=unique([citation]),
        listed_on=dates[0] if dates else None,
        end_date=expiry_dates[0] if expiry_dates else None,
        remarks=listed_remarks(clean(rec["Action"]), name, listed),
    )
