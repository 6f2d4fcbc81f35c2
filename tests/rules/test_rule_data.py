"""The rule data against its sources: thresholds and paragraph ids quoted from
the eCFR CCL text, the catalogue's provenance, and the loaders' errors."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from conftest import TESTS_DATA, shared_file
from econsec.model.rules import Regime
from econsec.rules.criteria import parse_test
from econsec.rules.dated import DatedError
from econsec.rules.ecfr import ccl_paragraphs, ccl_text, load_chpl, load_destinations
from econsec.rules.entries import load_entries, parse_entries
from econsec.rules.items import Catalogue, ItemError, load_catalogue
from econsec.rules.regimes import change_dates, eu_rules, us_rules

ECFR = "rules/ecfr_2026-07-23"


def _ecfr_folder() -> Path:
    folder: Path = shared_file(f"{ECFR}/ccl.json").parent
    return folder


def test_current_3a090_thresholds_are_those_of_the_ecfr_text() -> None:
    folder = _ecfr_folder()
    text = ccl_text("3A090", folder)
    paragraphs = ccl_paragraphs("3A090", folder)
    for pid in ("a.1", "a.2", "b.1", "b.2", "c"):
        assert pid in paragraphs
    current = {
        r.entry: r.version_on(date(2026, 7, 23))
        for r in load_entries()
        if r.regime is Regime.US and r.entry.startswith("3A090")
    }
    numbers: set[float] = set()
    for version in current.values():
        assert version is not None
        for group in (*version.when, *version.unless):
            numbers.update(float(t.threshold) for t in group if not isinstance(t.threshold, bool))
    # Every threshold of the current versions appears in the regulation text.
    words = {4800: "4800", 1600: "1600", 2400: "2400", 5.92: "5.92", 1.6: "1.6", 3.2: "3.2"}
    for number in numbers:
        if number == 2:
            assert "greater than 2 gigabytes per second per square millimeter" in text
        else:
            assert re.search(rf"\b{re.escape(words[number])}\b", text), number
    assert "not designed or marketed for use in datacenters" in text
    assert "dense matrices" in text
    assert "4A090" in ccl_text("4A090", folder)
    assert "3A090.a" in ccl_text("4A090", folder)


def test_licence_scopes_quote_the_country_chart_text() -> None:
    text = ccl_text("3A090", _ecfr_folder())
    assert "Country Groups D:1, D:4, and D:5" in text
    assert "excluding any destination also specified in Country Groups A:5 or A:6" in text
    assert "Macau or a destination specified in Country Group D:5" in text
    assert "any destination worldwide" in text  # the Diffusion-rule text, still codified
    scope = us_rules().scopes["ac_2023"]
    assert scope.groups == {"D:1", "D:4", "D:5"}
    assert scope.except_groups == {"A:5", "A:6"}


def test_destinations_by_iso_code() -> None:
    dests = load_destinations(_ecfr_folder())
    assert dests.groups["CN"] >= {"D:1", "D:3", "D:4", "D:5"}
    # Macau is in D:1/D:3/D:4 but not D:5: the rules name it explicitly.
    assert "D:5" not in dests.groups["MO"]
    assert "D:1" in dests.groups["MO"]
    assert dests.groups["HK"] == dests.groups["CN"]
    assert "85 FR 83788" in dests.inherited["HK"]
    assert {"E:1"} <= dests.groups["IR"]
    assert "A:5" in dests.groups["FR"]
    assert len(dests.codes()) > 190
    with pytest.raises(DatedError, match="'XX': not an ISO"):
        dests.require("XX")


def test_chpl_tiers() -> None:
    tiers = load_chpl(shared_file("rules/chpl_2024-02-23.csv"))
    assert len(tiers) == 50
    assert {tiers[c] for c in ("854231", "854232", "854233", "854239")} == {"1"}


def test_chpl_bad_row_names_line_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "chpl.csv"
    bad.write_text("tier,hs6,hs2022_description\n1,854231,x\n2,85A,y\n")
    with pytest.raises(DatedError, match=r"line 3, field 'hs6'"):
        load_chpl(bad)


def test_catalogue_provenance() -> None:
    catalogue = load_catalogue()
    assert {
        "nvidia-a100-sxm",
        "nvidia-h100-sxm",
        "nvidia-h800-sxm",
        "nvidia-h20",
        "nvidia-h200",
        "nvidia-b200",
        "amd-mi300x",
        "huawei-ascend-910b",
        "sk-hynix-hbm3",
    } <= set(catalogue.items)
    for item in catalogue:
        assert item.sources, item.item_id
        for figure in item.performance:
            assert figure.source, (item.item_id, figure)
    # Sparse figures are kept for reference only, at twice the dense rate.
    h100 = catalogue.get("h100")
    dense = {f.precision: f.tops for f in h100.performance if not f.sparse}
    sparse = {f.precision: f.tops for f in h100.performance if f.sparse}
    assert sparse["FP8"] == pytest.approx(2 * dense["FP8"], rel=1e-3)


def test_catalogue_errors_name_product_and_field() -> None:
    text = (TESTS_DATA / "rules" / "bad_catalogue.yaml").read_text()
    with pytest.raises(
        ItemError, match=r"products\[0\] \(bad-chip\), performance\[0\], field 'tops'"
    ):
        Catalogue(text, "bad_catalogue.yaml")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("tpp >= lots", "threshold 'lots' is not a number"),
        ("speed >= 5", "unknown parameter 'speed'"),
        ("datacenter > true", "only be compared with =="),
        ("tpp", "is not a test"),
    ],
)
def test_bad_tests(text: str, words: str) -> None:
    with pytest.raises(DatedError, match=words):
        parse_test(text, "entries.yaml, entries[0]")


def test_entries_file_errors() -> None:
    base = "format: 1\nentries:\n  - regime: US\n    entry: X\n    kinds: [ic]\n    versions:\n"
    with pytest.raises(DatedError, match=r"versions\[0\], field 'citation'"):
        parse_entries(
            base + "      - {effective_from: 2024-01-01, status: in_force, when: [[tpp >= 1]]}\n",
            "t.yaml",
        )
    with pytest.raises(DatedError, match="derived_from 'Y' is not defined"):
        parse_entries(
            base + "      - {effective_from: 2024-01-01, status: in_force, citation: c, "
            "derived_from: [Y]}\n",
            "t.yaml",
        )


def test_rule_change_dates() -> None:
    days = change_dates()
    for day in (
        "2022-10-07",
        "2023-11-17",
        "2024-12-02",
        "2025-01-13",
        "2025-05-13",
        "2025-04-09",
        "2025-07-14",
        "2026-01-15",
        "2025-11-15",
    ):
        assert date.fromisoformat(day) in days
    assert eu_rules().coverage_from == date(2021, 9, 9)
    assert us_rules().coverage_from == date(2022, 10, 7)
