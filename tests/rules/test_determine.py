"""Licence determinations on real country groups (eCFR 2026-07-23) for the
catalogue's products across the policy timeline, US and EU."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from conftest import shared_file
from econsec.model.rules import Policy, Regime, RegimeAnswer
from econsec.rules.determine import (
    DeterminationError,
    EndUserCheck,
    EndUserHit,
    determine,
)
from econsec.rules.items import item_from_params, load_catalogue


@pytest.fixture(autouse=True)
def _country_groups() -> None:
    shared_file("rules/ecfr_2026-07-23/country-groups.json")


def answer(
    product: str, dest: str, day: str, regime: Regime = Regime.US, **kw: Any
) -> RegimeAnswer:
    result = determine(
        load_catalogue().get(product), dest, date.fromisoformat(day), regime=regime, **kw
    )
    found = result.answer(regime)
    assert found is not None
    return found


def exceptions(a: RegimeAnswer) -> dict[str, bool]:
    return {e.symbol: e.available for e in a.exceptions}


def test_h100_to_china_across_the_timeline() -> None:
    a = answer("H100", "CN", "2022-11-01")
    assert (a.licence_required, a.policy) == (True, Policy.PRESUMPTION_OF_DENIAL)
    assert any("87 FR 62186" in c for c in a.citations)
    a = answer("H100", "CN", "2024-01-01")
    assert (a.licence_required, a.policy) == (True, Policy.PRESUMPTION_OF_DENIAL)
    assert any("88 FR 73458" in c for c in a.citations)
    # NAC/ACA are considered and refused with the reason.
    nac = next(e for e in a.exceptions if e.symbol == "NAC")
    assert not nac.available
    assert "datacenter" in nac.reason


def test_h800_escaped_the_2022_rule_until_november_2023() -> None:
    assert answer("H800", "CN", "2023-11-16").licence_required is False
    assert answer("H800", "CN", "2023-11-17").licence_required is True


def test_macau_and_hong_kong() -> None:
    # Macau is not in D:5 but is named: presumption of denial like D:5.
    a = answer("H100", "MO", "2024-01-01")
    assert (a.licence_required, a.policy) == (True, Policy.PRESUMPTION_OF_DENIAL)
    a = answer("H100", "HK", "2024-01-01")
    assert a.licence_required is True
    assert any("85 FR 83788" in line for line in a.reasoning)


def test_d1_destination_outside_d5() -> None:
    a = answer("H100", "KZ", "2024-01-01")  # D:1, not D:5, not A:5/A:6
    assert (a.licence_required, a.policy) == (True, Policy.PRESUMPTION_OF_APPROVAL)
    assert answer("H100", "IL", "2024-01-01").licence_required is False  # D:4 but A:6


def test_diffusion_rule_and_its_enforcement_overlay() -> None:
    # Tier 1 during enforcement: licence required in the text, AIA covers it.
    a = answer("H100", "FR", "2025-03-01")
    assert a.licence_required is True
    assert exceptions(a)["AIA"] is True
    assert exceptions(a)["LPP"] is False
    # Tier 2: LPP available, AIA not.
    a = answer("H100", "IN", "2025-03-01")
    assert exceptions(a)["LPP"] is True
    assert exceptions(a)["AIA"] is False
    # From 2025-05-13 the rule is not enforced though still in the CFR text.
    a = answer("H100", "IN", "2025-05-13")
    assert a.licence_required is False
    assert a.policy is Policy.NOT_REQUIRED
    (req,) = [r for r in a.requirements if r.rule_id == "ai-diffusion"]
    assert not req.enforced
    assert any("not enforce" in c for c in a.citations)
    assert answer("H100", "IN", "2025-05-12").licence_required is True


def test_h20_notice_and_reallowance() -> None:
    assert answer("H20", "CN", "2025-04-08").licence_required is False
    a = answer("H20", "CN", "2025-04-09")
    assert (a.licence_required, a.policy) == (True, Policy.PRESUMPTION_OF_DENIAL)
    assert a.classification == ()  # not 3A090: the requirement is by notice
    a = answer("H20", "CN", "2025-08-01")
    assert (a.licence_required, a.policy) == (True, Policy.PRESUMPTION_OF_APPROVAL)
    assert any("15 %" in c for c in a.conditions)


def test_h200_case_by_case_from_2026_01_15() -> None:
    a = answer("H200", "CN", "2025-12-20")
    assert a.policy is Policy.PRESUMPTION_OF_DENIAL
    assert any("25 %" in c for c in a.conditions)
    a = answer("H200", "CN", "2026-01-15")
    assert (a.licence_required, a.policy) == (True, Policy.CASE_BY_CASE)
    # Venezuela (D:5) keeps the presumption of denial; Russia (D:5 and part
    # 746.8) has a policy of denial.
    assert answer("H200", "VE", "2026-01-15").policy is Policy.PRESUMPTION_OF_DENIAL
    assert answer("H200", "RU", "2026-01-15").policy is Policy.POLICY_OF_DENIAL


def test_consumer_gpu_nac_to_china_aca_elsewhere() -> None:
    a = answer("RTX 4090", "CN", "2024-01-01")
    assert a.licence_required is True
    assert exceptions(a) == {"NAC": True, "ACA": False}
    a = answer("RTX 4090", "KZ", "2024-01-01")
    assert exceptions(a) == {"NAC": False, "ACA": True}


def test_hbm_from_december_2024() -> None:
    assert answer("HBM3", "CN", "2024-12-01").licence_required is False
    a = answer("HBM3", "CN", "2024-12-02")
    assert a.licence_required is True
    assert exceptions(a) == {"HBM": False}


def test_embargoed_destination_needs_a_licence_for_any_item() -> None:
    a = answer("H20", "IR", "2024-01-01")
    assert (a.licence_required, a.policy) == (True, Policy.POLICY_OF_DENIAL)


def test_foreign_made_item_without_us_content_is_undetermined() -> None:
    a = answer("Ascend 910B", "RU", "2025-01-01")
    assert a.licence_required is None
    assert a.policy is Policy.UNDETERMINED
    assert any(m.field == "us_content_percent" for m in a.missing)
    item = item_from_params(
        {
            "kind": "ic",
            "origin": "CN",
            "us_content_percent": 40,
            "datacenter": True,
            "die_area_mm2": 600,
            "performance": [{"precision": "FP16", "bit_length": 16, "tops": 320}],
        }
    )
    r = determine(item, "RU", date(2025, 1, 1), regime="us").answer(Regime.US)
    assert r is not None
    assert r.licence_required is True


def test_missing_input_gives_incomplete_answer_only_where_it_matters() -> None:
    item = item_from_params(
        {
            "kind": "ic",
            "datacenter": True,
            "performance": [{"precision": "FP16", "bit_length": 16, "tops": 148}],
        }
    )
    r = determine(item, "CN", date(2024, 1, 1), regime="us").answer(Regime.US)
    assert r is not None
    assert r.licence_required is None
    assert not r.complete
    assert "die_area_mm2" in r.missing[0].field
    r = determine(item, "FR", date(2024, 1, 1), regime="us").answer(Regime.US)
    assert r is not None
    assert r.licence_required is False
    assert r.complete


def test_end_user_not_screened_or_on_the_entity_list() -> None:
    a = answer("H20", "CN", "2024-01-01", end_user="Some Buyer Ltd")
    assert a.licence_required is None
    assert any(m.field == "end_user screening" for m in a.missing)
    hit = EndUserHit(
        "us_csl:1",
        "EL",
        "SOME BUYER LTD",
        1.0,
        "For all items subject to the EAR",
        "Presumption of denial",
    )
    check = EndUserCheck("Some Buyer Ltd", (hit,), "screened")
    a = answer("H20", "CN", "2024-01-01", end_user="Some Buyer Ltd", end_user_check=check)
    assert (a.licence_required, a.policy) == (True, Policy.PRESUMPTION_OF_DENIAL)
    assert any("744.11" in c for c in a.citations)


def test_eu_answers() -> None:
    # Before Delegated Regulation 2025/2003 the EU had no 3A090 entry.
    a = answer("H100", "CN", "2025-11-14", Regime.EU)
    assert a.licence_required is False
    assert any("Art. 4" in c and "arms embargo" in c for c in a.conditions)
    a = answer("H100", "CN", "2025-11-15", Regime.EU)
    assert (a.licence_required, a.classification) == (True, ("3A090.a",))
    assert exceptions(a) == {"EU001": False}
    a = answer("H100", "JP", "2025-11-15", Regime.EU)
    assert a.licence_required is True
    assert exceptions(a) == {"EU001": True}
    assert answer("H100", "DE", "2026-01-01", Regime.EU).licence_required is False
    # National list (NL) from its date; EU001 does not cover national entries.
    assert answer("NXT:2000i", "CN", "2023-08-31", Regime.EU).licence_required is False
    a = answer("NXT:2000i", "CN", "2023-09-01", Regime.EU)
    assert a.licence_required is True
    assert a.classification == ("NL:2023-semiconductor",)
    a = answer("NXE:3600D", "US", "2024-01-01", Regime.EU)
    assert a.licence_required is True
    assert exceptions(a) == {"EU001": True}


def test_both_regimes_and_bad_requests() -> None:
    result = determine(load_catalogue().get("H100"), "cn", date(2026, 1, 1), regime="both")
    assert result.destination == "CN"
    assert [a.regime for a in result.answers] == [Regime.US, Regime.EU]
    with pytest.raises(DeterminationError, match="'ZZ': not an ISO"):
        determine(load_catalogue().get("H100"), "ZZ", date(2026, 1, 1))
    with pytest.raises(DeterminationError, match="before the first US rule"):
        determine(load_catalogue().get("H100"), "CN", date(2020, 1, 1), regime="us")
    with pytest.raises(DeterminationError, match="regime: 'uk'"):
        determine(load_catalogue().get("H100"), "CN", date(2026, 1, 1), regime="uk")


def test_macau_entered_the_2022_scope_on_2023_01_17() -> None:
    # 87 FR 62186 named China only; 88 FR 2821 added Macau from 2023-01-17.
    before = answer("H100", "MO", "2023-01-16")
    assert before.licence_required is False
    assert answer("H100", "CN", "2023-01-16").licence_required is True
    after = answer("H100", "MO", "2023-01-17")
    assert (after.licence_required, after.policy) == (True, Policy.PRESUMPTION_OF_DENIAL)
    assert any("88 FR 2821" in c for c in after.citations)


def test_russia_and_belarus_need_a_licence_for_any_ccl_item() -> None:
    # 15 CFR 746.8(a)(1): every item on the CCL, policy of denial (746.8(b)(1)),
    # whatever the advanced-computing rules say for the item.
    for product, dest in (("H100", "RU"), ("H20", "BY"), ("HBM3", "RU")):
        a = answer(product, dest, "2026-08-01")
        assert (a.licence_required, a.policy) == (True, Policy.POLICY_OF_DENIAL), product
        assert any("746.8(a)(1)" in c for c in a.citations)
    # Not for a neighbour outside the scope.
    kz = answer("H20", "KZ", "2026-08-01")
    assert not any("746.8" in c for c in kz.citations)
