"""FollowTheMoney export and import (econsec.lists.ftm)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from followthemoney import model
from typer.testing import CliRunner

from conftest import TESTS_DATA, shared_file
from econsec.cli.lists import app as lists_app
from econsec.lists import LoadError, csl, detect_format, ftm, load, ofac, resolve, un
from econsec.model.party import Address, Alias, Identifier, Party, Schema, SourceRef
from econsec.store import Workspace

SAMPLE = TESTS_DATA / "ftm_sample.ftm.json"
RECORDED_UN = TESTS_DATA / "recorded" / "un_sc" / "consolidated.xml"


def _round_trip(parties: list[Party], tmp_path: Path) -> list[Party]:
    out = tmp_path / "export.ftm.json"
    ftm.write_entities(parties, out)
    back = ftm.parse(out).parties
    assert len(back) == len(parties)
    return back


def _ws(text: str) -> str:
    """FtM collapses runs of white space and drops control characters."""
    return " ".join(re.sub(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", "", text).split())


def _name(text: str) -> str:
    """FtM's name cleaning also strips the quotes around a name."""
    return _ws(text).strip("'\" ")


def _names(party: Party) -> set[tuple[str, bool]]:
    return {(_name(a.name), a.weak) for a in party.aliases} | {(_name(party.name), False)}


def _ids(party: Party) -> set[tuple[str, str, str | None]]:
    return {(i.type, i.value, i.country) for i in party.identifiers}


def _assert_core_preserved(orig: Party, new: Party) -> None:
    """What a round trip must keep: names, aliases, countries, dates, programmes."""
    assert _name(new.name) == _name(orig.name)
    assert _names(new) == _names(orig)
    assert new.schema is orig.schema
    assert new.source == orig.source
    # Countries the FtM country type knows come back (vessel flags may add one).
    assert set(orig.countries) - {"AN"} <= set(new.countries)
    assert new.dates_of_birth == orig.dates_of_birth
    assert new.programs == orig.programs
    assert new.legal_basis == orig.legal_basis


# -- round trips on real lists ---------------------------------------------------------


def test_round_trip_un_list(tmp_path: Path) -> None:
    parties = un.parse(shared_file("lists/un_consolidated_2026-02.xml")).parties
    back = _round_trip(parties, tmp_path)
    with_documents = 0
    for orig, new in zip(parties, back, strict=True):
        _assert_core_preserved(orig, new)
        assert new.countries == orig.countries
        assert new.nationalities == orig.nationalities
        assert new.places_of_birth == orig.places_of_birth
        # Identity documents travel as Identification/Passport entities:
        # type, number and issuing country survive exactly.
        assert {(t, _ws(v), c) for t, v, c in _ids(new)} == {
            (t, _ws(v), c) for t, v, c in _ids(orig)
        }
        with_documents += bool(orig.identifiers)
        assert new.listed_on == (orig.listed_on[:10] if orig.listed_on else None)
        assert (new.gender or "").lower() == (orig.gender or "").lower()
        assert new.list == "un_sc"
        assert new.entity_id == f"un_sc:{ftm.entity_id(orig)}"
    assert with_documents > 100


def test_round_trip_ofac_consolidated(tmp_path: Path) -> None:
    parties = ofac.parse(shared_file("lists/ofac_nonsdn_2025-12")).parties
    back = _round_trip(parties, tmp_path)
    for orig, new in zip(parties, back, strict=True):
        _assert_core_preserved(orig, new)
        assert new.nationalities == orig.nationalities

        # Every identifier value comes back; websites gain a scheme, emails and
        # phones are FtM properties of their own and come back under their labels.
        def url(value: str) -> str:
            return re.sub(r"^https?://|/$", "", value).lower()

        values = {url(i.value) for i in new.identifiers}
        for ident in orig.identifiers:
            assert url(ident.value) in values, (orig.entity_id, ident)
        documents = {i for i in _ids(orig) if not re.search(r"website|e-?mail|phone", i[0], re.I)}
        assert documents <= _ids(new)


