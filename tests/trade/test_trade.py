"""Trade loaders, bad input, indicators and the findings on the real Eurostat files."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import duckdb
import pytest
from openpyxl import Workbook  # type: ignore[import-untyped]
from typer.testing import CliRunner

from conftest import TESTS_DATA, shared_file
from econsec.cli.main import app
from econsec.store import Workspace
from econsec.trade.charts import ReportSpec, monthly
from econsec.trade.indicators import alerts, mirror_gap, yearly
from econsec.trade.load import load_all, load_file
from econsec.trade.readers import TradeLoadError

DATA = TESTS_DATA / "trade"
CN8 = "trade/eurostat_comext_cn8_2020-2022/19_4623968_spreadsheet.xlsx"
TOTALS = "trade/eurostat_totals_2019-2024"


def _rows(ws: Workspace, sql: str) -> list[tuple[object, ...]]:
    with ws.connect(read_only=True) as con:
        return con.execute(sql).fetchall()


# -- loaders and bad input ---------------------------------------------------------


def test_relational_csv_keeps_not_available_apart_from_zero(workspace: Workspace) -> None:
    shared_file("hs/harmonized-system-2022.csv")
    outcome = load_file(DATA / "relational_ok.csv", workspace)
    rows = _rows(workspace, "SELECT period, value FROM trade_flows ORDER BY period")
    assert rows == [("2022-01", 100.0), ("2022-02", None), ("2022-03", 0.0)]
    assert any("Africa" in w.message for w in outcome.warnings)  # aggregate: recorded, not loaded
    again = load_file(DATA / "relational_ok.csv", workspace)
    assert not again.changed
    assert _rows(workspace, "SELECT count(*) FROM trade_flows") == [(3,)]


@pytest.mark.parametrize(
    ("name", "needle"),
    [
        ("relational_duplicate.csv", "row 4, field 'PERIOD'"),
        ("relational_bad_code.csv", "field 'PRODUCT'"),
        ("relational_changed_layout.csv", "row 1"),
        ("baci_bad_country.csv", "field 'j'"),
    ],
)
def test_bad_input_names_file_row_and_field(
    workspace: Workspace, tmp_path: Path, name: str, needle: str
) -> None:
    shared_file("hs/harmonized-system-2022.csv")
    path = DATA / name
    if name.startswith("baci"):
        folder = tmp_path / "baci"
        folder.mkdir()
        shutil.copy(DATA / "baci" / "country_codes_V202401.csv", folder)
        path = Path(shutil.copy(path, folder / name))
    with pytest.raises(TradeLoadError) as caught:
        load_file(path, workspace)
    assert name in str(caught.value)
    assert needle in str(caught.value)
    if workspace.exists():  # nothing half-written
        assert _rows(workspace, "SELECT count(*) FROM trade_flows") == [(0,)]


def test_currency_mismatch_with_loaded_flow_is_an_error(workspace: Workspace) -> None:
    shared_file("hs/harmonized-system-2022.csv")
    load_file(DATA / "relational_ok.csv", workspace)
    with pytest.raises(TradeLoadError, match="USD"):
        load_file(DATA / "relational_usd.csv", workspace)
    assert _rows(workspace, "SELECT DISTINCT currency FROM trade_flows") == [("EUR",)]


def test_xlsx_with_changed_layout_names_the_sheet(workspace: Workspace, tmp_path: Path) -> None:
    shared_file("hs/harmonized-system-2022.csv")
    book = Workbook()
    summary = book.active
    assert summary is not None
    summary.title = "Summary"
    summary.append(["EU trade since 1988 by HS2-4-6 and CN8"])
    summary.append(["", "Sheet 1", "Processors [85423111]", "EXPORT", "VALUE_IN_EUROS"])
    data = book.create_sheet("Sheet 1")
    data.append(["PRODUCT [PRODUCT]", "", "Processors [85423111]"])
    data.append(["FLOW", "", "EXPORT"])
    data.append(["INDICATORS", "", "VALUE_IN_EUROS"])
    data.append(["PERIOD", "PERIOD", "2022-01"])  # was TIME
    path = tmp_path / "changed.xlsx"
    book.save(path)
    with pytest.raises(TradeLoadError, match=r"changed.xlsx, sheet 'Sheet 1', field 'TIME'"):
        load_file(path, workspace)


def test_xlsx_bad_cell_names_sheet_row_and_period(workspace: Workspace, tmp_path: Path) -> None:
    shared_file("hs/harmonized-system-2022.csv")
    book = Workbook()
    summary = book.active
    assert summary is not None
    summary.title = "Summary"
    summary.append(["EU trade since 1988 by HS2-4-6 and CN8"])
    summary.append(["", "Sheet 1", "Processors [85423111]", "EXPORT", "VALUE_IN_EUROS"])
    data = book.create_sheet("Sheet 1")
    data.append(["PRODUCT [PRODUCT]", "", "Processors [85423111]"])
    data.append(["FLOW", "", "EXPORT"])
    data.append(["INDICATORS", "", "VALUE_IN_EUROS"])
    data.append(["TIME", "TIME", "2022-01", "2022-02"])
    data.append(["REPORTER (Labels)", "PARTNER (Labels)"])
    data.append(["Germany", "Kyrgyzstan", 10.0, ":"])
    data.append(["France", "Kyrgyzstan", 5.0, "n/a"])
    path = tmp_path / "badcell.xlsx"
    book.save(path)
    with pytest.raises(
        TradeLoadError, match=r"badcell.xlsx, sheet 'Sheet 1', row 7, field '2022-02 \(column 4\)'"
    ):
        load_file(path, workspace)
    if workspace.exists():  # nothing half-written
        assert _rows(workspace, "SELECT count(*) FROM trade_flows") == [(0,)]


def test_baci_units_and_countries(workspace: Workspace) -> None:
    shared_file("hs/harmonized-system-2022.csv")
    load_file(DATA / "baci" / "BACI_HS22_Y2022_V202401.csv", workspace)
    rows = _rows(
        workspace,
        "SELECT reporter, partner, product, chpl_tier, value, currency, quantity, unit "
        "FROM trade_flows ORDER BY partner, product",
    )
    by_key = {(r[1], r[2]): r for r in rows}
    de_ru = by_key["RU", "854231"]
    assert de_ru[0] == "DE"
    assert de_ru[3] == "1"  # CHPL tier 1
    assert de_ru[4] == pytest.approx(1523456.0)  # thousand USD → USD
    assert de_ru[5:] == ("USD", 0.812, "t")
    assert by_key["AM", "854232"][6] is None  # NA quantity stays unknown
    assert by_key["RU", "010121"][3] is None


# -- findings on the real files -----------------------------------------------------


@pytest.fixture(scope="module")
def findings_ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    files = [shared_file(CN8)]
    files += sorted(shared_file(f"{TOTALS}/eu_year_export").glob("*.csv"))
    files.append(shared_file(f"{TOTALS}/national_data_converted/kyrgyz_import_yearly.csv"))
    files += sorted(shared_file(f"{TOTALS}/kyrgyz_export_eurostat").glob("*.csv"))
    ws = Workspace(tmp_path_factory.mktemp("trade") / "ws")
    load_all(files, ws)
    return ws


def test_tier1_exports_collapse_to_russia_and_multiply_to_neighbours(
    findings_ws: Workspace,
) -> None:
    with findings_ws.connect(read_only=True) as con:
        data = yearly(con, "trade_flows", ["chpl:1"], ["RU", "KG", "AM", "KZ"])
    total: dict[tuple[str, int], float] = {}
    for _rep, partner, year, value, _n in data:
        total[partner, year] = total.get((partner, year), 0.0) + (value or 0.0)
    # Order-of-magnitude bounds from the issue: a collapse, and a multiplication.
    assert total["RU", 2022] < 0.5 * total["RU", 2021]
    for partner in ("KG", "AM", "KZ"):
        assert total[partner, 2022] > 2 * total[partner, 2021], partner
    # By month: from March 2022 every month with data is below half the same month of
    # 2021; a month where every cell is ':' stays "not available" (None), never 0.
    monthly: dict[str, float | None] = dict(
        (str(r[0]), float(r[1]) if isinstance(r[1], float) else None)
        for r in _rows(
            findings_ws,
            "SELECT period, sum(value) FROM trade_flows WHERE chpl_tier = '1' AND level = 8 "
            "AND partner = 'RU' GROUP BY period",
        )
    )
    for month in range(3, 13):
        after, before = monthly[f"2022-{month:02d}"], monthly[f"2021-{month:02d}"]
        assert before is not None
        assert after is None or after < 0.5 * before


def test_mirror_gap_to_kyrgyzstan_widens(findings_ws: Workspace) -> None:
    with findings_ws.connect(read_only=True) as con:
        rows = {r["year"]: r for r in mirror_gap(con, "trade_flows", "EU27_2020", "KG")}
    assert {2021, 2022, 2023} <= set(rows)
    gaps = [rows[y]["gap"] for y in (2021, 2022, 2023)]
    assert gaps[0] < gaps[1] < gaps[2]  # type: ignore[operator]
    assert rows[2023]["ratio"] > 2 * rows[2021]["ratio"]  # type: ignore[operator]


def test_monthly_totals_add_up_to_the_annual_file(findings_ws: Workspace) -> None:
    # EU27 -> KG exports: the twelve monthly files (kyrgyz_export_eurostat) against the
    # annual file (eu_year_export). Summing without the flow filter adds the imports
    # (2021: 263 M exports + 74 M imports = the 337 M once reported as a mismatch).
    sums: dict[tuple[int, bool], float] = {
        (int(str(r[0])), bool(r[1])): float(str(r[2]))
        for r in _rows(
            findings_ws,
            "SELECT year, month IS NULL, sum(value) FROM trade_flows WHERE product = 'TOTAL' "
            "AND reporter = 'EU27_2020' AND partner = 'KG' AND flow = 'export' "
            "AND year BETWEEN 2019 AND 2023 GROUP BY ALL",
        )
    }
    years = sorted({y for y, _ in sums})
    assert (2021, True) in sums
    assert (2021, False) in sums
    for year in years:
        if (year, True) in sums and (year, False) in sums:
            assert sums[year, False] == pytest.approx(sums[year, True], rel=1e-6), year


def test_alerts_rank_with_contributions(findings_ws: Workspace) -> None:
    with findings_ws.connect(read_only=True) as con:
        found = alerts(con, "trade_flows", "RU", ["AM", "GE", "KG", "KZ", "UZ"], ["chpl:1"])
    assert found
    assert [a.score for a in found] == sorted((a.score for a in found), reverse=True)
    top = found[0]
    assert top.score == pytest.approx(sum(c.points for c in top.contributions), abs=1e-3)
    assert {c.indicator for c in top.contributions} >= {"growth", "substitution", "robust_z"}


def test_cli_alerts_json(findings_ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ECONSEC_HOME", str(findings_ws.home))
    result = CliRunner().invoke(app, ["trade", "alerts", "--format", "json", "--limit", "3"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert rows
    for row in rows:
        assert {"reporter", "intermediary", "product", "score", "contributions"} <= set(row)
        assert len(row["intermediary"]) == 2


def test_indicator_sql_runs_on_a_parquet_relation(findings_ws: Workspace, tmp_path: Path) -> None:
    out = tmp_path / "flows.parquet"
    with findings_ws.connect(read_only=True) as con:
        con.execute(f"COPY trade_flows TO '{out}' (FORMAT parquet)")
        expected = yearly(con, "trade_flows", ["chpl:1"], ["RU"])
    con2 = duckdb.connect()
    assert yearly(con2, f"read_parquet('{out}')", ["chpl:1"], ["RU"]) == expected


def test_cli_report_writes_self_contained_html(
    findings_ws: Workspace, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ECONSEC_HOME", str(findings_ws.home))
    out = tmp_path / "report"
    result = CliRunner().invoke(app, ["trade", "report", "--out", str(out)])
    assert result.exit_code == 0, result.output
    page = (out / "report.html").read_text("utf-8")
    assert page.count("data:image/png;base64,") == 3
    assert "src='http" not in page  # no external resources
    for name in ("monthly", "growth", "mirror"):
        assert (out / f"{name}.png").read_bytes().startswith(b"\x89PNG")
    with findings_ws.connect(read_only=True) as con:
        data = monthly(con, "trade_flows", ReportSpec())
    # the monthly series behind the chart: Russia's tier-1 months fall, Kyrgyzstan's rise
    ru = {p: v for p, v in data["RU"].items() if not math.isnan(v)}
    kg = {p: v for p, v in data["KG"].items() if not math.isnan(v)}
    assert sum(v for p, v in ru.items() if p.startswith("2022")) < sum(
        v for p, v in ru.items() if p.startswith("2021")
    )
    assert sum(v for p, v in kg.items() if p.startswith("2022")) > sum(
        v for p, v in kg.items() if p.startswith("2021")
    )
