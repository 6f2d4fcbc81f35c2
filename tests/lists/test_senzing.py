"""Senzing JSON lines (econsec.lists.senzing): OpenSanctions' US Congress export."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from pathlib import Path

import pytest

from conftest import shared_file
from econsec.lists import senzing
from econsec.lists._common import ParsedList
from econsec.model.party import Address, Alias, Identifier, Party, Schema, SourceRef

CONGRESS = "lists/opensanctions_us_congress_senzing.json"


@pytest.fixture(scope="module")
def parsed() -> ParsedList:
    return senzing.parse(shared_file(CONGRESS))


@pytest.fixture(scope="module")
def by_id(parsed: ParsedList) -> dict[str, Party]:
    out = {p.list_entry_id: p for p in parsed.parties}
    assert len(out) == len(parsed.parties)
    return out


def test_counts_and_publication_date(parsed: ParsedList) -> None:
    assert len(parsed.parties) == 1_319
    assert parsed.skipped == ()
    # The latest LAST_CHANGE of any record (2025-12-08T08:44:02 on line 174 and others).
    assert parsed.published == "2025-12-08"
    assert {(p.source, p.list) for p in parsed.parties} == {("os_us_congress", "OS_US_CONGRESS")}
    assert Counter(p.schema for p in parsed.parties) == {
        Schema.PERSON: 1_317,
        # The two position records ("United States representative", "… senator")
        # have RECORD_TYPE null.
        Schema.LEGAL_ENTITY: 2,
    }
    assert Counter(p.programs for p in parsed.parties) == {("role.pep",): 1_317, (): 2}
    assert {p.countries for p in parsed.parties} == {("US",)}
    assert sum(bool(p.aliases) for p in parsed.parties) == 32


def test_member_field_by_field(by_id: dict[str, Party]) -> None:
    assert by_id["Q170581"] == Party(
        entity_id="os_us_congress:Q170581",
        source="os_us_congress",
        list="OS_US_CONGRESS",
        list_entry_id="Q170581",
        schema=Schema.PERSON,
        name="Nancy Pelosi",
        source_ref=SourceRef(
            file=str(shared_file(CONGRESS)),
            record="line 238",
            url="https://www.opensanctions.org/entities/Q170581",
        ),
        countries=("US",),
        nationalities=("US",),
        programs=("role.pep",),
        dates_of_birth=("1940",),
        identifiers=(Identifier("WIKIDATA", "Q170581"),),
    )


def test_alias_and_other_id(by_id: dict[str, Party]) -> None:
    franklin = by_id["Q101198561"]
    assert franklin.name == "Scott Franklin"
    assert franklin.aliases == (Alias("C. Scott Franklin"),)
    assert franklin.source_ref.record == "line 6"
    mcclellan = by_id["NK-AQ4HymsADSK2D63MkyTqfC"]
    assert mcclellan.name == "Jennifer L. McClellan"
    assert mcclellan.identifiers == (Identifier("OPEN_SANCTIONS", "NK-AQ4HymsADSK2D63MkyTqfC"),)
    assert mcclellan.dates_of_birth == ("1972",)
    # A date of death is not a date of birth.
    assert by_id["Q11112119"].dates_of_birth == ("1975",)


def test_position_records(by_id: dict[str, Party]) -> None:
    position = by_id["Q13218630"]
    assert position.name == "United States representative"
    assert position.schema is Schema.LEGAL_ENTITY
    assert position.dates_of_birth == ()


def test_features_layout_reads_like_grouped_layout(tmp_path: Path) -> None:
    """The generic Senzing layout (one FEATURES list) gives the same party."""
    names = [
        {"NAME_TYPE": "PRIMARY", "NAME_ORG": "Müllenkranz GmbH"},
        {"NAME_TYPE": "AKA", "NAME_ORG": "Autowerkz"},
    ]
    addresses = [
        {
            "ADDR_LINE1": "Hardenbergstraße 87",
            "ADDR_CITY": "Berlin",
            "ADDR_POSTAL_CODE": "10623",
            "ADDR_COUNTRY": "Germany",
        }
    ]
    ids = [{"TAX_ID_NUMBER": "DE123456789", "TAX_ID_TYPE": "VAT", "TAX_ID_COUNTRY": "DE"}]
    grouped = {
        "DATA_SOURCE": "WATCH",
        "RECORD_ID": "7",
        "RECORD_TYPE": "ORGANIZATION",
        "NAMES": names,
        "ADDRESSES": addresses,
        "IDENTIFIERS": ids,
    }
    features = {
        "DATA_SOURCE": "WATCH",
        "RECORD_ID": 7,  # a number is read as the same id
        "FEATURES": [{"RECORD_TYPE": "ORGANIZATION"}, *names, *addresses, *ids],
    }
    a, b = tmp_path / "grouped.json", tmp_path / "features.json"
    a.write_text(json.dumps(grouped) + "\n", encoding="utf-8")
    b.write_text(json.dumps(features) + "\n", encoding="utf-8")
    (first,) = senzing.parse(a).parties
    (second,) = senzing.parse(b).parties
    assert first.source_ref == SourceRef(file=str(a), record="line 1")
    assert second == dataclasses.replace(first, source_ref=SourceRef(str(b), "line 1"))
    assert first.entity_id == "watch:7"
    assert first.schema is Schema.ORGANIZATION
    assert first.aliases == (Alias("Autowerkz"),)
    assert first.countries == ("DE",)
    assert first.addresses == (
        Address(
            street="Hardenbergstraße 87",
            city="Berlin",
            postal_code="10623",
            country="DE",
            full="Hardenbergstraße 87, Berlin, 10623, Germany",
        ),
    )
    assert first.identifiers == (Identifier("VAT", "DE123456789", country="DE"),)


def test_record_without_a_name_is_skipped_with_its_reason(tmp_path: Path) -> None:
    path = tmp_path / "watch.json"
    path.write_text(
        '{"DATA_SOURCE": "WATCH", "RECORD_ID": "1", "NAMES": [{"NAME_FULL": "Ann Smith"}]}\n'
        "\n"
        '{"DATA_SOURCE": "WATCH", "RECORD_ID": "2", "DATES": [{"DATE_OF_BIRTH": "1970"}]}\n',
        encoding="utf-8",
    )
    parsed = senzing.parse(path)
    assert [p.name for p in parsed.parties] == ["Ann Smith"]
    assert parsed.skipped == ("line 3: record has no name, so it cannot be screened",)
    assert parsed.published is None


def test_line_separator_characters_inside_a_record(tmp_path: Path) -> None:
    # JSON strings may hold U+2028 and U+0085 as they are; records end at "\n" only.
    path = tmp_path / "watch.json"
    records = [
        {"DATA_SOURCE": "WATCH", "RECORD_ID": "1", "NAME_FULL": "Ann\u2028Smith"},
        {"DATA_SOURCE": "WATCH", "RECORD_ID": "2", "NAME_FULL": "Bob\x85Jones"},
    ]
    path.write_bytes(
        "\r\n".join(json.dumps(r, ensure_ascii=False) for r in records).encode("utf-8")
    )
    parsed = senzing.parse(path)
    assert [(p.name, p.source_ref.record) for p in parsed.parties] == [
        ("Ann\u2028Smith", "line 1"),
        ("Bob\x85Jones", "line 2"),
    ]