@pytest.mark.slow
def test_round_trip_ofac_sdn(tmp_path: Path) -> None:
    parties = ofac.parse(shared_file("lists/ofac_sdn_2021-07")).parties
    back = _round_trip(parties, tmp_path)
    imo = re.compile(r"IMO\s?(\d{7})")
    vessels = 0
    for orig, new in zip(parties, back, strict=True):
        _assert_core_preserved(orig, new)
        if orig.schema is Schema.VESSEL:
            vessels += 1
            wanted = {m.group(1) for i in orig.identifiers if (m := imo.search(i.value))}
            wanted |= {i.value for i in orig.identifiers if "IMO" in i.type and i.value.isdigit()}
            found = {i.value.removeprefix("IMO") for i in new.identifiers}
            assert wanted <= found, orig.entity_id
    assert vessels > 100


def test_round_trip_csl_keeps_listing_facts(tmp_path: Path) -> None:
    path = shared_file("lists/us_csl_format_samples/consolidated_2025_sample.csv")
    parties = csl.parse(path).parties
    back = _round_trip(parties, tmp_path)
    for orig, new in zip(parties, back, strict=True):
        _assert_core_preserved(orig, new)
        assert new.listed_on == orig.listed_on
        assert new.end_date == orig.end_date
        assert new.license_requirement == orig.license_requirement
        assert new.license_policy == orig.license_policy
        assert new.list == "us_csl"
    assert any(p.license_requirement for p in parties)
    assert any(p.license_policy for p in parties)


# -- export ------------------------------------------------------------------------


def _party(**changes: object) -> Party:
    base: dict[str, object] = {
        "entity_id": "test_src:42",
        "source": "test_src",
        "list": "SDN",
        "list_entry_id": "42",
        "schema": Schema.PERSON,
        "name": "IVANOV, Ivan",
        "source_ref": SourceRef(file="x", record="line 1", url="https://example.org/42"),
    }
    base.update(changes)
    return Party(**base)  # type: ignore[arg-type]


def test_exported_entities_are_valid_and_linked() -> None:
    parties = un.parse(RECORDED_UN).parties
    entities = list(ftm.export_entities(parties))
    assert entities == list(ftm.export_entities(parties)), "ids and order are deterministic"
    ids = [e["id"] for e in entities]
    assert len(ids) == len(set(ids))
    targets = {e["id"] for e in entities if e.get("target")}
    assert targets == {ftm.entity_id(p) for p in parties}
    assert "econsec-un-sc-cdi-001" in targets
    for data in entities:
        proxy = model.get_proxy(data, cleaned=False)  # re-validates every value
        assert proxy.to_dict()["properties"] == data["properties"]
        assert data["datasets"] == ["un_sc"]
        if data["schema"] == "Sanction":
            assert data["properties"]["entity"][0] in targets
            assert data["properties"]["authority"] == ["United Nations Security Council"]
    sanction = next(e for e in entities if e["id"] == "econsec-un-sc-cdi-001-sanction")
    assert sanction["properties"]["program"] == ["DRC"]
    assert sanction["properties"]["unscId"] == ["CDi.001"]
    assert sanction["properties"]["listingDate"] == ["2012-12-31"]
    person = next(e for e in entities if e["id"] == "econsec-un-sc-cdi-001")
    assert person["properties"]["topics"] == ["sanction"]
    assert person["properties"]["nationality"] == ["cd"]
    assert person["caption"] == "ERIC BADEGE"


