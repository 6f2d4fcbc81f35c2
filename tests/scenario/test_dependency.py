"""Dependency metrics on a hand-made flows table (figures worked out by hand below)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pytest
from typer.testing import CliRunner

from econsec.cli.dependency import read_flows
from econsec.cli.main import app
from econsec.scenario.dependency import (
    DependencyError,
    Flow,
    criticality,
    dependency,
    flows_from_io,
    flows_from_workspace,
    hhi,
)
from econsec.scenario.engine import partner_groups
from econsec.scenario.io import IOTable, load_wiod
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


def _two_by_two() -> IOTable:
    # Countries A, B, C; sectors s1, s2; final demand per buying country.
    # Row (A, s1) sells: to A's s1 1, A's s2 2, B's s1 3, B's s2 4, C's s1 0, C's s2 5;
    # final use A 10, B 6, C -1 (an inventory drawdown larger than the deliveries).
    z = np.zeros((6, 6))
    z[0] = [1, 2, 3, 4, 0, 5]
    z[2] = [7, 0, 0, 0, 0, 0]  # (B, s1) sells 7 to A's s1
    y = np.zeros((6, 3))
    y[0] = [10, 6, -6]
    y[2] = [1, 2, 0]
    x = z.sum(axis=1) + y.sum(axis=1)
    return IOTable(
        name="tiny-mrio",
        countries=("A", "B", "C"),
        sectors=("s1", "s2"),
        Z=z,
        Y=y,
        x=x,
        sector_names={"s1": "goods", "s2": "services"},
        tolerance=np.zeros(6),
    )


def test_flows_from_a_hand_made_io_table() -> None:
    io = flows_from_io(_two_by_two(), "s1")
    got = {(f.reporter, f.partner, f.flow): f.value for f in io.flows}
    # B buys from (A, s1): 3 + 4 intermediate + 6 final = 13; A buys 7 + 1 from (B, s1).
    assert got == {
        ("B", "A", "import"): 13.0,
        ("A", "B", "export"): 13.0,
        ("A", "B", "import"): 8.0,
        ("B", "A", "export"): 8.0,
    }
    # C's use of (A, s1) nets to 5 − 6 = −1: named, counted as zero, never negative trade.
    assert io.clipped == (("A", "C", -1.0),)
    assert "1 pair(s) with negative net deliveries" in io.note
    # Gross output of s1: A 15 intermediate + 10 final; B 7 + 3.
    assert io.output == {"A": 25.0, "B": 10.0, "C": 0.0}


def test_eu_screen_on_wiod_2011() -> None:
    table = load_wiod(2011)
    eu = [str(m) for m in partner_groups()["eu"]["members"]]
    io = flows_from_io(table, "c14")
    r = dependency(io.flows, "c14", eu, ON, production=sum(io.output[m] for m in eu))
    # The same totals straight from the matrices, with no flow records in between.
    k = len(table.sectors)
    idx = {c: i for i, c in enumerate(table.countries)}
    s = table.sectors.index("c14")
    extra_imp = extra_exp = 0.0
    for c in table.countries:
        row = idx[c] * k + s
        for r_ in eu:
            if c == r_:
                continue
            value = table.Z[row, idx[r_] * k : (idx[r_] + 1) * k].sum() + table.Y[row, idx[r_]]
            if c not in eu:
                extra_imp += max(value, 0.0)
        if c in eu:
            for r_ in table.countries:
                if r_ not in eu:
                    value = (
                        table.Z[row, idx[r_] * k : (idx[r_] + 1) * k].sum() + table.Y[row, idx[r_]]
                    )
                    extra_exp += max(value, 0.0)
    assert r.extra_imports == pytest.approx(extra_imp, rel=1e-12)
    assert r.extra_exports == pytest.approx(extra_exp, rel=1e-12)
    # China is the EU's first outside supplier of electrical and optical equipment.
    assert r.suppliers[0][0] == "CHN"
    assert r.hhi is not None
    assert r.extra_import_share is not None
    assert r.imports_to_exports is not None
    assert 0 < r.hhi < 1
    expected = r.hhi > 0.4 and r.extra_import_share > 0.5 and r.imports_to_exports > 1
    assert r.dependent is expected


def test_cli_screen_on_an_io_table() -> None:
    runner = CliRunner()
    args = ["dependency", "screen", "--io-year", "2011", "--product", "c14", "--group", "@eu"]
    out = runner.invoke(app, [*args, "--on", "2025-01-01", "--format", "json"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.output)
    assert doc["suppliers"][0][0] == "CHN"
    assert doc["import_reliance"] is not None
    assert "RoW" in doc["source_note"]
    bad = runner.invoke(app, ["dependency", "screen", "--io-year", "2011", "--product", "c99",
                              "--group", "@eu"])  # fmt: skip
    assert bad.exit_code == 1
    assert "field 'product': unknown sector 'c99'" in bad.output
    bad = runner.invoke(app, ["dependency", "screen", "--io-year", "2011", "--product", "c14",
                              "--group", "@nowhere"])  # fmt: skip
    assert bad.exit_code == 1
    assert "unknown group '@nowhere'" in bad.output
