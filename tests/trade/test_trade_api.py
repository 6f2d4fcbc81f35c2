"""HTTP endpoints and the difference-in-differences, on a small hand-made workspace."""

from __future__ import annotations

import itertools
import math
import random
import statistics
from typing import Any

import duckdb
import pytest
from fastapi.testclient import TestClient

from econsec.api.app import create_app
from econsec.store import Workspace
from econsec.store.trade import ensure_schema
from econsec.trade.indicators import (
    MAD_SCALE,
    all_series,
    all_series_sql,
    did,
    parse_baseline,
)

CHIP, HORSE = "85423111", "01012100"


def _monthly(partner: str, product: str, y2021: float, early: float, late: float) -> list[Any]:
    """DE → partner: 12 months of 2021, then Jan–Feb 2022 at ``early``, Mar–Dec at ``late``."""
    tier = "1" if product == CHIP else None
    rows = []
    for year in (2021, 2022):
        for month in range(1, 13):
            value = y2021 if year == 2021 else (early if month <= 2 else late)
            rows.append(
                (
                    "DE",
                    partner,
                    product,
                    "CN",
                    8,
                    product[:6],
                    tier,
                    "export",
                    f"{year}-{month:02d}",
                    year,
                    month,
                    value,
                )
            )
    return rows


#: (partner, product, 2021 monthly, Jan–Feb 2022, Mar–Dec 2022)
SERIES = [
    ("RU", CHIP, 100.0, 100.0, 5.0),
    ("KG", CHIP, 2.0, 2.0, 40.0),
    ("AM", CHIP, 10.0, 10.0, 10.0),
    ("US", CHIP, 50.0, 55.0, 55.0),  # control destination
    ("KG", HORSE, 10.0, 10.0, 10.0),  # control product
]


def _year(spec: tuple[str, str, float, float, float], year: int) -> float:
    _p, _c, y21, early, late = spec
    return 12 * y21 if year == 2021 else 2 * early + 10 * late


@pytest.fixture
def client(workspace: Workspace) -> TestClient:
    with workspace.connect() as con:
        ensure_schema(con)
        rows = [r for spec in SERIES for r in _monthly(*spec)]
        con.executemany(
            "INSERT INTO trade_flows VALUES ('hand', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
            "'EUR', NULL, NULL, NULL, 0)",
            rows,
        )
        annual = [
            ("EU27_2020", "KG", "export", 2021, 100.0),
            ("EU27_2020", "KG", "export", 2022, 300.0),
            ("KG", "EU27_2020", "import", 2021, 90.0),
            ("KG", "EU27_2020", "import", 2022, 100.0),
        ]
        con.executemany(
            "INSERT INTO trade_flows VALUES ('hand', ?, ?, 'TOTAL', 'TOTAL', 0, NULL, NULL, ?, "
            "CAST(? AS VARCHAR), ?, NULL, ?, 'EUR', NULL, NULL, NULL, 0)",
            [(a, b, f, y, y, v) for a, b, f, y, v in annual],
        )
    return TestClient(create_app(workspace, preload=False))


def test_did_formula() -> None:
    assert did(10, 100, 10, 10) == pytest.approx(math.log(10))
    assert did(10, 100, 10, 100) == pytest.approx(0.0)
    assert did(0, 100, 10, 10) is None


def test_parse_baseline() -> None:
    assert parse_baseline("2019-2021") == (2019, 2020, 2021)
    with pytest.raises(ValueError, match="2019-x"):
        parse_baseline("2019-x")


def test_indicators_endpoint_sums_months(client: TestClient) -> None:
    res = client.get("/v1/trade/indicators", params={"partners": "RU,KG"})
    assert res.status_code == 200, res.text
    got = {(r["partner"], r["year"]): r["value_eur"] for r in res.json()["rows"]}
    for spec in SERIES[:2]:
        for year in (2021, 2022):
            assert got[spec[0], year] == pytest.approx(_year(spec, year))


def test_mirror_endpoint(client: TestClient) -> None:
    res = client.get("/v1/trade/mirror", params={"exporter": "EU27_2020", "importer": "KG"})
    assert res.status_code == 200, res.text
    rows = {r["year"]: r for r in res.json()["rows"]}
    assert rows[2022]["gap"] == pytest.approx(300 * 1.08 - 100)
    assert rows[2021]["ratio"] == pytest.approx(100 * 1.08 / 90)


def _did(alert: dict[str, Any]) -> dict[str, Any]:
    found: list[dict[str, Any]] = [c for c in alert["contributions"] if c["indicator"] == "did"]
    assert len(found) == 1
    return found[0]


