"""Scenario files: moves, retaliation, the dynamic timeline, on the real WIOD 2011 table."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from conftest import shared_file
from econsec.cli.main import app
from econsec.scenario.engine import (
    WEEKS_PER_YEAR,
    ScenarioError,
    _Builder,
    compare,
    ghosh_loss,
    library_names,
    library_path,
    load_scenario,
    run_scenario,
)
from econsec.scenario.io import IOModel, load_wiod, make_cut

TOL = 1e-6


@pytest.fixture(scope="module")
def wiod() -> IOModel:
    path = shared_file("io/wiod_2013_release/wiot_2011.RData")
    return IOModel(load_wiod(2011, path.parent))


def _write(tmp_path: Path, doc: dict[str, object]) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def _base() -> dict[str, object]:
    doc = yaml.safe_load(library_path("us-chip-controls-tightening").read_text(encoding="utf-8"))
    assert isinstance(doc, dict)
    return doc


def test_woodbury_update_matches_direct_ghosh_solve(wiod: IOModel) -> None:
    spec = load_scenario(library_path("china-2025-critical-minerals"))
    b = _Builder(spec, "lib", wiod)
    declared = b.declared()
    moves = declared + b.counter_moves(declared)
    shares = np.array([0.3, 0.7, 1.0])[: len(moves)]
    ours = ghosh_loss(wiod, moves, shares)
    cuts = [
        make_cut(wiod.table, *wiod.table.label(c.row), phi, None)
        for m, phi in zip(moves, shares, strict=True)
        for c in m.cuts
    ]
    # make_cut with partners=None hits every buyer; restrict to the move's buyers.
    cuts = [
        type(cut)(
            cut.supplier, cut.sector, cut.partners, cut.share, cut.row, c.buyer_mask, cut.final_mask
        )
        for cut, c in zip(cuts, [c for m in moves for c in m.cuts], strict=True)
    ]
    direct = np.array(wiod.supply_shock(cuts).loss)
    assert np.max(np.abs(ours - direct)) < TOL
    assert ours.sum() > 0


@pytest.mark.parametrize("name", library_names())
def test_library_scenarios_run_and_explain(wiod: IOModel, name: str) -> None:
    run = run_scenario(library_path(name), model=wiod)
    assert run.total_cumulative_loss > 0
    # Stocks and substitution only soften the shock: never above the static upper bound.
    assert run.total_cumulative_loss <= run.static_annual_loss * run.horizon_weeks / 52 + TOL
    assert run.timeline[0].total_loss == 0.0  # stocks cover the first week
    assert sum(w.total_loss for w in run.timeline) == pytest.approx(run.total_cumulative_loss)
    assert sum(e.cumulative_loss for e in run.by_country) == pytest.approx(
        run.total_cumulative_loss
    )
    assert all("Source:" in m.explanation for m in run.moves)
    assert "Ghosh" in run.explanation


def test_retaliation_policies(wiod: IOModel, tmp_path: Path) -> None:
    run = run_scenario(library_path("us-chip-controls-tightening"), model=wiod)
    trigger, answer = run.moves
    assert answer.answers == trigger.id
    assert answer.actor == "CHN"
    assert answer.partners == ("USA",)
    # Proportional: the counter-move hits as much trade as the move it answers, or its cap.
    capped = answer.cut_share == pytest.approx(0.05)
    assert capped or answer.direct_export_loss == pytest.approx(trigger.direct_export_loss)
    assert answer.start > trigger.start

    ev = run_scenario(library_path("eu-china-ev-tariffs"), model=wiod)
    duties, reply = ev.moves
    assert (reply.kind, reply.magnitude) == (duties.kind, duties.magnitude)  # tit-for-tat
    assert duties.partners == ("CHN",)
    assert reply.actor == "CHN"
    assert "DEU" in reply.partners
    assert "GBR" not in reply.partners

    doc = _base()
    doc["retaliation"] = [{"actor": "CHN", "policy": "none", "source": "test"}]
    quiet = run_scenario(_write(tmp_path, doc), model=wiod)
    assert [m.id for m in quiet.moves] == ["us-chip-tightening"]
    assert quiet.total_cumulative_loss < run.total_cumulative_loss


def test_inventories_delay_and_substitution_softens(wiod: IOModel, tmp_path: Path) -> None:
    doc = _base()
    doc["retaliation"] = []
    doc["dynamic"] = {"inventory_weeks": {"default": 0}, "substitution_share": 0.0,
                      "substitution_weeks": 1, "source": "test"}  # fmt: skip
    flat = run_scenario(_write(tmp_path, doc), model=wiod)
    weekly = flat.static_annual_loss / WEEKS_PER_YEAR
    assert [w.total_loss for w in flat.timeline] == pytest.approx([weekly] * 52)
    # 3 weeks of stock against a cut of 80 % of the product: 3.75 weeks covered.
    doc["dynamic"]["inventory_weeks"] = {"default": 3}  # type: ignore[index]
    stocked = run_scenario(_write(tmp_path, doc), model=wiod)
    losses = [w.total_loss for w in stocked.timeline]
    assert losses[:3] == [0.0] * 3
    # Week 3: 0.6 of stock left against 0.8 missing: a quarter of the full loss.
    assert losses[3] == pytest.approx(0.25 * weekly, rel=0.05)  # Ghosh is near-linear here
    assert losses[4] == pytest.approx(weekly)
    doc["dynamic"]["substitution_share"] = 0.5  # type: ignore[index]
    doc["dynamic"]["substitution_weeks"] = 10  # type: ignore[index]
    subst = run_scenario(_write(tmp_path, doc), model=wiod)
    tail = [w.total_loss for w in subst.timeline[20:]]
    assert tail[0] < weekly
    assert tail == pytest.approx([tail[0]] * len(tail))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("moves", 0, "actor", "XXX"), r"field 'moves\[0\].actor': unknown country 'XXX'"),
        (("moves", 0, "sector", "c99"), r"field 'moves\[0\].sector': unknown sector 'c99'"),
        (("moves", 0, "magnitude", 1.5), r"field 'moves\[0\]': .*magnitude 1.5 above 1"),
        (
            ("moves", 0, "partners", ["@nowhere"]),
            r"field 'moves\[0\].partners\[0\]': unknown group",
        ),
        (("moves", 0, "kind", "embargo"), r"field 'moves\[0\].kind': Input should be"),
        (("retaliation", 0, "sector", "c0"), r"field 'retaliation\[0\].sector': unknown sector"),
    ],
)
def test_bad_scenarios_name_file_and_field(
    wiod: IOModel, tmp_path: Path, change: tuple[str, int, str, object], message: str
) -> None:
    doc = _base()
    top, i, key, value = change
    doc[top][i][key] = value  # type: ignore[index]
    path = _write(tmp_path, doc)
    with pytest.raises(ScenarioError, match=rf"{path}: {message}"):
        run_scenario(path, model=wiod)


def test_bad_files(tmp_path: Path) -> None:
    doc = _base()
    del doc["dynamic"]
    with pytest.raises(ScenarioError, match=r"s.yaml: field 'dynamic': Field required"):
        load_scenario(_write(tmp_path, doc))
    broken = tmp_path / "b.yaml"
    broken.write_text("moves: [\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"b.yaml: not valid YAML"):
        load_scenario(broken)
    with pytest.raises(ScenarioError, match="no such scenario in the library"):
        library_path("nope")


def test_compare_and_cli(wiod: IOModel) -> None:
    a = run_scenario(library_path("eu-china-ev-tariffs"), model=wiod)
    b = run_scenario(library_path("us-chip-controls-tightening"), model=wiod)
    cmp = compare(a, b)
    deu = next(line for line in cmp.lines if line.country == "DEU")
    assert deu.difference == pytest.approx(deu.b_cumulative_loss - deu.a_cumulative_loss)
    assert sum(line.a_cumulative_loss for line in cmp.lines) == pytest.approx(
        a.total_cumulative_loss
    )
    runner = CliRunner()
    out = runner.invoke(app, ["scenario", "run", "eu-china-ev-tariffs", "--format", "json"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.output)
    assert doc["total_cumulative_loss"] == pytest.approx(a.total_cumulative_loss)
    out = runner.invoke(app, ["scenario", "compare", "eu-china-ev-tariffs",
                              "us-chip-controls-tightening", "--format", "json"])  # fmt: skip
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["b_total"] == pytest.approx(b.total_cumulative_loss)
    bad = runner.invoke(app, ["scenario", "run", "missing.yaml"])
    assert bad.exit_code == 1
    assert "file not found" in bad.output