def test_party_to_entity_maps_identifiers_and_aliases() -> None:
    party = _party(
        aliases=(Alias("VANYA", weak=True), Alias("PETROV, Ivan", kind="fka"), Alias("I. IVANOV")),
        countries=("RU",),
        nationalities=("RU",),
        dates_of_birth=("1970-02",),
        places_of_birth=("Moscow",),
        addresses=(Address(city="Moscow", country="RU", full="Tverskaya 1, Moscow, Russia"),),
        identifiers=(
            Identifier("Passport", "7512345", country="RU"),
            Identifier("Tax ID No.", "770123456789", country="RU"),
            Identifier("National ID No.", "4509 123456"),
            Identifier("Email Address", "ivanov@example.org"),
        ),
        programs=("RUSSIA-EO14024",),
        titles=("Director",),
        remarks="Listed for testing.",
    )
    entity = ftm.party_to_entity(party)
    props = entity.properties
    assert entity.id == "econsec-test-src-42"
    assert props["name"] == ["IVANOV, Ivan"]
    assert props["weakAlias"] == ["VANYA"]
    assert props["previousName"] == ["PETROV, Ivan"]
    assert props["alias"] == ["I. IVANOV"]
    assert props["passportNumber"] == ["7512345"]
    assert props["taxNumber"] == ["770123456789"]
    assert props["idNumber"] == ["4509 123456"]
    assert props["email"] == ["ivanov@example.org"]
    assert props["birthDate"] == ["1970-02"]
    assert props["birthPlace"] == ["Moscow"]
    assert props["address"] == ["Tverskaya 1, Moscow, Russia"]
    assert props["country"] == ["ru"]
    assert props["nationality"] == ["ru"]
    assert props["program"] == ["RUSSIA-EO14024"]
    assert props["position"] == ["Director"]
    assert props["notes"] == ["Listed for testing."]
    assert props["sourceUrl"] == ["https://example.org/42"]
    linked = ftm.linked_entities(party, entity)
    assert [e.schema.name for e in linked] == [
        "Sanction",
        "Passport",
        "Identification",
        "Identification",
    ]
    passport = linked[1].properties
    assert passport["holder"] == [entity.id]
    assert passport["number"] == ["7512345"]
    assert passport["country"] == ["ru"]
    authority = linked[0].properties["authority"][0]
    assert "Office of Foreign Assets Control" in authority


def test_vessel_identifiers_use_vessel_properties() -> None:
    party = _party(
        schema=Schema.VESSEL,
        name="ARTAVIL",
        identifiers=(
            Identifier("Vessel Registration Identification", "IMO 9187629"),
            Identifier("MMSI", "572469210"),
            Identifier("Call sign", "T2EU4"),
            Identifier("Vessel flag", "Iran"),
            Identifier("Vessel owner", "NATIONAL IRANIAN TANKER COMPANY"),
        ),
    )
    entity = ftm.party_to_entity(party)
    props = entity.properties
    assert props["imoNumber"] == ["IMO9187629"]
    assert props["mmsi"] == ["572469210"]
    assert props["callSign"] == ["T2EU4"]
    assert props["flag"] == ["ir"]
    # A vessel has no idNumber: a fact without a property is kept in the notes.
    assert props["notes"] == ["Vessel owner: NATIONAL IRANIAN TANKER COMPANY"]
    assert [e.schema.name for e in ftm.linked_entities(party, entity)] == ["Sanction"]


def test_topics_follow_the_list() -> None:
    assert ftm.topics(_party(list="EL")) == ("export.control",)
    assert ftm.topics(_party(list="DTC")) == ("debarment",)
    assert ftm.topics(_party(list="OS_US_CONGRESS", programs=("role.pep",))) == ("role.pep",)
    assert ftm.topics(_party(list="SOMETHING")) == ("sanction",)


def test_export_rejects_the_same_party_twice() -> None:
    party = _party()
    with pytest.raises(ValueError, match="exported twice"):
        list(ftm.export_entities([party, party]))
    # Different entity ids that slug alike get distinct FtM ids.
    other = _party(entity_id="test-src:42")
    ids = [e["id"] for e in ftm.export_entities([party, other]) if e.get("target")]
    assert len(set(ids)) == 2


def test_write_entities_is_atomic(tmp_path: Path) -> None:
    out = tmp_path / "out.ftm.json"
    out.write_text("previous export\n")

    def broken() -> Iterator[Party]:
        yield _party()
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError):
        ftm.write_entities(broken(), out)
    assert out.read_text() == "previous export\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.ftm.json"]


