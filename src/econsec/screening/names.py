"""Name preparation: normalisation, tokenisation and transliteration.

A name is turned into one or more :class:`NameForm` objects, each an analysed
spelling of the name in Latin letters:

* rigour's name analysis does the normalisation (case, punctuation,
  diacritics), romanises Latin, Cyrillic, Greek, Armenian, Georgian and Hangul,
  recognises legal forms (``Co., Ltd.``, ``OOO``, ``GmbH`` …) and tags parts
  with *symbols* from its name-equivalence data (``محمد`` and ``Mohamed``,
  ``Bob`` and ``Robert`` share a symbol);
* scripts rigour leaves as they are get extra spellings from libraries made
  for them: ICU (through normality) for Chinese characters read in Mandarin,
  Arabic, Hebrew and the rest; pykakasi for the Japanese reading of kanji and
  kana; pythainlp's Royal Thai General System for Thai.

A Han-script name can be Chinese or Japanese, so it gets both readings and the
matcher keeps the better one; the explanation says which reading matched.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import yaml
from normality import ascii_text
from rigour.names import Name, NamePartTag, NameTypeTag, analyze_names
from rigour.text.scripts import text_scripts

from econsec.model import Schema

_TYPE_TAGS: dict[Schema | None, NameTypeTag] = {
    Schema.PERSON: NameTypeTag.PER,
    Schema.ORGANIZATION: NameTypeTag.ORG,
    Schema.LEGAL_ENTITY: NameTypeTag.ENT,
    Schema.VESSEL: NameTypeTag.OBJ,
    Schema.AIRCRAFT: NameTypeTag.OBJ,
    None: NameTypeTag.ENT,
}

#: Scripts rigour romanises itself.
_RIGOUR_SCRIPTS = frozenset({"Latin", "Cyrillic", "Greek", "Armenian", "Georgian", "Hangul"})
_JAPANESE_SCRIPTS = frozenset({"Hiragana", "Katakana"})


@dataclass(frozen=True, slots=True)
class NameWords:
    """Generic words of organisation names that say little about identity.

    rigour already recognises the legal forms it knows (``Co., Ltd.`` → ``coltd``);
    this adds the generic words it leaves alone (``company``, ``corporation``,
    ``group``) and the CJK legal forms (``有限公司``), from
    ``screening/data/name_words.yaml``.
    """

    generic: frozenset[str]
    cjk_legal_forms: tuple[tuple[str, str], ...]


@lru_cache(maxsize=1)
def name_words() -> NameWords:
    text = resources.files("econsec.screening").joinpath("data/name_words.yaml").read_text()
    data = yaml.safe_load(text)
    forms = sorted(data["cjk_legal_forms"].items(), key=lambda kv: -len(kv[0]))
    return NameWords(
        generic=frozenset(w.lower() for w in data["generic_organisation_words"]),
        cjk_legal_forms=tuple(forms),
    )


@dataclass(frozen=True, slots=True)
class NameForm:
    """One analysed Latin-letter spelling of a name."""

    #: The name as given.
    original: str
    #: How this spelling was obtained: ``as written`` or the transliteration used.
    variant: str
    #: rigour's analysis (used for symbol pairing). None in a form read back
    #: from the screener cache: :func:`rigour_name` analyses it again on demand.
    name: Name | None
    #: Comparable tokens, in name order.
    tokens: tuple[str, ...]
    #: Weight of each token: 1 for a distinctive word, less for legal forms,
    #: generic organisation words and initials.
    weights: tuple[float, ...]
    #: ``tokens`` joined without spaces, for split/merge-tolerant comparison.
    joined: str
    #: The distinctive tokens (weight 1) joined without spaces.
    core: str
    #: Tokens with doubled letters collapsed (``ayyub`` → ``ayub``).
    squeezed: tuple[str, ...]
    #: Metaphone code of each token (None where there is none).
    phonetics: tuple[str | None, ...]
    total_weight: float
    #: ``category:id`` of the symbols rigour attached to each part.
    part_symbols: tuple[frozenset[str], ...]
    #: The tokens joined by spaces (what explanations show).
    text: str
    #: The text rigour analysed into this form, and as what kind of name
    #: (the ``NameTypeTag`` value: rigour's tags cannot be pickled).
    analysed: str
    tag: str


#: Weight of a legal form or generic organisation word (``ltd``, ``company``).
LEGAL_WEIGHT = 0.2
#: Weight of an initial (``J.``) or a one-letter token.
INITIAL_WEIGHT = 0.3


def _token_weights(name: Name, tag: NameTypeTag) -> tuple[float, ...]:
    generic = name_words().generic
    weights = []
    organisation = tag in (NameTypeTag.ORG, NameTypeTag.ENT, NameTypeTag.OBJ)
    for part in name.parts:
        form = part.comparable
        if part.tag == NamePartTag.LEGAL or (organisation and form in generic):
            weights.append(LEGAL_WEIGHT)
        elif len(form) == 1 and part.form.isascii():
            # An initial; a one-letter romanisation of a non-Latin name part
            # (Korean 이 → "i") is a whole name and keeps its weight.
            weights.append(INITIAL_WEIGHT)
        else:
            weights.append(1.0)
    return tuple(weights)


# rigour's analysers share state and are not documented as thread-safe; the API
# server may prepare names from several threads.
_LOCK = threading.Lock()


def _analyse(text: str, tag: NameTypeTag, variant: str, original: str) -> list[NameForm]:
    with _LOCK:
        names = analyze_names(tag, [text], infer_initials=tag == NameTypeTag.PER, consolidate=False)
    out = []
    for name in names:
        tokens = tuple(p.comparable for p in name.parts)
        if not tokens:
            continue
        weights = _token_weights(name, tag)
        joined = "".join(tokens)
        core = "".join(t for t, w in zip(tokens, weights, strict=True) if w >= 1.0)
        out.append(
            NameForm(
                original=original,
                variant=variant,
                name=name,
                tokens=tokens,
                weights=weights,
                joined=joined,
                core=core or joined,
                squeezed=tuple(_DOUBLED.sub(r"\1", t) for t in tokens),
                phonetics=tuple(p.metaphone for p in name.parts),
                total_weight=sum(weights),
                part_symbols=_part_symbols(name),
                text=" ".join(tokens),
                analysed=text,
                tag=tag.value,
            )
        )
    return out


def rigour_name(form: NameForm) -> Name:
    """rigour's analysis of a form, redone if the form came from the cache."""
    if form.name is not None:
        return form.name
    name = _reanalyse(form.analysed, form.tag, form.tokens)
    # Memoised on the form itself (the only field ever filled in after
    # creation; an idempotent write, so safe without a lock).
    object.__setattr__(form, "name", name)
    return name


