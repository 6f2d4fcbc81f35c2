"""OFAC legacy CSV sets (econsec.lists.ofac): the SDN list and the non-SDN lists."""

from __future__ import annotations

from collections import Counter

import pytest

from conftest import shared_file
from econsec.lists import ofac
from econsec.model.party import Address, Alias, Identifier, Party, Schema, SourceRef

SDN = "lists/ofac_sdn_2021-07"
CONS = "lists/ofac_nonsdn_2025-12"


@pytest.fixture(scope="module")
def sdn() -> dict[str, Party]:
    parties = ofac.parse(shared_file(SDN)).parties
    by_id = {p.list_entry_id: p for p in parties}
    assert len(by_id) == len(parties)
    return by_id


@pytest.fixture(scope="module")
def cons() -> dict[str, Party]:
    parties = ofac.parse(shared_file(CONS)).parties
    by_id = {p.list_entry_id: p for p in parties}
    assert len(by_id) == len(parties)
    return by_id


def _url(ent: str) -> str:
    return f"https://sanctionssearch.ofac.treas.gov/Details.aspx?id={ent}"


# -- SDN ---------------------------------------------------------------------


@pytest.mark.slow
def test_sdn_counts(sdn: dict[str, Party]) -> None:
    # sdn.csv has 8,976 rows plus the DOS end-of-file byte on a line of its own.
    assert len(sdn) == 8_976
    assert Counter(p.schema for p in sdn.values()) == {
        Schema.PERSON: 4_620,
        Schema.ORGANIZATION: 3_673,
        Schema.VESSEL: 406,
        Schema.AIRCRAFT: 277,
    }
    assert {p.source for p in sdn.values()} == {"ofac_sdn"}
    assert {p.list for p in sdn.values()} == {"SDN"}
    assert all(p.entity_id == f"ofac_sdn:{p.list_entry_id}" for p in sdn.values())


def test_sdn_set_recognised_from_folder_or_main_file() -> None:
    folder = shared_file(SDN)
    files = ofac.set_files(folder)
    assert [f.name for f in files] == ["sdn.csv", "add.csv", "alt.csv", "sdn_comments.csv"]
    assert ofac.set_files(folder / "sdn.csv") == files
    assert ofac.parse(folder).published is None  # the loader dates it from the folder name


@pytest.mark.slow
def test_sdn_organisation_with_addresses_and_weak_alias(sdn: dict[str, Party]) -> None:
    assert sdn["306"] == Party(
        entity_id="ofac_sdn:306",
        source="ofac_sdn",
        list="SDN",
        list_entry_id="306",
        schema=Schema.ORGANIZATION,
        name="BANCO NACIONAL DE CUBA",
        source_ref=SourceRef(
            file=str(shared_file(SDN) / "sdn.csv"), record="line 3", url=_url("306")
        ),
        # alt.csv first, then the "a.k.a. 'BNC'" of the remarks, which OFAC calls weak.
        aliases=(Alias("NATIONAL BANK OF CUBA"), Alias("BNC", weak=True)),
        countries=("CH", "ES", "JP", "PA"),
        programs=("CUBA",),
        addresses=(
            Address(
                street="Zweierstrasse 35",
                city="Zurich CH-8022",
                country="CH",
                full="Zweierstrasse 35, Zurich CH-8022, Switzerland",
            ),
            Address(
                street="Avenida de Concha Espina 8",
                city="Madrid E-28036",
                country="ES",
                full="Avenida de Concha Espina 8, Madrid E-28036, Spain",
            ),
            Address(
                street="Dai-Ichi Bldg. 6th Floor, 10-2 Nihombashi, 2-chome, Chuo-ku",
                city="Tokyo 103",
                country="JP",
                full="Dai-Ichi Bldg. 6th Floor, 10-2 Nihombashi, 2-chome, Chuo-ku, "
                "Tokyo 103, Japan",
            ),
            Address(
                street="Federico Boyd Avenue & 51 Street",
                city="Panama City",
                country="PA",
                full="Federico Boyd Avenue & 51 Street, Panama City, Panama",
            ),
        ),
        remarks="a.k.a. 'BNC'.",
    )