# -- import ------------------------------------------------------------------------


def test_parse_opensanctions_style_file() -> None:
    assert detect_format(SAMPLE).id == "ftm"
    parsed = ftm.parse(SAMPLE)
    # Two datasets in the file: the source id comes from the file name.
    parties = {p.name: p for p in parsed.parties}
    assert set(parties) == {"Eric Badege", "BANCO NACIONAL DE CUBA", "LI, Jiadong", "ARTAVIL"}
    assert {p.source for p in parsed.parties} == {"ftm_sample"}
    assert parsed.published == "2026-02-27"
    assert parsed.skipped == ("1 UnknownLink entity (first at line 11): not a party to screen",)

    badege = parties["Eric Badege"]
    assert badege.entity_id == "ftm_sample:NK-3kT9vXwQeLb2mPz8RcYh5D"
    assert badege.list == "un_sc_sanctions"
    assert badege.schema is Schema.PERSON
    assert badege.aliases == (Alias("BADEGE, Eric"),)
    assert badege.countries == ("CD", "RW")
    assert badege.nationalities == ("CD",)
    assert badege.dates_of_birth == ("1971",)
    # The Sanction points at a referent (the UN id) of the merged entity.
    assert badege.programs == ("DRC",)
    assert badege.legal_basis == ("CDi.001",)
    assert badege.listed_on == "2012-12-31"
    assert badege.remarks is not None
    assert "Listed by United Nations Security Council" in badege.remarks
    assert "M23" in badege.remarks
    assert badege.source_ref.record == "line 1 (NK-3kT9vXwQeLb2mPz8RcYh5D)"

    bank = parties["BANCO NACIONAL DE CUBA"]
    assert bank.schema is Schema.ORGANIZATION  # Company
    assert bank.list == "us_ofac_sdn"
    assert Alias("BNC", weak=True) in bank.aliases
    assert bank.addresses[0] == Address(
        street="Zweierstrasse 35",
        city="Zurich",
        postal_code="CH-8022",
        country="CH",
        full="Zweierstrasse 35, Zurich CH-8022, Switzerland",
    )
    assert bank.addresses[1].full == "Avenida de Concha Espina 8, Madrid E-28036, Spain"
    assert bank.countries == ("CU", "CH")
    assert bank.listed_on == "1963-07-08"
    assert bank.source_ref.url == "https://sanctionssearch.ofac.treas.gov/Details.aspx?id=306"

    li = parties["LI, Jiadong"]
    assert li.identifiers == (
        Identifier("Identification Number", "210302198701102136", country="CN"),
    )
    assert li.programs == ("DPRK3", "CYBER2")
    assert {a.name for a in li.aliases if a.weak} == {"blackjack1987", "khaleesi"}

    vessel = parties["ARTAVIL"]
    assert vessel.schema is Schema.VESSEL
    assert vessel.aliases == (Alias("ALPHA", kind="fka"),)
    assert Identifier("IMO number", "IMO9187629") in vessel.identifiers
    assert Identifier("Call sign", "T2EU4") in vessel.identifiers
    assert vessel.countries == ("IR",)
    assert vessel.license_requirement == "Subject to Secondary Sanctions"


def _write(tmp_path: Path, name: str, entities: list[object]) -> Path:
    path = tmp_path / name
    path.write_text("".join(json.dumps(e) + "\n" for e in entities), encoding="utf-8")
    return path


def test_single_dataset_names_the_source(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "entities.ftm.json",
        [
            {
                "id": "gb-hmt-1",
                "schema": "Person",
                "properties": {"firstName": ["Ivan"], "lastName": ["Ivanov"]},
                "datasets": ["gb_hmt_sanctions"],
            },
            {"id": "gb-hmt-2", "schema": "Person", "properties": {"birthDate": ["1970"]},
             "datasets": ["gb_hmt_sanctions"]},
        ],
    )  # fmt: skip
    parsed = ftm.parse(path)
    assert [(p.entity_id, p.name, p.list) for p in parsed.parties] == [
        ("gb_hmt_sanctions:gb-hmt-1", "Ivan Ivanov", "gb_hmt_sanctions")
    ]
    assert parsed.skipped == ("line 2 (Person gb-hmt-2): no name, so it cannot be screened",)


