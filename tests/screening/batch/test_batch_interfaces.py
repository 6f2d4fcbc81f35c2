"""`econsec batch` and `econsec lists diff` commands, and the /v1/batch endpoints."""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path

import pytest
from batch_support import batch_workspace, yente_sample
from fastapi.testclient import TestClient
from typer.testing import CliRunner

import econsec.screening.cache as cache_mod
from conftest import TESTS_DATA, shared_file
from econsec.api.app import create_app
from econsec.cli.main import app as cli_app
from econsec.screening.screen import Screener
from econsec.store.runs import get_run
from econsec.store.workspace import Workspace

__all__ = ["batch_workspace"]

pytestmark = pytest.mark.slow


def test_cli_batch_screen_and_runs(
    batch_workspace: Workspace,
    screener: Screener,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ECONSEC_HOME", str(batch_workspace.home))
    monkeypatch.setattr(cache_mod, "cached_screener", lambda workspace: screener)
    source = yente_sample(tmp_path, positives=10, negatives=10)
    out = tmp_path / "out.csv"
    runner = CliRunner()
    result = runner.invoke(
        cli_app,
        ["batch", "screen", str(source), "--out", str(out), "--workers", "1", "--report", "json"],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout[result.stdout.index("{") :])
    assert summary["rows"] == 20
    assert get_run(batch_workspace, summary["run"]["run_id"]).output_file == str(out)
    with out.open(encoding="utf-8", newline="") as fh:
        assert {r["reference"] for r in csv.DictReader(fh)} == {str(i) for i in range(1, 21)}
    runs = runner.invoke(cli_app, ["batch", "runs", "--format", "json"])
    assert json.loads(runs.stdout)[0]["run_id"] == summary["run"]["run_id"]
    bad = runner.invoke(
        cli_app, ["batch", "screen", str(TESTS_DATA / "batch" / "bad_rows.csv"), "--out", str(out)]
    )
    assert bad.exit_code == 1
    assert "row 2" in bad.output
    assert "country" in bad.output


def test_cli_lists_diff_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ECONSEC_HOME", str(tmp_path / "empty"))
    old = shared_file("lists/us_csl_format_samples/csl_2019_sample.csv")
    new = shared_file("lists/us_csl_format_samples/consolidated_2025_sample.csv")
    result = CliRunner().invoke(cli_app, ["lists", "diff", str(old), str(new), "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["counts"]["added"] + data["counts"]["changed"] + data["counts"]["unchanged"] == 13
    missing = CliRunner().invoke(cli_app, ["lists", "diff", "nope@1", str(new)])
    assert missing.exit_code == 1
    assert "neither a version id" in missing.output


def test_api_batch_job(batch_workspace: Workspace, screener: Screener, tmp_path: Path) -> None:
    source = yente_sample(tmp_path, positives=10, negatives=10)
    app = create_app(batch_workspace, screener=screener)
    with TestClient(app) as client:
        response = client.post(
            "/v1/batch", params={"filename": "customers.csv"}, content=source.read_bytes()
        )
        assert response.status_code == 202, response.text
        job = response.json()["job_id"]
        for _ in range(600):
            status = client.get(f"/v1/batch/{job}").json()
            if status["state"] in ("completed", "failed"):
                break
            time.sleep(0.1)
        assert status["state"] == "completed", status
        assert status["done"] == 20
        result = client.get(f"/v1/batch/{job}/result")
        assert result.status_code == 200
        lines = [json.loads(x) for x in result.text.splitlines()]
        assert len(lines) == 20
        assert sum(bool(x["hits"]) for x in lines) >= 9
        assert get_run(batch_workspace, status["run_id"]).row_count == 20

        bad = client.post(
            "/v1/batch",
            params={"filename": "bad.csv"},
            content=(TESTS_DATA / "batch" / "bad_rows.csv").read_bytes(),
        )
        assert bad.status_code == 422
        assert "bad.csv, row 2, field 'country'" in bad.json()["detail"]
        assert client.get("/v1/batch/" + "0" * 32).status_code == 404
        assert client.get("/v1/batch/../etc").status_code == 404
