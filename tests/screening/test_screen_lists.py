"""The Screener over every real list: known entries, filters, threshold, limit, index."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from econsec.model import Schema
from econsec.model.screening import ScreenQuery, ScreenResult
from econsec.screening import screen as screen_module
from econsec.screening.algorithms import name_v1
from econsec.screening.algorithms.name_v1 import DEFAULT_THRESHOLD
from econsec.screening.names import NameForm, prepare_name
from econsec.screening.screen import Screener, ScreeningError, build_query, compare

pytestmark = pytest.mark.slow


def _screen(
    screener: Screener,
    name: str,
    *,
    lists: Sequence[str] = (),
    threshold: float | None = None,
    limit: int = 10,
) -> ScreenResult:
    return screener.screen(build_query(name, lists=lists, threshold=threshold, limit=limit))


def _ids(result: ScreenResult) -> list[str]:
    return [h.party.entity_id for h in result.hits]


# -- well-known entries --------------------------------------------------------


def test_kim_jong_un_is_the_ofac_sdn_entry_at_rank_one(screener: Screener) -> None:
    result = _screen(screener, "Kim Jong Un")
    top = result.hits[0]
    assert top.party.entity_id == "ofac_sdn:20157"
    assert top.party.list == "SDN"
    assert top.party.name == "KIM, Jong Un"
    assert top.match.score == 1.0
    assert top.match.features[0].feature == "name"
    assert "kim jong un" in top.match.features[0].detail
    # The same person through the CSL's copy of the SDN list, and nothing else.
    assert {(h.party.source, h.party.name) for h in result.hits} == {
        ("ofac_sdn", "KIM, Jong Un"),
        ("us_csl", "KIM, Jong Un"),
    }


def test_a_un_listed_person_is_found_from_the_cyrillic_original(screener: Screener) -> None:
    result = _screen(screener, "Умаров Доку Хаматович")
    top = result.hits[0]
    assert top.party.entity_id == "un_sc:QDi.290"
    assert top.party.name == "DOKU KHAMATOVICH UMAROV"
    assert top.match.matched_name == "Умаров Доку Хаматович"
    assert top.match.score == 1.0


def test_a_un_listed_person_is_found_from_the_arabic_original(screener: Screener) -> None:
    result = _screen(screener, "طارق عزيز")
    top = result.hits[0]
    assert top.party.entity_id == "un_sc:IQi.025"
    assert top.party.name == "TARIQ AZIZ"
    assert top.match.matched_name == "طارق عزيز"
    assert top.match.score == 1.0
    # The OFAC entries of the same man are found through the romanisation.
    assert "ofac_sdn:7867" in _ids(result)


def test_al_qaida_in_arabic_finds_the_un_entry(screener: Screener) -> None:
    result = _screen(screener, "القاعدة")
    assert _ids(result)[0] == "un_sc:QDe.004"
    assert result.hits[0].party.name == "AL-QAIDA"


def test_huawei_is_found_on_the_entity_list(screener: Screener) -> None:
    result = _screen(screener, "Huawei Technologies Co., Ltd.")
    exact = [h for h in result.hits if h.match.score == 1.0]
    assert ("EL", "Huawei Technologies Co., Ltd.") in {(h.party.list, h.party.name) for h in exact}
    el = _screen(screener, "Huawei Technologies Co., Ltd.", lists=["EL"])
    top = el.hits[0]
    assert (top.party.list, top.party.name, top.match.score) == (
        "EL",
        "Huawei Technologies Co., Ltd.",
        1.0,
    )
    # Subsidiaries come after the parent.
    assert all(h.match.score < 1.0 for h in el.hits[1:])
    assert all("Huawei" in h.party.name for h in el.hits)


@pytest.mark.parametrize("query", ["Rosoboronexport", "Рособоронэкспорт", "ROSOBORONEKSPORT OAO"])
def test_rosoboronexport_in_any_spelling(screener: Screener, query: str) -> None:
    result = _screen(screener, query)
    # The same company on three OFAC lists (and in their CSL copies), each
    # found at a score that leaves no doubt.
    assert result.hits[0].party.name == "ROSOBORONEKSPORT OAO"
    found = [h for h in result.hits if h.party.name == "ROSOBORONEKSPORT OAO"]
    assert {"SDN", "SSI", "NON-SDN"} <= {h.party.list for h in found}
    assert all(h.match.score >= 0.9 for h in found)
    assert "ofac_sdn:18782" in _ids(result)


def test_a_person_is_found_under_an_alias(screener: Screener) -> None:
    result = _screen(screener, "Osama bin Laden")
    top = result.hits[0]
    assert top.party.entity_id == "ofac_sdn:6365"
    assert top.party.name == "BIN LADIN, Usama bin Muhammad bin Awad"
    assert top.match.matched_name == "BIN LADEN, Osama"


def test_an_unlisted_name_is_no_hit(screener: Screener) -> None:
    assert _screen(screener, "Annika Lindqvist-Oberholzer").hits == ()


# -- result shape ----------------------------------------------------------------


@pytest.mark.parametrize(
    "query", ["Rosoboronexport", "Al-Qaida", "Mohammed Hassan", "Saddam Hussein Al-Tikriti"]
)
def test_one_hit_per_list_entry_best_first(screener: Screener, query: str) -> None:
    result = _screen(screener, query, threshold=0.5)
    ids = _ids(result)
    assert ids
    assert len(ids) == len(set(ids))
    keys = [(-h.match.score, h.party.entity_id) for h in result.hits]
    assert keys == sorted(keys)
    for hit in result.hits:
        assert hit.match.matched_name in hit.party.all_names
        assert hit.match.features[0].feature == "name"


def test_results_cite_the_list_versions_screened(screener: Screener) -> None:
    result = _screen(screener, "Kim Jong Un")
    assert result.list_versions == screener.versions
    assert {v.source for v in result.list_versions} == {
        "bis_dpl",
        "ofac_cons",
        "ofac_sdn",
        "os_us_congress",
        "un_sc",
        "us_csl",
    }
    assert result.algorithm == name_v1.VERSION
    assert result.threshold == DEFAULT_THRESHOLD


# -- lists filter, threshold, limit --------------------------------------------------


def test_lists_filter_by_source(screener: Screener) -> None:
    assert _ids(_screen(screener, "Kim Jong Un", lists=["ofac_sdn"])) == ["ofac_sdn:20157"]
    un = _screen(screener, "Al-Qaida", lists=["un_sc"])
    assert un.hits
    assert {h.party.source for h in un.hits} == {"un_sc"}
    # Kim Jong Un is not on the UN list.
    assert _screen(screener, "Kim Jong Un", lists=["un_sc"]).hits == ()


def test_lists_filter_by_list_code_case_insensitive_and_comma_separated(
    screener: Screener,
) -> None:
    sdn = _screen(screener, "Rosoboronexport", lists=["sdn"])
    assert {h.party.list for h in sdn.hits} == {"SDN"}
    assert {h.party.source for h in sdn.hits} == {"ofac_sdn", "us_csl"}
    both = _screen(screener, "Rosoboronexport", lists=["SSI,SDN"])
    assert {h.party.list for h in both.hits} == {"SDN", "SSI"}
    assert _ids(both) == _ids(_screen(screener, "Rosoboronexport", lists=["SDN", "SSI"]))


def test_unknown_list_is_an_error_naming_the_known_ones(screener: Screener) -> None:
    with pytest.raises(ScreeningError, match=r"^lists: no loaded list matches nope; known: "):
        _screen(screener, "Kim Jong Un", lists=["nope"])
    with pytest.raises(ScreeningError, match=r"un_sc"):
        _screen(screener, "Kim Jong Un", lists=["nope"])


_THRESHOLD_QUERIES = [
    "Mohammed Hassan",
    "Huawei Technologies",
    "Al-Qaida",
    "Smith",
    "Islamic Jihad",
]


@pytest.mark.parametrize("query", _THRESHOLD_QUERIES)
def test_a_higher_threshold_keeps_a_subset_with_the_same_scores(
    screener: Screener, query: str
) -> None:
    # The walk over candidates stops on scores below the threshold, so "every
    # result" is only defined down to a floor; 0.5 is well below any useful one.
    everything = _screen(screener, query, threshold=0.5, limit=1000)
    assert everything.hits
    assert len(everything.hits) < 1000
    scores = {h.party.entity_id: h.match.score for h in everything.hits}
    for threshold in (0.6, 0.7, DEFAULT_THRESHOLD, 0.9, 1.0):
        kept = _screen(screener, query, threshold=threshold, limit=100)
        assert kept.threshold == threshold
        for hit in kept.hits:
            assert hit.match.score >= threshold
            assert scores[hit.party.entity_id] == hit.match.score


@pytest.mark.parametrize("query", _THRESHOLD_QUERIES)
def test_threshold_keeps_exactly_the_results_scoring_at_least_it(
    screener: Screener, query: str
) -> None:
    # From the default threshold up the candidate walk is the same, so a
    # higher threshold removes exactly the results below it …
    default = _screen(screener, query, threshold=DEFAULT_THRESHOLD, limit=200)
    assert len(default.hits) < 200
    for threshold in (0.85, 0.9, 1.0):
        kept = _screen(screener, query, threshold=threshold, limit=200)
        expected = [h.party.entity_id for h in default.hits if h.match.score >= threshold]
        assert _ids(kept) == expected, threshold
    # … while a lower one walks further: it may find more, never less.
    lower = _screen(screener, query, threshold=0.5, limit=200)
    assert set(_ids(default)) <= set(_ids(lower))


def test_default_threshold_drops_weak_results(screener: Screener) -> None:
    low = _screen(screener, "Smith", threshold=0.5)
    assert low.hits  # "Adam Smith", "Tina Smith" … score 0.75
    assert max(h.match.score for h in low.hits) < DEFAULT_THRESHOLD
    assert _screen(screener, "Smith").hits == ()


@pytest.mark.parametrize("name", ["Al-Qaida", "Huawei Technologies", "Mohammed Ali"])
def test_limit_keeps_the_best_results(screener: Screener, name: str) -> None:
    full = _screen(screener, name, limit=100)
    assert len(full.hits) > 2
    for limit in (1, 2, 10):
        limited = _screen(screener, name, limit=limit)
        assert _ids(limited) == _ids(full)[:limit]


def _entries_scoring_at_least(
    screener: Screener, query: ScreenQuery, threshold: float, word: str
) -> set[str]:
    """Entries with ``word`` in a name that score at least ``threshold``, scored
    one by one without the index (for a check of what the index returns)."""
    prepared = name_v1.prepare_query(query)
    found = set()
    for party in screener.parties:
        if not any(word in n.lower() for n in party.all_names):
            continue
        names = [(party.name, False)] + [(a.name, a.weak) for a in party.aliases]
        forms = [(f, weak) for n, weak in names for f in prepare_name(n, party.schema)]
        if name_v1.score(prepared, party, forms, threshold) is not None:
            found.add(party.entity_id)
    return found


def test_a_large_limit_returns_every_entry_above_the_threshold(screener: Screener) -> None:
    query = build_query("Mohammed Hassan", limit=50)
    expected = _entries_scoring_at_least(screener, query, DEFAULT_THRESHOLD, "has")
    assert len(expected) > screen_module.CANDIDATE_PARTIES
    assert set(_ids(screener.screen(query))) == expected


# -- the candidate index ---------------------------------------------------------


def _owner_ids(screener: Screener, form_ids: list[int]) -> set[str]:
    owners = screener._owners  # the entry each indexed name form belongs to
    return {screener.parties[int(owners[i])].entity_id for i in form_ids}


@pytest.mark.parametrize(
    ("name", "schema", "entity"),
    [
        ("Rosoboronexport", None, "ofac_sdn:18782"),
        ("Al-Qaida", Schema.ORGANIZATION, "un_sc:QDe.004"),
        ("Huawei Technologies Co., Ltd.", Schema.ORGANIZATION, "ofac_cons:30947"),
        ("Doku Umarov", Schema.PERSON, "un_sc:QDi.290"),
        ("Tariq Aziz", Schema.PERSON, "un_sc:IQi.025"),
    ],
)
def test_the_index_reaches_few_forms_and_the_right_one(
    screener: Screener, name: str, schema: Schema | None, entity: str
) -> None:
    forms = prepare_name(name, schema)
    # No limit: everything the query's keys reach.
    ids, scores = screener.index.candidates(forms, screener.form_count)
    assert 0 < ids.size < 0.01 * screener.form_count
    assert list(scores) == sorted(scores, reverse=True)
    assert entity in _owner_ids(screener, ids.tolist())
    # And among the forms the screener takes from it.
    top, _ = screener.index.candidates(forms, screen_module.CANDIDATE_FORMS)
    assert entity in _owner_ids(screener, top.tolist())


@pytest.fixture
def compared_forms(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the name comparisons name-v1 makes."""
    calls = [0]
    original = name_v1.compare_forms

    def counting(q: NameForm, c: NameForm) -> name_v1.NameComparison:
        calls[0] += 1
        return original(q, c)

    monkeypatch.setattr(name_v1, "compare_forms", counting)
    return calls


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Mohammed Hassan", "HASSAN, Mohamed"),
        ("Kim Jong Un", "KIM, Jong Un"),
        ("Trading Company Limited", None),
        ("Bank", None),
    ],
)
def test_a_query_never_scores_the_whole_list(
    screener: Screener, compared_forms: list[int], name: str, expected: str | None
) -> None:
    result = _screen(screener, name)
    # Each name form the index hands over is compared once per query spelling.
    bound = screen_module.CANDIDATE_FORMS * len(prepare_name(name))
    assert 0 < compared_forms[0] <= bound
    assert compared_forms[0] < 0.001 * screener.form_count
    if expected is not None:
        assert result.hits[0].match.matched_name == expected


