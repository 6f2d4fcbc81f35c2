"""`econsec classify | determine | timeline | align` and the /v1 rule endpoints."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from conftest import shared_file
from econsec.api.app import create_app
from econsec.cli.main import app as cli_app
from econsec.store import Workspace


@pytest.fixture(autouse=True)
def _country_groups() -> None:
    shared_file("rules/ecfr_2026-07-23/country-groups.json")


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli_app, list(args))
    return result.exit_code, result.output


def test_cli_classify_json() -> None:
    code, out = run("classify", "H100", "--date", "2024-01-01", "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["tpp"] == pytest.approx(15831.2)
    assert data["performance_density"] == pytest.approx(15831.2 / 814)
    assert [m["entry"] for m in data["classification"]] == ["3A090.a"]
    assert data["reasoning"]
    ev = data["classification"][0]["evaluation"]
    assert [g["holds"] for g in ev["when"]["any_of"]] == [True, True]
    assert [c["parameter"] for c in ev["when"]["any_of"][1]["all_of"]] == [
        "tpp",
        "performance_density",
    ]
    assert ev["unless"]["holds"] is False
    assert ev["outcome"] is True
    assert ev["text"] in next(r for r in data["reasoning"] if r.startswith("US 3A090.a"))


def test_cli_classify_params_and_errors() -> None:
    code, out = run(
        "classify",
        "--param",
        "perf=FP16:16:300",
        "--param",
        "datacenter=true",
        "--date",
        "2024-01-01",
        "--format",
        "json",
    )
    assert code == 0
    assert json.loads(out)["tpp"] == 4800
    code, out = run("classify", "H100", "--param", "perf=FP16:16:300")
    assert code == 1
    assert "not both" in out
    code, out = run("classify", "Z9000")
    assert code == 1
    assert "not in the catalogue" in out


def test_cli_determine_json_shape() -> None:
    code, out = run(
        "determine",
        "H20",
        "--destination",
        "CN",
        "--date",
        "2025-05-01",
        "--regime",
        "both",
        "--format",
        "json",
    )
    assert code == 0
    data = json.loads(out)
    assert data["date"] == "2025-05-01"
    assert data["destination"] == "CN"
    us = data["regimes"]["US"]
    assert {"classification", "licence_required", "policy", "exceptions", "citations"} <= set(us)
    assert us["licence_required"] is True
    assert set(data["regimes"]) == {"US", "EU"}


def test_cli_determine_unscreened_end_user(workspace_home: Path) -> None:
    code, out = run(
        "determine",
        "H100",
        "--destination",
        "FR",
        "--date",
        "2024-01-01",
        "--end-user",
        "ACME",
        "--regime",
        "us",
        "--format",
        "json",
    )
    assert code == 0
    us = json.loads(out)["regimes"]["US"]
    assert us["licence_required"] is None
    assert "not screened" in us["missing"][0]["effect"]


def test_cli_bad_destination_and_date() -> None:
    code, out = run("determine", "H100", "--destination", "XY", "--date", "2024-01-01")
    assert code == 1
    assert "'XY'" in out
    code, out = run("determine", "H100", "--destination", "CN", "--date", "2019-01-01")
    assert code == 1
    assert "before the first" in out


def test_cli_timeline_and_align() -> None:
    code, out = run(
        "timeline",
        "H800",
        "--destination",
        "CN",
        "--to",
        "2024-01-01",
        "--regime",
        "us",
        "--format",
        "json",
    )
    assert code == 0
    assert [s["from"] for s in json.loads(out)["steps"]] == ["2022-10-07", "2023-11-17"]
    code, out = run("align", "--date", "2026-01-01", "--destination", "BR", "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["divergent_count"] == len(data["divergent"]) > 0


def test_api(tmp_path: Path) -> None:
    client = TestClient(create_app(Workspace(tmp_path / "ws"), preload=False))
    r = client.post("/v1/classify", json={"product": "A800", "date": "2022-11-01"})
    assert r.status_code == 200
    assert r.json()["classification"] == []
    r = client.post(
        "/v1/determine", json={"product": "H200", "destination": "CN", "date": "2026-02-01"}
    )
    assert r.status_code == 200
    assert r.json()["regimes"]["US"]["policy"] == "case-by-case"
    r = client.post(
        "/v1/determine",
        json={
            "product": "H200",
            "destination": "CN",
            "date": "2026-02-01",
            "end_user": "ACME",
            "regime": "us",
        },
    )
    assert r.json()["regimes"]["US"]["licence_required"] is True
    assert r.json()["regimes"]["US"]["missing"][0]["field"] == "end_user screening"
    r = client.post(
        "/v1/determine", json={"params": {"kind": "ic", "die_area_mm2": -1}, "destination": "CN"}
    )
    assert r.status_code == 422
    assert "die_area_mm2" in r.json()["detail"]
    r = client.post(
        "/v1/timeline",
        json={
            "product": "H20",
            "destination": "CN",
            "from": "2025-01-01",
            "to": "2025-12-31",
            "regime": "us",
        },
    )
    assert [s["from"] for s in r.json()["steps"]] == ["2025-01-01", "2025-04-09", "2025-07-14"]
    r = client.get("/v1/align", params={"date": "2026-01-01", "destination": ["BR"]})
    assert r.status_code == 200
    assert r.json()["divergent_count"] > 0
