"""``name-v1``: name similarity with date-of-birth, country and schema evidence.

Name similarity
    Both names are prepared into Latin-letter forms (:mod:`..names`), each a
    list of weighted tokens: 1 for a distinctive word, less for legal forms,
    generic organisation words and initials. Tokens are paired, order-free
    ("SALEK, ABDULHAI" is "Abdulhai Salek"), in this order:

    1. equal tokens;
    2. near spellings, best first: optimal-string-alignment edits (a
       transposition counts as one) within a budget that grows with length
       (none up to five letters, one up to nine, then one more per five
       letters), scored ``1 - edits/length``; spellings that differ only by
       doubled letters (``Ayyub``/``Ayub``); equal Metaphone codes for tokens
       of six letters or more that start alike; an initial and a token it
       begins;
    3. what is left, where rigour's name data says two parts are the same name
       (a shared *symbol*): across scripts (``محمد``/``Mohamed``) this is the
       evidence there is and it counts 0.9; within one script it also links
       related but different names (``Alison``/``Ali``) and counts 0.7; through
       a Chinese character, which has many readings, 0.6.

    The alignment score is::

        Σ_pairs sim · (w_q + ½ w_c)  /  (Σ w_q + ½ Σ w_c)

    so an unmatched query token costs twice what an unmatched list-entry token
    costs: list entries often carry name parts a customer file omits. A second
    score compares the distinctive tokens joined without spaces, for names
    split differently ("AREFULLAHA REF" / "AREFULLAH AREF"), with a stricter
    budget; beyond it, it gives partial credit capped below the threshold
    (romanisation systems: "gimjeongeun" / "Kim Jong Un"). The name score is
    the higher of the two. A weak alias (OFAC "weak a.k.a.", UN "low
    quality") counts ``WEAK_ALIAS_FACTOR`` of its score.

Other evidence, added to the name score (the final score is kept in [0, 1])
    * date of birth, when both sides have one: the same full date
      ``+DOB_EXACT``; agreeing as far as the less precise one goes, or day and
      month swapped, ``0``; same year, other day ``DOB_SAME_YEAR``; one year
      apart ``DOB_NEAR``; further apart ``DOB_MISMATCH``;
    * country, when both sides have some: shared ``+COUNTRY_MATCH``, none
      shared ``COUNTRY_MISMATCH``;
    * schema, when the query gives one: incompatible kinds (a person against
      a company, a vessel against a person) ``SCHEMA_MISMATCH``.

Every result lists each feature, its own agreement and its effect on the score.
The constants below are part of the algorithm: changing one makes a new version.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

from rapidfuzz.distance import OSA
from rigour.names import NamePart, Symbol, SymbolCategory, pair_symbols
from rigour.text.scripts import text_scripts

from econsec.model import Party, Schema
from econsec.model.screening import Feature, Match, ScreenQuery
from econsec.screening.names import NameForm, prepare_name, rigour_name

VERSION = "name-v1"

#: Default threshold: a result scoring below it is not a hit.
DEFAULT_THRESHOLD = 0.80

#: Score of a pair of parts that rigour says are the same name (a shared symbol)
#: but that are spelled differently. Across scripts (``محمد``/``Mohamed``) the
#: symbol is the only evidence there is and it is strong …
SYMBOL_SCORES: dict[SymbolCategory, float] = {
    SymbolCategory.NAME: 0.90,
    SymbolCategory.NICK: 0.85,
    SymbolCategory.INITIAL: 0.80,
    SymbolCategory.ORG_CLASS: 1.00,
    SymbolCategory.SYMBOL: 0.90,
    SymbolCategory.DOMAIN: 0.90,
    SymbolCategory.NUMERIC: 1.00,
    SymbolCategory.LOCATION: 0.90,
    SymbolCategory.PHONETIC: 0.80,
}
#: … within one script the symbol data also links related but different names
#: (``Alison``/``Ali``, ``Kim``/``Kiam``), so a same-script name symbol counts
#: less; a Chinese character has many readings, so a symbol through a Han
#: character counts least.
SAME_SCRIPT_NAME_SYMBOL = 0.70
HAN_SYMBOL = 0.60
#: Tokens less similar than this are not paired.
MIN_TOKEN_SIMILARITY = 0.60
#: Similarity of tokens that sound alike (same Metaphone code) …
PHONETIC_SIMILARITY = 0.75
#: … provided both have at least this many letters (``zhou``/``zhao``, ``rose``/
#: ``ras`` sound alike to Metaphone but are different names) …
MIN_PHONETIC_LENGTH = 6
#: … and they start with the same letter and are at least this similar in
#: spelling (``catharina`` and ``kawtharani`` share a Metaphone code but are
#: not the same name).
MIN_PHONETIC_SPELLING = 0.6
#: Long tokens with the same first letter and the same consonants, in the same
#: order, differ only in vowels: the commonest variation between romanisations
#: of Arabic and Persian names (``Hezbollah``/``Hizballah``,
#: ``Muhammad``/``Mohammed``), where vowels are not written in the original.
VOWEL_SIMILARITY = 0.85
MIN_VOWEL_LENGTH = 8
#: Two adjacent letters swapped is the commonest typing error: tolerated even in
#: tokens too short for the edit budget (``afiz``/``faiz``), from this length.
MIN_TRANSPOSITION_LENGTH = 4
TRANSPOSITION_SIMILARITY = 0.80
#: Similarity of tokens that differ only by doubled letters (``Hassan``/``Hasan``,
#: ``Ayyub``/``Ayub``), whatever their length.
DOUBLED_LETTER_SIMILARITY = 0.90
#: Similarity of an initial and a token starting with it.
INITIAL_SIMILARITY = 0.80
#: Relative cost of an unmatched candidate token (an unmatched query token costs 1).
CANDIDATE_EXTRA_WEIGHT = 0.5
WEAK_ALIAS_FACTOR = 0.95
#: Names shorter than this (without spaces) are not compared as one string.
MIN_JOINED_LENGTH = 6
#: Highest score two names can get from a whole-name comparison beyond the
#: typo budget (below the default threshold by design).
JOINED_PARTIAL_CAP = 0.75

DOB_EXACT = 0.05
DOB_SAME_YEAR = -0.05
DOB_NEAR = -0.12
DOB_MISMATCH = -0.25
COUNTRY_MATCH = 0.02
COUNTRY_MISMATCH = -0.05
SCHEMA_MISMATCH = -0.30


class TokenPair(NamedTuple):
    """One pairing of query and entry tokens (either side empty when unmatched)."""

    query: str
    candidate: str
    score: float
    how: str

    def describe(self) -> str:
        if not self.candidate:
            return f"-{self.query}"
        if not self.query:
            return f"+{self.candidate}"
        if self.how == "equal":
            return self.query
        return f"{self.query}~{self.candidate} {self.score:.2f} ({self.how})"


@dataclass(frozen=True, slots=True)
class NameComparison:
    score: float
    query: NameForm
    candidate: NameForm
    pairs: tuple[TokenPair, ...]
    method: str

    def describe(self) -> str:
        head = f"{self.query.text!r} vs {self.candidate.text!r}"
        if self.query.variant != "as written":
            head += f" [query: {self.query.variant}]"
        if self.candidate.variant != "as written":
            head += f" [entry: {self.candidate.variant}]"
        tokens = ", ".join(p.describe() for p in self.pairs)
        if self.method == "joined":
            return (
                f"{head}: {self.score:.2f} comparing the names without spaces and "
                f"legal forms (token by token: {tokens})"
            )
        return f"{head}: {tokens}"


def edit_budget(length: int) -> int:
    """Edits tolerated between two spellings of a token of this length.

    Tokens of up to five letters must match exactly (``ali``/``alt``,
    ``cheng``/``chen`` are different names); longer ones tolerate one edit,
    two from ten letters, three from fifteen.
    """
    if length <= 5:
        return 0
    return 1 + (length - 5) // 5


def joined_budget(length: int) -> int:
    """Edits tolerated between two whole names compared without spaces.

    This path exists for names split differently ("AREFULLAHA REF" /
    "AREFULLAH AREF"), not to forgive what the token comparison refused: below
    fifteen letters only a different split is tolerated ("jayne smith" is not
    "wayne smith"), then one edit per five letters.
    """
    return max(0, (length - 10) // 5)


def spelling_similarity(a: str, b: str, budget: int | None = None) -> float:
    """``1 - edits / length`` within the edit budget, 0 beyond it."""
    longest = max(len(a), len(b))
    allowed = edit_budget(longest) if budget is None else budget
    edits = OSA.distance(a, b, score_cutoff=allowed + 1)
    if edits > allowed:
        return 0.0
    return 1.0 - edits / longest


def token_similarity(
    a: str,
    b: str,
    phonetic_a: str | None = None,
    phonetic_b: str | None = None,
    squeezed_a: str | None = None,
    squeezed_b: str | None = None,
) -> tuple[float, str]:
    """Similarity of two tokens and how it was established.

    Cheap length tests come first: this runs for every token pair of every
    candidate.
    """
    if a == b:
        return 1.0, "equal"
    la, lb = len(a), len(b)
    if la == 1 or lb == 1:
        if a[0] == b[0]:
            return INITIAL_SIMILARITY, "initial"
        return 0.0, "different"
    longest = la if la > lb else lb
    budget = edit_budget(longest)
    sim, how = 0.0, "spelling"
    if budget and abs(la - lb) <= budget:
        edits = OSA.distance(a, b, score_cutoff=budget + 1)
        if edits <= budget:
            sim = 1.0 - edits / longest
    elif (
        la == lb >= MIN_TRANSPOSITION_LENGTH
        and sorted(a) == sorted(b)
        and OSA.distance(a, b, score_cutoff=2) == 1
    ):
        sim, how = TRANSPOSITION_SIMILARITY, "swapped letters"
    if (
        sim < DOUBLED_LETTER_SIMILARITY
        and la != lb
        and squeezed_a is not None
        and squeezed_a == squeezed_b
    ):
        sim, how = DOUBLED_LETTER_SIMILARITY, "doubled letter"
    if (
        sim < PHONETIC_SIMILARITY
        and la >= MIN_PHONETIC_LENGTH
        and lb >= MIN_PHONETIC_LENGTH
        and a[0] == b[0]
        and phonetic_a
        and phonetic_a == phonetic_b
        and OSA.normalized_similarity(a, b) >= MIN_PHONETIC_SPELLING
    ):
        sim, how = PHONETIC_SIMILARITY, "sounds alike"
    if (
        sim < VOWEL_SIMILARITY
        and la >= MIN_VOWEL_LENGTH
        and lb >= MIN_VOWEL_LENGTH
        and a[0] == b[0]
        and consonants(a) == consonants(b)
    ):
        sim, how = VOWEL_SIMILARITY, "same consonants"
    return sim, how


_VOWELS = re.compile(r"[aeiouy]+")
_REPEATS = re.compile(r"(.)\1+")


def consonants(token: str) -> str:
    """The consonant skeleton of a token: vowels dropped, doubled letters collapsed."""
    return _REPEATS.sub(r"\1", _VOWELS.sub("", token))


def compare_forms(q: NameForm, c: NameForm) -> NameComparison:
    """Similarity of two prepared name forms, with the token pairing behind it."""
    if q.tokens == c.tokens:
        equal = tuple(TokenPair(t, t, 1.0, "equal") for t in q.tokens)
        return NameComparison(1.0, q, c, equal, "aligned")
    q_used = [False] * len(q.tokens)
    c_used = [False] * len(c.tokens)
    pairs: list[TokenPair] = []
    numerator = 0.0
    # Equal tokens first (the common case) …
    c_free: dict[str, list[int]] = {}
    for j, ct in enumerate(c.tokens):
        c_free.setdefault(ct, []).append(j)
    for i, qt in enumerate(q.tokens):
        slots = c_free.get(qt)
        if slots:
            j = slots.pop(0)
            q_used[i] = c_used[j] = True
            numerator += q.weights[i] + CANDIDATE_EXTRA_WEIGHT * c.weights[j]
            pairs.append(TokenPair(qt, qt, 1.0, "equal"))
    # … then the rest by spelling, sound, doubled letters or initials …
    scored = _residue_similarities(q, q_used, c, c_used)
    scored.sort(key=lambda s: -s[0])
    for sim, i, j, how in scored:
        if q_used[i] or c_used[j]:
            continue
        q_used[i] = c_used[j] = True
        numerator += sim * (q.weights[i] + CANDIDATE_EXTRA_WEIGHT * c.weights[j])
        pairs.append(TokenPair(q.tokens[i], c.tokens[j], sim, how))
    # … then what is left, where rigour knows parts to be the same name across
    # spellings or scripts. pair_symbols is the costliest step, so it only runs
    # when a leftover part on each side shares a symbol.
    if _share_symbol(q, q_used, c, c_used):
        numerator += _pair_by_symbols(q, q_used, c, c_used, pairs)
    for t, used in zip(q.tokens, q_used, strict=True):
        if not used:
            pairs.append(TokenPair(t, "", 0.0, "unmatched"))
    for t, used in zip(c.tokens, c_used, strict=True):
        if not used:
            pairs.append(TokenPair("", t, 0.0, "unmatched"))
    denominator = q.total_weight + CANDIDATE_EXTRA_WEIGHT * c.total_weight
    aligned = numerator / denominator if denominator else 0.0
    joined = _joined_similarity(q, c)
    if joined > aligned:
        # The spaceless comparison covers the distinctive tokens only; the
        # low-weight ones (legal forms, initials) it skipped still count when
        # the aligned pass left them unpaired: "M and S Trading" is not
        # "Trading Company Limited".
        left_over = sum(
            w for w, used in zip(q.weights, q_used, strict=True) if w < 1.0 and not used
        ) + CANDIDATE_EXTRA_WEIGHT * sum(
            w for w, used in zip(c.weights, c_used, strict=True) if w < 1.0 and not used
        )
        if denominator:
            joined *= 1.0 - left_over / denominator
    if joined > aligned:
        return NameComparison(joined, q, c, tuple(pairs), "joined")
    return NameComparison(aligned, q, c, tuple(pairs), "aligned")


def _residue_similarities(
    q: NameForm, q_used: list[bool], c: NameForm, c_used: list[bool]
) -> list[tuple[float, int, int, str]]:
    """Every unpaired query token against every unpaired entry token."""
    out: list[tuple[float, int, int, str]] = []
    for i, a in enumerate(q.tokens):
        if q_used[i]:
            continue
        for j, b in enumerate(c.tokens):
            if c_used[j]:
                continue
            sim, how = token_similarity(
                a, b, q.phonetics[i], c.phonetics[j], q.squeezed[i], c.squeezed[j]
            )
            if sim >= MIN_TOKEN_SIMILARITY:
                out.append((sim, i, j, how))
    return out


def _share_symbol(q: NameForm, q_used: list[bool], c: NameForm, c_used: list[bool]) -> bool:
    left: set[str] = set()
    for i, used in enumerate(q_used):
        if not used:
            left.update(q.part_symbols[i])
    if not left:
        return False
    return any(not used and not left.isdisjoint(c.part_symbols[j]) for j, used in enumerate(c_used))


def _pair_by_symbols(
    q: NameForm, q_used: list[bool], c: NameForm, c_used: list[bool], pairs: list[TokenPair]
) -> float:
    """Pair leftover parts that share a symbol; returns the weighted score added."""
    added = 0.0
    options = pair_symbols(rigour_name(q), rigour_name(c))
    if not options:
        return added
    best = max(options, key=lambda opt: sum(len(a.qstr) + len(a.rstr) for a in opt))
    for al in best:
        qi = [p.index for p in al.qps]
        ci = [p.index for p in al.rps]
        if any(q_used[i] for i in qi) or any(c_used[j] for j in ci):
            continue
        q_text = " ".join(q.tokens[i] for i in qi)
        c_text = " ".join(c.tokens[j] for j in ci)
        base = _symbol_score(al.symbol, al.qps, al.rps)
        spelled, _ = token_similarity(q_text.replace(" ", ""), c_text.replace(" ", ""))
        score = max(base, spelled)
        symbol = al.symbol
        how = f"same {symbol.category.value.lower()} {symbol.id}" if symbol else "symbol"
        wq = sum(q.weights[i] for i in qi)
        wc = sum(c.weights[j] for j in ci)
        added += score * (wq + CANDIDATE_EXTRA_WEIGHT * wc)
        pairs.append(TokenPair(q_text, c_text, score, how))
        for i in qi:
            q_used[i] = True
        for j in ci:
            c_used[j] = True
    return added


def _symbol_score(
    symbol: Symbol | None, qps: tuple[NamePart, ...], rps: tuple[NamePart, ...]
) -> float:
    if symbol is None:
        return 0.8
    base = SYMBOL_SCORES.get(symbol.category, 0.8)
    if symbol.category not in (SymbolCategory.NAME, SymbolCategory.NICK):
        return base
    q_form = "".join(p.form for p in qps)
    r_form = "".join(p.form for p in rps)
    scripts = text_scripts(q_form + r_form)
    if "Han" in scripts:
        return HAN_SYMBOL
    if q_form.isascii() and r_form.isascii():
        return min(base, SAME_SCRIPT_NAME_SYMBOL)
    return base


def _joined_similarity(q: NameForm, c: NameForm) -> float:
    a, b = q.core, c.core
    if len(a) < MIN_JOINED_LENGTH or len(b) < MIN_JOINED_LENGTH:
        # Too short for a spaceless comparison to mean anything on its own.
        return 0.0
    within = spelling_similarity(a, b, joined_budget(max(len(a), len(b))))
    if within:
        return within
    # Beyond the typo budget the spellings may still be one name romanised by
    # two systems ("gimjeongeun" / "Kim Jong Un"): partial credit, capped so it
    # never makes a hit on its own.
    return min(JOINED_PARTIAL_CAP, OSA.normalized_similarity(a, b))


def best_name_match(
    query_forms: tuple[NameForm, ...], candidate_forms: list[tuple[NameForm, bool]]
) -> tuple[NameComparison, bool] | None:
    """The best comparison over every query spelling and every (name, weak) of an entry."""
    best: tuple[NameComparison, bool] | None = None
    best_score = -1.0
    for qf in query_forms:
        for cf, weak in candidate_forms:
            comparison = compare_forms(qf, cf)
            score = comparison.score * (WEAK_ALIAS_FACTOR if weak else 1.0)
            if score > best_score:
                best, best_score = (comparison, weak), score
    return best


def name_feature(comparison: NameComparison, weak: bool) -> Feature:
    score = comparison.score * (WEAK_ALIAS_FACTOR if weak else 1.0)
    detail = comparison.describe()
    if weak:
        detail += f"; weak alias, counted ×{WEAK_ALIAS_FACTOR}"
    return Feature("name", round(comparison.score, 4), round(score, 4), detail)


def dob_feature(query: tuple[str, ...], entry: tuple[str, ...]) -> Feature | None:
    if not query or not entry:
        return None
    best: tuple[float, float, str] | None = None
    for qd in query:
        for ed in entry:
            agreement, effect, how = _compare_dates(qd, ed)
            if best is None or effect > best[1]:
                best = (agreement, effect, f"{qd} vs {ed}: {how}")
    assert best is not None
    return Feature("date_of_birth", best[0], best[1], best[2])


def _compare_dates(a: str, b: str) -> tuple[float, float, str]:
    precision = min(len(a), len(b))
    if a == b and len(a) == 10:
        return 1.0, DOB_EXACT, "same date"
    if a[:precision] == b[:precision]:
        return 0.9, 0.0, "agree as far as both are known"
    if a[:4] == b[:4]:
        if len(a) == len(b) == 10 and a[5:7] == b[8:10] and a[8:10] == b[5:7]:
            return 0.8, 0.0, "same date with day and month swapped"
        return 0.5, DOB_SAME_YEAR, "same year, different month or day"
    try:
        gap = abs(int(a[:4]) - int(b[:4]))
    except ValueError:
        return 0.0, 0.0, "not comparable"
    if gap == 1:
        return 0.3, DOB_NEAR, "one year apart"
    return 0.0, DOB_MISMATCH, f"{gap} years apart"


def country_feature(query: tuple[str, ...], entry: tuple[str, ...]) -> Feature | None:
    if not query or not entry:
        return None
    shared = sorted(set(query) & set(entry))
    if shared:
        return Feature("country", 1.0, COUNTRY_MATCH, "shared: " + ", ".join(shared))
    return Feature(
        "country",
        0.0,
        COUNTRY_MISMATCH,
        f"query {', '.join(query)} vs entry {', '.join(entry)}",
    )


def schema_feature(query: Schema | None, entry: Schema) -> Feature | None:
    if query is None:
        return None
    if query.compatible_with(entry):
        return Feature("schema", 1.0, 0.0, f"{query.value} vs {entry.value}: compatible")
    return Feature(
        "schema", 0.0, SCHEMA_MISMATCH, f"{query.value} vs {entry.value}: different kinds"
    )


@dataclass(frozen=True, slots=True)
class PreparedQuery:
    query: ScreenQuery
    forms: tuple[NameForm, ...]


def prepare_query(query: ScreenQuery) -> PreparedQuery:
    return PreparedQuery(query, prepare_name(query.name, query.schema))


def score(
    query: PreparedQuery,
    party: Party,
    forms: list[tuple[NameForm, bool]],
    threshold: float = 0.0,
) -> Match | None:
    """Score one list entry against a prepared query.

    Returns None when no name compares or the score is below ``threshold``;
    the (costlier) explanation text is only written for results that are kept.
    """
    best = best_name_match(query.forms, forms)
    if best is None:
        return None
    comparison, weak = best
    name_score = comparison.score * (WEAK_ALIAS_FACTOR if weak else 1.0)
    extras = [
        f
        for f in (
            dob_feature(query.query.dates_of_birth, party.dates_of_birth),
            country_feature(query.query.countries, party.countries),
            schema_feature(query.query.schema, party.schema),
        )
        if f is not None
    ]
    total = round(min(1.0, max(0.0, name_score + sum(f.effect for f in extras))), 4)
    if total < threshold:
        return None
    return Match(
        score=total,
        matched_name=comparison.candidate.original,
        features=(name_feature(comparison, weak), *extras),
    )
