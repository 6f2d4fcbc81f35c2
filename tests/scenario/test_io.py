"""Input-output models on the real WIOD 2011 table, checked against pymrio to 1e-6."""

# Matrix names follow the input-output literature (Z, A, L, B, G), hence upper case.
# ruff: noqa: N806

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pymrio.tools.iomath as pm
import pytest
import scipy.sparse as sp
from typer.testing import CliRunner

from conftest import shared_file
from econsec.cli.main import app
from econsec.scenario.io import (
    IOModel,
    IOModelError,
    IOTable,
    SparseIOModel,
    load_wiod,
    make_cut,
    validate,
)

TOL = 1e-6


@pytest.fixture(scope="module")
def wiod() -> IOModel:
    path = shared_file("io/wiod_2013_release/wiot_2011.RData")
    return IOModel(load_wiod(2011, path.parent))


def test_table_shape_and_leontief_reproduces_output(wiod: IOModel) -> None:
    t = wiod.table
    assert (len(t.countries), len(t.sectors)) == (41, 35)
    assert t.countries[-1] == "RoW"
    # The model's final demand is the published one up to the rounding of the figures …
    assert np.max(np.abs(wiod.y - t.Y.sum(axis=1))) <= t.tolerance.max()
    # … and x = L y then holds exactly.
    assert np.max(np.abs(wiod.L @ wiod.y - t.x) / np.maximum(t.x, 1.0)) < TOL
    # Final demand is grouped by destination country: US hotels sell mostly to US households.
    i = t.index("USA", "c22")
    assert t.countries[int(np.argmax(t.Y[i]))] == "USA"


def test_leontief_and_ghosh_match_pymrio(wiod: IOModel) -> None:
    t = wiod.table
    L_ref = pm.calc_L(pm.calc_A(t.Z, t.x))
    G_ref = pm.calc_G(pm.calc_B(t.Z, t.x))
    assert np.max(np.abs(wiod.L - L_ref)) < TOL
    assert np.max(np.abs(wiod.G - G_ref)) < TOL
    top = wiod.multipliers(top=1)[0]
    j = t.index(top.country, top.sector)
    assert top.output_multiplier == pytest.approx(L_ref[:, j].sum(), abs=TOL)
    assert top.supply_multiplier == pytest.approx(G_ref[j, :].sum(), abs=TOL)


@pytest.mark.parametrize(("country", "sector"), [("DEU", None), ("CHN", "c14")])
def test_extraction_matches_pymrio(wiod: IOModel, country: str, sector: str | None) -> None:
    t = wiod.table
    rows = t.rows_of(country) if sector is None else np.array([t.index(country, sector)])
    keep = np.ones(t.n, dtype=bool)
    keep[rows] = False
    a_rr = pm.calc_A(t.Z, t.x)[np.ix_(keep, keep)]
    x_ref = pm.calc_L(a_rr) @ wiod.y[keep]
    ours = wiod.extraction_output(rows)
    assert np.max(np.abs(ours[keep] - x_ref)) < TOL
    result = wiod.extract(country, sector)
    assert result.total_loss == pytest.approx(t.x.sum() - x_ref.sum(), abs=1e-3)
    assert result.linkage_loss > 0
    assert result.own_output == pytest.approx(t.x[rows].sum())


def test_supply_shock_matches_pymrio_and_hits_buyers(wiod: IOModel) -> None:
    t = wiod.table
    cut = make_cut(t, "CHN", "c14", 0.5, partners=["USA", "DEU", "JPN"])
    result = wiod.supply_shock([cut])
    b_bar = pm.calc_B(t.Z, t.x)
    b_bar[cut.row, cut.buyer_mask] *= 0.5
    x_ref = wiod.v @ pm.calc_G(b_bar)
    assert np.max(np.abs(np.array(result.loss) - (t.x - x_ref))) < TOL
    losers = [c for c, loss, _ in result.by_country[:3]]
    assert set(losers) <= {"USA", "DEU", "JPN", "CHN", "RoW", "KOR", "TWN"}
    assert result.by_country[0][1] > 0
    # A cut to nobody changes nothing.
    none = wiod.supply_shock([make_cut(t, "CHN", "c14", 0.0)])
    assert max(abs(v) for v in none.loss) < TOL


