"""The name-v1 algorithm: name similarity, other evidence and the explanation."""

from __future__ import annotations

import math
from collections.abc import Sequence

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from econsec.model import Party, Schema
from econsec.model.party import Alias, SourceRef
from econsec.model.screening import Feature, Match
from econsec.screening.algorithms import name_v1
from econsec.screening.algorithms.name_v1 import DEFAULT_THRESHOLD
from econsec.screening.names import prepare_name
from econsec.screening.screen import Screener, ScreeningError, build_query, compare

PERSON = Schema.PERSON
ORG = Schema.ORGANIZATION


def _score(a: str, b: str, schema: Schema | None = PERSON) -> float:
    return compare(a, b, schema).score


def _detail(a: str, b: str, schema: Schema | None = PERSON) -> str:
    match = compare(a, b, schema)
    assert [f.feature for f in match.features] == ["name"]
    return match.features[0].detail


# -- names -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "schema"),
    [
        ("Vladimir Putin", PERSON),
        ("Huawei Technologies Co., Ltd.", ORG),
        ("محمد علي", PERSON),
        ("习近平", PERSON),
        ("J. R. R. Tolkien", PERSON),
        ("X", None),
    ],
)
def test_identical_names_score_one(name: str, schema: Schema) -> None:
    match = compare(name, name, schema)
    assert match.score == 1.0
    assert match.matched_name == name


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Vladimir Putin", "Putin Vladimir"),
        ("Vladimir Putin", "PUTIN, Vladimir"),
        ("Abdulhai Salek", "SALEK, ABDULHAI"),
        ("Kim Jong Un", "Jong Un Kim"),
    ],
)
def test_token_order_does_not_matter(a: str, b: str) -> None:
    assert _score(a, b) == 1.0


def test_folded_spellings_are_equal() -> None:
    assert _score("José Müller", "JOSE MULLER") == 1.0
    assert _score("ACME, Inc.", "acme inc", ORG) == 1.0
    assert _score("Владимир Путин", "Vladimir Putin") == 1.0


@pytest.mark.parametrize(
    ("a", "b", "pair"),
    [
        ("Vladimir Putin", "Vladimr Putin", "vladimir~vladimr"),
        ("Vladimir Putin", "Vladimir Poutin", "putin~poutin"),
        ("Alexander Petrov", "Alexandr Petrov", "alexander~alexandr"),
        ("Mohammed Hassan", "Mohamed Hasan", "mohammed~mohamed"),
        ("Abdulrahman Salek", "Abdulrahmna Salek", "abdulrahman~abdulrahmna"),
    ],
)
def test_a_one_letter_misspelling_stays_above_the_threshold(a: str, b: str, pair: str) -> None:
    match = compare(a, b, PERSON)
    assert DEFAULT_THRESHOLD <= match.score < 1.0
    assert pair in match.features[0].detail


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Vladimir Putin", "Angela Merkel"),
        ("John Smith", "Maria Garcia"),
        ("Kim Jong Un", "Xi Jinping"),
        ("Rosoboronexport", "Huawei Technologies"),
    ],
)
def test_unrelated_names_score_below_one_half(a: str, b: str) -> None:
    assert _score(a, b) < 0.5


def test_short_tokens_must_be_spelled_exactly() -> None:
    # Up to five letters one edit is another name ("jayne"/"wayne", "ali"/"alt").
    assert _score("Jayne Smith", "Wayne Smith") < DEFAULT_THRESHOLD
    assert _score("Ali Hassan", "Alt Hassan") < DEFAULT_THRESHOLD


def test_names_split_differently_still_match() -> None:
    match = compare("AREFULLAHA REF", "AREFULLAH AREF", PERSON)
    assert match.score >= DEFAULT_THRESHOLD
    assert "without spaces" in match.features[0].detail


def test_initials_match_the_names_they_begin() -> None:
    assert _score("J. Smith", "John Smith") >= DEFAULT_THRESHOLD
    assert "j~john 0.80 (initial)" in _detail("J. Smith", "John Smith")
    assert _score("J. Smith", "Karl Smith") < DEFAULT_THRESHOLD
    assert _score("J. R. R. Tolkien", "John Ronald Reuel Tolkien") >= DEFAULT_THRESHOLD


def test_a_missing_query_token_costs_more_than_an_extra_entry_token() -> None:
    # List entries often carry parts a customer file omits (a patronymic).
    fewer = _score("Ivan Petrov", "Ivan Sergeyevich Petrov")
    more = _score("Ivan Sergeyevich Petrov", "Ivan Petrov")
    assert fewer >= DEFAULT_THRESHOLD > more
    assert "+sergeyevich" in _detail("Ivan Petrov", "Ivan Sergeyevich Petrov")
    assert "-sergeyevich" in _detail("Ivan Sergeyevich Petrov", "Ivan Petrov")


