"""US Consolidated Screening List (econsec.lists.csl) on the real trade.gov files."""

from __future__ import annotations

import csv
import dataclasses
import hashlib
from collections import Counter
from pathlib import Path

import pytest

from conftest import shared_file
from econsec.lists import csl
from econsec.model.party import Address, Alias, Identifier, Party, Schema, SourceRef

FULL = "lists/us_csl_2026-07-31.csv"
SAMPLE_CURRENT = "lists/us_csl_format_samples/consolidated_2025_sample.csv"
SAMPLE_2019 = "lists/us_csl_format_samples/csl_2019_sample.csv"


@pytest.fixture(scope="module")
def full() -> dict[str, Party]:
    parties = csl.parse(shared_file(FULL)).parties
    by_id = {p.list_entry_id: p for p in parties}
    assert len(by_id) == len(parties)
    return by_id


@pytest.fixture(scope="module")
def current() -> list[Party]:
    return csl.parse(shared_file(SAMPLE_CURRENT)).parties


@pytest.fixture(scope="module")
def layout_2019() -> list[Party]:
    return csl.parse(shared_file(SAMPLE_2019)).parties


def _by_name(parties: list[Party], name: str) -> Party:
    found = [p for p in parties if p.name == name]
    assert len(found) == 1, f"{name!r}: {len(found)} entries"
    return found[0]


# -- the full list -----------------------------------------------------------


@pytest.mark.slow
def test_full_list_counts(full: dict[str, Party]) -> None:
    # 25,921 rows; rows repeating an `_id` (one per Federal Register notice) are one entry.
    assert len(full) == 25_796
    assert Counter(p.list for p in full.values()) == {
        "SDN": 19_181,
        "EL": 3_354,
        "DPL": 1_543,
        "DTC": 783,
        "SSI": 286,
        "UVL": 222,
        "ISN": 159,
        "PLC": 78,
        "MEU": 70,
        "CMIC": 68,
        "NS-MBS": 51,
        "CAP": 1,
    }
    assert Counter(p.schema for p in full.values()) == {
        Schema.ORGANIZATION: 10_206,
        Schema.PERSON: 7_591,
        # BIS and State lists have no type column.
        Schema.LEGAL_ENTITY: 6_131,
        Schema.VESSEL: 1_524,
        Schema.AIRCRAFT: 344,
    }
    assert all(p.entity_id == f"us_csl:{p.list_entry_id}" for p in full.values())
    assert all(p.source == "us_csl" for p in full.values())
    # Every country is an upper-case ISO code, never "UK" or a US state.
    countries = {c for p in full.values() for c in p.countries}
    assert all(len(c) == 2 and c.isupper() for c in countries)
    assert "UK" not in countries
    assert "NM" not in countries


@pytest.mark.slow
def test_full_list_has_no_publication_date_of_its_own() -> None:
    # The CSV has no edition metadata; the loader takes the date from the file name.
    assert csl.parse(shared_file(FULL)).published is None


@pytest.mark.slow
def test_entity_list_row_with_licence_requirement(full: dict[str, Party]) -> None:
    huawei = full["c803b3b45007dbb4b2f17774b85653c3e4e90e23d6fe815b26e35e61"]
    assert huawei == Party(
        entity_id="us_csl:c803b3b45007dbb4b2f17774b85653c3e4e90e23d6fe815b26e35e61",
        source="us_csl",
        list="EL",
        list_entry_id="c803b3b45007dbb4b2f17774b85653c3e4e90e23d6fe815b26e35e61",
        schema=Schema.LEGAL_ENTITY,
        name="Huawei Technologies Co., Ltd. (Huawei)",
        source_ref=SourceRef(
            file=str(shared_file(FULL)),
            record="line 3336",
            url="https://www.bis.gov/regulations/ear/744#supplement-4-744",
        ),
        aliases=(Alias("Shenzhen Huawei Technologies"), Alias("Huawei Technology")),
        countries=("CN",),
        addresses=(Address(country="CN"),),
        license_requirement=(
            "For all items subject to the EAR, see §§ 734.9(e)1 and 744.11 of the EAR2"
        ),
        license_policy="Presumption of denial",
        legal_basis=(
            "84 FR 22963, 84 FR 43495, 85 FR 29853, 85 FR 36720,  85 FR 51603, "
            "86 FR 71559, 87 FR 6026, 87 FR 8182, 87 FR 21012, 87 FR 55250",
        ),
    )