def test_bad_questions_are_refused(wiod: IOModel) -> None:
    t = wiod.table
    with pytest.raises(IOModelError, match=r"field 'share': share 1.2 outside 0..1"):
        make_cut(t, "CHN", "c14", 1.2)
    with pytest.raises(IOModelError, match=r"field 'supplier': unknown country 'XXX'"):
        make_cut(t, "XXX", "c14", 0.5)
    with pytest.raises(IOModelError, match=r"field 'sector': unknown sector 'c99'"):
        make_cut(t, "CHN", "c99", 0.5)
    with pytest.raises(IOModelError, match=r"field 'partners': unknown country 'ZZZ'"):
        make_cut(t, "CHN", "c14", 0.5, partners=["USA", "ZZZ"])


def test_unbalanced_and_unproductive_tables_are_refused(wiod: IOModel) -> None:
    t = wiod.table
    x = t.x.copy()
    i = t.index("FRA", "c9")
    x[i] *= 1.5
    with pytest.raises(IOModelError, match=r"row \d+ \('FRA', 'c9'\), field 'x': unbalanced"):
        validate(dataclasses.replace(t, x=x))
    z = t.Z.copy()
    j = t.index("ITA", "c3")
    z[:, j] *= 10  # inputs far above output: negative value added
    y = t.Y.copy()
    y[:, 0] -= z.sum(axis=1) - t.Z.sum(axis=1)  # keep rows balanced
    with pytest.raises(IOModelError, match=r"\('ITA', 'c3'\), field 'Z': intermediate inputs"):
        validate(dataclasses.replace(t, Z=z, Y=y))
    bad = dataclasses.replace(t, Z=np.where(np.eye(t.n) == 1, np.nan, t.Z))
    with pytest.raises(IOModelError, match=r"field 'Z', row 0 \('AUS', 'c1'\): not a finite"):
        validate(bad)


def test_sparse_solver_matches_dense_on_wiod(wiod: IOModel) -> None:
    t = wiod.table
    cut = make_cut(t, "USA", "c14", 0.3)
    dense = np.array(wiod.supply_shock([cut]).loss)
    sparse = SparseIOModel(sp.csr_array(t.Z), t.x, name="wiod-2011")
    loss = sparse.supply_shock(cut.row, cut.buyer_mask, 0.3)
    assert np.max(np.abs(loss - dense)) < TOL
    with pytest.raises(IOModelError, match="field 'share'"):
        sparse.supply_shock(cut.row, cut.buyer_mask, 1.01)


def test_tiny_singular_table() -> None:
    # A sector that uses all its own output as input: I − A singular, refused as such.
    z = np.array([[10.0, 0.0], [0.0, 1.0]])
    table = IOTable(
        name="tiny.csv",
        countries=("AAA",),
        sectors=("s1", "s2"),
        Z=z,
        Y=np.array([[0.0], [1.0]]),
        x=np.array([10.0, 2.0]),
        sector_names={},
        tolerance=np.zeros(2),
    )
    validate(table)
    with pytest.raises(IOModelError, match=r"tiny.csv: field 'Z': I − A is singular"):
        _ = IOModel(table).L


def test_cli_shock_and_errors() -> None:
    shared_file("io/wiod_2013_release/wiot_2011.RData")
    runner = CliRunner()
    out = runner.invoke(
        app,
        ["scenario", "shock", "--supplier", "CHN", "--sector", "c14", "--share", "0.5",
         "--partners", "USA,DEU", "--format", "json"],
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    doc = json.loads(out.output)
    assert doc["total_loss"] > 0
    assert "Ghosh" in doc["explanation"]
    assert {c for c, _, _ in doc["by_country"][:2]} <= {"USA", "DEU", "CHN", "RoW"}
    bad = runner.invoke(
        app, ["scenario", "shock", "--supplier", "CHN", "--sector", "c14", "--share", "1.5"]
    )
    assert bad.exit_code == 1
    assert "field 'share'" in bad.output
