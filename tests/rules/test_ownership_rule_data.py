"""The ownership rule data: periods, owner selection, the most restrictive requirement."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from conftest import shared_file
from econsec.lists import csl
from econsec.model.party import Party, Schema, SourceRef
from econsec.rules.ownership import RuleDataError, load_rules, parse_rules

RULES = load_rules()


def _party(list_code: str, programs: tuple[str, ...] = (), **kw: str) -> Party:
    return Party(
        entity_id=f"test:{list_code}",
        source="test",
        list=list_code,
        list_entry_id="1",
        schema=Schema.ORGANIZATION,
        name="X",
        source_ref=SourceRef("f", "line 1"),
        programs=programs,
        **kw,  # type: ignore[arg-type]
    )


def test_affiliates_rule_periods() -> None:
    rule = RULES.get("bis-affiliates")
    assert [
        rule.applies(date.fromisoformat(d))
        for d in ("2025-09-28", "2025-09-29", "2025-11-10", "2026-11-09", "2026-11-10")
    ] == [False, True, False, False, True]
    assert RULES.get("ofac-50").applies(date(2026, 7, 23))


def test_owner_selection() -> None:
    bis, ofac = RULES.get("bis-affiliates"), RULES.get("ofac-50")
    assert bis.selector_for(_party("EL")) is not None
    assert bis.selector_for(_party("MEU")) is not None
    assert bis.selector_for(_party("SDN", ("RUSSIA-EO14024",))) is not None
    assert bis.selector_for(_party("SDN", ("[SDGT]",))) is not None
    assert bis.selector_for(_party("SDN", ("CUBA",))) is None
    assert bis.selector_for(_party("DPL")) is None
    assert ofac.selector_for(_party("SDN", ("CUBA",))) is not None
    assert ofac.selector_for(_party("EL")) is None


def test_affiliates_rule_takes_the_fourteen_programmes_of_744_8() -> None:
    # 89 FR 20107 (2024-03-21): seven Russia/Ukraine/Belarus orders, three on
    # terrorism and proliferation, four on narcotics and criminal networks.
    bis = RULES.get("bis-affiliates")
    fourteen = (
        "BELARUS",
        "UKRAINE-EO13660",
        "UKRAINE-EO13661",
        "UKRAINE-EO13662",
        "UKRAINE-EO13685",
        "RUSSIA-EO14024",
        "BELARUS-EO14038",
        "FTO",
        "SDGT",
        "NPWMD",
        "TCO",
        "ILLICIT-DRUGS-EO14059",
        "SDNT",
        "SDNTK",
    )
    assert all(bis.selector_for(_party("SDN", (p,))) is not None for p in fourteen)
    for other in ("IRAN", "DPRK3", "GLOMAG", "CYBER2", "VENEZUELA-EO13850"):
        assert bis.selector_for(_party("SDN", (other,))) is None, other


def test_most_restrictive_with_the_entries_own_words() -> None:
    """The CSL format samples' EL and MEU entries state their requirement and policy."""
    parties = [
        p
        for name in ("consolidated_2025_sample.csv", "csl_2019_sample.csv")
        for p in csl.parse(shared_file(f"lists/us_csl_format_samples/{name}")).parties
    ]
    rule = RULES.get("bis-affiliates")
    reqs = {p.entity_id: rule.requirement_for(p) for p in parties if p.list in ("EL", "MEU")}
    policies = {r.policy for r in reqs.values() if r is not None}
    assert any(p.lower().startswith("presumption of denial") for p in policies)
    denial = next(
        r for r in reqs.values() if r is not None and r.policy.startswith("Policy of denial")
    )
    presumption = next(
        r for r in reqs.values() if r is not None and "resumption of denial" in r.policy
    )
    meu = next(r for p, r in reqs.items() if r is not None and "supplement no. 2" in r.scope)
    order = RULES.restrictiveness
    assert order.most_restrictive([meu, presumption, denial]) is denial
    assert order.most_restrictive([meu, presumption]) is presumption
    assert denial.origin.startswith("list entry ")
    scope = order.scope(meu.scope)
    assert scope is not None
    assert scope.id == "supp2_744"


def test_entry_without_words_gets_the_rule_default() -> None:
    req = RULES.get("bis-affiliates").requirement_for(_party("EL"))
    assert req is not None
    assert req.origin == "rule default for EL"
    assert "all items subject to the EAR" in req.scope


def test_bad_rule_file(tmp_path: Path) -> None:
    text = (
        Path(__file__)
        .parents[2]
        .joinpath("src/econsec/rules/data/ownership_rules.yaml")
        .read_text()
    )
    bad = tmp_path / "rules.yaml"
    bad.write_text(text.replace("threshold_percent: 50", "threshold_percent: 150", 1))
    with pytest.raises(RuleDataError, match=r"rules\[0\] \(ofac-50\), field 'threshold_percent'"):
        load_rules(bad)
    with pytest.raises(RuleDataError, match="field 'format'"):
        parse_rules("format: 2\n", "x.yaml")
