"""Loading list editions into a workspace (econsec.lists.load) and `econsec lists`."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import shared_file, table_rows
from econsec.cli.main import app
from econsec.lists import (
    SOURCES,
    LoadError,
    LoadStatus,
    Target,
    csl,
    detect_format,
    dpl,
    load,
    resolve,
    un,
)
from econsec.store import Workspace

UN = "lists/un_consolidated_2026-02.xml"
DPL = "lists/bis_dpl_2022-09.txt"
CSL_2019 = "lists/us_csl_format_samples/csl_2019_sample.csv"
CSL_CURRENT = "lists/us_csl_format_samples/consolidated_2025_sample.csv"


def _target(source: str, path: Path) -> Target:
    return Target(path=path, format=SOURCES[source].format, source=SOURCES[source])


# -- the loader --------------------------------------------------------------


def test_load_records_the_version(workspace: Workspace) -> None:
    path = shared_file(UN)
    before = datetime.now(UTC).replace(microsecond=0)
    result = load(_target("un_sc", path), workspace)
    assert result.status is LoadStatus.LOADED
    assert result.skipped == ()
    v = result.version
    digest = hashlib.sha256(path.name.encode() + b"\0" + path.read_bytes()).hexdigest()
    assert v.content_hash == digest
    assert v.version_id == f"un_sc@{digest[:12]}"
    assert (v.source, v.label, v.parser) == (
        "un_sc",
        "UN Security Council consolidated list",
        "un_xml/1",
    )
    assert v.published == "2026-02-27"
    assert v.entry_count == 1_003
    assert v.origin == str(path.absolute())
    assert v.active
    loaded_at = datetime.fromisoformat(v.loaded_at)
    assert before <= loaded_at <= datetime.now(UTC) + timedelta(seconds=1)
    assert workspace.versions() == [v]
    assert table_rows(workspace) == (1, 1_003)
    versions, parties = workspace.active_parties()
    assert versions == [v]
    expected = sorted(un.parse(path).parties, key=lambda p: p.entity_id)
    assert parties == expected


def test_every_real_list_is_recorded(loaded_workspace: Workspace) -> None:
    found = {
        v.source: (v.entry_count, v.published, v.parser)
        for v in loaded_workspace.versions(active_only=True)
    }
    assert found == {
        # The CSV has no edition date: it comes from the file name.
        "us_csl": (25_796, "2026-07-31", "us_csl/1"),
        # … and from the folder name for OFAC sets.
        "ofac_sdn": (8_976, "2021-07", "ofac_legacy/1"),
        "ofac_cons": (442, "2025-12", "ofac_legacy/1"),
        "un_sc": (1_003, "2026-02-27", "un_xml/1"),
        "bis_dpl": (487, "2022-09-02", "bis_dpl/1"),
        "os_us_congress": (1_319, "2025-12-08", "senzing_json/1"),
    }
    sdn = loaded_workspace.versions(source="ofac_sdn")[0]
    digest = hashlib.sha256()
    for name in sorted(["sdn.csv", "add.csv", "alt.csv", "sdn_comments.csv"]):
        digest.update(name.encode() + b"\0")
        digest.update((shared_file("lists/ofac_sdn_2021-07") / name).read_bytes())
    assert sdn.content_hash == digest.hexdigest()
    _, parties = loaded_workspace.active_parties()
    assert len(parties) == 25_796 + 8_976 + 442 + 1_003 + 487 + 1_319


def test_reloading_an_unchanged_file_writes_nothing(workspace: Workspace) -> None:
    target = _target("bis_dpl", shared_file(DPL))
    first = load(target, workspace)
    rows = table_rows(workspace)
    again = load(target, workspace)
    assert again.status is LoadStatus.UNCHANGED
    assert again.version == first.version  # same loaded_at: nothing was rewritten
    assert table_rows(workspace) == rows == (1, 487)
    assert workspace.versions() == [first.version]


def test_loading_an_older_edition_again_reactivates_it(workspace: Workspace) -> None:
    old = load(_target("us_csl", shared_file(CSL_2019)), workspace)
    new = load(_target("us_csl", shared_file(CSL_CURRENT)), workspace)
    assert (old.status, new.status) == (LoadStatus.LOADED, LoadStatus.LOADED)
    assert {v.version_id: v.active for v in workspace.versions()} == {
        old.version.version_id: False,
        new.version.version_id: True,
    }
    assert table_rows(workspace) == (2, 115 + 13)
    _, active = workspace.active_parties()
    assert len(active) == 13

    back = load(_target("us_csl", shared_file(CSL_2019)), workspace)
    assert back.status is LoadStatus.REACTIVATED
    assert back.version.version_id == old.version.version_id
    assert back.version.active
    assert {v.version_id: v.active for v in workspace.versions()} == {
        old.version.version_id: True,
        new.version.version_id: False,
    }
    assert table_rows(workspace) == (2, 128)  # no new rows
    versions, active = workspace.active_parties()
    assert [v.version_id for v in versions] == [old.version.version_id]
    assert sorted(p.entity_id for p in active) == sorted(
        p.entity_id for p in csl.parse(shared_file(CSL_2019)).parties
    )


def test_failed_load_leaves_the_previous_version_active(
    workspace: Workspace, tmp_path: Path
) -> None:
    good = load(_target("un_sc", shared_file(UN)), workspace)
    before = workspace.active_parties()
    rows = table_rows(workspace)
    data = shared_file(UN).read_bytes()
    broken = tmp_path / "un_consolidated_2026-03.xml"
    broken.write_bytes(data[: len(data) // 2])  # a download cut off half-way
    with pytest.raises(LoadError) as caught:
        load(_target("un_sc", broken), workspace)
    assert caught.value.file == str(broken)
    assert "invalid XML" in str(caught.value)
    assert workspace.versions() == [good.version]
    assert workspace.active_parties() == before
    assert table_rows(workspace) == rows


def test_an_empty_edition_does_not_replace_the_list(workspace: Workspace, tmp_path: Path) -> None:
    good = load(_target("us_csl", shared_file(CSL_CURRENT)), workspace)
    header_only = tmp_path / "us_csl_2026-08-01.csv"
    header_only.write_text(",".join(csl.LAYOUT_CURRENT) + "\n", encoding="utf-8")
    with pytest.raises(LoadError, match="no entries found"):
        load(_target("us_csl", header_only), workspace)
    assert workspace.versions() == [good.version]
    assert table_rows(workspace) == (1, 13)


def test_duplicate_entry_ids_are_a_load_error(workspace: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "watch.json"
    path.write_text(
        '{"DATA_SOURCE": "WATCH", "RECORD_ID": "1", "NAME_FULL": "Ann Smith"}\n'
        '{"DATA_SOURCE": "WATCH", "RECORD_ID": "1", "NAME_FULL": "Bob Jones"}\n',
        encoding="utf-8",
    )
    with pytest.raises(LoadError) as caught:
        load(resolve(str(path), None), workspace)
    assert (caught.value.file, caught.value.record, caught.value.field) == (
        str(path),
        "line 2",
        "entry id",
    )
    assert "already used by line 1" in str(caught.value)
    assert not workspace.exists() or table_rows(workspace) == (0, 0)


def test_a_file_of_another_source_is_refused(workspace: Workspace, tmp_path: Path) -> None:
    # Another OpenSanctions dataset saved under the US Congress file name.
    path = tmp_path / "opensanctions_us_congress_senzing.json"
    path.write_text(
        '{"DATA_SOURCE": "OS_EU_MEPS", "RECORD_ID": "Q1", "NAME_FULL": "Ann Smith"}\n',
        encoding="utf-8",
    )
    with pytest.raises(
        LoadError, match=r"expected entries of source 'os_us_congress', found \['os_eu_meps'\]"
    ):
        load(_target("os_us_congress", path), workspace)
    assert workspace.versions() == []


def test_a_path_is_loaded_as_the_source_its_entries_name(workspace: Workspace) -> None:
    target = resolve(str(shared_file(DPL)), None)
    assert (target.format.id, target.source) == ("bis_dpl", None)
    result = load(target, workspace)
    assert result.version.source == "bis_dpl"
    assert result.version.label == "BIS Denied Persons List"
    assert result.version.entry_count == len(dpl.parse(shared_file(DPL)).parties) == 487
    # Loaded again as the known source id, the same bytes are recognised.
    assert load(_target("bis_dpl", shared_file(DPL)), workspace).status is LoadStatus.UNCHANGED


def test_resolve() -> None:
    data = shared_file(UN).parents[1]
    target = resolve("un_sc", data)
    assert target.path == shared_file(UN)
    assert target.source is SOURCES["un_sc"]
    assert resolve("ofac_cons", data).path == shared_file("lists/ofac_nonsdn_2025-12")
    assert detect_format(shared_file("lists/ofac_sdn_2021-07")).id == "ofac_legacy"
    with pytest.raises(LoadError, match="no data folder"):
        resolve("un_sc", None)
    with pytest.raises(LoadError, match="no such file or directory"):
        resolve("/nonexistent/list.csv", data)


# -- `econsec lists` ---------------------------------------------------------


@pytest.fixture
def data_env(workspace_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = shared_file(UN).parents[1]
    monkeypatch.setenv("ECONSEC_DATA", str(data))
    # A terminal wide enough for `lists show`'s table (rich folds it at 80 columns).
    monkeypatch.setenv("COLUMNS", "160")
    return workspace_home


def _flat(text: str) -> str:
    """Output without white space: rich wraps long lines at the console width."""
    return re.sub(r"\s+", "", text)


def test_cli_load_show_reload(data_env: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["lists", "load", "un_sc", "bis_dpl"])
    assert result.exit_code == 0, result.output
    versions = {v.source: v for v in Workspace().versions()}
    assert set(versions) == {"un_sc", "bis_dpl"}
    assert Workspace().home == data_env.absolute()
    un_v, dpl_v = versions["un_sc"], versions["bis_dpl"]
    out = _flat(result.output)
    assert _flat(f"loaded {un_v.version_id}: 1003 entries, published 2026-02-27") in out
    assert _flat(f"loaded {dpl_v.version_id}: 487 entries, published 2022-09-02") in out

    shown = runner.invoke(app, ["lists", "show"])
    assert shown.exit_code == 0, shown.output
    for v in (un_v, dpl_v):
        assert v.version_id in shown.output
        assert v.content_hash[:12] in shown.output
    assert "1003" in shown.output
    assert "2026-02-27" in shown.output

    as_json = runner.invoke(app, ["lists", "show", "--format", "json"])
    assert as_json.exit_code == 0, as_json.output
    rows = json.loads(as_json.stdout)
    assert {(r["source"], r["entry_count"], r["active"]) for r in rows} == {
        ("un_sc", 1003, True),
        ("bis_dpl", 487, True),
    }

    again = runner.invoke(app, ["lists", "load", "un_sc", "bis_dpl"])
    assert again.exit_code == 0, again.output
    out = _flat(again.output)
    assert _flat(f"unchanged {un_v.version_id}: 1003 entries") in out
    assert _flat(f"unchanged {dpl_v.version_id}: 487 entries") in out
    assert Workspace().versions() == [versions["bis_dpl"], versions["un_sc"]]


def test_cli_broken_file_exits_nonzero_and_names_it(data_env: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["lists", "load", "un_sc"]).exit_code == 0
    data = shared_file(UN).read_bytes()
    broken = tmp_path / "un_consolidated_2026-03.xml"
    broken.write_bytes(data[:50_000])
    result = runner.invoke(app, ["lists", "load", str(broken)])
    assert result.exit_code == 1
    out = _flat(result.output)
    assert _flat(f"failed {broken}") in out
    assert _flat("invalid XML") in out
    assert _flat("the previously active version stays active") in out
    (active,) = Workspace().versions(active_only=True)
    assert (active.source, active.entry_count) == ("un_sc", 1003)

    missing = tmp_path / "no_such_list.csv"
    result = runner.invoke(app, ["lists", "load", str(missing)])
    assert result.exit_code == 1
    assert _flat(f"{missing}: no such file or directory") in _flat(result.output)

    result = runner.invoke(app, ["lists", "load", "no_such_source"])
    assert result.exit_code == 1
    assert "no_such_source" in result.output


def test_cli_show_on_an_empty_workspace(workspace_home: Path) -> None:
    result = CliRunner().invoke(app, ["lists", "show"])
    assert result.exit_code == 0
    assert "no lists loaded" in result.output
