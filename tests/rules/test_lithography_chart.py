"""3B001.f.1 / 3B993.f.1 classified from lithography parameters, and Country
Chart requirements (15 CFR 738 Supp. 1) for ECCNs outside 3A090/4A090."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from conftest import shared_file
from econsec.model.rules import Policy, Regime, RegimeAnswer
from econsec.rules.batch import answer_key, determine_many
from econsec.rules.chart import country_chart, parse_row
from econsec.rules.classify import classify
from econsec.rules.determine import determine
from econsec.rules.ecfr import ccl_paragraphs, ccl_text, destinations
from econsec.rules.items import ItemError, item_from_params, load_catalogue

ECFR = "rules/ecfr_2026-07-23"
AFTER = "2026-08-01"


@pytest.fixture(autouse=True)
def _ecfr() -> None:
    shared_file(f"{ECFR}/country-chart.json")
    shared_file(f"{ECFR}/ccl.json")


def tool(**params: Any) -> dict[str, Any]:
    return {"kind": "equipment", **params}


def entries(params: dict[str, Any], day: str = AFTER, regime: Regime = Regime.US) -> set[str]:
    cls = classify(item_from_params(params), date.fromisoformat(day), (regime,))
    return {m.entry for m in cls.entries if m.certain}


def us(item: Any, dest: str, day: str = AFTER) -> RegimeAnswer:
    if isinstance(item, dict):
        item = item_from_params(item)
    elif isinstance(item, str):
        item = load_catalogue().get(item)
    found = determine(item, dest, date.fromisoformat(day), regime=Regime.US).answer(Regime.US)
    assert found is not None
    return found


# ---- the text the thresholds are quoted from -------------------------------------------


def test_thresholds_are_those_of_the_ecfr_text() -> None:
    text = ccl_text("3B001")
    assert "A light source wavelength shorter than 193 nm" in text
    assert "(MRF) of 45 nm or less" in text
    assert "'dedicated chuck overlay' value of less than or equal to 1.50 nm" in text
    assert {"f.1", "f.1.a", "f.1.b", "f.1.b.1", "f.1.b.2"} <= set(ccl_paragraphs("3B001"))
    text = ccl_text("3B993")
    assert "greater than 1.50 nm and less than or equal to 2.40 nm" in text
    assert {"f.1", "f.1.b", "f.1.b.2"} <= set(ccl_paragraphs("3B993"))


# ---- classification boundaries -------------------------------------------------------


def test_wavelength_boundary_193() -> None:
    # A dry tool with a poor MRF: only the wavelength can put it in 3B001.f.1.
    assert "3B001.f.1" in entries(tool(light_source_wavelength_nm=192.9, numerical_aperture=0.5))
    assert entries(tool(light_source_wavelength_nm=193, numerical_aperture=0.5)) == set()
    euv = tool(light_source_wavelength_nm=13.5, numerical_aperture=0.33)
    assert "3B001.f.1" in entries(euv)
    assert "3B001.f.1" in entries(euv, "2023-01-01")
    assert "3B001.f.1" in entries(euv, regime=Regime.EU)


def test_mrf_boundary_45() -> None:
    at = tool(
        light_source_wavelength_nm=193,
        minimum_resolvable_feature_nm=45,
        dedicated_chuck_overlay_nm=1.5,
    )
    assert entries(at) == {"3B001.f.1"}
    above = {**at, "minimum_resolvable_feature_nm": 45.01}
    assert entries(above) == set()
    # Computed: 193 × 0.25 ÷ 1.35 = 35.74 nm.
    line = next(
        r
        for r in classify(
            item_from_params(tool(light_source_wavelength_nm=193, numerical_aperture=1.35)),
            date.fromisoformat(AFTER),
        ).reasoning
        if r.startswith("MRF =")
    )
    assert "35.74 nm" in line


def test_overlay_boundaries_1_5_and_2_4() -> None:
    def arfi(overlay: float) -> dict[str, Any]:
        return tool(
            light_source_wavelength_nm=193,
            numerical_aperture=1.35,
            dedicated_chuck_overlay_nm=overlay,
        )

    assert entries(arfi(1.5)) == {"3B001.f.1"}
    assert entries(arfi(1.51)) == {"3B993.f.1"}
    assert entries(arfi(2.4)) == {"3B993.f.1"}
    assert entries(arfi(2.41)) == set()
    assert entries(arfi(1.5), regime=Regime.EU) == {"3B001.f.1"}
    assert entries(arfi(1.51), regime=Regime.EU) == set()


def test_earlier_text_k_factor_and_start_of_the_overlay_test() -> None:
    arfi = tool(
        light_source_wavelength_nm=193, numerical_aperture=1.35, dedicated_chuck_overlay_nm=1.4
    )
    # 193 × 0.35 ÷ 1.35 = 50.04 nm > 45 before 2024-09-06; current text from then on.
    assert entries(arfi, "2024-09-05") == set()
    assert entries(arfi, "2024-09-06") == {"3B001.f.1"}
    # MRF with K 0.35 ≤ 45 needs NA ≥ 1.5011.
    assert entries({**arfi, "numerical_aperture": 1.502}, "2024-09-05") == {"3B001.f.1"}
    assert entries({**arfi, "numerical_aperture": 1.5}, "2024-09-05") == set()
    # EU: earlier text until 2025-11-14, 2025/2003 from 2025-11-15.
    assert entries(arfi, "2025-11-14", Regime.EU) == set()
    assert entries(arfi, "2025-11-15", Regime.EU) == {"3B001.f.1"}


def test_missing_overlay_is_a_possible_match_never_a_no() -> None:
    params = tool(light_source_wavelength_nm=193, numerical_aperture=1.35)
    cls = classify(item_from_params(params), date.fromisoformat(AFTER))
    possible = {(m.regime, m.entry) for m in cls.entries if not m.certain}
    assert {(Regime.US, "3B001.f.1"), (Regime.US, "3B993.f.1"), (Regime.EU, "3B001.f.1")} <= (
        possible
    )
    assert any(m.field == "dedicated_chuck_overlay_nm" for m in cls.missing)
    a = us(params, "CN")
    assert a.licence_required is None
    assert "dedicated_chuck_overlay_nm" in {m.field for m in a.missing}


def test_equipment_without_lithography_parameters_is_not_a_scanner() -> None:
    assert entries(tool()) == set()
    assert us(tool(), "CN").licence_required is False


def test_bad_lithography_parameters() -> None:
    with pytest.raises(ItemError, match=r"field 'minimum_resolvable_feature_nm'.*contradicts"):
        item_from_params(
            tool(
                light_source_wavelength_nm=193,
                numerical_aperture=1.35,
                minimum_resolvable_feature_nm=30,
            )
        )
    with pytest.raises(ItemError, match="field 'numerical_aperture'"):
        item_from_params(tool(light_source_wavelength_nm=193, numerical_aperture=13.5))
    with pytest.raises(ItemError, match=r"field 'light_source_wavelength_nm'.*kind"):
        item_from_params({"kind": "ic", "light_source_wavelength_nm": 193})
    with pytest.raises(ItemError, match=r"field 'dedicated_chuck_overlay_nm'.*positive"):
        item_from_params(tool(dedicated_chuck_overlay_nm=-1))


def test_catalogue_scanners() -> None:
    catalogue = load_catalogue()
    day = date.fromisoformat(AFTER)
    found = {
        p: {m.entry for m in classify(catalogue.get(p), day).entries if m.certain}
        for p in ("NXE:3600D", "NXE:3400C", "NXT:2000i", "NXT:1980Di")
    }
    assert "3B001.f.1" in found["NXE:3600D"]
    assert "3B001.f.1" in found["NXE:3400C"]
    assert "3B001.f.1" in found["NXT:2000i"]
    assert "3B993.f.1" in found["NXT:1980Di"]
    assert "3B001.f.1" not in found["NXT:1980Di"]
    for p in ("NXE:3600D", "NXT:2000i", "NXT:1980Di"):
        assert catalogue.get(p).light_source_wavelength_nm is not None
        assert catalogue.get(p).sources


# ---- Country Chart --------------------------------------------------------------------


def test_license_requirement_lines_are_parsed() -> None:
    row = parse_row(
        "3B001", "NS applies to 3B001.a.1 to a.3, b, e, f.2 to f.4, g to j", "NS Column 2."
    )
    assert row.paragraphs == (
        "a.1",
        "a.2",
        "a.3",
        "b",
        "e",
        "f.2",
        "f.3",
        "f.4",
        "g",
        "h",
        "i",
        "j",
    )
    assert (row.reason, row.columns, row.rule) == ("NS", ("NS 2",), None)
    row = parse_row(
        "3B001",
        "NS applies to 3B001.c.1.a, 3B001.c.1.c, and 3B001.q",
        "Worldwide control. See § 742.4(a)(5) and (b)(10) of the EAR.",
    )
    assert (row.paragraphs, row.rule) == (("c.1.a", "c.1.c", "q"), "worldwide")
    row = parse_row(
        "3B001",
        "RS applies to 3B001.a.4, c, d, f.1, f.5, f.6, k to n, p.2, p.4, r",
        "To or within Macau or a destination specified in Country Group D:5 of supplement "
        "no. 1 to part 740 of the EAR. See § 742.6(a)(6) of the EAR.",
    )
    assert row.rule == "macau_d5"
    assert {"k", "l", "m", "n", "f.1"} <= set(row.paragraphs or ())
    assert row.covers("f.1.b") is True
    assert row.covers("f.2") is False
    assert row.covers(None) is None
    assert row.covers("p") is None  # only p.2 and p.4 are listed
    row = parse_row("3B993", "RS applies to entire entry", "See § 742.6(a)(11) of the EAR.")
    assert row.paragraphs is None
    assert not row.encoded
    assert row.hits("CN", frozenset({"D:5"}), frozenset()) is None


def test_every_destination_has_a_row() -> None:
    chart = country_chart()
    for code in destinations().codes():
        if code == "US":
            continue  # the regime's own territory has no row
        assert code in chart.marks or code in chart.embargoed, code
    assert chart.marks_of("HK") == chart.marks_of("CN")
    assert "NS 2" in chart.marks_of("CN")
    assert "NS 2" not in chart.marks_of("DE")


def test_d5_rows_for_3b001_f1() -> None:
    euv = tool(light_source_wavelength_nm=13.5, numerical_aperture=0.33)
    a = us(euv, "CN")
    assert a.licence_required is True
    assert {r.rule_id for r in a.requirements} == {"chart:3B001.f.1:NS", "chart:3B001.f.1:RS"}
    assert a.policy is Policy.NOT_ENCODED
    assert any("License Requirements" in c and "3B001" in c for c in a.citations)
    assert any("738" in c for c in a.citations)
    assert us(euv, "MO").licence_required is True  # Macau is named, not in D:5
    a = us(euv, "DE")
    assert (a.licence_required, a.missing) == (False, ())
    assert any("not for DE" in r for r in a.reasoning)


def test_column_rows_follow_the_marks() -> None:
    # 3B001.f.2 (imprint lithography): NS Column 2.
    imprint = tool(declared=["US:3B001.f.2"])
    assert us(imprint, "CN").licence_required is True
    assert [r.rule_id for r in us(imprint, "CN").requirements] == ["chart:3B001.f.2:NS"]
    assert us(imprint, "DE").licence_required is False  # no X in NS 2 for Germany
    # Worldwide rows: 3B001.c.1.a needs a licence to Germany too.
    etch = tool(declared=["US:3B001.c.1.a"])
    a = us(etch, "DE")
    assert a.licence_required is True
    assert {r.rule_id for r in a.requirements} == {"chart:3B001.c.1.a:NS", "chart:3B001.c.1.a:RS"}
    assert us(etch, "US").licence_required is False


def test_ecc_n_only_declaration_and_unencoded_lines_stay_open() -> None:
    declared = tool(declared=["US:3B001"])
    a = us(declared, "CN")
    assert a.licence_required is None
    assert "3B001 paragraph" in {m.field for m in a.missing}
    # 3B993 points to 742.6(a)(11), not read by the engine.
    a = us(
        tool(light_source_wavelength_nm=193, numerical_aperture=1.35, dedicated_chuck_overlay_nm=2),
        "CN",
    )
    assert a.licence_required is None
    assert "Commerce Country Chart: 3B993.f.1 RS" in {m.field for m in a.missing}


def test_before_the_chart_date_the_answer_says_so() -> None:
    imprint = tool(declared=["US:3B001.f.2"])
    a = us(imprint, "CN", "2025-06-01")
    assert a.licence_required is None
    gap = next(m for m in a.missing if m.field == "Commerce Country Chart on the date")
    assert "2026-07-23" in gap.effect
    assert "chart:3B001.f.2:NS" in gap.effect
    assert us(imprint, "CN", "2026-07-23").licence_required is True
    # A lithography tool no encoded entry reaches before the text's date is open too.
    arfi = tool(
        light_source_wavelength_nm=193, numerical_aperture=1.35, dedicated_chuck_overlay_nm=1.4
    )
    a = us(arfi, "CN", "2024-01-01")
    assert a.licence_required is None
    assert a.missing[0].field == "US classification of lithography equipment on the date"


def test_batch_matches_one_call_for_equipment() -> None:
    items = [
        item_from_params(tool(light_source_wavelength_nm=13.5, numerical_aperture=0.33), "euv"),
        item_from_params(tool(declared=["US:3B001.f.2"]), "imprint"),
        item_from_params(tool(light_source_wavelength_nm=193, numerical_aperture=1.35), "arfi"),
        load_catalogue().get("H200"),
    ]
    dests = ["CN", "HK", "MO", "DE", "IN", "RU", "AE", "US", "IR", "NI", "JP"]
    days = [date(2024, 9, 6), date(2026, 1, 15), date(2026, 7, 23)]
    result = determine_many(items, dests, days, "US")
    for i, item in enumerate(items):
        for c, dest in enumerate(result.destinations):
            for d, day in enumerate(days):
                one = determine(item, dest, day, regime="US").answers[0]
                assert result.key(Regime.US, i, c, d) == answer_key(one), (item.item_id, dest, day)
