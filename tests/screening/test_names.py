"""Name preparation (econsec.screening.names): folding, legal forms, initials, scripts."""

from __future__ import annotations

import pytest

from econsec.model import Schema
from econsec.screening.names import (
    INITIAL_WEIGHT,
    LEGAL_WEIGHT,
    NameForm,
    prepare_name,
    transliterations,
)

PERSON = Schema.PERSON
ORG = Schema.ORGANIZATION


def _as_written(text: str, schema: Schema | None = None) -> NameForm:
    forms = prepare_name(text, schema)
    assert forms, f"no form for {text!r}"
    assert forms[0].variant == "as written"
    return forms[0]


def _weights(form: NameForm) -> dict[str, float]:
    return dict(zip(form.tokens, form.weights, strict=True))


def _variants(text: str, schema: Schema | None = PERSON) -> dict[str, tuple[str, ...]]:
    return {f.variant: f.tokens for f in prepare_name(text, schema)}


# -- normalisation ---------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "schema"),
    [
        ("ACME, Inc.!!", "acme inc", ORG),
        ("José MÜLLER-Lüdenscheidt", "jose muller ludenscheidt", PERSON),
        ("  Vladimir \t PUTIN ", "vladimir putin", PERSON),
        ("Ñandú S.A.", "nandu sa", ORG),
        ("O'Brien, Seán", "obrien sean", PERSON),
    ],
)
def test_case_punctuation_and_diacritics_fold_to_the_same_tokens(
    a: str, b: str, schema: Schema
) -> None:
    assert _as_written(a, schema).tokens == _as_written(b, schema).tokens


def test_folded_tokens_are_plain_lowercase_ascii() -> None:
    form = _as_written("José MÜLLER-Lüdenscheidt", PERSON)
    assert form.tokens == ("jose", "muller", "ludenscheidt")
    assert form.text == "jose muller ludenscheidt"
    assert form.joined == "josemullerludenscheidt"
    assert form.original == "José MÜLLER-Lüdenscheidt"


def test_doubled_letters_are_squeezed_for_comparison() -> None:
    form = _as_written("Hassan Ayyub", PERSON)
    assert form.squeezed == ("hasan", "ayub")


@pytest.mark.parametrize("text", ["", "   ", "\t\n", "!!!", "--- ..."])
def test_a_name_without_letters_or_digits_has_no_form(text: str) -> None:
    assert prepare_name(text, PERSON) == ()
    assert prepare_name(text, None) == ()


def test_token_order_does_not_change_the_tokens() -> None:
    a = _as_written("Vladimir Putin", PERSON)
    b = _as_written("PUTIN, Vladimir", PERSON)
    assert a.tokens != b.tokens  # name order is kept …
    assert sorted(a.tokens) == sorted(b.tokens)  # … but the tokens are the same


# -- legal forms and generic organisation words ------------------------------


@pytest.mark.parametrize(
    ("text", "legal", "distinctive"),
    [
        ("Acme LLC", "llc", "acme"),
        ("Acme Co., Ltd.", "coltd", "acme"),
        ("OOO Rosneft", "ooo", "rosneft"),
        ("Siemens GmbH", "gmbh", "siemens"),
        ("АО Рособоронэкспорт", "ao", "rosoboroneksport"),
        ("Sberbank PJSC", "pjsc", "sberbank"),
    ],
)
def test_legal_forms_are_kept_with_a_low_weight(text: str, legal: str, distinctive: str) -> None:
    form = _as_written(text, ORG)
    weights = _weights(form)
    assert weights[legal] == LEGAL_WEIGHT
    assert weights[distinctive] == 1.0
    # The distinctive core leaves the legal form out; the full text keeps it.
    assert form.core == distinctive
    assert legal in form.text.split()
    assert form.total_weight == pytest.approx(1.0 + LEGAL_WEIGHT)


def test_chinese_legal_form_is_recognised_before_transliteration() -> None:
    forms = prepare_name("华为技术有限公司", ORG)
    by_variant = {f.variant: f for f in forms}
    as_written = by_variant["as written"]
    assert as_written.tokens == ("华为技术", "coltd")
    assert _weights(as_written)["coltd"] == LEGAL_WEIGHT
    mandarin = by_variant["Mandarin reading (ICU)"]
    assert mandarin.tokens == ("hua", "wei", "ji", "shu", "coltd")
    assert mandarin.core == "huaweijishu"
    # Not read out as syllables ("you xian gong si").
    assert not {"you", "xian", "gong", "si"} & set(mandarin.tokens)


