"""UN Security Council consolidated list (econsec.lists.un) on the real XML."""

from __future__ import annotations

from collections import Counter

import pytest

from conftest import shared_file
from econsec.lists import un
from econsec.lists._common import ParsedList
from econsec.model.party import Address, Alias, Identifier, Party, Schema, SourceRef

UN = "lists/un_consolidated_2026-02.xml"
URL = "https://main.un.org/securitycouncil/en/content/un-sc-consolidated-list"


@pytest.fixture(scope="module")
def parsed() -> ParsedList:
    return un.parse(shared_file(UN))


@pytest.fixture(scope="module")
def by_ref(parsed: ParsedList) -> dict[str, Party]:
    by_id = {p.list_entry_id: p for p in parsed.parties}
    assert len(by_id) == len(parsed.parties)
    return by_id


def test_counts_and_publication_date(parsed: ParsedList) -> None:
    assert len(parsed.parties) == 1_003
    assert Counter(p.schema for p in parsed.parties) == {
        Schema.PERSON: 730,
        Schema.ORGANIZATION: 273,
    }
    # dateGenerated="2026-02-27T00:00:09.554Z" on the root element.
    assert parsed.published == "2026-02-27"
    assert parsed.skipped == ()
    assert {p.source for p in parsed.parties} == {"un_sc"}
    assert {p.list for p in parsed.parties} == {"UN"}


def test_programmes(parsed: ParsedList) -> None:
    programs = Counter(p.programs for p in parsed.parties)
    assert programs[("Al-Qaida",)] == 341
    assert programs[("DPRK",)] == 155
    assert programs[("Taliban",)] == 140
    assert programs[("Iran",)] == 121
    assert sum(programs.values()) == 1_003


def test_individual_field_by_field(by_ref: dict[str, Party]) -> None:
    assert by_ref["CDi.003"] == Party(
        entity_id="un_sc:CDi.003",
        source="un_sc",
        list="UN",
        list_entry_id="CDi.003",
        schema=Schema.PERSON,
        name="GASTON IYAMUREMYE",
        source_ref=SourceRef(
            file=str(shared_file(UN)), record="line 96 (INDIVIDUAL 6907995)", url=URL
        ),
        aliases=(
            Alias("Rumuli", weak=True),  # QUALITY Low
            Alias("Byiringiro Victor Rumuli"),
            Alias("Victor Rumuri"),
            Alias("Michel Byiringiro"),
        ),
        countries=("CD", "RW"),
        nationalities=("RW",),
        programs=("DRC",),
        dates_of_birth=("1948",),
        places_of_birth=(
            "Musanze District, Northern Province, Rwanda",
            "Ruhengeri, Rwanda",
        ),
        addresses=(
            Address(
                region="North Kivu Province",
                country="CD",
                full="North Kivu Province, Democratic Republic of the Congo",
            ),
        ),
        titles=(
            "FDLR Interim President",
            "FDLR-FOCA 1st Vice-President",
            "FDLR-FOCA Major General",
        ),
        gender="Male",
        legal_basis=("CDi.003",),
        listed_on="2010-12-01",
        remarks="INTERPOL-UN Security Council Special Notice web link:"
        "https://www.interpol.int/en/How-we-work/Notices/View-UN-Notices-Individuals",
    )


def test_individual_with_original_script_and_two_dates_of_birth(
    by_ref: dict[str, Party],
) -> None:
    adl = by_ref["QDi.001"]
    assert adl.name == "MOHAMMED SALAHALDIN ABD EL HALIM ZIDANE"
    assert adl.aliases[-1] == Alias("محمد صلاح الدين عبدالحليم زيدان", kind="original_script")
    assert [a.name for a in adl.aliases if a.weak] == [
        "Ibrahim al-Madani",
        "Saif Al-'Adil",
        "Seif al Adel",
    ]
    assert adl.dates_of_birth == ("1963-04-11", "1960-04-11")
    assert adl.nationalities == ("EG",)
    assert adl.addresses == ()  # an empty <COUNTRY/> is no address
    assert adl.listed_on == "2001-01-25"


def test_date_of_birth_range(by_ref: dict[str, Party]) -> None:
    # TYPE_OF_DATE BETWEEN, FROM_YEAR 1973, TO_YEAR 1974.
    bosco = by_ref["CDi.030"]
    assert bosco.name == "BOSCO TAGANDA"
    assert bosco.dates_of_birth == ("1973", "1974")
    assert bosco.countries == ("BE", "CD")
    assert bosco.addresses == (Address(country="BE", full="Belgium"),)
    assert bosco.places_of_birth == ("Bigogwe, Rwanda",)


def test_documents(by_ref: dict[str, Party]) -> None:
    assert by_ref["CDi.021"].identifiers == (Identifier("Passport", "OB 0243318", country="CD"),)
    assert by_ref["CDi.019"].identifiers == (
        Identifier("National Identification Number", "1-78-09-44621-80"),
    )
    assert by_ref["CDi.019"].dates_of_birth == ("1978-04-01", "1978")


def test_listed_on_with_a_time_zone_is_a_date(by_ref: dict[str, Party]) -> None:
    # <LISTED_ON>2015-04-07-04:00</LISTED_ON>: an xs:date with its zone.
    assert by_ref["QDi.352"].listed_on == "2015-04-07"
    assert all(p.listed_on is not None and len(p.listed_on) == 10 for p in by_ref.values())


def test_entity(by_ref: dict[str, Party]) -> None:
    qaida = by_ref["QDe.004"]
    assert qaida.schema is Schema.ORGANIZATION
    assert qaida.name == "AL-QAIDA"
    assert qaida.source_ref.record == "line 47430 (ENTITY 113458)"
    assert qaida.aliases[0] == Alias('"The Base"')
    assert Alias("Al Qaeda") in qaida.aliases
    assert qaida.aliases[-1] == Alias("القاعدة", kind="original_script")
    assert qaida.listed_on == "2001-10-06"
    assert qaida.programs == ("Al-Qaida",)
    assert qaida.dates_of_birth == ()

    komid = by_ref["KPe.001"]
    assert komid.name == "KOREA MINING DEVELOPMENT TRADING CORPORATION"
    assert komid.addresses == (
        Address(
            street="Central District",
            city="Pyongyang",
            country="KP",
            full="Central District, Pyongyang, Democratic People's Republic of Korea",
        ),
    )
    assert komid.countries == ("KP",)
    assert komid.nationalities == ()
    assert [a.name for a in komid.aliases] == [
        "CHANGGWANG SINYONG CORPORATION",
        "EXTERNAL TECHNOLOGY GENERAL CORPORATION",
        "DPRKN MINING DEVELOPMENT TRADING COOPERATION",
        '"KOMID"',
    ]