# -- bad input -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": ""}, "name: empty"),
        ({"name": " \t "}, "name: empty"),
        (
            {"name": "x", "schema": "Spaceship"},
            "schema: unknown schema 'Spaceship'; expected one of Airplane, LegalEntity, "
            "Organization, Person, Vessel",
        ),
        (
            {"name": "x", "dates_of_birth": ["yesterday"]},
            "dob: 'yesterday' is not a date (use YYYY, YYYY-MM or YYYY-MM-DD)",
        ),
        (
            {"name": "x", "countries": ["Atlantis"]},
            "country: 'Atlantis' is not a known country name or ISO code",
        ),
        ({"name": "x", "threshold": 1.5}, "threshold: must be between 0 and 1, got 1.5"),
        ({"name": "x", "threshold": -0.1}, "threshold: must be between 0 and 1, got -0.1"),
        ({"name": "x", "limit": 0}, "limit: must be at least 1, got 0"),
    ],
)
def test_build_query_rejects_bad_input_with_a_clear_message(
    kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ScreeningError) as info:
        build_query(**kwargs)
    assert str(info.value) == message


def test_build_query_normalises_good_input() -> None:
    query = build_query(
        "  Kim Jong Un ",
        schema="individual",
        countries=["North Korea", "KP", "kp"],
        dates_of_birth=["1984-01-08", "8 Jan 1984"],
        lists=["SDN, EL", "un_sc"],
        threshold=0.9,
        limit=3,
    )
    assert query == ScreenQuery(
        name="Kim Jong Un",
        schema=Schema.PERSON,
        countries=("KP",),
        dates_of_birth=("1984-01-08",),
        lists=("SDN", "EL", "un_sc"),
        threshold=0.9,
        limit=3,
    )