def test_generic_organisation_words_are_low_weight_only_for_organisations() -> None:
    org = _weights(_as_written("Huawei Technologies Company Limited", ORG))
    assert org["company"] == LEGAL_WEIGHT
    assert org["huawei"] == org["technologies"] == 1.0
    # "Group" may be a surname-like word in a person's name: it keeps its weight there.
    person = _weights(_as_written("Anna Group", PERSON))
    assert person["group"] == 1.0


def test_a_legal_form_alone_is_still_a_name() -> None:
    form = _as_written("LLC", ORG)
    assert form.tokens == ("llc",)
    assert form.core == "llc"


# -- initials --------------------------------------------------------------


def test_initials_are_separate_low_weight_tokens() -> None:
    form = _as_written("J. R. R. Tolkien", PERSON)
    assert form.tokens == ("j", "r", "r", "tolkien")
    assert form.weights == (INITIAL_WEIGHT, INITIAL_WEIGHT, INITIAL_WEIGHT, 1.0)
    assert form.core == "tolkien"


def test_one_letter_romanisation_of_a_non_latin_name_keeps_its_weight() -> None:
    # Korean 이 (Lee/Yi) romanises to one letter but is a whole surname.
    form = _as_written("이 민호", PERSON)
    assert form.tokens[0] == "i"
    assert form.weights[0] == 1.0


# -- transliteration -----------------------------------------------------------


def test_cyrillic_is_romanised_by_rigour() -> None:
    assert _variants("Владимир Путин") == {"as written": ("vladimir", "putin")}
    assert _variants("Дмитрий Медведев") == {"as written": ("dmitry", "medvedev")}
    assert transliterations("Владимир Путин") == []


def test_greek_is_romanised() -> None:
    assert _variants("Αλέξανδρος Παπαδόπουλος") == {"as written": ("alexandros", "papadopoulos")}


def test_arabic_gets_an_icu_transliteration_next_to_the_original() -> None:
    variants = _variants("محمد علي")
    assert variants["as written"] == ("محمد", "علي")
    # ICU writes the consonants Arabic script spells (short vowels are not written).
    assert variants["ICU transliteration"] == ("mhmd", "ly")


def test_chinese_gets_mandarin_and_japanese_readings() -> None:
    variants = _variants("习近平")
    assert variants["Mandarin reading (ICU)"] == ("xi", "jin", "ping")
    assert "Japanese reading (pykakasi)" in variants
    assert variants["as written"] == ("习近平",)


def test_japanese_kanji_and_kana_are_read_in_hepburn() -> None:
    assert _variants("山田太郎")["Japanese reading (pykakasi)"] == ("yamada", "tarou")
    kana = _variants("やまだ たろう")
    assert kana["Japanese reading (pykakasi)"] == ("yamada", "tarou")
    # Kana are Japanese only: no Mandarin reading.
    assert "Mandarin reading (ICU)" not in kana


def test_korean_hangul_is_romanised_in_revised_romanisation() -> None:
    assert _variants("김정은", Schema.ORGANIZATION) == {"as written": ("gimjeongeun",)}
    # As a person's name it is also split after the surname (written without a space).
    assert _variants("김정은") == {
        "as written": ("gimjeongeun",),
        "Korean surname split": ("gim", "jeongeun"),
    }
    assert _variants("남궁민수")["Korean surname split"] == ("namgung", "minsu")
    assert _variants("김 정은") == {"as written": ("gim", "jeongeun")}


def test_thai_gets_the_royal_thai_general_system() -> None:
    assert _variants("สมชาย")["RTGS romanisation (pythainlp)"] == ("somchai",)
    assert _variants("ทักษิณ ชินวัตร")["RTGS romanisation (pythainlp)"][0] == "thaksin"


def test_hebrew_gets_an_icu_transliteration() -> None:
    assert _variants("משה")["ICU transliteration"] == ("msh",)


@pytest.mark.parametrize(
    "text",
    ["محمد علي", "习近平", "山田太郎", "สมชาย", "משה", "Αλέξανδρος", "Иван Иванов", "김정은"],
)
def test_every_non_latin_name_has_an_all_ascii_form(text: str) -> None:
    forms = prepare_name(text, PERSON)
    assert any(all(t.isascii() and t.isalnum() for t in f.tokens) for f in forms)
    # Forms are distinct token sequences.
    assert len({f.tokens for f in forms}) == len(forms)
    assert all(f.original == text for f in forms)


def test_latin_names_need_no_transliteration() -> None:
    assert transliterations("Kim Jong Un") == []
    assert [f.variant for f in prepare_name("Kim Jong Un", PERSON)] == ["as written"]
