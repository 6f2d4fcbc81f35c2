"""The Party model (econsec.model.party)."""

from __future__ import annotations

import dataclasses

import pytest
from followthemoney import model as ftm_model

from econsec.model import Address, Alias, Identifier, ListVersion, Party, Schema, SourceRef


def _party(**changes: object) -> Party:
    party = Party(
        entity_id="un_sc:QDi.001",
        source="un_sc",
        list="UN",
        list_entry_id="QDi.001",
        schema=Schema.PERSON,
        name="MOHAMMED SALAHALDIN ABD EL HALIM ZIDANE",
        source_ref=SourceRef("consolidated.xml", "line 13822 (INDIVIDUAL 113219)"),
    )
    return dataclasses.replace(party, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize("schema", list(Schema))
def test_schema_values_are_followthemoney_schemata(schema: Schema) -> None:
    ftm = ftm_model.get(schema.value)
    assert ftm is not None
    assert ftm.name == schema.value
    # Every kind of party is a thing a sanctions list can name.
    assert ftm.is_a("LegalEntity") or ftm.is_a("Asset")


@pytest.mark.parametrize(
    ("text", "schema"),
    [
        ("Individual", Schema.PERSON),
        (" person ", Schema.PERSON),
        ("Entity", Schema.ORGANIZATION),
        ("Organisation", Schema.ORGANIZATION),
        ("company", Schema.ORGANIZATION),
        ("VESSEL", Schema.VESSEL),
        ("Aircraft", Schema.AIRCRAFT),
        ("Airplane", Schema.AIRCRAFT),
        ("LegalEntity", Schema.LEGAL_ENTITY),
        ("legal_entity", Schema.LEGAL_ENTITY),
    ],
)
def test_schema_parse(text: str, schema: Schema) -> None:
    assert Schema.parse(text) is schema


def test_schema_parse_unknown_names_the_choices() -> None:
    with pytest.raises(ValueError, match="unknown schema 'ship'") as caught:
        Schema.parse("ship")
    assert "Airplane, LegalEntity, Organization, Person, Vessel" in str(caught.value)


@pytest.mark.parametrize(
    ("a", "b", "compatible"),
    [
        (Schema.PERSON, Schema.PERSON, True),
        (Schema.PERSON, Schema.ORGANIZATION, False),
        # The Entity List does not say person or organisation.
        (Schema.LEGAL_ENTITY, Schema.PERSON, True),
        (Schema.ORGANIZATION, Schema.LEGAL_ENTITY, True),
        (Schema.LEGAL_ENTITY, Schema.LEGAL_ENTITY, True),
        # … but it never lists ships or aircraft.
        (Schema.LEGAL_ENTITY, Schema.VESSEL, False),
        (Schema.AIRCRAFT, Schema.LEGAL_ENTITY, False),
        (Schema.VESSEL, Schema.AIRCRAFT, False),
        (Schema.VESSEL, Schema.VESSEL, True),
    ],
)
def test_schema_compatibility(a: Schema, b: Schema, compatible: bool) -> None:
    assert a.compatible_with(b) is compatible
    assert b.compatible_with(a) is compatible


def test_all_names_primary_first_without_duplicates() -> None:
    party = _party(
        aliases=(
            Alias("Sayf-Al Adl"),
            Alias("MOHAMMED SALAHALDIN ABD EL HALIM ZIDANE", kind="fka"),
            Alias("Seif al Adel", weak=True),
            Alias("Sayf-Al Adl", kind="nka"),
        )
    )
    assert party.all_names == (
        "MOHAMMED SALAHALDIN ABD EL HALIM ZIDANE",
        "Sayf-Al Adl",
        "Seif al Adel",
    )
    assert _party().all_names == ("MOHAMMED SALAHALDIN ABD EL HALIM ZIDANE",)


def test_defaults() -> None:
    party = _party()
    assert (party.aliases, party.countries, party.identifiers, party.addresses) == ((),) * 4
    assert party.gender is party.license_requirement is party.listed_on is None
    assert Alias("X") == Alias("X", kind="aka", weak=False)
    assert Address() == Address(None, None, None, None, None, None)
    assert Identifier("Passport", "A1").country is None
    assert SourceRef("f", "line 1").url is None


def test_records_are_immutable_and_hashable() -> None:
    party = _party(aliases=(Alias("Sayf-Al Adl"),), addresses=(Address(country="EG"),))
    with pytest.raises(dataclasses.FrozenInstanceError):
        party.name = "changed"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        party.aliases[0].weak = True  # type: ignore[misc]
    # Hashable, so parsers can de-duplicate aliases, addresses and identifiers.
    assert len({party, dataclasses.replace(party)}) == 1
    assert len({Address(country="EG"), Address(country="EG"), Address(country="SD")}) == 2


def test_list_version_is_immutable() -> None:
    version = ListVersion(
        version_id="un_sc@2a4027db7a89",
        source="un_sc",
        label="UN Security Council consolidated list",
        published="2026-02-27",
        content_hash="2a4027db7a89" + "0" * 52,
        entry_count=1003,
        loaded_at="2026-03-01T10:00:00+00:00",
        origin="/data/lists/un_consolidated_2026-02.xml",
        parser="un_xml/1",
        active=True,
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        version.active = False  # type: ignore[misc]
    assert dataclasses.replace(version, active=False).active is False