@pytest.mark.slow
def test_sdn_individual_vessel_and_aircraft(full: dict[str, Party]) -> None:
    kim = full["5f0d24b88de9812615c8e1bd9c758a0739bca51ccfb7a777aa02e3e7"]
    assert (kim.name, kim.schema, kim.list, kim.programs, kim.countries) == (
        "KIM, Jong Un",
        Schema.PERSON,
        "SDN",
        ("DPRK3",),
        ("KP",),
    )
    assert kim.source_ref.record == "line 10029"
    assert kim.source_ref.url == "https://sanctionslist.ofac.treas.gov/Home/SdnList"

    putin = full["90097e673ca504afafe70d7cbfa1db7f6606c607724cc6fa12d1a870"]
    assert putin.name == "PUTIN, Vladimir Vladimirovich"
    assert putin.aliases == (Alias("PUTIN, Vladimir"),)
    assert putin.programs == ("RUSSIA-EO14024",)

    vessel = full["c3f5bca4e25d1054a76b7979b8a48164e190aa14376ee023de058aac"]
    assert (vessel.name, vessel.schema, vessel.programs) == ("EBANO", Schema.VESSEL, ("CUBA",))
    assert vessel.aliases == (Alias("ANA I"), Alias("SAND SWAN"))
    assert vessel.countries == ()

    aircraft = full["3fa7a076f420ee2cc9e4677e28f584c196636dfbd1e15a4e1cf2f3aa"]
    assert (aircraft.name, aircraft.schema, aircraft.programs) == (
        "EP-GOL",
        Schema.AIRCRAFT,
        ("SDGT",),
    )


@pytest.mark.slow
def test_capta_list_entry(full: dict[str, Party]) -> None:
    bank = full["274f2af504afa52bbdd7b1e64f9f618277d22d929e4cb0f1e5b7edba"]
    assert bank.list == "CAP"
    assert bank.name == "BANK OF KUNLUN CO LTD"
    assert bank.schema is Schema.ORGANIZATION
    assert bank.programs == ("561-Related",)
    assert bank.all_names == (
        "BANK OF KUNLUN CO LTD",
        "KARAMAY URBAN CREDIT COOPERATIVES",
        "KARAMAY CITY COMMERCIAL BANK CO LTD.",
    )
    assert bank.countries == ("CN",)
    assert bank.source_ref.record == "line 2"


@pytest.mark.slow
def test_rows_repeating_an_id_are_merged(full: dict[str, Party]) -> None:
    wang = full["cb22b8fd7b1af0c30a3127f46b59ec5933e74a7b88274971a7901064"]
    assert wang.name == "PAYLING WANG"
    assert wang.list == "DPL"
    assert wang.source_ref.record == "line 142; line 422"
    assert wang.legal_basis == (
        "59 F.R. 42804 8/19/94 and 61 F.R. 19257 5/1/96",
        "59 F.R. 42804 8/19/94 61 F.R. 19257 5/1/96",
    )
    assert wang.countries == ("US",)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "country", "raw"),
    [
        # trade.gov writes "UK" for the United Kingdom (GB in ISO 3166).
        ("JOHN EDWARD MEADOWS", "GB", "UK"),
        # Country names in place of a code.
        ("QIANG HU", "CN", "PRC"),
        ("AUK Group", "TR", "TURKIYE"),
        ("PLATIFINO LIMITED", "IM", "MAN, ISLE OF"),
        # A US state code is not a country.
        ("STEPHEN EDWARD SMITH", None, "NM"),
    ],
)
def test_address_country_codes_are_checked(
    full: dict[str, Party], name: str, country: str | None, raw: str
) -> None:
    party = next(p for p in full.values() if p.name == name)
    assert party.addresses == (Address(country=country, full=raw),)
    assert party.countries == ((country,) if country else ())