# -- legal forms -------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Acme LLC", "Acme GmbH"),
        ("Acme Trading LLC", "Acme Trading GmbH"),
        ("Rosneft OOO", "OOO Rosneft"),
        ("Huawei Technologies Co., Ltd.", "Huawei Technologies Company Limited"),
        ("Acme LLC", "Acme"),
    ],
)
def test_a_legal_form_difference_does_not_prevent_a_match(a: str, b: str) -> None:
    assert _score(a, b, ORG) >= DEFAULT_THRESHOLD


@pytest.mark.parametrize(
    ("a", "b"),
    [("Acme LLC", "Zenith LLC"), ("Acme GmbH", "Zenith GmbH"), ("OOO Rosneft", "OOO Gazprom")],
)
def test_a_shared_legal_form_alone_is_no_match(a: str, b: str) -> None:
    match = compare(a, b, ORG)
    assert match.score < 0.5
    distinctive_a, distinctive_b = prepare_name(a, ORG)[0].core, prepare_name(b, ORG)[0].core
    detail = match.features[0].detail
    assert f"-{distinctive_a}" in detail
    assert f"+{distinctive_b}" in detail


# -- across scripts ----------------------------------------------------------


def test_cross_script_names_match_through_shared_symbols() -> None:
    match = compare("محمد علي", "Mohamed Ali", PERSON)
    assert match.score >= 0.9
    assert "same name" in match.features[0].detail
    assert compare("Al-Qaida", "القاعدة", ORG).score >= DEFAULT_THRESHOLD


def test_the_explanation_names_the_transliteration_that_matched() -> None:
    detail = _detail("山田太郎", "Yamada Taro")
    assert "Japanese reading (pykakasi)" in detail
    detail = _detail("习近平", "Xi Jinping")
    assert "Mandarin reading (ICU)" in detail
    assert _score("习近平", "Xi Jinping") == 1.0


# -- date of birth, country, schema ------------------------------------------


def _party(
    n: int,
    name: str,
    schema: Schema = PERSON,
    dob: tuple[str, ...] = (),
    countries: tuple[str, ...] = (),
    aliases: tuple[Alias, ...] = (),
) -> Party:
    return Party(
        entity_id=f"test:{n}",
        source="test",
        list="TEST",
        list_entry_id=str(n),
        schema=schema,
        name=name,
        source_ref=SourceRef(file="test", record=str(n)),
        aliases=aliases,
        dates_of_birth=dob,
        countries=countries,
    )


@pytest.fixture(scope="module")
def small() -> Screener:
    """A screener over a few hand-made entries (builds in milliseconds)."""
    return Screener(
        [
            _party(1, "Ivan Petrov", dob=("1970-05-12",), countries=("RU",)),
            _party(2, "Acme Trading LLC", schema=ORG, countries=("CN",)),
            _party(3, "Petrov Shipping", schema=Schema.VESSEL),
            _party(4, "Boris Ivanov", aliases=(Alias("Borya", weak=True),)),
            _party(5, "Acme Systems", schema=Schema.LEGAL_ENTITY),
        ]
    )


def _match(
    screener: Screener,
    name: str,
    entity: str,
    *,
    schema: str | None = None,
    countries: Sequence[str] = (),
    dates_of_birth: Sequence[str] = (),
) -> Match:
    """The match of one entry, whatever its score (threshold 0)."""
    query = build_query(
        name, schema, countries=countries, dates_of_birth=dates_of_birth, threshold=0.0
    )
    for hit in screener.screen(query).hits:
        if hit.party.entity_id == entity:
            return hit.match
    raise AssertionError(f"{entity} not found for {name!r}")


def _feature(match: Match, name: str) -> Feature:
    found = [f for f in match.features if f.feature == name]
    assert len(found) == 1, match.features
    return found[0]


def test_name_alone_gives_only_the_name_feature(small: Screener) -> None:
    match = _match(small, "Ivan Petrov", "test:1")
    assert match.score == 1.0
    assert [f.feature for f in match.features] == ["name"]


def test_same_date_of_birth_raises_the_score(small: Screener) -> None:
    # A misspelled name, so that the bonus is not lost to the cap at 1.
    plain = _match(small, "Ivan Petrova", "test:1")
    same = _match(small, "Ivan Petrova", "test:1", dates_of_birth=["1970-05-12"])
    assert same.score == pytest.approx(plain.score + name_v1.DOB_EXACT)
    dob = _feature(same, "date_of_birth")
    assert dob.effect == name_v1.DOB_EXACT > 0
    assert dob.detail == "1970-05-12 vs 1970-05-12: same date"


@pytest.mark.parametrize(
    ("dob", "effect", "how"),
    [
        ("1970", 0.0, "agree as far as both are known"),
        ("1970-12-05", 0.0, "day and month swapped"),
        ("1970-06-01", name_v1.DOB_SAME_YEAR, "same year"),
        ("1971", name_v1.DOB_NEAR, "one year apart"),
        ("1950-05-12", name_v1.DOB_MISMATCH, "20 years apart"),
    ],
)
def test_date_of_birth_agreement_and_conflict(
    small: Screener, dob: str, effect: float, how: str
) -> None:
    match = _match(small, "Ivan Petrov", "test:1", dates_of_birth=[dob])
    feature = _feature(match, "date_of_birth")
    assert feature.effect == effect
    assert how in feature.detail
    assert match.score == pytest.approx(min(1.0, 1.0 + effect))


