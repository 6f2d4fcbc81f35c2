"""The DuckDB workspace (econsec.store.workspace): versions, activation, atomicity, JSON."""

from __future__ import annotations

import json
import tempfile
from dataclasses import replace
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from conftest import table_rows
from econsec.model import Address, Alias, Identifier, ListVersion, Party, Schema, SourceRef
from econsec.store import workspace as workspace_module
from econsec.store.workspace import (
    SCHEMA_VERSION,
    Workspace,
    WorkspaceError,
    party_from_json,
    party_to_json,
)


def _party(source: str, n: int, **changes: object) -> Party:
    fields: dict[str, object] = {
        "entity_id": f"{source}:{n}",
        "source": source,
        "list": source.upper(),
        "list_entry_id": str(n),
        "schema": Schema.PERSON,
        "name": f"Party {n}",
        "source_ref": SourceRef(file=f"{source}.csv", record=f"line {n + 1}"),
    }
    fields.update(changes)
    return Party(**fields)  # type: ignore[arg-type]


def _version(source: str, tag: str, count: int, loaded_at: str) -> ListVersion:
    return ListVersion(
        version_id=f"{source}@{tag}",
        source=source,
        label=f"{source} list",
        published="2026-01-01",
        content_hash=tag * 8,
        entry_count=count,
        loaded_at=loaded_at,
        origin=f"/data/{source}",
        parser=f"{source}/1",
        active=True,
    )


# -- versions and activation ---------------------------------------------------


def test_a_new_workspace_is_empty_and_not_created_by_reading(workspace: Workspace) -> None:
    assert workspace.versions() == []
    assert not workspace.exists()
    with pytest.raises(WorkspaceError, match="run `econsec lists load` first"):
        workspace.active_parties()
    assert not workspace.home.exists()


def test_home_defaults_to_econsec_home(workspace_home: Path) -> None:
    assert Workspace().home == workspace_home.absolute()
    assert Workspace().db_path == workspace_home.absolute() / "econsec.duckdb"


def test_store_version_and_read_it_back(workspace: Workspace) -> None:
    parties = [_party("un_sc", n) for n in (3, 1, 2)]
    version = _version("un_sc", "aaaa", 3, "2026-03-01T10:00:00+00:00")
    workspace.store_version(version, parties)
    assert workspace.exists()
    assert workspace.versions() == [version]
    assert workspace.parties(version.version_id) == sorted(parties, key=lambda p: p.entity_id)
    assert workspace.active_parties() == ([version], sorted(parties, key=lambda p: p.entity_id))
    # Stored active even when the ListVersion passed in says otherwise.
    other = _version("bis_dpl", "bbbb", 1, "2026-03-01T10:00:01+00:00")
    workspace.store_version(replace(other, active=False), [_party("bis_dpl", 1)])
    assert workspace.versions(source="bis_dpl") == [other]


def test_a_new_version_replaces_the_active_one_of_its_source_only(workspace: Workspace) -> None:
    un1 = _version("un_sc", "aaaa", 2, "2026-03-01T10:00:00+00:00")
    dpl = _version("bis_dpl", "cccc", 1, "2026-03-01T10:00:01+00:00")
    un2 = _version("un_sc", "bbbb", 1, "2026-03-02T10:00:00+00:00")
    workspace.store_version(un1, [_party("un_sc", 1), _party("un_sc", 2)])
    workspace.store_version(dpl, [_party("bis_dpl", 1)])
    workspace.store_version(un2, [_party("un_sc", 1, name="Renamed")])

    assert [(v.version_id, v.active) for v in workspace.versions()] == [
        ("bis_dpl@cccc", True),
        ("un_sc@aaaa", False),
        ("un_sc@bbbb", True),
    ]
    assert [v.version_id for v in workspace.versions(source="un_sc")] == [
        "un_sc@aaaa",
        "un_sc@bbbb",
    ]
    assert [v.version_id for v in workspace.versions(active_only=True)] == [
        "bis_dpl@cccc",
        "un_sc@bbbb",
    ]
    versions, parties = workspace.active_parties()
    assert [v.version_id for v in versions] == ["bis_dpl@cccc", "un_sc@bbbb"]
    assert [(p.entity_id, p.name) for p in parties] == [
        ("bis_dpl:1", "Party 1"),
        ("un_sc:1", "Renamed"),
    ]
    # The old version is kept, whole.
    assert [p.name for p in workspace.parties("un_sc@aaaa")] == ["Party 1", "Party 2"]


