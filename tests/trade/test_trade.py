"""Trade loaders, bad input, indicators and the findings on the real Eurostat files."""

from __future__ import annotations

import json
import math
import re
import shutil
from collections.abc import Sequence
from pathlib import Path

import duckdb
import pytest
from openpyxl import Workbook  # type: ignore[import-untyped]
from typer.testing import CliRunner

from conftest import TESTS_DATA, shared_file
from econsec.cli.main import app
from econsec.store import Workspace
from econsec.trade.charts import ReportSpec, monthly
from econsec.trade.indicators import alerts, mirror_gap, unit_values, yearly
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
        ("comtrade_bad_number.csv", "row 3, field 'cifvalue'"),
        ("comtrade_bad_country.csv", "row 3, field 'partnerISO'"),
        ("comtrade_duplicate.csv", "row 4, field 'period'"),
        ("comtrade_missing_column.csv", "row 1, field 'cmdCode'"),
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
    # the ranked alerts beside the charts, in the order alerts() ranks them
    with findings_ws.connect(read_only=True) as con:
        ranked = alerts(con, "trade_flows", "RU", ["AM", "GE", "KG", "KZ", "UZ"], ["chpl:1"])
    table = page[page.index("<table class='alerts'>") :]
    shown = re.findall(r"<tr><td>(\d+)</td><td>(\w+)</td><td>(\w+)</td><td><b>([\d.]+)</b>", table)
    assert len(shown) == min(20, len(ranked)) > 0
    for (rank, reporter, intermediary, score), alert in zip(shown, ranked, strict=False):
        assert (reporter, intermediary) == (alert.reporter, alert.intermediary), rank
        assert float(score) == pytest.approx(alert.score, abs=0.006)  # shown to 2 places
    assert "No quantities in the loaded data" in page  # Comext carries values only
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


# -- one run over several files: duplicates, clashes, parallel parsing ------------------


def _workbook(
    path: Path, sheets: Sequence[tuple[str, Sequence[tuple[str, str, Sequence[object]]]]]
) -> Path:
    """A Comext data-browser workbook: one sheet per (product label, rows)."""
    book = Workbook()
    summary = book.active
    assert summary is not None
    summary.title = "Summary"
    summary.append(["EU trade since 1988 by HS2-4-6 and CN8"])
    for n, (label, rows) in enumerate(sheets, start=1):
        summary.append(["", f"Sheet {n}", label, "EXPORT", "VALUE_IN_EUROS"])
        data = book.create_sheet(f"Sheet {n}")
        data.append(["PRODUCT [PRODUCT]", "", label])
        data.append(["FLOW", "", "EXPORT"])
        data.append(["INDICATORS", "", "VALUE_IN_EUROS"])
        data.append(["TIME", "TIME", "2022-01", "2022-02", "2022-03"])
        data.append(["REPORTER (Labels)", "PARTNER (Labels)"])
        for reporter, partner, cells in rows:
            data.append([reporter, partner, *cells])
    book.save(path)
    return path


CHIPS = "Processors [85423111]"
MEMORY = "Memories [85423239]"


def _flows(ws: Workspace) -> list[tuple[object, ...]]:
    return _rows(
        ws,
        "SELECT reporter, partner, product, period, value, ref_sheet, ref_row "
        "FROM trade_flows ORDER BY ALL",
    )


def test_same_flow_in_two_files_is_loaded_once(workspace: Workspace, tmp_path: Path) -> None:
    shared_file("hs/harmonized-system-2022.csv")
    first = DATA / "relational_ok.csv"
    again = Path(shutil.copy(first, tmp_path / "relational_again.csv"))
    outcomes = load_all([first, again], workspace)
    assert [o.source.rows for o in outcomes] == [3, 0]
    (warning,) = [w for w in outcomes[1].warnings if "already loaded" in w.message]
    assert warning.message.startswith("3 flows already loaded with the same values from")
    assert "relational_ok.csv" in warning.message
    assert _rows(workspace, "SELECT count(*) FROM trade_flows") == [(3,)]


