"""Classification: TPP, performance density, every 3A090 threshold boundary,
the October 2022 interconnect test, HBM density, sparse figures and missing inputs."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from econsec.model.rules import ItemKind, Regime
from econsec.rules.classify import ClassifyError, classify
from econsec.rules.items import ItemError, item_from_params, load_catalogue

NOV_2023 = date(2024, 1, 1)
OCT_2022 = date(2022, 11, 1)


def chip(fp16: float, die: float | None, datacenter: bool | None = True, **extra: Any) -> Any:
    params: dict[str, Any] = {
        "kind": "ic",
        "performance": [{"precision": "FP16", "bit_length": 16, "tops": fp16}],
        "datacenter": datacenter,
        **extra,
    }
    if die is not None:
        params["die_area_mm2"] = die
    return item_from_params(params)


def us(item: Any, on: date = NOV_2023) -> dict[str, bool]:
    return {m.entry: m.certain for m in classify(item, on, [Regime.US]).entries}


@pytest.mark.parametrize(
    ("fp16", "die", "expected"),
    [
        # TPP exactly 4800 (300 × 16) meets 3A090.a.1 whatever the density.
        (300, 10_000, {"3A090.a": True}),
        (299.99, 10_000, {}),
        # PD exactly 5.92 (2368 / 400) with TPP >= 1600 meets 3A090.a.2 ...
        (148, 400, {"3A090.a": True}),
        # ... just below it, the item falls to 3A090.b.2 (3.2 <= PD < 5.92).
        (148, 400.1, {"3A090.b": True}),
        # PD exactly 1.6 (2400 / 1500) with 2400 <= TPP < 4800: 3A090.b.1.
        (150, 1500, {"3A090.b": True}),
        (150, 1500.1, {}),
        # PD exactly 3.2 (1600 / 500) with TPP >= 1600: 3A090.b.2.
        (100, 500, {"3A090.b": True}),
        (100, 500.1, {}),
        # TPP just below 1600: nothing, however dense.
        (99.99, 10, {}),
    ],
)
def test_3a090_boundaries(fp16: float, die: float, expected: dict[str, bool]) -> None:
    assert us(chip(fp16, die)) == expected


def test_tpp_and_density_are_reported() -> None:
    result = classify(chip(148, 400), NOV_2023, [Regime.US])
    assert result.tpp == 2368
    assert result.performance_density == pytest.approx(5.92)
    match = result.entries[0]
    assert any(c.parameter == "performance_density" and c.holds for c in match.comparisons)
    assert any("PD = 2368 ÷ 400" in line for line in result.reasoning)


def test_tpp_sums_units_and_takes_highest_precision() -> None:
    item = item_from_params(
        {
            "kind": "ic",
            "datacenter": True,
            "die_area_mm2": 10_000,
            "performance": [
                {"precision": "FP16", "bit_length": 16, "tops": 150, "unit": "die 1"},
                {"precision": "FP16", "bit_length": 16, "tops": 150, "unit": "die 2"},
                {"precision": "INT8", "bit_length": 8, "tops": 500},
            ],
        }
    )
    result = classify(item, NOV_2023, [Regime.US])
    assert result.tpp == 4800  # 2 × 150 × 16 beats 500 × 8 = 4000
    assert result.entry_ids() == ("3A090.a",)


def test_sparse_figures_never_count() -> None:
    item = item_from_params(
        {
            "kind": "ic",
            "datacenter": True,
            "die_area_mm2": 800,
            "performance": [
                {"precision": "FP16", "bit_length": 16, "tops": 200},
                {"precision": "FP16", "bit_length": 16, "tops": 400, "sparse": True},
            ],
        }
    )
    result = classify(item, NOV_2023, [Regime.US])
    # Dense 200 × 16 = 3200, PD 4 → 3A090.b; the sparse 6400 would have been 3A090.a.
    assert result.tpp == 3200
    assert result.entry_ids() == ("3A090.b",)
    assert any("with sparsity) ignored" in line for line in result.reasoning)


def test_sparse_figure_flagged_as_dense_is_an_error() -> None:
    with pytest.raises(ItemError, match=r"performance.*sparse figure was flagged as dense"):
        item_from_params(
            {
                "kind": "ic",
                "performance": [
                    {"precision": "FP8", "bit_length": 8, "tops": 3958},
                    {"precision": "FP8", "bit_length": 8, "tops": 3958, "sparse": True},
                ],
            }
        )


def test_only_sparse_figures_leave_tpp_unknown() -> None:
    item = item_from_params(
        {
            "kind": "ic",
            "datacenter": True,
            "die_area_mm2": 800,
            "performance": [{"precision": "FP16", "bit_length": 16, "tops": 400, "sparse": True}],
        }
    )
    result = classify(item, NOV_2023, [Regime.US])
    assert result.tpp is None
    assert not result.complete
    assert all(not m.certain for m in result.entries)
    assert any("performance" in m.field for m in result.missing)


def test_missing_die_area_is_incomplete_when_it_matters() -> None:
    result = classify(chip(148, None), NOV_2023, [Regime.US])
    assert result.performance_density is None
    assert {m.entry: m.certain for m in result.entries} == {"3A090.a": False, "3A090.b": False}
    (missing,) = result.missing
    assert "die_area_mm2" in missing.field
    assert "3A090.a" in missing.effect
    assert "3A090.b" in missing.effect


def test_missing_die_area_does_not_matter_above_4800() -> None:
    result = classify(chip(400, None), NOV_2023, [Regime.US])
    assert result.entry_ids() == ("3A090.a",)
    assert result.entries[0].certain
    assert result.complete


def test_not_datacenter_below_4800_is_outside_3a090() -> None:
    assert us(chip(148, 400, datacenter=False)) == {}
    # ... and an unknown marketing answer is a possible match, not a pass.
    result = classify(chip(148, 400, datacenter=None), NOV_2023, [Regime.US])
    assert [m.certain for m in result.entries] == [False]
    assert any("datacenter" in m.field for m in result.missing)
    # Above 4800 the datacentre note does not help.
    assert us(chip(300, 10_000, datacenter=False)) == {"3A090.a": True}


@pytest.mark.parametrize(("link", "expected"), [(600, True), (599.9, False)])
def test_october_2022_interconnect_test(link: float, expected: bool) -> None:
    item = chip(300, 800, interconnect_gbps=link)
    assert ("3A090.a" in us(item, OCT_2022)) is expected
    # The same chip is 3A090.a under the November 2023 text whatever its interconnect.
    assert us(item, date(2023, 11, 17)) == {"3A090.a": True}


def test_a800_and_h800_escape_october_2022_only() -> None:
    catalogue = load_catalogue()
    for name in ("A800", "H800"):
        item = catalogue.get(name)
        assert us(item, date(2023, 11, 16)) == {}
        assert us(item, date(2023, 11, 17)) == {"3A090.a": True}
    assert us(catalogue.get("H100"), date(2023, 11, 16)) == {"3A090.a": True}


@pytest.mark.parametrize(("bandwidth", "expected"), [(200, False), (200.1, True)])
def test_hbm_bandwidth_density_boundary(bandwidth: float, expected: bool) -> None:
    stack = item_from_params(
        {"kind": "hbm", "memory_bandwidth_gbps": bandwidth, "package_area_mm2": 100}
    )
    # exactly 2 GB/s/mm² is not "greater than 2"
    assert ("3A090.c" in us(stack, date(2025, 1, 1))) is expected
    assert us(stack, date(2024, 12, 1)) == {}  # before 89 FR 96790


def test_hbm_without_package_area_is_incomplete() -> None:
    stack = item_from_params({"kind": "hbm", "memory_bandwidth_gbps": 819})
    result = classify(stack, date(2025, 1, 1), [Regime.US])
    assert [m.certain for m in result.entries] == [False]
    assert "package_area_mm2" in result.missing[0].field


def test_computer_takes_its_ic() -> None:
    dgx = load_catalogue().get("DGX H100")
    assert dgx.kind is ItemKind.COMPUTER
    result = classify(dgx, NOV_2023, [Regime.US])
    assert result.entry_ids() == ("4A090.a",)
    assert result.tpp == pytest.approx(15831.2)


def test_z_paragraph_needs_the_declared_base_entry() -> None:
    base = {
        "kind": "ic",
        "datacenter": True,
        "die_area_mm2": 800,
        "performance": [{"precision": "FP16", "bit_length": 16, "tops": 400}],
    }
    assert "5A992.z" not in us(item_from_params(base))
    declared = item_from_params({**base, "declared": ["US:5A992.c"]})
    assert us(declared) == {"3A090.a": True, "5A992.z": True}


def test_date_before_first_rule_is_an_error() -> None:
    with pytest.raises(ClassifyError, match="before the first US rule"):
        classify(chip(300, 800), date(2022, 10, 6), [Regime.US])


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"kind": "gpu"}, "field 'kind'"),
        ({"die_area_mm2": -5}, "field 'die_area_mm2': must be a positive number"),
        ({"die_area_mm2": "big"}, "field 'die_area_mm2': 'big' is not a number"),
        ({"performance": [{"precision": "FP16", "tops": 1}]}, "field 'bit_length': missing"),
        ({"origin": "Atlantis"}, "field 'origin'"),
        ({"us_content_percent": 120}, "above 100"),
        (
            {"kind": "hbm", "performance": [{"precision": "FP16", "bit_length": 16, "tops": 1}]},
            "no processing-unit rates",
        ),
        ({"tpp": 5000}, "field 'tpp': unknown field"),
    ],
)
def test_bad_parameters(params: dict[str, Any], words: str) -> None:
    with pytest.raises(ItemError, match=words):
        item_from_params(params)


def test_reasoning_keeps_any_of_all_of_structure_and_exclusion() -> None:
    # TPP 2368, PD exactly 5.92: only the second alternative of 3A090.a holds.
    result = classify(chip(148, 400), NOV_2023, [Regime.US])
    match = next(m for m in result.entries if m.entry == "3A090.a")
    ev = match.evaluation
    assert ev is not None
    assert [g.holds for g in ev.when] == [False, True]
    assert [[c.parameter for c in g.comparisons] for g in ev.when] == [
        ["tpp"],
        ["tpp", "performance_density"],
    ]
    assert ev.excluded is False
    assert ev.outcome is True
    line = next(r for r in result.reasoning if r.startswith("US 3A090.a"))
    assert "(TPP 2368 ≥ 4800 ✗) or (TPP ≥ 1600 ✓ and PD 5.92 ≥ 5.92 ✓)" in line
    assert "exclusion (not datacenter and TPP < 4800) does not apply" in line


def test_reasoning_names_the_exclusion_that_applies() -> None:
    # Same chip, not designed or marketed for datacentres: Note 2 excludes it.
    result = classify(chip(148, 400, datacenter=False), NOV_2023, [Regime.US])
    assert result.entries == ()
    line = next(r for r in result.reasoning if r.startswith("US 3A090.a"))
    assert ": no — " in line
    assert "applies: (not datacenter (datacenter: false) ✓ and TPP < 4800 ✓)" in line


def test_reasoning_marks_an_exclusion_undecided_by_a_missing_input() -> None:
    result = classify(chip(148, 400, datacenter=None), NOV_2023, [Regime.US])
    match = next(m for m in result.entries if m.entry == "3A090.a")
    assert match.evaluation is not None
    assert match.evaluation.excluded is None
    assert not match.certain
    line = next(r for r in result.reasoning if r.startswith("US 3A090.a"))
    assert "possible, inputs missing" in line
    assert "undecided (inputs missing)" in line
    assert "datacenter: missing" in line