@pytest.mark.slow
def test_and_joining_the_last_alias_is_dropped(full: dict[str, Party]) -> None:
    # "…; and SKB DNIKhTI": the last item of an Entity List enumeration.
    party = full["317d4db708935a228fdeeec8269c3981524574c525b7c5c5951d2405"]
    names = [a.name for a in party.aliases]
    assert names[-1] == "SKB DNIKhTI"
    assert not any(n.startswith("and ") for p in full.values() for n in p.all_names[1:])


# -- the current layout, every column filled ----------------------------------


def test_current_layout_sample(current: list[Party]) -> None:
    assert len(current) == 13
    assert [p.list for p in current] == [
        "ISN", "UVL", "MEU", "PLC", "SDN", "DTC", "DPL", "SSI", "FSE", "PLC", "SSI", "EL", "SSI",
    ]  # fmt: skip


def test_current_layout_individual(current: list[Party]) -> None:
    rim = _by_name(current, "RIM, Ryong Nam")
    assert rim == Party(
        entity_id="us_csl:52291",
        source="us_csl",
        list="SDN",
        list_entry_id="52291",
        schema=Schema.PERSON,
        name="RIM, Ryong Nam",
        source_ref=SourceRef(
            file=str(shared_file(SAMPLE_CURRENT)),
            record="line 6",
            url="https://home.treasury.gov/policy-issues/financial-sanctions/"
            "specially-designated-nationals-and-blocked-persons-list-sdn-human-readable-lists",
        ),
        countries=("CN", "KP"),
        nationalities=("KP",),
        programs=("NPWMD",),
        dates_of_birth=("1978-12-05",),
        addresses=(
            Address(country="CN", full="Shenyang, CN"),
            Address(country="KP", full="Pyongyang, KP"),
        ),
        identifiers=(
            Identifier("Passport", "836238033", country="KP"),
            Identifier(
                "Secondary sanctions risk",
                "North Korea Sanctions Regulations, sections 510.201 and 510.210",
            ),
            Identifier(
                "Transactions Prohibited For Persons Owned or Controlled By U.S. "
                "Financial Institutions",
                "North Korea Sanctions Regulations section 510.214",
            ),
        ),
        gender="Male",
    )


def test_current_layout_citizenship_counts_as_nationality(current: list[Party]) -> None:
    evren = _by_name(current, "Evren KAYAKIRAN")
    assert evren.list == "FSE"
    assert evren.nationalities == ("TR",)
    assert evren.countries == ("TR",)
    assert evren.dates_of_birth == ("1980-02-08",)
    assert evren.identifiers == (Identifier("Passport", "U00242309", country="TR"),)
    assert evren.gender == "Male"


def test_current_layout_military_end_user(current: list[Party]) -> None:
    meu = _by_name(current, "Academy of Aerospace Solid Propulsion Technology (AASPT)")
    assert meu.list == "MEU"
    assert meu.list_entry_id == "66f6ab3f26234b75a9093fce79ef0ce0"
    assert meu.schema is Schema.LEGAL_ENTITY
    assert meu.license_requirement == (
        "For any item subject to the EAR listed in supplement no. 2 to part 744."
    )
    assert meu.license_policy == (
        "The license application procedure and license review policy for entities "
        "specified in supplement no. 2 to part 744 is specified in §744.21(d) and (e)."
    )
    assert meu.legal_basis == ("85 FR 83799",)
    assert meu.listed_on == "2020-12-23"
    assert meu.countries == ("CN",)


