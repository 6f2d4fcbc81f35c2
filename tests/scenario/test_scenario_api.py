"""HTTP endpoints for scenario runs (real WIOD 2011 table)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from conftest import shared_file
from econsec.api.app import create_app
from econsec.scenario.engine import library_names, library_path, run_scenario
from econsec.store import Workspace


def _inline() -> dict[str, Any]:
    """A library file as a JSON request body (dates as ISO strings)."""
    doc = yaml.safe_load(library_path("us-chip-controls-tightening").read_text("utf-8"))
    out: dict[str, Any] = json.loads(json.dumps(doc, default=str))
    return out


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    shared_file("io/wiod_2013_release/wiot_2011.RData")
    ws = Workspace(tmp_path_factory.mktemp("ws"))
    return TestClient(create_app(ws, preload=False))


def test_list_run_and_compare(client: TestClient) -> None:
    assert client.get("/v1/scenarios").json() == library_names()
    out = client.post("/v1/scenarios/run", json={"name": "eu-china-ev-tariffs", "timeline": False})
    assert out.status_code == 200, out.text
    doc = out.json()
    expected = run_scenario(library_path("eu-china-ev-tariffs"))
    assert doc["total_cumulative_loss"] == pytest.approx(expected.total_cumulative_loss)
    assert "timeline" not in doc
    assert [m["id"] for m in doc["moves"]] == [m.id for m in expected.moves]
    inline = _inline()
    cmp = client.post(
        "/v1/scenarios/compare",
        json={"a": {"name": "eu-china-ev-tariffs"}, "b": {"scenario": inline}},
    )
    assert cmp.status_code == 200, cmp.text
    assert cmp.json()["a_total"] == pytest.approx(expected.total_cumulative_loss)
    assert cmp.json()["b"] == "us-chip-controls-tightening"


def test_bad_requests_name_the_field(client: TestClient) -> None:
    inline = _inline()
    inline["moves"][0]["partners"] = ["ZZZ"]
    out = client.post("/v1/scenarios/run", json={"scenario": inline})
    assert out.status_code == 422
    assert "request body 'scenario': field 'moves[0].partners[0]'" in out.json()["detail"]
    assert client.post("/v1/scenarios/run", json={"name": "nope"}).status_code == 422
    assert client.post("/v1/scenarios/run", json={}).status_code == 422
