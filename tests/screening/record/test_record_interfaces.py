"""`econsec record …` and the /v1/decisions, /v1/record/export endpoints, end to end.

The workspace holds the real Denied Persons List bytes (recorded excerpt) and
a run screened against it; the command line finds it through ECONSEC_HOME.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from record_helpers import DPL_NAME, load_dpl_edition, parse_html, record_run
from typer.testing import CliRunner, Result

from econsec.api.app import create_app
from econsec.cli.main import app as cli_app
from econsec.model.record import Counterparty, ScreenedHit
from econsec.store import Workspace
from econsec.store.decisions import all_decisions, verify_chain

VILLA = Counterparty("C-001", DPL_NAME.title(), "Person", ("US",))
OTHER = Counterparty("C-002", "Zebediah Quillfeather Ostrander", "Person")


@pytest.fixture
def hit(workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ScreenedHit:
    """The hit of run-1 on the DPL entry; ECONSEC_HOME points at its workspace."""
    screener = load_dpl_edition(workspace, tmp_path / "edition1")
    _, hits = record_run(workspace, screener, [VILLA, OTHER], "run-1", tmp_path / "in")
    monkeypatch.setenv("ECONSEC_HOME", str(workspace.home))
    [villa] = [h for h in hits if h.key.counterparty_reference == "C-001"]
    return villa


def econsec(*args: str) -> Result:
    result = CliRunner().invoke(cli_app, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def _json(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


# -- command line --------------------------------------------------------------------


def test_cli_decide_list_verify_export(
    workspace: Workspace, hit: ScreenedHit, tmp_path: Path
) -> None:
    entity = hit.key.entity_id
    listed = _json(econsec("record", "list", "--open", "--format", "json"))
    assert [(h["counterparty_reference"], h["entity_id"]) for h in listed[0]["hits"]] == [
        ("C-001", entity)
    ]

    decided = _json(
        econsec(
            "record", "decide", "run-1", "C-001", entity,
            "--decision", "cleared", "--reviewer", "Ann Lee",
            "--reason", "different person: born 1990", "--format", "json",
        )
    )  # fmt: skip
    assert decided["decision"] == "cleared_false_positive"
    assert decided["key"]["party_hash"] == hit.key.party_hash
    assert decided["entry_hash"] == all_decisions(workspace)[-1].entry_hash

    assert _json(econsec("record", "list", "--open", "--format", "json"))[0]["hits"] == []
    text = econsec("record", "list", "--run", "run-1")
    assert text.exit_code == 0
    assert f"run-1  C-001  {entity} (DPL)" in text.stdout
    assert "cleared by Ann Lee at " in text.stdout
    assert text.stdout.rstrip().endswith("different person: born 1990\n1 hits in 1 runs")

    verified = econsec("record", "verify")
    assert verified.exit_code == 0
    assert "verified: 1 entries" in verified.stdout

    out = tmp_path / "proof.html"
    exported = econsec("record", "export", "--format", "html", "--out", str(out), "--run", "run-1")
    assert exported.exit_code == 0, exported.output
    assert "1 runs, 1 hits, 0 open" in " ".join(exported.stdout.split())
    doc = parse_html(out.read_text(encoding="utf-8"))
    assert "different person: born 1990" in doc.text_content()

    out_json = tmp_path / "proof.json"
    assert econsec("record", "export", "--out", str(out_json)).exit_code == 0
    data = json.loads(out_json.read_text(encoding="utf-8"))
    assert data["decision_log"]["last_entry_hash"] == decided["entry_hash"]
    assert data["runs"][0]["hits"][0]["status"] == "cleared_false_positive"


def test_cli_errors_name_the_field(workspace: Workspace, hit: ScreenedHit) -> None:
    entity = hit.key.entity_id
    no_reason = econsec(
        "record", "decide", "run-1", "C-001", entity, "--decision", "cleared", "--reviewer", "Ann"
    )
    assert no_reason.exit_code == 1
    assert "reason: clearing a hit" in " ".join(no_reason.output.split())
    unknown = econsec(
        "record", "decide", "run-7", "C-001", entity, "--decision", "confirmed", "--reviewer", "A"
    )
    assert unknown.exit_code == 1
    assert "run_id: no screening run 'run-7'" in " ".join(unknown.output.split())
    bad = econsec(
        "record", "decide", "run-1", "C-001", entity, "--decision", "waved", "--reviewer", "A"
    )
    assert bad.exit_code == 2  # not one of the choices
    assert all_decisions(workspace) == []
    bad_date = econsec("record", "export", "--out", "x.json", "--since", "soon")
    assert bad_date.exit_code == 1
    assert "since: 'soon'" in bad_date.output


def test_cli_verify_fails_on_a_tampered_log(workspace: Workspace, hit: ScreenedHit) -> None:
    econsec(
        "record", "decide", "run-1", "C-001", hit.key.entity_id,
        "--decision", "confirmed", "--reviewer", "Ann Lee",
    )  # fmt: skip
    with workspace.connect() as con:
        con.execute("UPDATE decisions SET kind = 'cleared_false_positive'")
    result = econsec("record", "verify", "--format", "json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert (data["ok"], data["broken_seq"]) == (False, 1)
    assert "edited" in data["problem"]


# -- HTTP API --------------------------------------------------------------------------


@pytest.fixture
def client(workspace: Workspace, hit: ScreenedHit) -> TestClient:
    return TestClient(create_app(workspace, preload=False))


def test_api_decide_list_and_export(
    client: TestClient, workspace: Workspace, hit: ScreenedHit
) -> None:
    entity = hit.key.entity_id
    body = {"run_id": "run-1", "reference": "C-001", "entity_id": entity, "reviewer": "Ann Lee"}
    response = client.post("/v1/decisions", json={**body, "decision": "escalated"})
    assert response.status_code == 201, response.text
    escalated = response.json()
    assert escalated["decision"] == "escalated"
    assert escalated["key"] == {
        "counterparty_reference": "C-001",
        "counterparty_hash": hit.key.counterparty_hash,
        "entity_id": entity,
        "party_hash": hit.key.party_hash,
    }
    response = client.post(
        "/v1/decisions", json={**body, "decision": "cleared", "reason": "born 1990"}
    )
    assert response.status_code == 201, response.text

    log = client.get("/v1/decisions").json()
    assert [d["decision"] for d in log["decisions"]] == ["escalated", "cleared_false_positive"]
    assert log["log"]["ok"] is True
    assert log["log"]["last_entry_hash"] == verify_chain(workspace).last_entry_hash

    for_run = client.get("/v1/decisions", params={"run_id": "run-1"}).json()
    [shown] = for_run["hits"]
    assert shown["status"] == "cleared_false_positive"
    assert [d["reviewer"] for d in shown["decisions"]] == ["Ann Lee", "Ann Lee"]
    assert (
        client.get("/v1/decisions", params={"run_id": "run-1", "open": "true"}).json()["hits"] == []
    )

    exported = client.get("/v1/record/export", params={"run_id": "run-1"})
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("application/json")
    assert exported.json()["runs"][0]["counts"]["cleared_false_positive"] == 1
    html = client.get("/v1/record/export", params={"format": "html"})
    assert html.status_code == 200
    assert html.headers["content-type"].startswith("text/html")
    assert "born 1990" in parse_html(html.text).text_content()


def test_api_errors(client: TestClient, workspace: Workspace, hit: ScreenedHit) -> None:
    entity = hit.key.entity_id
    body = {"run_id": "run-1", "reference": "C-001", "entity_id": entity, "reviewer": "Ann"}
    cases = [
        ({**body, "decision": "cleared"}, 422, "reason: clearing"),
        ({**body, "decision": "confirmed", "reviewer": " "}, 422, "reviewer: "),
        ({**body, "decision": "waved"}, 422, "decision: unknown decision 'waved'"),
        ({**body, "decision": "confirmed", "run_id": "run-9"}, 404, "no screening run 'run-9'"),
        ({**body, "decision": "confirmed", "reference": "C-404"}, 404, "reference: no count"),
        ({**body, "decision": "confirmed", "entity_id": "x:1"}, 404, "entity_id: "),
    ]
    for request, status, message in cases:
        response = client.post("/v1/decisions", json=request)
        assert response.status_code == status, (request, response.text)
        assert message in response.json()["detail"]
    assert all_decisions(workspace) == []
    missing = client.post("/v1/decisions", json={"run_id": "run-1"})
    assert missing.status_code == 422
    assert client.get("/v1/decisions", params={"run_id": "run-9"}).status_code == 404
    assert client.get("/v1/record/export", params={"run_id": "run-9"}).status_code == 404
    assert client.get("/v1/record/export", params={"since": "soon"}).status_code == 422
    assert client.get("/v1/record/export", params={"format": "pdf"}).status_code == 422
    paths = client.get("/openapi.json").json()["paths"]
    assert {"post", "get"} <= set(paths["/v1/decisions"])
    assert "get" in paths["/v1/record/export"]