def test_current_layout_entity_list_enumeration(current: list[Party]) -> None:
    cetc = _by_name(
        current, "China Electronics Technology Group Corporation 13th Research Institute (CETC 13)"
    )
    assert cetc.list == "EL"
    assert cetc.listed_on == "2018-08-01"
    assert cetc.legal_basis == ("83 FR 37423; 87 FR 77505",)
    assert cetc.license_policy is not None
    assert cetc.license_policy.startswith("Policy of denial for all items subject to the EAR")
    assert [a.name for a in cetc.aliases] == [
        "Hebei Semiconductor Research Institute",
        "HSRI",
        "Hebei Institute of Semiconductors",
        "Hebei Semiconductor Institute",
        "Hebei Semiconductor",
        "CETC Research Institute 13",
    ]
    assert [a.full for a in cetc.addresses] == [
        "113 Hezuo Road, Shijiazhuang, Hebei, China",
        "21 Changsheng Street, Shijiazhuang, Hebei, China",
        "21 Changsheng Road, Shijiazhuang, Hebei, China, Shijiazhuang, Hebei Province, CN",
    ]
    assert cetc.countries == ("CN",)


def test_current_layout_denied_person_dates(current: list[Party]) -> None:
    ash = _by_name(current, "I. ASH")
    assert (ash.list, ash.listed_on, ash.end_date, ash.remarks) == (
        "DPL",
        "2002-03-04",
        "2056-06-29",
        "50 YEAR DENIAL",
    )
    assert ash.addresses == (
        Address(country="US", full="605 TRAIL LAKE DRIVE, RICHARDSON, TX, 75081, US"),
    )


# -- the 2019 layout ---------------------------------------------------------


def test_2019_layout_sample(layout_2019: list[Party]) -> None:
    assert len(layout_2019) == 115
    # Five Entity List entries under one name, listed on different dates.
    assert sum(p.name == "Gunther Migeotte" for p in layout_2019) == 5


def test_2019_layout_ids_read_country_number_type(layout_2019: list[Party]) -> None:
    psa = _by_name(layout_2019, "200G PSA HOLDINGS LLC")
    assert psa.entity_id == "us_csl:20264"
    assert psa.identifiers == (Identifier("Tax ID No.", "80-0890696", country="US"),)
    assert psa.countries == ("US",)
    assert psa.programs == ("SDNTK",)


def test_2019_layout_vessel(layout_2019: list[Party]) -> None:
    vessel = _by_name(layout_2019, "ADRIAN DARYA 1")
    assert vessel.schema is Schema.VESSEL
    assert vessel.aliases == (Alias("GRACE 1"),)
    assert vessel.programs == ("SDGT",)
    assert vessel.identifiers == (
        Identifier("Vessel Registration Identification", "IMO 9116412"),
        Identifier("Former Vessel Flag", "Panama"),
        Identifier("Vessel type", "Crude Oil Tanker"),
        Identifier("Vessel flag", "Iran"),
    )


def test_2019_layout_derives_stable_ids_for_lists_without_one(layout_2019: list[Party]) -> None:
    # The leading blank of " ADRIAN MANUEL HERNANDEZ" is not part of the name.
    dpl = _by_name(layout_2019, "ADRIAN MANUEL HERNANDEZ")
    key = "|".join(
        (
            "Denied Persons List (DPL) - Bureau of Industry and Security",
            "ADRIAN MANUEL HERNANDEZ",
            "82 F.R. 48792 10/20/2017",
            "2017-10-16",
        )
    )
    assert dpl.list_entry_id == "h" + hashlib.sha1(key.encode()).hexdigest()[:16]
    assert (dpl.listed_on, dpl.end_date, dpl.remarks) == (
        "2017-10-16",
        "2020-10-13",
        "FR NOTICE ADDED",
    )
    # No ISO code at the end of the address: no country.
    assert dpl.addresses == (Address(full="3037 S. 69TH DRIVE, PHONEIX, AZ, 85043"),)
    assert dpl.countries == ()
    el = _by_name(layout_2019, "32 Group China Ltd.")
    assert el.license_requirement == "For all items subject to the EAR.  (See §744.11 of the EAR)"
    assert el.license_policy == "Presumption of denial."
    assert el.countries == ("HK",)


# -- both layouts give the same Party ----------------------------------------

