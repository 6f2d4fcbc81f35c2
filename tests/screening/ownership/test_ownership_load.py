"""Ownership files: both layouts, what is rejected and what is accepted with a warning."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from conftest import TESTS_DATA
from econsec.lists._common import LoadError
from econsec.screening.ownership import load_file
from econsec.screening.ownership.load import parse_csv, parse_ftm
from econsec.store import ownership as store
from econsec.store.workspace import Workspace

CSV = TESTS_DATA / "ownership" / "holdings.csv"
FTM = TESTS_DATA / "ownership" / "holdings.ftm.json"
HEADER = "owner_id,owner_name,owned_id,owned_name,percent,valid_from,valid_to,voting\n"


def test_csv_layout() -> None:
    graph = parse_csv(CSV)
    assert {e.entity_id: e.name for e in graph.entities} == {
        "P1": "Parent One Ltd",
        "S1": "Subsidiary One GmbH",
        "P2": "Parent Two SA",
        "S2": "Subsidiary Two BV",
    }
    first, second, treasury, unknown = graph.holdings
    assert (first.percent, first.voting, first.valid_from) == (60.0, True, date(2020, 1, 1))
    assert (second.percent, second.valid_from) == (50.0, date(2021, 6, 1))
    assert unknown.percent is None
    assert unknown.valid_to == date(2024, 12, 31)
    assert first.source_ref is not None
    assert first.source_ref.record == "line 2"
    messages = [str(w) for w in graph.warnings]
    # Treasury shares and the 110 % from 2021-06-01 on are accepted, with a warning.
    assert any("line 4" in m and "own shares" in m for m in messages)
    assert any("110 %" in m and "2021-06-01" in m and "line 3" in m for m in messages)
    assert treasury.owner_id == treasury.owned_id == "P1"


def test_ftm_layout() -> None:
    graph = parse_ftm(FTM)
    names = {e.entity_id: (e.name, e.schema, e.countries) for e in graph.entities}
    assert names["co-sub"] == ("Subsidiary Trading LLC", "Company", ("AE",))
    own, person = graph.holdings
    # ``asset`` named the subsidiary through a referent.
    assert (own.owner_id, own.owned_id, own.percent) == ("co-parent", "co-sub", 75.0)
    assert (own.share_class, own.valid_from, own.source) == (
        "ordinary",
        date(2019, 3, 1),
        "UK Companies House",
    )
    assert person.percent is None
    assert person.voting is False


@pytest.mark.parametrize(
    ("row", "field", "words"),
    [
        ("A,Alpha,B,Beta,120,,,", "percent", "outside 0–100"),
        ("A,Alpha,B,Beta,-1,,,", "percent", "outside 0–100"),
        ("A,Alpha,B,Beta,sixty,,,", "percent", "not a percentage"),
        ("A,Alpha,B,Beta,nan,,,", "percent", "outside 0–100"),
        ("A,Alpha,B,,60,,,", "owned_id", "dangling reference"),
        (",Alpha,B,Beta,60,,,", "owner_id", "empty id"),
        ("A,Alpha,B,Beta,60,2024-05-01,2023-01-01,", "valid_to", "before it begins"),
        ("A,Alpha,B,Beta,60,2024-02-30,,", "valid_from", "not a valid date"),
        ("A,Alpha,B,Beta,60,01/02/2024,,", "valid_from", "not a date"),
        ("A,Alpha,B,Beta,60,,,maybe", "voting", "expected true/false"),
    ],
)
def test_bad_csv_rows(tmp_path: Path, row: str, field: str, words: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(HEADER + "A,Alpha,C,Gamma,10,,,\n" + row + "\n", encoding="utf-8")
    with pytest.raises(LoadError) as info:
        parse_csv(path)
    assert info.value.file == str(path)
    assert info.value.record == "line 3"
    assert info.value.field == field
    assert words in info.value.message


def test_bad_csv_header(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("owner_id,owned_id,stake\nA,B,10\n", encoding="utf-8")
    with pytest.raises(LoadError) as info:
        parse_csv(path)
    assert (info.value.record, info.value.field) == ("line 1", "stake")


def _ftm(tmp_path: Path, ownership: dict[str, list[str]]) -> Path:
    lines = [
        {"id": "a", "schema": "Company", "properties": {"name": ["Alpha"]}},
        {"id": "b", "schema": "Company", "properties": {"name": ["Beta"]}},
        {"id": "o", "schema": "Ownership", "properties": ownership},
    ]
    path = tmp_path / "bad.ftm.json"
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("props", "field", "words"),
    [
        ({"owner": ["a"], "asset": ["b"], "percentage": ["150"]}, "percentage", "outside 0–100"),
        ({"owner": ["zz"], "asset": ["b"]}, "properties.owner", "dangling reference"),
        ({"owner": ["a"], "asset": ["nowhere"]}, "properties.asset", "dangling reference"),
        (
            {"owner": ["a"], "asset": ["b"], "startDate": ["2024-01-01"], "endDate": ["2023"]},
            "properties.endDate",
            "before it begins",
        ),
        ({"owner": ["a"], "asset": ["b"], "startDate": ["soon"]}, "startDate", "not a date"),
    ],
)
def test_bad_ftm_records(
    tmp_path: Path, props: dict[str, list[str]], field: str, words: str
) -> None:
    path = _ftm(tmp_path, props)
    with pytest.raises(LoadError) as info:
        parse_ftm(path)
    assert info.value.file == str(path)
    assert info.value.record == "line 3"
    assert info.value.field is not None
    assert info.value.field.endswith(field)
    assert words in info.value.message


def test_ftm_over_100_is_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "double.ftm.json"
    rows = [
        {"id": "a", "schema": "Company", "properties": {"name": ["Alpha"]}},
        {"id": "b", "schema": "Company", "properties": {"name": ["Beta"]}},
        {
            "id": "o1",
            "schema": "Ownership",
            "properties": {"owner": ["a"], "asset": ["b"], "percentage": ["80"]},
        },
        {
            "id": "o2",
            "schema": "Ownership",
            "properties": {
                "owner": ["a"],
                "asset": ["b"],
                "percentage": ["80"],
                "role": ["beneficial owner"],
            },
        },
    ]
    path.write_text("\n".join(json.dumps(x) for x in rows), encoding="utf-8")
    graph = parse_ftm(path)
    assert len(graph.holdings) == 2
    (warning,) = graph.warnings
    assert warning.field == "percent"
    assert "160 %" in warning.message


def test_store_is_versioned_and_atomic(workspace: Workspace, tmp_path: Path) -> None:
    first = load_file(workspace, CSV)
    assert first.written
    assert first.version.entity_count == 4
    assert first.version.warning_count == len(first.warnings) == 2
    again = load_file(workspace, CSV)
    assert not again.written
    assert again.version.version_id == first.version.version_id
    bad = tmp_path / "holdings.csv"
    bad.write_text(CSV.read_text() + "P9,Bad,S9,Bad Sub,101,,,,,,,\n", encoding="utf-8")
    with pytest.raises(LoadError):
        load_file(workspace, bad)
    graph = store.active_graph(workspace)
    assert graph is not None
    assert [v.version_id for v in graph.versions] == [first.version.version_id]
    assert len(graph.holdings) == 4
    assert len(store.warnings(workspace, first.version.version_id)) == 2
