"""`econsec ownership …` and /v1/ownership/check on a small real list (CSL format sample)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from conftest import shared_file
from econsec.api.app import create_app
from econsec.cli.main import app
from econsec.lists.load import load, resolve
from econsec.model.party import Party
from econsec.store import Workspace


@pytest.fixture
def home(workspace_home: Path) -> tuple[Workspace, Party]:
    sample = shared_file("lists/us_csl_format_samples/consolidated_2025_sample.csv")
    workspace = Workspace(workspace_home)
    load(resolve(str(sample), None), workspace)
    _, parties = workspace.active_parties()
    el = next(p for p in parties if p.list == "EL" and p.license_policy)
    return workspace, el


def _csv(tmp_path: Path, el: Party) -> Path:
    path = tmp_path / "own.csv"
    path.write_text(
        "owner_id,owner_name,owned_id,owned_name,percent,owner_list_ref\n"
        f'A,"{el.name}",B,Borealis Widgets Ltd,55,EL:{el.list_entry_id}\n'
        "B,,C,Cobalt Unknown Co,,\n",
        encoding="utf-8",
    )
    return path


def test_cli_load_check_show(home: tuple[Workspace, Party], tmp_path: Path) -> None:
    _, el = home
    runner = CliRunner()
    loaded = runner.invoke(app, ["ownership", "load", str(_csv(tmp_path, el))])
    assert loaded.exit_code == 0, loaded.output
    assert "3 entities, 2 holdings" in loaded.output
    result = runner.invoke(
        app,
        ["ownership", "check", "Borealis Widgets", "--date", "2025-10-15", "--format", "json"],
    )
    assert result.exit_code == 0, result.output
    by_rule = {a["rule_id"]: a for a in json.loads(result.output)}
    bis = by_rule["bis-affiliates"]
    assert bis["status"] == "covered"
    # The entry's own policy wording is what the affiliate inherits.
    assert bis["requirement"]["policy"] == el.license_policy
    assert by_rule["ofac-50"]["status"] == "not_covered"
    text = runner.invoke(app, ["ownership", "check", "C", "--date", "2025-10-15"])
    assert "needs_review" in text.output
    assert "Borealis Widgets Ltd holds ? % of Cobalt Unknown Co" in text.output
    bad = runner.invoke(app, ["ownership", "check", "B", "--date", "15/10/2025"])
    assert bad.exit_code == 1
    assert "date" in bad.output
    shown = runner.invoke(app, ["ownership", "show"])
    assert "2 holdings" in shown.output


def test_cli_load_rejects_bad_file(home: tuple[Workspace, Party], tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("owner_id,owner_name,owned_id,owned_name,percent\nA,a,B,b,250\n")
    result = CliRunner().invoke(app, ["ownership", "load", str(path)])
    assert result.exit_code == 1
    assert "line 2" in result.output
    assert "percent" in result.output


def test_api_check(home: tuple[Workspace, Party], tmp_path: Path) -> None:
    workspace, el = home
    assert CliRunner().invoke(app, ["ownership", "load", str(_csv(tmp_path, el))]).exit_code == 0
    client = TestClient(create_app(workspace, preload=False))
    posted = client.post(
        "/v1/ownership/check",
        json={"entity": "B", "date": "2026-07-23", "rules": ["bis-affiliates"]},
    )
    assert posted.status_code == 200
    (answer,) = posted.json()["answers"]
    assert answer["status"] == "rule_not_in_force"
    assert answer["period"]["status"] == "suspended"
    got = client.get("/v1/ownership/check", params={"entity": "B", "date": "2026-11-10"})
    assert {a["status"] for a in got.json()["answers"]} == {"covered", "not_covered"}
    unknown = client.post("/v1/ownership/check", json={"entity": "nobody"})
    assert unknown.status_code == 422
    assert "entity" in unknown.json()["detail"]


def test_screen_shows_ownership_hits(home: tuple[Workspace, Party], tmp_path: Path) -> None:
    workspace, el = home
    runner = CliRunner()
    assert runner.invoke(app, ["ownership", "load", str(_csv(tmp_path, el))]).exit_code == 0
    args = ["screen", "Borealis Widgets Ltd", "--format", "json", "--date"]
    covered = json.loads(runner.invoke(app, [*args, "2025-10-15"]).output)
    assert [h["entity_id"] for h in covered["ownership"]] == ["ownership:bis-affiliates:B"]
    assert el.entity_id in covered["ownership"][0]["remarks"]
    suspended = json.loads(runner.invoke(app, [*args, "2026-07-23"]).output)
    assert suspended["ownership"] == []
    client = TestClient(create_app(workspace, preload=False))
    body = {"name": "Borealis Widgets Ltd", "date": "2026-11-10"}
    answer = client.post("/v1/screen", json=body).json()
    assert [h["list"] for h in answer["ownership"]] == ["BIS-AFFILIATES"]
    assert "55 %" in answer["ownership"][0]["remarks"]
