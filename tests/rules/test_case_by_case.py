"""The 2026-01-15 case-by-case criteria (91 FR 1684) evaluated as tests, and the
License Exception HBM parameter (89 FR 96790), at each boundary."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from conftest import shared_file
from econsec.model.rules import Policy, Regime, RegimeAnswer
from econsec.rules.determine import determine
from econsec.rules.items import item_from_params, load_catalogue


@pytest.fixture(autouse=True)
def _country_groups() -> None:
    shared_file("rules/ecfr_2026-07-23/country-groups.json")


def us(item: Any, dest: str = "CN", day: str = "2026-02-01") -> RegimeAnswer:
    if isinstance(item, str):
        item = load_catalogue().get(item)
    found = determine(item, dest, date.fromisoformat(day), regime=Regime.US).answer(Regime.US)
    assert found is not None
    return found


def chip(fp8_tops: float, dram: float | None) -> dict[str, Any]:
    """A datacentre IC with one dense FP8 rate (TPP = 8 × tops) on a large die."""
    params: dict[str, Any] = {
        "kind": "ic",
        "datacenter": True,
        "die_area_mm2": 814,
        "performance": [{"precision": "FP8", "bit_length": 8, "tops": fp8_tops}],
    }
    if dram is not None:
        params["memory_bandwidth_gbps"] = dram
    return params


def criteria_line(a: RegimeAnswer) -> str:
    return next(r for r in a.reasoning if r.startswith("h200-case-by-case: item criteria"))


def test_named_products_are_evaluated_against_the_criteria() -> None:
    a = us("H200")
    assert (a.licence_required, a.policy) == (True, Policy.CASE_BY_CASE)
    assert "TPP 15831.2 < 21000 ✓" in criteria_line(a)
    assert "total DRAM bandwidth (GB/s) 4800 < 6500 ✓" in criteria_line(a)
    assert any("91 FR 1684" in c for c in a.citations)
    # MI325X: TPP 2614.9 × 8 = 20919.2, 6,000 GB/s: inside, close to the TPP limit.
    a = us("MI325X")
    assert a.policy is Policy.CASE_BY_CASE
    assert "TPP 20919.2 < 21000 ✓" in criteria_line(a)
    # "as well as less advanced chips": the H100 is inside the class.
    assert us("H100").policy is Policy.CASE_BY_CASE
    # B200 (TPP 36,000, 8,000 GB/s) stays at the presumption of denial.
    a = us("B200")
    assert (a.licence_required, a.policy) == (True, Policy.PRESUMPTION_OF_DENIAL)
    assert criteria_line(a).startswith("h200-case-by-case: item criteria not met")
    assert "✗" in criteria_line(a)


def test_tpp_boundary_21000() -> None:
    # 2625 × 8 = 21,000: not "less than 21,000".
    assert us(item_from_params(chip(2625, 4800))).policy is Policy.PRESUMPTION_OF_DENIAL
    assert us(item_from_params(chip(2624.9, 4800))).policy is Policy.CASE_BY_CASE


def test_dram_bandwidth_boundary_6500() -> None:
    assert us(item_from_params(chip(1978.9, 6500))).policy is Policy.PRESUMPTION_OF_DENIAL
    assert us(item_from_params(chip(1978.9, 6499.9))).policy is Policy.CASE_BY_CASE


def test_missing_dram_bandwidth_leaves_the_policy_open() -> None:
    a = us(item_from_params(chip(1978.9, None)))
    assert a.licence_required is True  # the requirement itself is certain
    assert a.policy is Policy.UNDETERMINED
    assert not a.complete
    gap = next(m for m in a.missing if "memory_bandwidth_gbps" in m.field)
    assert "h200-case-by-case" in gap.effect
    assert "presumption of denial" in gap.effect
    assert "? (missing)" in criteria_line(a)
    # Where the control does not reach the destination, the gap does not matter.
    a = us(item_from_params(chip(1978.9, None)), "VE")
    assert (a.policy, a.missing) == (Policy.PRESUMPTION_OF_DENIAL, ())
    # Nor before the rule.
    a = us(item_from_params(chip(1978.9, None)), "CN", "2026-01-14")
    assert (a.policy, a.missing) == (Policy.PRESUMPTION_OF_DENIAL, ())


def test_scope_and_dates() -> None:
    assert us("H200", "CN", "2026-01-14").policy is Policy.PRESUMPTION_OF_DENIAL
    assert us("H200", "MO", "2026-01-15").policy is Policy.CASE_BY_CASE
    assert us("H200", "HK", "2026-01-15").policy is Policy.CASE_BY_CASE
    # D:5 outside China and Macau keeps the presumption of denial.
    assert us("H200", "IR", "2026-02-01").licence_required is True
    assert us("H200", "VE", "2026-02-01").policy is Policy.PRESUMPTION_OF_DENIAL
    # Russia is D:5 too, but part 746.8 denies every CCL item there.
    assert us("H200", "RU", "2026-02-01").policy is Policy.POLICY_OF_DENIAL
    a = us("H200")
    assert any("headquartered" in c for c in a.conditions)
    assert any("third-party testing" in c for c in a.conditions)


def test_computer_takes_the_figures_of_its_ic() -> None:
    server = item_from_params(
        {"kind": "computer", "datacenter": True, "contains": "nvidia-h200"}, "server"
    )
    a = us(server)
    assert "4A090.a" in a.classification
    assert a.policy is Policy.CASE_BY_CASE


def test_headquarters_condition_worldwide() -> None:
    a = us("H100", "DE", "2024-01-01")
    assert a.licence_required is False
    assert any("744.23(a)(3)" in c for c in a.conditions)
    assert not any("744.23(a)(3)" in c for c in us("H100", "DE", "2023-11-16").conditions)


def hbm(bandwidth: float, area: float) -> dict[str, Any]:
    return {"kind": "hbm", "memory_bandwidth_gbps": bandwidth, "package_area_mm2": area}


def test_hbm_exception_below_3_3() -> None:
    eligible = us(item_from_params(hbm(329.9, 100)), "CN", "2025-01-01")
    assert eligible.licence_required is True
    assert {e.symbol: e.available for e in eligible.exceptions} == {"HBM": True}
    at_limit = us(item_from_params(hbm(330, 100)), "CN", "2025-01-01")
    assert {e.symbol: e.available for e in at_limit.exceptions} == {"HBM": False}
    # 2 GB/s/mm² itself is not 3A090.c ("greater than 2").
    assert us(item_from_params(hbm(200, 100)), "CN", "2025-01-01").licence_required is False
    hbm_rule = next(e for e in eligible.exceptions if e.symbol == "HBM")
    assert "89 FR 96790" in hbm_rule.citation
    assert not any(c.startswith("to verify") for c in hbm_rule.conditions)
