"""The HTTP API: /healthz, /v1/lists, /v1/screen, /v1/compare and the OpenAPI document."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

import econsec.cli.screening as cli_screening
from econsec import __version__
from econsec.api.app import create_app
from econsec.api.state import AppState
from econsec.cli.main import app as cli_app
from econsec.screening.screen import Screener, ScreeningError, build_query, compare
from econsec.store import Workspace

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def api(loaded_workspace: Workspace, screener: Screener) -> FastAPI:
    """The app over the loaded workspace, serving the session's screener."""
    return create_app(loaded_workspace, screener=screener)


@pytest.fixture(scope="module")
def client(api: FastAPI) -> Iterator[TestClient]:
    with TestClient(api) as client:
        yield client


def _screen(client: TestClient, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/v1/screen", json=body)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def _cli_json(
    monkeypatch: pytest.MonkeyPatch, workspace: Workspace, screener: Screener, *args: str
) -> dict[str, Any]:
    monkeypatch.setenv("ECONSEC_HOME", str(workspace.home))

    def cached_screener(opened: Workspace) -> Screener:
        assert opened.db_path == workspace.db_path
        return screener

    monkeypatch.setattr(cli_screening, "cached_screener", cached_screener)
    result = CliRunner().invoke(cli_app, [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


# -- meta ------------------------------------------------------------------------


def test_healthz(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "version": __version__}


def test_lists_are_the_active_versions(client: TestClient, loaded_workspace: Workspace) -> None:
    response = client.get("/v1/lists")
    assert response.status_code == 200
    listed = response.json()
    active = loaded_workspace.versions(active_only=True)
    assert [v["version_id"] for v in listed] == [v.version_id for v in active]
    assert {"un_sc", "ofac_sdn", "us_csl"} <= {v["source"] for v in listed}
    for version in listed:
        assert version["active"] is True
        assert version["entry_count"] > 0
        assert version["version_id"].startswith(version["source"] + "@")
    everything = client.get("/v1/lists", params={"all": "true"}).json()
    assert {v["version_id"] for v in listed} <= {v["version_id"] for v in everything}


def test_openapi_lists_the_endpoints(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    assert {"/healthz", "/v1/lists", "/v1/screen", "/v1/compare"} <= set(paths)
    assert "post" in paths["/v1/screen"]
    assert "post" in paths["/v1/compare"]
    assert "get" in paths["/v1/lists"]
    schemas = spec["components"]["schemas"]
    assert {"ScreenRequest", "ScreenResponse", "CompareRequest", "CompareResponse"} <= set(schemas)
    assert "name" in schemas["ScreenRequest"]["required"]
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()


# -- screen ------------------------------------------------------------------------


def test_screen_shape_and_content(client: TestClient) -> None:
    data = _screen(client, {"name": "Kim Jong Un"})
    assert {"query", "results", "list_versions"} <= set(data)
    top = data["results"][0]
    assert top["entity_id"] == "ofac_sdn:20157"
    assert top["list"] == "SDN"
    assert top["name"] == top["matched_name"] == "KIM, Jong Un"
    assert top["score"] == 1.0
    assert top["explanation"][0]["feature"] == "name"
    assert "kim jong un" in top["explanation"][0]["detail"]


def test_screen_is_the_same_json_as_the_cli(
    client: TestClient,
    loaded_workspace: Workspace,
    screener: Screener,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    api = _screen(
        client,
        {
            "name": "Rosoboronexport",
            "schema": "Organization",
            "country": "Russia",
            "lists": ["SDN", "SSI"],
            "threshold": 0.7,
            "limit": 5,
        },
    )
    cli = _cli_json(
        monkeypatch,
        loaded_workspace,
        screener,
        "screen",
        "Rosoboronexport",
        "--schema",
        "Organization",
        "--country",
        "Russia",
        "--lists",
        "SDN",
        "--lists",
        "SSI",
        "--threshold",
        "0.7",
        "--limit",
        "5",
    )
    assert [r["entity_id"] for r in api["results"]] == [r["entity_id"] for r in cli["results"]]
    assert len(api["results"]) >= 3
    assert api == cli
    assert api["query"]["countries"] == ["RU"]
    assert {r["list"] for r in api["results"]} <= {"SDN", "SSI"}
    features = {f["feature"] for f in api["results"][0]["explanation"]}
    assert features == {"name", "country", "schema"}


def test_screen_accepts_one_value_or_a_list(client: TestClient) -> None:
    one = _screen(client, {"name": "Kim Jong Un", "dob": "1984-01-08", "lists": "ofac_sdn"})
    many = _screen(client, {"name": "Kim Jong Un", "dob": ["1984-01-08"], "lists": ["ofac_sdn"]})
    assert one == many
    [hit] = one["results"]
    assert hit["entity_id"] == "ofac_sdn:20157"
    assert {f["feature"]: f["effect"] for f in hit["explanation"]}["date_of_birth"] > 0


def test_screen_finds_an_arabic_name(client: TestClient) -> None:
    data = _screen(client, {"name": "طارق عزيز", "schema": "Person"})
    top = data["results"][0]
    assert top["entity_id"] == "un_sc:IQi.025"
    assert top["matched_name"] == "طارق عزيز"


@pytest.mark.parametrize(
    ("body", "kwargs"),
    [
        ({"name": "   "}, {"name": "   "}),
        ({"name": "x", "schema": "Spaceship"}, {"name": "x", "schema": "Spaceship"}),
        ({"name": "x", "dob": "yesterday"}, {"name": "x", "dates_of_birth": ["yesterday"]}),
        ({"name": "x", "country": "Atlantis"}, {"name": "x", "countries": ["Atlantis"]}),
    ],
)
def test_screen_bad_input_is_422_with_the_message(
    client: TestClient, body: dict[str, Any], kwargs: dict[str, Any]
) -> None:
    with pytest.raises(ScreeningError) as info:
        build_query(**kwargs)
    response = client.post("/v1/screen", json=body)
    assert response.status_code == 422
    assert response.json() == {"detail": str(info.value)}


def test_screen_unknown_list_is_422_naming_the_known_ones(client: TestClient) -> None:
    response = client.post("/v1/screen", json={"name": "x", "lists": ["nope"]})
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail.startswith("lists: no loaded list matches nope; known: ")
    assert "un_sc" in detail


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": ""}, "name"),
        ({}, "name"),
        ({"name": "x", "threshold": 2}, "threshold"),
        ({"name": "x", "limit": 0}, "limit"),
        ({"name": "x", "nickname": "y"}, "nickname"),
    ],
)
def test_screen_invalid_body_is_422_naming_the_field(
    client: TestClient, body: dict[str, Any], field: str
) -> None:
    response = client.post("/v1/screen", json=body)
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", field]


def test_the_served_screener_is_kept_while_the_lists_are_unchanged(
    api: FastAPI, client: TestClient, screener: Screener
) -> None:
    _screen(client, {"name": "Kim Jong Un"})
    client.get("/v1/lists")
    state: AppState = api.state.econsec
    assert state.screener() is screener
    rebuilding = [t for t in threading.enumerate() if t.name == "econsec-screener-rebuild"]
    assert rebuilding == []


def test_screen_without_lists_is_503_saying_how_to_load_them(tmp_path: Path) -> None:
    app = create_app(Workspace(tmp_path / "empty"), preload=False)
    with TestClient(app) as empty:
        response = empty.post("/v1/screen", json={"name": "Kim Jong Un"})
        assert response.status_code == 503
        assert "econsec lists load" in response.json()["detail"]
        assert empty.get("/v1/lists").json() == []
        assert empty.get("/healthz").status_code == 200


# -- compare -----------------------------------------------------------------------


def test_compare_shape_and_score(client: TestClient) -> None:
    response = client.post("/v1/compare", json={"name1": "Al-Qaida", "name2": "القاعدة"})
    assert response.status_code == 200
    data = response.json()
    assert set(data) == {"score", "algorithm", "explanation"}
    assert data["score"] == compare("Al-Qaida", "القاعدة").score >= 0.8
    [feature] = data["explanation"]
    assert feature["feature"] == "name"
    assert "القاعدة" in feature["detail"]


def test_compare_is_the_same_json_as_the_cli(
    client: TestClient,
    loaded_workspace: Workspace,
    screener: Screener,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    api = client.post(
        "/v1/compare",
        json={"name1": "Acme LLC", "name2": "Zenith LLC", "schema": "Organization"},
    ).json()
    cli = _cli_json(
        monkeypatch,
        loaded_workspace,
        screener,
        "compare",
        "Acme LLC",
        "Zenith LLC",
        "--schema",
        "Organization",
    )
    assert api == cli
    assert api["score"] < 0.5


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (
            {"name1": "!!!", "name2": "Acme"},
            "name1, name2: both names must contain letters or digits",
        ),
        (
            {"name1": "Acme", "name2": "x", "schema": "Spaceship"},
            "schema: unknown schema 'Spaceship'; expected one of Airplane, LegalEntity, "
            "Organization, Person, Vessel",
        ),
    ],
)
def test_compare_bad_input_is_422_with_the_message(
    client: TestClient, body: dict[str, Any], detail: str
) -> None:
    response = client.post("/v1/compare", json=body)
    assert response.status_code == 422
    assert response.json() == {"detail": detail}