@pytest.mark.parametrize(
    ("relative", "expected"),
    [
        ("sanctions_2026-01-05/entities.ftm.json", "sanctions"),
        ("opensanctions-default-2026-01-05.ftm.json", "opensanctions_default"),
        ("downloads/My Export.jsonl", "my_export"),
        ("ftm_sample.ftm.json", "ftm_sample"),
    ],
)
def test_source_from_path(relative: str, expected: str) -> None:
    assert ftm.source_from_path(Path("/data") / relative) == expected


def test_load_sample_into_workspace(workspace_home: Path) -> None:
    workspace = Workspace()
    result = load(resolve(str(SAMPLE), None), workspace)
    assert result.version.source == "ftm_sample"
    assert result.version.parser == "ftm/1"
    assert result.version.entry_count == 4
    assert result.version.published == "2026-02-27"
    _, parties = workspace.active_parties()
    assert {p.name for p in parties} >= {"ARTAVIL", "Eric Badege"}


@pytest.mark.parametrize(
    ("lines", "record", "field", "message"),
    [
        (['{"id": "a", "schema": "Person", "properties": {}}', "{not json"], "line 2", None,
         "invalid JSON"),
        (['["a list"]'], "line 1", None, "expected a JSON object"),
        (['{"schema": "Person", "properties": {}}'], "line 1", "id", "missing entity id"),
        (['{"id": "a", "properties": {}}'], "line 1", "schema", "missing schema"),
        (['{"id": "a", "schema": "Spaceship", "properties": {}}'], "line 1", "schema",
         "unknown FollowTheMoney schema 'Spaceship'"),
        (['{"id": "a", "schema": "Person", "properties": []}'], "line 1", "properties",
         "expected a JSON object"),
        (['{"id": "a", "schema": "Person", "properties": {"name": [{"id": "x"}]}}'], "line 1",
         "properties.name", "expected a list of strings"),
        (['{"id": "a", "schema": "Person", "properties": {}, "referents": 5}'], "line 1",
         "referents", "expected a list of strings"),
    ],
)  # fmt: skip
def test_parse_errors(
    tmp_path: Path, lines: list[str], record: str, field: str | None, message: str
) -> None:
    path = tmp_path / "bad.ftm.json"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(LoadError) as info:
        ftm.parse(path)
    assert info.value.record == record
    assert info.value.field == field
    assert message in info.value.message
    assert str(path) in str(info.value)


def test_parse_rejects_invalid_utf8(tmp_path: Path) -> None:
    path = tmp_path / "bad.ftm.json"
    path.write_bytes(b'{"id": "a", "schema": "Person", "properties": {}}\n{"id": "\xff"}\n')
    with pytest.raises(LoadError, match=r"line 2.*not valid utf-8"):
        ftm.parse(path)


# -- CLI -----------------------------------------------------------------------------


def test_cli_export(workspace_home: Path, tmp_path: Path) -> None:
    load(resolve(str(RECORDED_UN), None), Workspace())
    out = tmp_path / "exports" / "lists.ftm.json"
    runner = CliRunner()
    result = runner.invoke(lists_app, ["export", str(out), "--source", "un_sc"])
    assert result.exit_code == 0, result.output
    lines = out.read_text(encoding="utf-8").splitlines()
    assert all(json.loads(line)["schema"] for line in lines)
    assert [p.name for p in out.parent.iterdir()] == ["lists.ftm.json"]
    back = ftm.parse(out)
    assert sorted(p.name for p in back.parties) == sorted(
        p.name for p in un.parse(RECORDED_UN).parties
    )

    result = runner.invoke(lists_app, ["export", str(out), "--source", "nope"])
    assert result.exit_code == 1
    assert "nope" in result.output
