"""BIS Denied Persons List (econsec.lists.dpl) on the real tab-separated file."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from conftest import shared_file
from econsec.lists import dpl
from econsec.lists._common import ParsedList
from econsec.model.party import Address, Party, Schema, SourceRef

DPL = "lists/bis_dpl_2022-09.txt"
URL = "https://www.bis.gov/licensing/end-user-guidance/denied-persons-list-dpl"


@pytest.fixture(scope="module")
def parsed() -> ParsedList:
    return dpl.parse(shared_file(DPL))


def _named(parsed: ParsedList, name: str) -> list[Party]:
    return [p for p in parsed.parties if p.name == name]


def _entry_id(name: str, effective: str, citation: str) -> str:
    return hashlib.sha1(f"{name}|{effective}|{citation}".encode()).hexdigest()[:16]


def test_counts_and_publication_date(parsed: ParsedList) -> None:
    # 581 rows, one per address of a denial order: 487 orders.
    assert len(parsed.parties) == 487
    assert len({p.entity_id for p in parsed.parties}) == 487
    # The latest Last_Update; the typo "3017-08-22" (line 343) is ignored.
    assert parsed.published == "2022-09-02"
    assert {p.schema for p in parsed.parties} == {Schema.LEGAL_ENTITY}
    assert {(p.source, p.list) for p in parsed.parties} == {("bis_dpl", "DPL")}
    # Every denial order has an effective date; 45 have no expiry.
    assert all(p.listed_on for p in parsed.parties)
    assert sum(p.end_date is None for p in parsed.parties) == 45


def test_first_row_field_by_field(parsed: ParsedList) -> None:
    citation = "68 F.R. 38290 6/27/03 71 F.R. 38843 7/10/06 72 F.R. 4236 1/30/07"
    entry_id = _entry_id("I. ASH", "06/19/2003", citation)
    assert entry_id == "fd6199c46b52e8c9"
    first = next(p for p in parsed.parties if p.list_entry_id == entry_id)
    street = (
        "UPON THE DATE OF THE ORDER INCARCERATED AT USM NO: 26265-177, FCI SEAGOVILLE, "
        "2113 NORTH HIGHWAY 175"
    )
    assert first == Party(
        entity_id=f"bis_dpl:{entry_id}",
        source="bis_dpl",
        list="DPL",
        list_entry_id=entry_id,
        schema=Schema.LEGAL_ENTITY,
        name="I. ASH",  # published as " I. ASH"
        source_ref=SourceRef(file=str(shared_file(DPL)), record="line 2", url=URL),
        countries=("US",),
        addresses=(
            Address(
                street=street,
                city="SEAGOVILLE",
                region="TX",
                postal_code="75159",
                country="US",
                full=f"{street}, SEAGOVILLE, TX, 75159, US",
            ),
        ),
        legal_basis=(citation,),
        listed_on="2003-06-19",
        end_date="2056-06-29",
        remarks="FEDERAL REGISTER NOTICE UPDATED",
    )
    # I. ASH is denied under three orders, three entries.
    assert len(_named(parsed, "I. ASH")) == 3


def test_one_order_with_several_addresses_is_one_entry(parsed: ParsedList) -> None:
    (zadeh,) = _named(parsed, "MANSOUR ZADEH")
    assert zadeh.source_ref.record == "line 340; line 341; line 342; line 343"
    assert [a.full for a in zadeh.addresses] == [
        "16 KYRAIKOU MATSI AVE, 3RD FLOOR, 1082 NICOSIA, CY",
        "INMATE NUMBER: 43594-013, RIVERS CORRECTIONAL INSTITUTION, P. O. BOX 630, "
        "WINSTON, NC, 27986",
        "P. O. BOX 23973, 1687 NICOSIA, CY",
        "STROVOLOU 77, STROVOLOS CENTER SUITE 202, STROVOLOS P.C. 2018, NICOSIA, CY",
    ]
    # The file puts "CY" in the State column and leaves Country empty.
    assert zadeh.countries == ()
    assert (zadeh.listed_on, zadeh.end_date) == ("2017-08-10", "2026-12-14")
    assert zadeh.legal_basis == ("82 F.R. 39105 8/17/2017",)
    assert zadeh.entity_id == "bis_dpl:" + _entry_id(
        "MANSOUR ZADEH", "08/10/2017", "82 F.R. 39105 8/17/2017"
    )


def test_rows_of_one_name_with_different_citations_stay_apart(parsed: ParsedList) -> None:
    # Lines 20-22 share a citation; line 23 (Amman) lacks the 4 Jun 2020 notice.
    entries = _named(parsed, "AIR FREIGHT LTD")
    assert [p.source_ref.record for p in entries] == ["line 20; line 21; line 22", "line 23"]
    assert entries[0].countries == ("IQ", "AE")
    assert [a.city for a in entries[0].addresses] == ["BAGHDAD", "BAGHDAD", "DUBAI"]
    assert entries[1].addresses == (
        Address(
            street="P.O. BOX 911399",
            city="AMMAN",
            postal_code="11191",
            country="JO",
            full="P.O. BOX 911399, AMMAN, 11191, JO",
        ),
    )
    assert all(p.listed_on == "2022-05-13" for p in entries)
    assert all(p.end_date == "2022-11-09" for p in entries)


def test_us_address_without_country(parsed: ParsedList) -> None:
    (villa,) = _named(parsed, "AARON ABRAHAM VILLA")
    assert villa.addresses == (
        Address(
            street="3415 RIVERA AVENUE",
            city="EL PASO",
            region="TX",
            postal_code="79905",
            full="3415 RIVERA AVENUE, EL PASO, TX, 79905",
        ),
    )
    assert villa.countries == ()
    assert villa.legal_basis == ("87 F.R. 52741 8/29/2022",)
    assert villa.remarks == "F.R. NOTICE ADDED"


def test_entry_ids_are_stable_from_one_edition_to_the_next(
    parsed: ParsedList, tmp_path: Path
) -> None:
    # A later edition with parties removed and rows in another order: the
    # remaining orders keep their ids (they are derived, not positional).
    header, *rows = shared_file(DPL).read_text(encoding="utf-8").splitlines(keepends=True)
    kept = [r for r in rows[10:] if not r.startswith('"AIR FREIGHT LTD"')]
    later = tmp_path / "dpl_later.txt"
    later.write_text(header + "".join(reversed(kept)), encoding="utf-8")
    before = {p.entity_id: p.name for p in parsed.parties}
    after = {p.entity_id: p.name for p in dpl.parse(later).parties}
    assert len(after) < len(before)
    assert after.items() <= before.items()
    assert "AIR FREIGHT LTD" not in after.values()