def _reanalyse(text: str, tag_value: str, tokens: tuple[str, ...]) -> Name:
    tag: NameTypeTag = getattr(NameTypeTag, tag_value)
    with _LOCK:
        names = analyze_names(tag, [text], infer_initials=tag == NameTypeTag.PER, consolidate=False)
    for name in names:
        if tuple(p.comparable for p in name.parts) == tokens:
            return name
    raise ValueError(f"re-analysing {text!r} no longer gives the tokens {tokens}")


def _part_symbols(name: Name) -> tuple[frozenset[str], ...]:
    symbols: list[set[str]] = [set() for _ in name.parts]
    for span in name.spans:
        key = f"{span.symbol.category.value}:{span.symbol.id}"
        for part in span.parts:
            if part.index < len(symbols):
                symbols[part.index].add(key)
    return tuple(frozenset(s) for s in symbols)


def _replace_cjk_legal_forms(text: str) -> str:
    for native, latin in name_words().cjk_legal_forms:
        if native in text:
            text = text.replace(native, f" {latin} ")
    return text


@lru_cache(maxsize=1)
def _kakasi() -> Callable[[str], str]:
    import pykakasi  # noqa: PLC0415  (loaded on the first Japanese name only)

    converter = pykakasi.kakasi()  # type: ignore[no-untyped-call]

    def convert(text: str) -> str:
        return " ".join(item["hepburn"] for item in converter.convert(text) if item["hepburn"])

    return convert