@pytest.mark.slow
def test_sdn_individual(sdn: dict[str, Party]) -> None:
    usama = sdn["6365"]
    assert usama.schema is Schema.PERSON
    assert usama.name == "BIN LADIN, Usama bin Muhammad bin Awad"
    assert [a.name for a in usama.aliases] == [
        "BIN LADIN, Usama",
        "BIN LADEN, Usama",
        "BIN LADEN, Osama",
        "BIN LADIN, Osama",
        "BIN LADIN, Osama bin Muhammad bin Awad",
    ]
    assert usama.dates_of_birth == ("1957-07-30", "1958")
    assert usama.places_of_birth == ("Jeddah, Saudi Arabia", "Yemen")
    assert usama.programs == ("SDGT",)
    assert usama.addresses == ()  # add.csv holds only an empty row for him
    assert usama.source_ref.record == "line 238"


@pytest.mark.slow
def test_sdn_individual_with_identifiers(sdn: dict[str, Party]) -> None:
    cifuentes = sdn["12300"]
    assert cifuentes.name == "CIFUENTES VILLA, Jorge Milton"
    assert cifuentes.dates_of_birth == ("1965-05-13", "1968-04-13", "1964-07-07")
    assert cifuentes.countries == ("CO", "MX", "EC")
    assert cifuentes.identifiers[:4] == (
        Identifier("Cedula No.", "7548733", country="CO"),
        Identifier("Cedula No.", "70163752", country="CO"),
        Identifier("Cedula No.", "172489729-1", country="EC"),
        Identifier("Passport", "AL720622", country="CO"),
    )
    assert len(cifuentes.addresses) == 11


@pytest.mark.slow
def test_sdn_remarks_continue_in_the_comments_file(sdn: dict[str, Party]) -> None:
    # sdn.csv cuts the remarks at 1,000 characters, inside "PROMO RAI|Z S.A.S.".
    remarks = sdn["12300"].remarks
    assert remarks is not None
    assert "Linked To: PROMO RAIZ S.A.S.; Linked To: RED MUNDIAL INMOBILIARIA" in remarks
    assert remarks.endswith("Linked To: R D I S.A.")
    # … and inside the alias 'snowsjo|hn', which only the joined text has.
    tian = sdn["28263"]
    assert tian.aliases == (
        Alias("tianyinyin0404", weak=True),
        Alias("snowsjohn", weak=True),
    )
    assert tian.nationalities == ("CN",)
    assert tian.gender == "Male"
    assert tian.programs == ("DPRK3", "CYBER2")
    assert Identifier("Identification Number", "321284198607120616", country="CN") in (
        tian.identifiers
    )
    assert Identifier("Email Address", "417136259@qq.com") in tian.identifiers
    assert tian.remarks is not None
    assert tian.remarks.endswith("Linked To: LAZARUS GROUP.")


@pytest.mark.slow
def test_sdn_vessel_and_aircraft(sdn: dict[str, Party]) -> None:
    vessel = sdn["4243"]
    assert vessel.schema is Schema.VESSEL
    assert vessel.name == "SAND SWAN"
    assert vessel.aliases == (Alias("ANA I", kind="fka", weak=True),)
    assert vessel.identifiers == (
        Identifier("Call sign", "P3QG3"),
        Identifier("Vessel type", "General Cargo"),
        Identifier("Tonnage", "2595"),
        Identifier("Gross registered tonnage", "1116"),
        Identifier("Vessel flag", "Cyprus"),
        Identifier("Vessel owner", "Sand & Swan Navigation Co. Ltd."),
    )
    aircraft = sdn["15431"]
    assert aircraft.schema is Schema.AIRCRAFT
    assert aircraft.name == "EP-GOM"
    # "Aircraft Manufacture Date 1992" is a date, not an identifier.
    assert aircraft.identifiers == (
        Identifier("Aircraft Construction Number (also called L/N or S/N or F/N)", "8401"),
        Identifier("Aircraft Model", "IL76-TD"),
        Identifier("Aircraft Manufacturer's Serial Number (MSN)", "1023409321"),
    )


# -- non-SDN -----------------------------------------------------------------


def test_non_sdn_counts(cons: dict[str, Party]) -> None:
    assert len(cons) == 442
    assert Counter(p.schema for p in cons.values()) == {
        Schema.ORGANIZATION: 363,
        Schema.PERSON: 79,
    }
    programs = Counter(pr for p in cons.values() for pr in p.programs)
    assert programs["UKRAINE-EO13662"] == 286
    assert programs["NS-PLC"] == 78
    assert programs["CMIC-EO13959"] == 68
    assert {p.source for p in cons.values()} == {"ofac_cons"}
    assert {p.list for p in cons.values()} == {"NON-SDN"}
    assert [f.name for f in ofac.set_files(shared_file(CONS))] == [
        "cons_prim.csv",
        "cons_add.csv",
        "cons_alt.csv",
        "cons_comments.csv",
    ]