def test_screen_rejects_an_empty_name_and_a_bad_threshold(screener: Screener) -> None:
    with pytest.raises(ScreeningError, match=r"^name: empty$"):
        screener.screen(ScreenQuery(name="   "))
    with pytest.raises(ScreeningError, match=r"^threshold: "):
        screener.screen(ScreenQuery(name="Kim Jong Un", threshold=2.0))
    with pytest.raises(ScreeningError, match=r"^limit: "):
        screener.screen(ScreenQuery(name="Kim Jong Un", limit=0))


@pytest.mark.parametrize("dob", ["1970-13-01", "1984-02-30", "1984-00"])
def test_build_query_rejects_an_impossible_date_of_birth(dob: str) -> None:
    with pytest.raises(ScreeningError, match=r"^dob: "):
        build_query("Kim Jong Un", dates_of_birth=[dob])


# -- known gaps of the matcher ----------------------------------------------------------


def test_screen_finds_what_compare_scores_above_the_threshold_hangul(
    screener: Screener,
) -> None:
    assert compare("김정은", "Kim Jong Un", Schema.PERSON).score >= 0.7
    result = _screen(screener, "김정은", threshold=0.7)
    assert "ofac_sdn:20157" in _ids(result)


def test_hezbollah_finds_hizballah(screener: Screener) -> None:
    assert "ofac_sdn:4697" in _ids(_screen(screener, "Hezbollah"))