@lru_cache(maxsize=1)
def _thai() -> Callable[[str], str]:
    from pythainlp.transliterate import romanize  # noqa: PLC0415  (first Thai name only)

    def convert(text: str) -> str:
        return " ".join(romanize(word, engine="royin") for word in text.split())

    return convert


def transliterations(text: str) -> list[tuple[str, str]]:
    """Latin spellings of a name in a script rigour does not romanise.

    Returns ``(variant, spelling)`` pairs; empty for names rigour handles alone.
    """
    scripts = text_scripts(text) - {"Common", "Inherited"}
    if not scripts or scripts <= _RIGOUR_SCRIPTS:
        return []
    out: list[tuple[str, str]] = []
    if scripts & _JAPANESE_SCRIPTS:
        out.append(("Japanese reading (pykakasi)", _kakasi()(text)))
    elif "Han" in scripts:
        out.append(("Mandarin reading (ICU)", ascii_text(text)))
        out.append(("Japanese reading (pykakasi)", _kakasi()(text)))
    elif "Thai" in scripts:
        out.append(("RTGS romanisation (pythainlp)", _thai()(text)))
    else:
        out.append(("ICU transliteration", ascii_text(text)))
    return [(v, s) for v, s in out if s.strip()]


_SPACES = re.compile(r"\s+")
_HANGUL_NAME = re.compile(r"^[\uac00-\ud7a3]{2,4}$")
#: Two-syllable Korean surnames (the rest have one syllable).
_KOREAN_DOUBLE_SURNAMES = frozenset({"남궁", "황보", "제갈", "선우", "독고", "사공", "서문"})


def _split_korean_name(text: str) -> str | None:
    """``김정은`` → ``김 정은``: Korean personal names are written without a space
    between surname and given name, which would leave one long token to compare
    with ``Kim Jong Un``."""
    if not _HANGUL_NAME.match(text):
        return None
    cut = 2 if len(text) == 4 and text[:2] in _KOREAN_DOUBLE_SURNAMES else 1
    return f"{text[:cut]} {text[cut:]}"


_DOUBLED = re.compile(r"(.)\1+")


def prepare_name(text: str, schema: Schema | None = None) -> tuple[NameForm, ...]:
    """Every Latin-letter spelling of ``text`` worth comparing, analysed."""
    text = _SPACES.sub(" ", text).strip()
    if not text:
        return ()
    tag = _TYPE_TAGS[schema]
    source = _replace_cjk_legal_forms(text) if tag != NameTypeTag.PER else text
    forms = _analyse(source, tag, "as written", text)
    # A bare 2–4 syllable Hangul word is a personal name unless said otherwise.
    if tag in (NameTypeTag.PER, NameTypeTag.ENT) and (split := _split_korean_name(text)):
        forms.extend(_analyse(split, tag, "Korean surname split", text))
    if any(not t.isascii() for f in forms for t in f.tokens):
        for variant, spelling in transliterations(source):
            forms.extend(_analyse(spelling, tag, variant, text))
    # Keep one form per distinct token sequence.
    seen: dict[tuple[str, ...], NameForm] = {}
    for form in forms:
        seen.setdefault(form.tokens, form)
    return tuple(seen.values())


#: One name per script whose transliterator is loaded lazily.
_WARM_UP_NAMES = (
    "John Smith",
    "山田太郎",
    "やまだ",
    "习近平",
    "สมชาย",
    "محمد",
    "Владимир",
    "김정은",
)


def warm_up() -> None:
    """Load rigour's name data and every lazily loaded transliterator now,
    so that no query pays for it (the first would otherwise take seconds)."""
    for text in _WARM_UP_NAMES:
        prepare_name(text, Schema.PERSON)
        prepare_name(text, Schema.ORGANIZATION)