#: ``ids`` of the current sample's rows, written the 2019 way (``country, number, type``,
#: as the 2019 sample writes the same kinds of ids).
_IDS_2019 = {
    "52291": "KP, 836238033, Passport; North Korea Sanctions Regulations, sections 510.201 "
    "and 510.210, Secondary sanctions risk:; Male, Gender; North Korea Sanctions "
    "Regulations section 510.214, Transactions Prohibited For Persons Owned or "
    "Controlled By U.S. Financial Institutions:",
    "18300": "C122790, Registration ID; hrm@rosneft-sh.com.cy, Email Address; Subject to "
    "Directive 2, Executive Order 13662 Directive Determination -; Subject to Directive 4, "
    "Executive Order 13662 Directive Determination -; Ukraine-/Russia-Related Sanctions "
    "Regulations, 31 CFR 589.201 and/or 589.209, Secondary sanctions risk:",
    "26182": "TR, U00242309, Passport; Male, Gender",
    "28603": "CH, CHE-267.936.404, V.A.T. Number; CH, CH-660.0.559.011-2, Business "
    "Registration Number; Subject to Directive 2, Executive Order 13662 Directive "
    "Determination -; Subject to Directive 4, Executive Order 13662 Directive "
    "Determination -; Ukraine-/Russia-Related Sanctions Regulations, 31 CFR 589.201 "
    "and/or 589.209, Secondary sanctions risk:",
    "18283": "1027739108649, Public Registration Number; RUDVRUMM, SWIFT/BIC; mspbank.ru, "
    "Website; Subject to Directive 1, Executive Order 13662 Directive Determination -; "
    "Ukraine-/Russia-Related Sanctions Regulations, 31 CFR 589.201 and/or 589.209, "
    "Secondary sanctions risk:",
}


def test_both_layouts_give_the_same_party(current: list[Party], tmp_path: Path) -> None:
    with shared_file(SAMPLE_CURRENT).open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["entity_number"] for r in rows if r["ids"]} == set(_IDS_2019)
    old = tmp_path / "csl_2019_layout.csv"
    with old.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(csl.LAYOUT_2019)
        for row in rows:
            row["ids"] = _IDS_2019.get(row["entity_number"], row["ids"])
            writer.writerow(row[c] for c in csl.LAYOUT_2019)
    converted = csl.parse(old).parties
    assert len(converted) == len(current) == 13
    for new, orig, row in zip(converted, current, rows, strict=True):
        assert new.source_ref == dataclasses.replace(orig.source_ref, file=str(old))
        if row["entity_number"]:
            # Treasury rows: the 2019 layout's id is the entity number, as `_id` is now.
            assert new == dataclasses.replace(orig, source_ref=new.source_ref)
        else:
            key = "|".join(
                (row["source"], row["name"], row["federal_register_notice"], row["start_date"])
            )
            derived = "h" + hashlib.sha1(key.encode()).hexdigest()[:16]
            assert new == dataclasses.replace(
                orig,
                entity_id=f"us_csl:{derived}",
                list_entry_id=derived,
                source_ref=new.source_ref,
            )


def test_list_code() -> None:
    assert csl.list_code("Entity List (EL) - Bureau of Industry and Security") == "EL"
    assert csl.list_code("Military End User (MEU) List - Bureau of Industry and Security") == "MEU"
    assert (
        csl.list_code("Non-SDN Menu-Based Sanctions List (NS-MBS List) - Treasury Department")
        == "NS-MBS"
    )
    assert csl.list_code("Some list without a code") == "Some list without a code"


def test_scope_clauses_and_inline_aliases_are_cut_from_entity_list_names(
    full: dict[str, Party],
) -> None:
    by_name = {p.name: p for p in full.values()}
    wagner = by_name["PMC Wagner"]
    assert wagner.list == "ISN"  # State Department nonproliferation sanctions
    assert wagner.remarks is not None
    assert "Listed as: PMC Wagner; and any successor, sub-unit, or subsidiary thereof" in (
        wagner.remarks
    )
    vks = by_name["Russian Aerospace Forces"]
    assert "VKS" in [a.name for a in vks.aliases]
    kow = [p for p in full.values() if p.name == "KOW SENG LIM"]
    assert kow
    assert {"ERIC LIM", "JAMES WONG", "ALVIN STANLEY"} <= {a.name for p in kow for a in p.aliases}
    assert not [p for p in full.values() if "subsidiary thereof" in p.name]