def test_alerts_endpoint_with_did_against_control_destination(client: TestClient) -> None:
    res = client.get(
        "/v1/trade/alerts", params={"intermediaries": "KG,AM", "controls": "US", "limit": 5}
    )
    assert res.status_code == 200, res.text
    found = res.json()
    assert [a["intermediary"] for a in found] == ["KG", "AM"]
    kg, am = found
    us = SERIES[3]
    expected = math.log(_year(SERIES[1], 2022) / _year(SERIES[1], 2021)) - math.log(
        _year(us, 2022) / _year(us, 2021)
    )
    assert _did(kg)["value"] == pytest.approx(expected)
    assert _did(kg)["points"] == pytest.approx(_did(kg)["weight"])  # growth x17 beyond: capped
    assert _did(am)["value"] < 0  # flat while the control grew: no points
    assert _did(am)["points"] == 0
    for alert in found:
        assert alert["score"] == pytest.approx(
            sum(c["points"] for c in alert["contributions"]), abs=1e-3
        )
        assert all(c["detail"] for c in alert["contributions"])


def test_alerts_default_control_is_non_chpl_goods(client: TestClient) -> None:
    default = client.get("/v1/trade/alerts", params={"intermediaries": "KG"}).json()
    explicit = client.get(
        "/v1/trade/alerts", params={"intermediaries": "KG", "control_products": "0101"}
    ).json()
    # the only non-CHPL CN8 good in the hand-made data is the 0101 control product
    assert _did(default[0])["value"] == pytest.approx(_did(explicit[0])["value"])
    assert "nonchpl to KG" in _did(default[0])["detail"]


def test_alerts_endpoint_with_control_products(client: TestClient) -> None:
    res = client.get(
        "/v1/trade/alerts",
        params={"intermediaries": "KG", "control_products": "0101"},
    )
    assert res.status_code == 200, res.text
    (kg,) = res.json()
    assert _did(kg)["value"] == pytest.approx(math.log(404 / 24))
    assert "0101 to KG" in _did(kg)["detail"]


def test_alerts_endpoint_rejects_bad_parameters(client: TestClient) -> None:
    res = client.get("/v1/trade/alerts", params={"baseline": "2019-x"})
    assert res.status_code == 422
    assert "2019-x" in res.json()["detail"]
    res = client.get("/v1/trade/alerts", params={"products": "chips"})
    assert res.status_code == 422
    assert "CHIPS" in res.json()["detail"]


def test_endpoints_without_trade_data(workspace: Workspace) -> None:
    client = TestClient(create_app(workspace, preload=False))
    res = client.get("/v1/trade/alerts")
    assert res.status_code == 503
    assert "econsec trade load" in res.json()["detail"]


def _brute_force(values: list[float]) -> tuple[float | None, int]:
    """Max robust z and the break index (first month of the second segment), by definition."""
    dv = [b - a for a, b in itertools.pairwise(values)]
    med = statistics.median(dv)
    mad = statistics.median(abs(x - med) for x in dv)
    zmax = max((x - med) / (MAD_SCALE * mad) for x in dv) if mad > 0 else None

    def sse(part: list[float]) -> float:
        mean = sum(part) / len(part)
        return sum((x - mean) ** 2 for x in part)

    splits = {t: sse(values[:t]) + sse(values[t:]) for t in range(2, len(values))}
    return zmax, min(splits, key=lambda t: (splits[t], t))


def test_all_series_sql_matches_the_definitions() -> None:
    rng = random.Random(5)
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE f (reporter VARCHAR, partner VARCHAR, product VARCHAR, flow VARCHAR, "
        "period VARCHAR, year INTEGER, month INTEGER, value DOUBLE)"
    )
    months = [(y, m) for y in (2021, 2022) for m in range(1, 13)]
    series: dict[str, list[float]] = {}
    for k in range(6):
        shift = 1 + 9 * rng.random() if k % 2 else 1.0
        series[f"P{k}"] = [
            round(rng.uniform(50, 150) * (shift if i >= 14 else 1.0), 2) for i in range(24)
        ]
        con.executemany(
            "INSERT INTO f VALUES ('DE', ?, '85423111', 'export', ?, ?, ?, ?)",
            [
                (f"P{k}", f"{y}-{m:02d}", y, m, v)
                for (y, m), v in zip(months, series[f"P{k}"], strict=True)
            ],
        )
    rows = con.execute(all_series_sql("f", (2021,), 2022)).fetchall()
    assert len(rows) == len(series)
    for _rep, partner, _prod, _flow, base, _now, growth, zmax, brk in rows:
        values = series[partner]
        assert base == pytest.approx(sum(values[:12]))
        assert growth == pytest.approx(sum(values[12:]) / sum(values[:12]))
        want_z, want_t = _brute_force(values)
        assert zmax == pytest.approx(want_z)
        y, m = months[want_t]
        assert brk == f"{y}-{m:02d}"
    # a large shift is found where it was put (month 15 = 2022-03)
    assert {r[8] for r in rows if int(r[1][1:]) % 2} == {"2022-03"}


