"""An end user screened against the real lists: an Entity List hit makes a
licence required with the entry's policy; the affiliates rule's period is stated."""

from __future__ import annotations

from datetime import date

import pytest

from conftest import shared_file
from econsec.model.rules import Policy, Regime
from econsec.rules.determine import determine, screen_end_user
from econsec.rules.items import load_catalogue
from econsec.screening.screen import Screener

pytestmark = pytest.mark.slow


def test_entity_list_end_user(screener: Screener) -> None:
    shared_file("rules/ecfr_2026-07-23/country-groups.json")
    check = screen_end_user("Huawei Technologies Co., Ltd.", screener)
    assert check.hits is not None
    assert any(h.list == "EL" for h in check.hits)
    # The H20 to China before the April 2025 notice needs no licence by itself ...
    item = load_catalogue().get("H20")
    plain = determine(item, "CN", date(2025, 1, 1), regime="us").answer(Regime.US)
    assert plain is not None
    assert plain.licence_required is False
    # ... but does for an Entity List end user, with the entry's policy.
    result = determine(
        item, "CN", date(2025, 1, 1), "Huawei Technologies Co., Ltd.", "us", screener
    ).answer(Regime.US)
    assert result is not None
    assert result.licence_required is True
    assert result.policy is Policy.PRESUMPTION_OF_DENIAL
    assert any(r.rule_id.startswith("entity-list:") for r in result.requirements)
    assert any("744.11" in c for c in result.citations)
    assert any("affiliates rule" in line and "not in force" in line for line in result.reasoning)
    # During the affiliates rule's first period it is flagged as a condition.
    during = determine(
        item, "CN", date(2025, 10, 1), "Huawei Technologies Co., Ltd.", "us", screener
    ).answer(Regime.US)
    assert during is not None
    assert any("owned 50 % or more" in c for c in during.conditions)