def test_activate_switches_back_to_a_stored_version(workspace: Workspace) -> None:
    old = _version("un_sc", "aaaa", 2, "2026-03-01T10:00:00+00:00")
    new = _version("un_sc", "bbbb", 1, "2026-03-02T10:00:00+00:00")
    workspace.store_version(old, [_party("un_sc", 1), _party("un_sc", 2)])
    workspace.store_version(new, [_party("un_sc", 3)])
    rows = table_rows(workspace)
    workspace.activate("un_sc", old.version_id)
    assert [(v.version_id, v.active) for v in workspace.versions()] == [
        ("un_sc@aaaa", True),
        ("un_sc@bbbb", False),
    ]
    assert [p.entity_id for p in workspace.active_parties()[1]] == ["un_sc:1", "un_sc:2"]
    assert table_rows(workspace) == rows


@pytest.mark.parametrize(
    ("source", "version_id"),
    [("un_sc", "un_sc@nope"), ("bis_dpl", "un_sc@aaaa")],
)
def test_activating_an_unknown_version_changes_nothing(
    workspace: Workspace, source: str, version_id: str
) -> None:
    version = _version("un_sc", "aaaa", 1, "2026-03-01T10:00:00+00:00")
    workspace.store_version(version, [_party("un_sc", 1)])
    with pytest.raises(WorkspaceError, match="no version"):
        workspace.activate(source, version_id)
    # Without the check, the source would be left with no active version.
    assert workspace.versions(active_only=True) == [version]


# -- atomicity -------------------------------------------------------------------


