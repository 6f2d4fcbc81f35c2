"""Charts and the HTML report from real runs (WIOD 2011, SIPRI register)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import shared_file
from econsec.cli.main import app
from econsec.model.scenario import ScenarioRun
from econsec.scenario.charts import html_report, loss_curves, supplier_bars, write_report
from econsec.scenario.defence import supplier_shares
from econsec.scenario.engine import library_path, run_scenario

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def run() -> ScenarioRun:
    shared_file("io/wiod_2013_release/wiot_2011.RData")
    return run_scenario(library_path("eu-china-ev-tariffs"))


def test_report_files_are_complete_and_self_contained(run: ScenarioRun, tmp_path: Path) -> None:
    files = write_report(run, tmp_path / "out")
    assert sorted(p.suffix for p in files) == [".html", ".png", ".png"]
    for p in files:
        if p.suffix == ".png":
            assert p.read_bytes().startswith(PNG)
    assert not list((tmp_path / "out").glob("*.part"))
    html = html_report(run)
    assert len(re.findall(r'src="data:image/png;base64,', html)) == 2
    assert not re.search(r'(src|href)="(https?:)?//', html)  # nothing fetched from outside
    for m in run.moves:
        assert m.id in html
    assert run.by_country[0].country in html


def test_curves_compare_runs_and_supplier_bars(run: ScenarioRun, tmp_path: Path) -> None:
    other = run_scenario(library_path("us-chip-controls-tightening"))
    assert loss_curves([run, other]).startswith(PNG)
    shared_file("defence/sipri_trade_register_1995-2025.csv")
    shares = supplier_shares("european-nato", "US", [(2015, 2019), (2020, 2024)])
    assert supplier_bars(shares).startswith(PNG)


def test_cli_report(tmp_path: Path) -> None:
    shared_file("io/wiod_2013_release/wiot_2011.RData")
    out = CliRunner().invoke(
        app, ["scenario", "report", "us-defence-enablers-cut", "--out", str(tmp_path)]
    )
    assert out.exit_code == 0, out.output
    assert (tmp_path / "us-defence-enablers-cut-report.html").stat().st_size > 10_000
