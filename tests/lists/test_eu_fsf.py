"""EU Financial Sanctions Files, full list XML (econsec.lists.eu_fsf).

``tests/data/eu_fsf_sample.xml`` is a hand-made file in the published
``xmlFullSanctionsList_1_1`` schema (invented entries); ``tests/data/eu_fsf_bad/``
holds broken variants of it.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import httpx
import pytest

from conftest import TESTS_DATA
from econsec.lists import LoadError, LoadStatus, eu_fsf, fetch, load, resolve
from econsec.lists.registry import SOURCES, detect_format
from econsec.model.party import Address, Alias, Identifier, Party, Schema
from econsec.screening.screen import Screener, build_query
from econsec.store import Workspace

SAMPLE = TESTS_DATA / "eu_fsf_sample.xml"
BAD = TESTS_DATA / "eu_fsf_bad"


@pytest.fixture(scope="module")
def parties() -> dict[str, Party]:
    return {p.list_entry_id: p for p in eu_fsf.parse(SAMPLE).parties}


def test_sample_entries(parties: dict[str, Party]) -> None:
    parsed = eu_fsf.parse(SAMPLE)
    assert parsed.published == "2026-07-28"  # the export's generationDate
    assert parsed.skipped == ()
    assert list(parties) == [
        "EU.9101.11",
        "EU.9102.22",
        "EU.9103.33",
        "EU.9104.44",
        "EU.9105.55",
        "EU.9106.66",
        "EU.9107.77",
    ]
    assert [p.schema for p in parties.values()] == [Schema.PERSON] * 3 + [Schema.ORGANIZATION] * 4
    for entry_id, party in parties.items():
        assert party.entity_id == f"eu_fsf:{entry_id}"
        assert party.source == "eu_fsf"
        assert party.list == "EU FSF"
        assert party.source_ref.file == str(SAMPLE)
        assert f"sanctionEntity {entry_id}, logicalId 9" in party.source_ref.record
        assert party.source_ref.url is not None
        assert party.source_ref.url.startswith("https://eur-lex.europa.eu/")


def test_person_with_arabic_and_cyrillic_names(parties: dict[str, Party]) -> None:
    samadi = parties["EU.9101.11"]
    assert samadi.name == "Tarek Mahmoud Al-Samadi"
    # The Arabic and the Cyrillic (Bulgarian) names are strong aliases; a
    # non-strong name, flagged "Low quality" in its remark too, is weak.
    assert samadi.aliases == (
        Alias("طارق محمود الصمدي"),
        Alias("Тарек Махмуд Ал-Самади"),
        Alias("Abu Rami", weak=True),
    )
    assert samadi.nationalities == ("SY",)
    assert samadi.countries == ("SY",)
    # A full date, and a year-only one ("circa", which the model cannot hold).
    assert samadi.dates_of_birth == ("1968-03-14", "1969")
    assert samadi.places_of_birth == ("Homs, SYRIAN ARAB REPUBLIC",)
    assert samadi.identifiers == (
        Identifier(
            "National passport",
            "XS0012345",
            country="SY",
            note="issued by Ministry of Interior (sample)",
        ),
    )
    assert samadi.gender == "Male"
    # "(a) …, (b) …" functions are split; the title comes first.
    assert samadi.titles == ("Dr.", "Deputy Minister of Sample Affairs", "Brigadier General")
    assert samadi.programs == ("SYR",)
    assert samadi.legal_basis == ("2023/1035 (OJ L139)",)
    assert samadi.listed_on == "2023-05-30"
    assert samadi.remarks == (
        "Sample entry. Senior officer responsible for the repression of the civilian population."
    )
    assert samadi.source_ref.record == "line 9 (sanctionEntity EU.9101.11, logicalId 900101)"
    assert samadi.source_ref.url == (
        "https://eur-lex.europa.eu/legal-content/EN/TXT/?uri=CELEX:32023R1035-SAMPLE"
    )


def test_russian_person(parties: dict[str, Party]) -> None:
    volkovsky = parties["EU.9102.22"]
    assert volkovsky.name == "Dmitri Aleksandrovich VOLKOVSKY"
    assert [a.name for a in volkovsky.aliases] == [
        "Дмитрий Александрович ВОЛКОВСКИЙ",
        "Dmitriy Aleksandrovich VOLKOVSKIY",
    ]
    assert not any(a.weak for a in volkovsky.aliases)
    assert volkovsky.nationalities == ("RU", "CY")
    assert volkovsky.countries == ("RU", "CY")  # citizenships, address, birth country
    assert volkovsky.dates_of_birth == ("1971-09-02",)
    assert volkovsky.places_of_birth == ("Leningrad (now Saint Petersburg), RUSSIAN FEDERATION",)
    assert volkovsky.addresses == (
        Address(
            street="Sample Avenue 1",
            city="Limassol",
            postal_code="3036",
            country="CY",
            full="Sample Avenue 1, Limassol, 3036, CYPRUS",
        ),
    )
    assert volkovsky.identifiers == (
        Identifier("National passport", "XR7654321", country="RU"),
        Identifier(
            "Fiscal Code", "770000123456", country="RU", note="Taxpayer identification number (INN)"
        ),
    )
    assert volkovsky.remarks is None


def test_entry_moved_between_programmes(parties: dict[str, Party]) -> None:
    petrenkov = parties["EU.9103.33"]
    # Two regulations: listed under the Ukraine regime, moved to the Russia regime.
    assert petrenkov.programs == ("UKR", "RUS")
    assert petrenkov.legal_basis == ("269/2014 (OJ L78)", "2022/260 (OJ L42I)")
    assert petrenkov.listed_on == "2014-03-17"  # the earliest publication
    assert petrenkov.source_ref.url == (
        "https://eur-lex.europa.eu/legal-content/EN/TXT/?uri=CELEX:32014R0269-SAMPLE"
    )
    # Year and month only, then a range of years.
    assert petrenkov.dates_of_birth == ("1956-05", "1955", "1956", "1957")
    assert petrenkov.places_of_birth == ("Kerch, Crimea, UKRAINE",)
    assert petrenkov.countries == ("UA",)
    # A name given in parts only (no wholeName), not strong.
    assert petrenkov.aliases == (
        Alias("Олег Викторович ПЕТРЕНКОВ"),
        Alias("Oleh Petrenkov", weak=True),
    )


def test_russian_company(parties: dict[str, Party]) -> None:
    company = parties["EU.9104.44"]
    assert company.schema is Schema.ORGANIZATION
    assert company.name == "Limited Liability Company Severny Vektor Trading"
    assert company.aliases == (
        Alias("OOO Severny Vektor"),
        Alias("ООО «Северный Вектор Трейдинг»"),
    )
    assert company.countries == ("RU",)
    assert company.nationalities == ()
    assert company.addresses == (
        Address(
            street="ul. Primernaya, d. 12, str. 3, office 45",
            city="Moscow",
            postal_code="123001",
            country="RU",
            full="ul. Primernaya, d. 12, str. 3, office 45, Moscow, 123001, RUSSIAN FEDERATION",
        ),
    )
    assert company.identifiers == (
        Identifier("Email Address", "info@severny-vektor.example"),
        Identifier("Phone Number", "+7 495 000 00 00"),
        Identifier("Registration Number", "1027700000001", country="RU", note="(OGRN)"),
    )
    assert company.dates_of_birth == ()
    assert company.gender is None
    assert company.programs == ("RUS",)
    assert company.listed_on == "2024-06-24"


def test_other_enterprises(parties: dict[str, Party]) -> None:
    gulf = parties["EU.9105.55"]
    assert gulf.aliases == (Alias("GHMS", weak=True),)
    assert gulf.identifiers == (
        Identifier(
            "Registration Number",
            "HFZ-000042",
            country="AE",
            note="issued by Hamriyah Free Zone Authority",
        ),
        # No description in the file: the type code's label.
        Identifier("SWIFT/BIC", "GHMSAEA0XXX"),
    )
    assert gulf.addresses[0].full == (
        "P.O. Box 00001, Hamriyah Free Zone, Sharjah, UNITED ARAB EMIRATES"
    )
    assert gulf.countries == ("AE",)
    assert gulf.programs == ("IRN",)

    korea = parties["EU.9106.66"]
    assert korea.countries == ("KP",)
    assert korea.programs == ("PRK",)
    # The UN reference is part of the legal basis.
    assert korea.legal_basis == ("2017/1509 (OJ L224)", "KPe.099")

    front = parties["EU.9107.77"]
    assert front.programs == ("TERR",)
    assert front.countries == ()
    assert [a.name for a in front.aliases] == [
        "Front de libération du Nord (exemple)",
        "Μέτωπο Απελευθέρωσης του Βορρά (δείγμα)",
        "NSLF",
    ]


def test_detect_format_and_source() -> None:
    assert detect_format(SAMPLE).id == "eu_fsf"
    assert detect_format(BAD / "wrong_root.xml").id == "eu_fsf"
    source = SOURCES["eu_fsf"]
    assert source.format.id == "eu_fsf"
    assert source.format.parser == eu_fsf.PARSER
    assert [(r.url, r.name) for r in source.remote] == [
        (
            "https://webgate.ec.europa.eu/fsd/fsf/public/files/xmlFullSanctionsList_1_1/"
            "content?token=dG9rZW4tMjAxNw",
            "eu_fsf.xml",
        )
    ]
    # A UN list is not mistaken for an EU one.
    un_file = TESTS_DATA / "recorded" / "un_sc" / "consolidated.xml"
    assert detect_format(un_file).id == "un_xml"


@pytest.mark.parametrize(
    ("name", "record", "field", "message"),
    [
        ("truncated.xml", "line 46", None,
         "invalid XML: Couldn't find end of Start Tag birthdate"),
        ("wrong_root.xml", "line 3", "export",
         "root element is <{http://eu.europa.ec/fpi/fsd/export}sanctionsList>"),
        ("no_name.xml", "line 9 (sanctionEntity EU.9108.88, logicalId 900801)",
         "nameAlias", "no name"),
        ("bad_date.xml", "line 4 (sanctionEntity EU.9102.22, logicalId 900201)",
         "birthdate.birthdate", "not a date: '1971-02-30'"),
        ("unknown_subject_type.xml", "line 4 (sanctionEntity EU.9109.99, logicalId 900901)",
         "subjectType.code", "unknown subject type 'vessel'"),
    ],
)  # fmt: skip
def test_bad_files(name: str, record: str, field: str | None, message: str) -> None:
    path = BAD / name
    with pytest.raises(LoadError) as info:
        eu_fsf.parse(path)
    error = info.value
    assert error.file == str(path)
    assert error.record == record
    assert error.field == field
    assert message in error.message
    text = str(error)
    assert str(path) in text
    assert record in text
    if field is not None:
        assert f"field {field!r}" in text


def test_truncated_file_names_the_entry_being_read() -> None:
    with pytest.raises(LoadError) as info:
        eu_fsf.parse(BAD / "truncated.xml")
    assert "line 46, column 59" in info.value.message
    assert "inside the entry starting at line 36 (sanctionEntity EU.9102.22" in info.value.message


def _edited(tmp_path: Path, old: str, new: str) -> Path:
    text = SAMPLE.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "eu_fsf_edited.xml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "record", "field"),
    [
        ('generationDate="2026-07-28T11:43:32.118+02:00"', 'generationDate="28.07.2026"',
         "line 8", "export.generationDate"),
        ('publicationDate="2022-03-09"', 'publicationDate="2022-03-32"',
         "line 36 (sanctionEntity EU.9102.22, logicalId 900201)", "regulation.publicationDate"),
        ('monthOfYear="5" year="1956"', 'monthOfYear="May" year="1956"',
         "line 54 (sanctionEntity EU.9103.33, logicalId 900301)", "birthdate.monthOfYear"),
        ('<subjectType code="person" classificationCode="P"/>', "",
         "line 9 (sanctionEntity EU.9101.11, logicalId 900101)", "subjectType"),
    ],
)  # fmt: skip
def test_bad_values(tmp_path: Path, old: str, new: str, record: str, field: str) -> None:
    path = _edited(tmp_path, old, new)
    with pytest.raises(LoadError) as info:
        eu_fsf.parse(path)
    assert info.value.record == record
    assert info.value.field == field


def test_subject_type_from_classification_code(tmp_path: Path) -> None:
    path = _edited(
        tmp_path,
        '<subjectType code="enterprise" classificationCode="E"/>',
        '<subjectType classificationCode="P"/>',
    )
    assert eu_fsf.parse(path).parties[3].schema is Schema.PERSON


def test_load_and_screen(workspace_home: Path, tmp_path: Path) -> None:
    workspace = Workspace(tmp_path / "fresh")
    result = load(resolve(str(SAMPLE), None), workspace)
    assert result.status is LoadStatus.LOADED
    assert result.version.source == "eu_fsf"
    assert result.version.label == "EU Financial Sanctions Files (consolidated)"
    assert result.version.parser == eu_fsf.PARSER
    assert result.version.entry_count == 7
    assert result.version.published == "2026-07-28"
    assert load(resolve(str(SAMPLE), None), workspace).status is LoadStatus.UNCHANGED

    versions, loaded = workspace.active_parties()
    assert [v.source for v in versions] == ["eu_fsf"]
    assert {p.entity_id for p in loaded} == {p.entity_id for p in eu_fsf.parse(SAMPLE).parties}
    screener = Screener(loaded, versions)
    # Misspelled: "Dmitry" for "Dmitri", "-skiy" for "-sky".
    hits = screener.screen(build_query("Dmitry Volkovskiy")).hits
    assert [h.party.entity_id for h in hits] == ["eu_fsf:EU.9102.22"]
    assert hits[0].party.name == "Dmitri Aleksandrovich VOLKOVSKY"
    hits = screener.screen(build_query("Tarik Al Samadi", lists=["eu_fsf"])).hits
    assert [h.party.entity_id for h in hits] == ["eu_fsf:EU.9101.11"]
    assert not screener.screen(build_query("Jane Example")).hits


def test_load_as_known_source(workspace_home: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "lists").mkdir(parents=True)
    shutil.copy(SAMPLE, data / "lists" / "eu_fsf_2026-07-28.xml")
    target = resolve("eu_fsf", data)
    assert target.source is SOURCES["eu_fsf"]
    result = load(target, Workspace())
    assert result.version.source == "eu_fsf"
    assert result.version.entry_count == 7


def _serving(body: bytes) -> httpx.Client:
    url = SOURCES["eu_fsf"].remote[0].url

    def handler(request: httpx.Request) -> httpx.Response:
        if str(request.url) == url:
            return httpx.Response(200, content=body)
        return httpx.Response(404)

    return httpx.Client(transport=httpx.MockTransport(handler))


def test_fetch_saves_a_dated_edition(workspace_home: Path) -> None:
    with _serving(SAMPLE.read_bytes()) as client:
        (item,) = fetch.fetch(["eu_fsf"], client, workspace_home, date(2026, 7, 31))
    saved = workspace_home / "downloads" / "lists" / "eu_fsf_2026-07-31.xml"
    assert item.files == (saved,)
    assert saved.read_bytes() == SAMPLE.read_bytes()
    assert resolve("eu_fsf", fetch.downloads_dir(workspace_home)) == item.target
    assert load(item.target, Workspace()).version.entry_count == 7

    # An error page served in place of the list is not saved.
    with (
        _serving(b"<html><body>Service unavailable</body></html>") as client,
        pytest.raises(fetch.FetchError, match="expected 'eu_fsf'"),
    ):
        fetch.fetch(["eu_fsf"], client, workspace_home, date(2026, 8, 1))
    assert sorted(p.name for p in saved.parent.iterdir()) == ["eu_fsf_2026-07-31.xml"]
