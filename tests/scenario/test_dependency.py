"""Dependency metrics on a hand-made flows table (figures worked out by hand below)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from econsec.cli.dependency import read_flows
from econsec.cli.main import app
from econsec.scenario.dependency import (
    DependencyError,
    Flow,
    criticality,
    dependency,
    flows_from_workspace,
    hhi,
)
from econsec.store.trade import ensure_schema

DATA = Path(__file__).parent.parent / "data" / "dependency_flows.csv"
ON = date(2025, 1, 1)


def test_screen_on_hand_made_table() -> None:
    flows = read_flows(DATA)
    r = dependency(flows, "850511", ["DE", "FR"], ON, production=60.0)
    # Extra-group imports: CN 80 + 40 = 120, US 20 (DE←FR 10 is intra-group).
    assert r.extra_imports == 140
    assert r.total_imports == 150
    assert dict(r.suppliers) == pytest.approx({"CN": 120 / 140, "US": 20 / 140})
    assert r.hhi == pytest.approx((120 / 140) ** 2 + (20 / 140) ** 2)
    assert r.extra_import_share == pytest.approx(140 / 150)
    # Extra-group exports: DE→US 30, FR→CN 10 (FR→DE is intra-group).
    assert r.imports_to_exports == pytest.approx(140 / 40)
    assert r.import_reliance == pytest.approx((140 - 40) / (60 + 140 - 40))
    assert r.dependent
    assert "SWD(2021) 352" in r.explanation
    # Without exports the ratio is infinite, yet one supplier alone: HHI 1.
    single = dependency(flows, "280461", ["DE"], ON)
    assert single.hhi == 1.0
    assert single.import_reliance is None


def test_diversified_product_is_not_dependent() -> None:
    flows = [Flow("DE", p, "x", "import", 25.0) for p in ("CN", "US", "JP", "KR")]
    flows.append(Flow("DE", "US", "x", "export", 10.0))
    r = dependency(flows, "x", ["DE"], ON)
    assert r.hhi == pytest.approx(0.25)
    assert not r.dependent
    assert [c[0] for c in r.criteria if not c[3]] == ["hhi"]
    assert hhi([]) is None


def test_crm_thresholds() -> None:
    assert criticality("gallium", 3.9, 3.5, ON).critical
    assert not criticality("x", 0.99, 5.0, ON).critical
    assert not criticality("x", 2.0, 2.79, ON).critical
    with pytest.raises(DependencyError, match="x: field 'supply_risk'"):
        criticality("x", float("nan"), 3.0, ON)


def test_bad_flows_name_file_line_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "f.csv"
    bad.write_text("reporter,partner,product,flow,value\nDE,CN,1,import,abc\n", encoding="utf-8")
    with pytest.raises(DependencyError, match=r"f.csv: line 2: field 'value': 'abc'"):
        read_flows(bad)
    bad.write_text("reporter,partner,product,flow,value\nDE,CN,1,transit,1\n", encoding="utf-8")
    with pytest.raises(DependencyError, match=r"f.csv: record 1: field 'flow': 'transit'"):
        read_flows(bad)
    with pytest.raises(DependencyError, match="field 'product': no flows of 'zz'"):
        dependency(read_flows(DATA), "zz", ["DE"], ON)


def test_cli_screen_and_crm() -> None:
    runner = CliRunner()
    out = runner.invoke(app, ["dependency", "screen", "--flows", str(DATA), "--product",
                              "850511", "--group", "DE,FR", "--format", "json"])  # fmt: skip
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["dependent"] is True
    out = runner.invoke(app, ["dependency", "crm", "--material", "germanium",
                              "--supply-risk", "3.9", "--economic-importance", "3.5"])  # fmt: skip
    assert out.exit_code == 0
    assert "germanium: critical" in out.output


def test_reads_the_trade_flows_table() -> None:
    con = duckdb.connect()
    ensure_schema(con)
    for row in read_flows(DATA):
        con.execute(
            "INSERT INTO trade_flows (source_id, reporter, partner, product, nomenclature, level,"
            " flow, period, year, value, currency, ref_row) VALUES"
            " ('t', ?, ?, ?, 'CN8', 6, ?, '2024', 2024, ?, 'EUR', 1)",
            [row.reporter, row.partner, row.product, row.flow, row.value],
        )
    flows = flows_from_workspace(con, "850511", "2024")
    assert len(flows) == 7
    assert dependency(flows, "850511", ["DE", "FR"], ON).extra_imports == 140