def _as_rows(table: Any) -> dict[tuple[str, ...], tuple[Any, ...]]:
    data = table.to_pylist() if hasattr(table, "to_pylist") else table
    return {
        (r["reporter"], r["partner"], r["product"], r["flow"]): (
            r["base"],
            r["now"],
            r["growth"],
            r["zmax"],
            r["break_month"],
        )
        for r in data
    }


def test_all_series_in_memory_equals_the_sql() -> None:
    """Series of every length (1 to 36 months, gaps), ':' months, constant and zero series."""
    rng = random.Random(11)
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE f (reporter VARCHAR, partner VARCHAR, product VARCHAR, flow VARCHAR, "
        "period VARCHAR, year INTEGER, month INTEGER, value DOUBLE)"
    )
    months = [(y, m) for y in (2020, 2021, 2022) for m in range(1, 13)]
    rows: list[tuple[Any, ...]] = []
    for k in range(300):
        kept = sorted(rng.sample(range(36), rng.randint(1, 36)))
        kind = k % 5
        for i in kept:
            y, m = months[i]
            value: float | None = round(rng.uniform(0, 1000) * (8 if i > 25 else 1), 2)
            if kind == 1:
                value = 42.0  # constant: no break
            elif kind == 2:
                value = 0.0
            elif kind == 3 and rng.random() < 0.3:
                value = None  # ':' counts as 0
            rows.append((f"R{k % 7}", f"P{k}", "85423111", "export", f"{y}-{m:02d}", y, m, value))
    rows.append(("DE", "KG", "TOTAL", "export", "2021", 2021, None, 5.0))  # annual: not a series
    con.executemany("INSERT INTO f VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    sql = {
        (r[0], r[1], r[2], r[3]): tuple(r[4:])
        for r in con.execute(all_series_sql("f", (2021,), 2022)).fetchall()
    }
    fast = _as_rows(all_series(con, "f", (2021,), 2022))
    assert set(fast) == set(sql)
    assert len(fast) == 300
    for key, want in sql.items():
        got = fast[key]
        for a, b in zip(got[:4], want[:4], strict=True):
            assert (a is None and b is None) or a == pytest.approx(b, rel=1e-9), key
        assert got[4] == want[4], key
    assert any(v[4] is not None for v in fast.values())
    assert all(fast[k][4] is None for k in fast if int(k[1][1:]) % 5 in (1, 2))  # no break


def test_all_series_matches_the_definitions_on_a_shift() -> None:
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE f (reporter VARCHAR, partner VARCHAR, product VARCHAR, flow VARCHAR, "
        "period VARCHAR, year INTEGER, month INTEGER, value DOUBLE)"
    )
    values = [10.0, 12.0, 9.0, 11.0, 10.0, 50.0, 52.0, 49.0, 51.0, 50.0]
    con.executemany(
        "INSERT INTO f VALUES ('DE', 'KG', '85423111', 'export', ?, 2022, ?, ?)",
        [(f"2022-{m:02d}", m, v) for m, v in enumerate(values, start=1)],
    )
    (row,) = all_series(con, "f", (2021,), 2022).to_pylist()
    want_z, want_t = _brute_force(values)
    assert row["zmax"] == pytest.approx(want_z)
    assert row["break_month"] == f"2022-{want_t + 1:02d}" == "2022-06"
    assert row["base"] is None  # no 2021 months
    assert row["growth"] is None
    assert row["now"] == pytest.approx(sum(values))


def test_unit_values_endpoint(client: TestClient) -> None:
    res = client.get("/v1/trade/unit-values", params={"partners": "KG"})
    assert res.status_code == 200, res.text
    assert res.json()["rows"] == []  # the hand-made flows carry no quantities
    res = client.get("/v1/trade/unit-values", params={"baseline": "20x"})
    assert res.status_code == 422
    assert "20x" in res.json()["detail"]