def test_a_failing_store_leaves_nothing_behind(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = _version("un_sc", "aaaa", 2, "2026-03-01T10:00:00+00:00")
    workspace.store_version(good, [_party("un_sc", 1), _party("un_sc", 2)])
    before = (workspace.versions(), workspace.active_parties(), table_rows(workspace))

    def crash(*args: object) -> None:
        raise RuntimeError("power cut")

    # Fails after the new parties and the version row are inserted.
    monkeypatch.setattr(workspace_module, "_activate", crash)
    new = _version("un_sc", "bbbb", 3, "2026-03-02T10:00:00+00:00")
    with pytest.raises(RuntimeError, match="power cut"):
        workspace.store_version(new, [_party("un_sc", n) for n in (1, 2, 3)])
    monkeypatch.undo()
    assert (workspace.versions(), workspace.active_parties(), table_rows(workspace)) == before


def test_a_version_stored_twice_is_refused_whole(workspace: Workspace) -> None:
    version = _version("un_sc", "aaaa", 1, "2026-03-01T10:00:00+00:00")
    workspace.store_version(version, [_party("un_sc", 1)])
    # The parties insert succeeds (new entity id), the version row then clashes.
    with pytest.raises(WorkspaceError, match="cannot store un_sc@aaaa") as caught:
        workspace.store_version(version, [_party("un_sc", 2)])
    assert "nothing was written" in str(caught.value)
    assert isinstance(caught.value.__cause__, duckdb.ConstraintException)
    assert table_rows(workspace) == (1, 1)
    assert [p.entity_id for p in workspace.parties(version.version_id)] == ["un_sc:1"]


def test_duplicate_entity_ids_are_refused(workspace: Workspace) -> None:
    version = _version("un_sc", "aaaa", 2, "2026-03-01T10:00:00+00:00")
    with pytest.raises(WorkspaceError, match="cannot store un_sc@aaaa"):
        workspace.store_version(version, [_party("un_sc", 1), _party("un_sc", 1, name="Twin")])
    assert workspace.versions() == []
    assert table_rows(workspace) == (0, 0)


def test_a_newer_workspace_schema_is_refused(workspace: Workspace) -> None:
    workspace.store_version(_version("un_sc", "aaaa", 1, "2026-03-01T10:00:00+00:00"), [])
    with workspace.connect() as con:
        con.execute(
            "UPDATE meta SET value = ? WHERE key = 'schema_version'", [str(SCHEMA_VERSION + 1)]
        )
    with pytest.raises(WorkspaceError, match="upgrade econsec"), workspace.connect():
        pass


# -- party JSON --------------------------------------------------------------------


def test_party_json_format() -> None:
    party = Party(
        entity_id="us_csl:52291",
        source="us_csl",
        list="SDN",
        list_entry_id="52291",
        schema=Schema.PERSON,
        name="RIM, Ryong Nam",
        source_ref=SourceRef("consolidated.csv", "line 6", "https://example.org/sdn"),
        aliases=(Alias("RIM Ryong-nam", weak=True),),
        countries=("CN", "KP"),
        dates_of_birth=("1978-12-05",),
        addresses=(Address(country="CN", full="Shenyang, CN"),),
        identifiers=(Identifier("Passport", "836238033", country="KP"),),
        gender="Male",
    )
    data = json.loads(party_to_json(party))
    # The stored format: plain JSON, the schema by its FollowTheMoney name.
    assert data["schema"] == "Person"
    assert data["aliases"] == [{"name": "RIM Ryong-nam", "kind": "aka", "weak": True}]
    assert data["countries"] == ["CN", "KP"]
    assert data["identifiers"] == [
        {"type": "Passport", "value": "836238033", "country": "KP", "note": None}
    ]
    assert data["source_ref"] == {
        "file": "consolidated.csv",
        "record": "line 6",
        "url": "https://example.org/sdn",
    }
    assert party_from_json(party_to_json(party)) == party
    assert party_from_json(party_to_json(party).encode()) == party


def test_party_from_bad_json() -> None:
    data = json.loads(party_to_json(_party("un_sc", 1)))
    with pytest.raises(ValidationError, match="schema"):
        party_from_json(json.dumps({**data, "schema": "Ship"}))
    del data["name"]
    with pytest.raises(ValidationError, match="name"):
        party_from_json(json.dumps(data))


_text = st.text(max_size=12)
_opt = st.none() | _text
_strings = st.lists(_text, max_size=3).map(tuple)

parties_strategy = st.builds(
    Party,
    entity_id=_text,
    source=_text,
    list=_text,
    list_entry_id=_text,
    schema=st.sampled_from(Schema),
    name=_text,
    source_ref=st.builds(SourceRef, file=_text, record=_text, url=_opt),
    aliases=st.lists(st.builds(Alias, name=_text, kind=_text, weak=st.booleans()), max_size=3).map(
        tuple
    ),
    countries=_strings,
    nationalities=_strings,
    programs=_strings,
    dates_of_birth=_strings,
    places_of_birth=_strings,
    addresses=st.lists(
        st.builds(
            Address,
            street=_opt,
            city=_opt,
            region=_opt,
            postal_code=_opt,
            country=_opt,
            full=_opt,
        ),
        max_size=2,
    ).map(tuple),
    identifiers=st.lists(
        st.builds(Identifier, type=_text, value=_text, country=_opt, note=_opt), max_size=2
    ).map(tuple),
    titles=_strings,
    gender=_opt,
    license_requirement=_opt,
    license_policy=_opt,
    legal_basis=_strings,
    listed_on=_opt,
    end_date=_opt,
    remarks=_opt,
)


@given(parties_strategy)
@settings(max_examples=300)
def test_party_json_round_trip(party: Party) -> None:
    assert party_from_json(party_to_json(party)) == party


@given(st.lists(parties_strategy, min_size=1, max_size=8, unique_by=lambda p: p.entity_id))
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_parties_round_trip_through_the_database(parties: list[Party]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        workspace = Workspace(Path(tmp))
        version = _version("any", "abcd", len(parties), "2026-03-01T10:00:00+00:00")
        workspace.store_version(version, parties)
        stored = workspace.parties(version.version_id)
    # Every value back exactly, in entity id order (code point order, as DuckDB sorts).
    assert stored == sorted(parties, key=lambda p: p.entity_id)