def test_a_clash_stops_the_run_at_that_file(workspace: Workspace, tmp_path: Path) -> None:
    shared_file("hs/harmonized-system-2022.csv")
    other = tmp_path / "other.csv"
    other.write_text(
        "REPORTER,PARTNER,PRODUCT,FLOW,STAT_PROCEDURE,PERIOD,VALUE_IN_EUR\n"
        '"Austria","Armenia","Total","EXPORT","Total","Jan. 2022",7\n'
    )
    clash = tmp_path / "clash.csv"
    clash.write_text(
        "REPORTER,PARTNER,PRODUCT,FLOW,STAT_PROCEDURE,PERIOD,VALUE_IN_EUR\n"
        '"Austria","Kyrgyzstan","Total","EXPORT","Total","Jan. 2022",100\n'
        '"Austria","Kyrgyzstan","Total","EXPORT","Total","Mar. 2022",9\n'
    )
    later = Path(shutil.copy(other, tmp_path / "later.csv"))
    with pytest.raises(TradeLoadError) as caught:
        load_all([DATA / "relational_ok.csv", other, clash, later], workspace)
    text = str(caught.value)
    assert "clash.csv, row 3, field 'value'" in text
    assert "AT/KG/TOTAL/export/2022-03: 9.0 EUR here but 0.0 EUR in" in text
    assert "relational_ok.csv row 4" in text
    paths = [str(r[0]) for r in _rows(workspace, "SELECT path FROM trade_sources")]
    # by file name: the full paths' order depends on where the checkout and tmp live
    assert sorted(Path(p).name for p in paths) == ["other.csv", "relational_ok.csv"]
    assert _rows(workspace, "SELECT count(*) FROM trade_flows") == [(4,)]


def test_product_twice_in_one_workbook_is_an_error(workspace: Workspace, tmp_path: Path) -> None:
    shared_file("hs/harmonized-system-2022.csv")
    rows = [("Germany", "Kyrgyzstan", [1.0, 2.0, 3.0])]
    path = _workbook(tmp_path / "twice.xlsx", [(CHIPS, rows), (CHIPS, rows)])
    with pytest.raises(TradeLoadError, match=r"twice.xlsx, sheet 'Sheet 2', field 'PRODUCT'"):
        load_file(path, workspace)


def test_parallel_parsing_gives_the_same_table(tmp_path: Path) -> None:
    shared_file("hs/harmonized-system-2022.csv")
    books = [
        _workbook(
            tmp_path / "a.xlsx",
            [
                (
                    CHIPS,
                    [("Germany", "Kyrgyzstan", [1.0, ":", 3.5]), ("France", "Armenia", [0, 0, 7])],
                ),
                (MEMORY, [("Italy", "Kazakhstan", [":", ":", ":"])]),
            ],
        ),
        _workbook(
            tmp_path / "b.xlsx",
            [(CHIPS, [("Germany", "Russian Federation (Russia)", [9.0, 1.0, 0.5])])],
        ),
    ]
    files = [*books, DATA / "relational_ok.csv"]
    serial, parallel = Workspace(tmp_path / "serial"), Workspace(tmp_path / "parallel")
    load_all(files, serial, workers=1)
    progress: list[tuple[str, str, int]] = []
    load_all(files, parallel, lambda s, p, n: progress.append((s, p.name, n)), workers=2)
    assert _flows(serial) == _flows(parallel)
    assert len(_flows(parallel)) == 3 * 3 + 3 + 3
    assert "RU" in {r[1] for r in _flows(parallel)}
    assert None in {r[4] for r in _flows(parallel)}
    # each file parsed then written once; b.xlsx shares a product with a.xlsx, so it
    # waits for the duplicate check while the CSV (nothing shared before it) goes first
    assert [p for s, p, _ in progress if s == "parsed"] == ["a.xlsx", "b.xlsx", "relational_ok.csv"]
    assert [p for s, p, _ in progress if s == "written"] == [
        "a.xlsx",
        "relational_ok.csv",
        "b.xlsx",
    ]
    sizes = {p: n for s, p, n in progress if s == "parsed"}
    assert sizes["a.xlsx"] == books[0].stat().st_size


def test_parallel_parsing_error_names_the_cell_and_keeps_earlier_files(tmp_path: Path) -> None:
    shared_file("hs/harmonized-system-2022.csv")
    good = _workbook(tmp_path / "a.xlsx", [(CHIPS, [("Germany", "Kyrgyzstan", [1.0, 2.0, 3.0])])])
    bad = _workbook(tmp_path / "b.xlsx", [(MEMORY, [("Germany", "Kyrgyzstan", [1.0, "n/a", 3.0])])])
    ws = Workspace(tmp_path / "ws")
    with pytest.raises(TradeLoadError, match=r"b.xlsx, sheet 'Sheet 1', row 6, field '2022-02"):
        load_all([good, bad, DATA / "relational_ok.csv"], ws, workers=2)
    assert _rows(ws, "SELECT count(*), count(DISTINCT source_id) FROM trade_flows") == [(3, 1)]


# -- UN Comtrade+ bulk CSV ----------------------------------------------------------------


