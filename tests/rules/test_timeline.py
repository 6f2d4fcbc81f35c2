"""Timelines, rule diffs, US/EU alignment and the vectorised batch."""

from __future__ import annotations

import random
from datetime import date

import numpy as np
import pytest

from conftest import shared_file
from econsec.model.rules import Regime
from econsec.rules.batch import answer_key, determine_many
from econsec.rules.determine import DeterminationError, determine
from econsec.rules.items import load_catalogue
from econsec.rules.regimes import change_dates
from econsec.rules.timeline import align, diff, timeline


@pytest.fixture(autouse=True)
def _country_groups() -> None:
    shared_file("rules/ecfr_2026-07-23/country-groups.json")


def test_h20_timeline_to_china() -> None:
    steps = timeline(load_catalogue().get("H20"), "CN", date(2022, 10, 7), date(2026, 7, 1), "us")
    days = [s.on for s in steps]
    assert days == [date(2022, 10, 7), date(2025, 4, 9), date(2025, 7, 14)]
    assert any("False → True" in c for c in steps[1].changes)
    assert any("presumption of approval" in c for c in steps[2].changes)


def test_h800_timeline_shows_the_2023_rule() -> None:
    steps = timeline(load_catalogue().get("H800"), "CN", date(2022, 10, 7), date(2024, 1, 1), "us")
    assert [s.on for s in steps] == [date(2022, 10, 7), date(2023, 11, 17)]
    with pytest.raises(DeterminationError, match="before from"):
        timeline(load_catalogue().get("H800"), "CN", date(2024, 1, 1), date(2023, 1, 1))


def test_diff_between_dates() -> None:
    changes = {
        (c.kind, c.rule_id): (c.before, c.after) for c in diff(date(2025, 5, 12), date(2025, 5, 13))
    }
    assert changes == {("US control", "ai-diffusion"): ("in force", "in force, not enforced")}
    after = {(c.kind, c.rule_id): c.after for c in diff(date(2023, 11, 16), date(2023, 11, 17))}
    assert after[("entry", "US 3A090.a")] == "2023-11"
    assert after[("US licence exception", "NAC")] == "in force"
    assert diff(date(2024, 3, 1), date(2024, 3, 2)) == ()


def test_align_finds_divergence() -> None:
    catalogue = load_catalogue()
    result = align(
        date(2026, 1, 1), [catalogue.get("H100"), catalogue.get("NXT:2000i")], ["CN", "JP", "BR"]
    )
    assert result.combinations == 6
    pairs = {(d.item_id, d.destination): d for d in result.divergent}
    # EU needs an authorisation for H100 to Brazil (Annex I 3A090 since 2025/2003); the US does not.
    brazil = pairs[("nvidia-h100-sxm", "BR")]
    assert (brazil.us.licence_required, brazil.eu.licence_required) == (False, True)
    # Both require a licence for China: no divergence there.
    assert ("nvidia-h100-sxm", "CN") not in pairs
    # The Dutch national control on DUV has no US counterpart for the machine as given.
    assert ("asml-nxt-2000i", "CN") in pairs or any(
        d.item_id == "asml-nxt-2000i" for d in result.undetermined
    )


def test_batch_equals_one_call_at_a_time() -> None:
    items = list(load_catalogue())
    days = [d for d in change_dates() if d >= date(2022, 10, 7)]
    result = determine_many(items, None, days, "both")
    assert result.index[Regime.US].shape == (len(items), len(result.destinations), len(days))
    assert result.engine_calls < result.size  # the point of the batch
    rng = random.Random(4)
    for _ in range(150):
        i = rng.randrange(len(items))
        c = rng.randrange(len(result.destinations))
        d = rng.randrange(len(days))
        one = determine(items[i], result.destinations[c], days[d], regime="both")
        for a in one.answers:
            assert result.key(a.regime, i, c, d) == answer_key(a)
    required = result.licence_required(Regime.US)
    assert set(np.unique(required)) <= {-1, 0, 1}
    h100 = result.items.index("nvidia-h100-sxm")
    cn = result.destinations.index("CN")
    assert (required[h100, cn, :] == 1).all()