def test_a_date_of_birth_conflict_drops_an_exact_name_below_the_threshold(
    small: Screener,
) -> None:
    assert [h.party.entity_id for h in small.screen(build_query("Ivan Petrov")).hits] == ["test:1"]
    result = small.screen(build_query("Ivan Petrov", dates_of_birth=["1950"]))
    assert result.hits == ()


def test_country_agreement_and_conflict(small: Screener) -> None:
    shared = _match(small, "Ivan Petrova", "test:1", countries=["Russia"])
    plain = _match(small, "Ivan Petrova", "test:1")
    other = _match(small, "Ivan Petrova", "test:1", countries=["FR"])
    assert _feature(shared, "country").detail == "shared: RU"
    assert _feature(other, "country").detail == "query FR vs entry RU"
    assert other.score < plain.score < shared.score
    assert shared.score - plain.score == pytest.approx(name_v1.COUNTRY_MATCH)
    assert plain.score - other.score == pytest.approx(-name_v1.COUNTRY_MISMATCH)


def test_no_country_on_the_entry_is_no_evidence(small: Screener) -> None:
    match = _match(small, "Boris Ivanov", "test:4", countries=["RU"])
    assert [f.feature for f in match.features] == ["name"]


def test_incompatible_schema_lowers_the_score(small: Screener) -> None:
    person_as_org = _match(small, "Ivan Petrov", "test:1", schema="Organization")
    feature = _feature(person_as_org, "schema")
    assert feature.effect == name_v1.SCHEMA_MISMATCH
    assert feature.detail == "Organization vs Person: different kinds"
    assert person_as_org.score < DEFAULT_THRESHOLD
    vessel_as_person = _match(small, "Petrov Shipping", "test:3", schema="Person")
    assert vessel_as_person.score == pytest.approx(1.0 + name_v1.SCHEMA_MISMATCH)
    # At the default threshold the wrong kind is not a hit at all.
    result = small.screen(build_query("Acme Trading LLC", schema="Person"))
    assert result.hits == ()


@pytest.mark.parametrize(
    ("schema", "entity"),
    [("company", "test:2"), ("LegalEntity", "test:2"), ("Organization", "test:5")],
)
def test_compatible_schemas_cost_nothing(small: Screener, schema: str, entity: str) -> None:
    name = "Acme Trading LLC" if entity == "test:2" else "Acme Systems"
    match = _match(small, name, entity, schema=schema)
    feature = _feature(match, "schema")
    assert feature.effect == 0.0
    assert "compatible" in feature.detail
    assert match.score == 1.0


def test_a_weak_alias_counts_less(small: Screener) -> None:
    match = _match(small, "Borya", "test:4")
    assert match.score == pytest.approx(name_v1.WEAK_ALIAS_FACTOR)
    assert match.matched_name == "Borya"
    assert "weak alias" in _feature(match, "name").detail


def test_the_final_score_is_capped_at_one(small: Screener) -> None:
    match = _match(small, "Ivan Petrov", "test:1", dates_of_birth=["1970-05-12"], countries=["RU"])
    assert match.score == 1.0
    assert sum(f.effect for f in match.features) > 1.0


def test_every_feature_names_itself_and_explains_itself(small: Screener) -> None:
    match = _match(
        small,
        "Ivan Petrova",
        "test:1",
        dates_of_birth=["1971"],
        countries=["FR"],
        schema="Person",
    )
    assert [f.feature for f in match.features] == ["name", "date_of_birth", "country", "schema"]
    for feature in match.features:
        assert feature.detail.strip()
        assert 0.0 <= feature.score <= 1.0
    assert match.score == pytest.approx(sum(f.effect for f in match.features), abs=1e-4)


# -- properties --------------------------------------------------------------

#: Letters from the scripts the matcher handles, with marks, digits and punctuation.
_ALPHABET = st.sampled_from(
    list("abcXYZé -.,'&()0")
    + list("ДжПутинΑλέξ")
    + list("محمدعلي")
    + list("金正恩山田有限公司")
    + list("やまだカタ")
    + list("김정은")
    + list("สมชาย")
    + ["\u0301", "\u200b", "ß", "İ", "ﬁ", "\t"]
)
_NAMES = st.one_of(st.text(max_size=30), st.text(alphabet=_ALPHABET, max_size=30))
_SCHEMAS = st.sampled_from([None, *Schema])


@settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(_NAMES, _NAMES, _SCHEMAS)
def test_compare_scores_any_text_in_zero_one(a: str, b: str, schema: Schema | None) -> None:
    if not prepare_name(a, schema) or not prepare_name(b, schema):
        with pytest.raises(ScreeningError, match="letters or digits"):
            compare(a, b, schema)
        return
    match = compare(a, b, schema)
    assert 0.0 <= match.score <= 1.0
    assert not math.isnan(match.score)
    assert [f.feature for f in match.features] == ["name"]
    assert match.features[0].detail
    assert match.features[0].effect == match.score
    assert compare(a, a, schema).score == 1.0