def test_comtrade_values_quantities_and_skipped_rows(workspace: Workspace) -> None:
    shared_file("hs/harmonized-system-2022.csv")
    outcome = load_file(DATA / "comtrade" / "comtrade_DEU_2022.csv", workspace)
    assert outcome.source.kind == "comtrade"
    rows = _rows(
        workspace,
        "SELECT reporter, partner, product, chpl_tier, flow, period, month, value, currency, "
        "quantity, unit, ref_row FROM trade_flows ORDER BY ref_row",
    )
    assert rows == [
        ("DE", "RU", "854231", "1", "export", "2022", None, 1523456.0, "USD", 812.0, "u", 2),
        ("DE", "KG", "854232", "1", "import", "2022", None, 12000.5, "USD", 30.0, "kg", 4),
        ("DE", "WORLD", "TOTAL", None, "export", "2022", None, 1.65e12, "USD", None, None, 6),
        ("DE", "AM", "854231", "1", "export", "2022-03", 3, 52000.0, "USD", 40.0, "u", 8),
    ]
    messages = {w.message for w in outcome.warnings}
    assert "1 rows of breakdown by motCode not loaded" in messages  # row 3: by sea
    assert "1 rows of flowCode RX not loaded" in messages
    assert "1 rows of area _X (no ISO-2) not loaded" in messages
    assert "1 rows without cifvalue/fobvalue: primaryValue used" in messages


def test_unit_values_per_unit_from_rows_with_quantities(workspace: Workspace) -> None:
    shared_file("hs/harmonized-system-2022.csv")
    load_file(DATA / "comtrade" / "comtrade_DEU_2022.csv", workspace)
    with workspace.connect() as con:
        # a 2021 baseline by hand: 400 items for 1,000,000 USD, and a row without quantity
        con.execute(
            "INSERT INTO trade_flows SELECT 'hand', 'DE', 'RU', '854231', 'HS', 6, '854231', '1', "
            "'export', '2021', 2021, NULL, v, 'USD', q, u, NULL, 0 "
            "FROM (VALUES (1000000.0, 400.0, 'u'), (5.0e6, NULL, NULL), (7.0, 2.0, 'kg')) "
            "AS t(v, q, u)"
        )
        rows = unit_values(con, "trade_flows", ["chpl:1"], ["RU", "AM", "KG"])
    by_key = {(r["partner"], r["unit"]): r for r in rows}
    ru = by_key["RU", "u"]
    assert ru["baseline_unit_value"] == pytest.approx(1000000.0 / 400)  # NULL quantity left out
    assert ru["unit_value"] == pytest.approx(1523456.0 / 812)
    assert ru["ratio"] == pytest.approx((1523456.0 / 812) / 2500.0)
    assert ru["currency"] == "USD"
    assert by_key["RU", "kg"]["unit_value"] is None  # kg only in 2021: no period value
    assert by_key["AM", "u"]["unit_value"] == pytest.approx(52000.0 / 40)
    assert ("KG", "kg") not in by_key  # an import, not an export


def test_undecodable_csv_names_the_file(workspace: Workspace, tmp_path: Path) -> None:
    shared_file("hs/harmonized-system-2022.csv")
    path = tmp_path / "latin1.csv"
    path.write_bytes(
        b"REPORTER,PARTNER,PRODUCT,FLOW,STAT_PROCEDURE,PERIOD,VALUE_IN_EUR\n"
        b'"C\xf4te d\'Ivoire","Kyrgyzstan","Total","EXPORT","Total","Jan. 2022",1\n'
    )
    with pytest.raises(TradeLoadError, match=r"latin1.csv: not a readable text file"):
        load_file(path, workspace)


def test_a_file_named_twice_loads_once(workspace: Workspace) -> None:
    shared_file("hs/harmonized-system-2022.csv")
    path = DATA / "relational_ok.csv"
    outcomes = load_all([path, path], workspace)
    assert [o.changed for o in outcomes] == [True, False]
    assert outcomes[0].source == outcomes[1].source
    assert _rows(workspace, "SELECT count(*) FROM trade_flows") == [(3,)]


def test_a_changed_file_replaces_its_rows(workspace: Workspace, tmp_path: Path) -> None:
    shared_file("hs/harmonized-system-2022.csv")
    path = Path(shutil.copy(DATA / "relational_ok.csv", tmp_path / "revised.csv"))
    load_file(path, workspace)
    path.write_text(path.read_text().replace('"Jan. 2022",100', '"Jan. 2022",120'))
    outcome = load_file(path, workspace)  # same flows, a revised value: not a clash
    assert outcome.changed
    assert _rows(workspace, "SELECT period, value FROM trade_flows ORDER BY period") == [
        ("2022-01", 120.0),
        ("2022-02", None),
        ("2022-03", 0.0),
    ]
    assert _rows(workspace, "SELECT count(*) FROM trade_sources") == [(1,)]