def test_non_sdn_individual(cons: dict[str, Party]) -> None:
    haniya = cons["9639"]
    assert haniya.entity_id == "ofac_cons:9639"
    assert haniya.name == "HANIYA, Ismail Abdul Salah"
    assert haniya.schema is Schema.PERSON
    assert haniya.programs == ("NS-PLC",)
    assert haniya.dates_of_birth == ("1962",)
    assert haniya.places_of_birth == ("Shati",)
    assert [a.name for a in haniya.aliases][:2] == ["HANIYA, Ismail", "HANIYYA, Ismaeel"]
    assert haniya.source_ref == SourceRef(
        file=str(shared_file(CONS) / "cons_prim.csv"), record="line 1", url=_url("9639")
    )


def test_non_sdn_remarks_cut_before_a_space(cons: dict[str, Party]) -> None:
    # cons_prim.csv cuts Gazprom's remarks right after "…1027700070518 " and the
    # comments file goes on with "(Russia); …": the space must survive the join.
    gazprom = cons["17250"]
    assert gazprom.name == "PUBLIC JOINT STOCK COMPANY GAZPROM"
    assert gazprom.programs == ("UKRAINE-EO13662", "RUSSIA-EO14024")
    assert [a.name for a in gazprom.aliases] == ["GAZPROM PAO", "PJSC GAZPROM", "GAZPROM"]
    assert gazprom.remarks is not None
    assert "Registration Number 1027700070518 (Russia);" in gazprom.remarks
    # Directives, listing dates and executive orders are not identifiers.
    assert gazprom.identifiers == (
        Identifier("Tax ID No.", "7736050003", country="RU"),
        Identifier("Government Gazette Number", "00040778", country="RU"),
        Identifier("Registration Number", "1027700070518", country="RU"),
    )
    assert gazprom.countries == ("RU",)
    assert [a.full for a in gazprom.addresses] == [
        "2/3 Lakhtinsky Avenue, Bldg. 1, St. Petersburg, Russia 197229, Russia",
        "BOX 1255, St. Petersburg 190900, Russia",
        "156A Moskovsky Avenue, St. Petersburg, Russia",
    ]

    cccc = cons["30930"]
    assert Identifier("Unified Social Credit Code (USCC)", "91110000710934369E", "CN") in (
        cccc.identifiers
    )
    assert cccc.aliases[-1] == Alias("CCCC", weak=True)
    assert not any(i.type.endswith("(CMIC)") for i in cccc.identifiers)


def test_non_sdn_swift_code(cons: dict[str, Party]) -> None:
    bank = cons["17016"]
    assert bank.name == "GAZPROMBANK JOINT STOCK COMPANY"
    assert bank.identifiers == (
        Identifier("SWIFT/BIC", "GAZPRUMM"),
        Identifier("Website", "www.gazprombank.ru"),
        Identifier("Tax ID No.", "7744001497", country="RU"),
        Identifier("Legal Entity Number", "253400WSS48YWMBUA688"),
        Identifier("Registration Number", "1027700167110", country="RU"),
    )
    assert Alias("GAZPROMBANK OPEN JOINT STOCK COMPANY", kind="fka") in bank.aliases
    assert bank.countries == ("RU", "MN", "KZ", "IN", "CN")


# -- remarks -----------------------------------------------------------------


def test_parse_remarks() -> None:
    facts = ofac.parse_remarks(
        "DOB 12 Mar 1962; alt. DOB 1963; POB Shati; nationality Iran; "
        "citizen Syria; Passport A1234 (Iran) expires 2020; Gender Female; "
        "Website www.example.org; a.k.a. 'ABU X'; f.k.a. 'OLD NAME'; "
        "Organization Established Date 31 Jul 1990; "
        "Secondary sanctions risk: See Section 11 of Executive Order 14024.; "
        "Linked To: SOME BANK."
    )
    assert facts.dates_of_birth == ("1962-03-12", "1963")
    assert facts.places_of_birth == ("Shati",)
    assert facts.nationalities == ("IR", "SY")
    assert facts.gender == "Female"
    assert facts.aliases == (
        Alias("ABU X", kind="aka", weak=True),
        Alias("OLD NAME", kind="fka", weak=True),
    )
    assert facts.identifiers == (
        Identifier("Passport", "A1234", country="IR", note="expires 2020"),
        Identifier("Website", "www.example.org"),
    )


def test_parse_remarks_keeps_unknown_countries_out() -> None:
    facts = ofac.parse_remarks("nationality possibly Palestinian; POB Gaza")
    assert facts.nationalities == ()
    assert facts.places_of_birth == ("Gaza",)
