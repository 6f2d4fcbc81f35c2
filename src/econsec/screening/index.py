"""Candidate index: find the few list names worth scoring for a query.

Scoring every list name for every query would cost tens of milliseconds; the
index narrows ~90,000 names down to a few dozen in well under a millisecond.
Each distinctive token of each name form is filed under several keys:

* the token itself and every spelling with one letter deleted (a
  "deletion neighbourhood", as in SymSpell): two tokens within one edit,
  including one transposition, share a key;
* its Metaphone code, for tokens that sound alike;
* the name symbols rigour attached to it (``محمد`` and ``Mohamed`` share
  one), for names across scripts and nicknames.

Legal forms and generic words (weight below 1) are not indexed. A query token
adds its inverse document frequency to every name form one of its keys
reaches; the forms with the highest totals are the candidates. Postings are
stored as one sorted int32 array with offsets (compressed sparse rows), so
the index for the full lists takes a few tens of megabytes.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterable, Sequence
from functools import lru_cache

import numpy as np
import numpy.typing as npt
from rigour.names import SymbolCategory

from econsec.screening.names import NameForm, rigour_name

_SYMBOL_CATEGORIES = frozenset({SymbolCategory.NAME, SymbolCategory.NICK, SymbolCategory.PHONETIC})
#: Tokens at least this long also get their one-deletion neighbourhood.
MIN_DELETION_LENGTH = 4
#: Tokens shorter than this get no Metaphone key: short tokens that sound
#: alike are mostly different names (the matcher ignores them too).
MIN_PHONETIC_TOKEN_LENGTH = 6
#: Share of a token's weight credited for a near match (edit, sound, symbol);
#: an exact token match gets the full weight.
FUZZY_CREDIT = 0.7
#: A token reaching more name forms than this is "common": it ranks the
#: candidates the other tokens find but does not bring in candidates itself.
COMMON_TOKEN_POSTINGS = 1500
#: Number of query-token key sets whose posting unions are kept.
POSTINGS_CACHE_SIZE = 50_000


def _deletions(token: str) -> Iterable[str]:
    for i in range(len(token)):
        yield token[:i] + token[i + 1 :]


@lru_cache(maxsize=1 << 18)
def token_keys(token: str, phonetic: str | None) -> tuple[str, ...]:
    """The keys one distinctive token is filed under (cached: tokens repeat a lot)."""
    exact = "e" + token
    keys: set[str] = set()
    if len(token) >= MIN_DELETION_LENGTH and token.isascii():
        keys.update("e" + d for d in _deletions(token))
    if phonetic and len(token) >= MIN_PHONETIC_TOKEN_LENGTH:
        keys.add("m" + phonetic)
    keys.discard(exact)
    return (exact, *sorted(keys))


def form_keys(form: NameForm) -> list[tuple[str, ...]]:
    """The index keys of each token of a form (empty for non-distinctive tokens).

    The first key of a distinctive token is always its exact spelling.
    """
    name = rigour_name(form)
    parts = name.parts
    keys: list[tuple[str, ...]] = []
    for i, token in enumerate(form.tokens):
        if form.weights[i] >= 1.0 and len(token) >= 2:
            keys.append(token_keys(token, parts[i].metaphone if i < len(parts) else None))
        else:
            keys.append(())
    for span in name.spans:
        if span.symbol.category in _SYMBOL_CATEGORIES:
            for part in span.parts:
                i = part.index
                if i < len(keys) and form.weights[i] >= 1.0:
                    keys[i] = (*keys[i], "s" + span.symbol.id)
    return keys


def query_keys(forms: Iterable[NameForm]) -> list[str]:
    """The index keys a query's name forms look up, sorted: a query can only
    reach list names that share at least one of them."""
    return sorted({key for form in forms for keys in form_keys(form) for key in keys})


class CandidateIndex:
    """Inverted index from token keys to name-form ids."""

    def __init__(self, forms: Sequence[NameForm]) -> None:
        key_ids: dict[str, int] = {}
        rows = array("i")
        cols = array("i")
        self._form_sizes = np.zeros(len(forms), dtype=np.float64)
        for form_id, form in enumerate(forms):
            seen: set[int] = set()
            distinctive = 0
            for keys in form_keys(form):
                if keys:
                    distinctive += 1
                for key in keys:
                    kid = key_ids.get(key)
                    if kid is None:
                        kid = key_ids[key] = len(key_ids)
                    seen.add(kid)
            rows.extend(seen)
            cols.extend([form_id] * len(seen))
            self._form_sizes[form_id] = max(distinctive, 1)
        row_arr = np.frombuffer(rows, dtype=np.int32)
        col_arr = np.frombuffer(cols, dtype=np.int32)
        order = np.argsort(row_arr, kind="stable")
        self._postings: npt.NDArray[np.int32] = col_arr[order]
        counts = np.bincount(row_arr, minlength=len(key_ids))
        self._offsets: npt.NDArray[np.int64] = np.concatenate(([0], np.cumsum(counts))).astype(
            np.int64
        )
        self._key_ids = key_ids
        self.size = len(forms)
        # Insertion-ordered dict used as a FIFO cache of key-set unions.
        self._cache: dict[tuple[str, ...], npt.NDArray[np.int32]] = {}

    @property
    def key_count(self) -> int:
        return len(self._key_ids)

    def _postings_for(self, keys: tuple[str, ...]) -> npt.NDArray[np.int32]:
        """The forms reached by any of ``keys`` (cached: query tokens repeat)."""
        cached = self._cache.get(keys)
        if cached is not None:
            return cached
        result = self._union(keys)
        if len(self._cache) >= POSTINGS_CACHE_SIZE:
            self._cache.pop(next(iter(self._cache)))
        self._cache[keys] = result
        return result

    def _union(self, keys: Iterable[str]) -> npt.NDArray[np.int32]:
        chunks = []
        for key in keys:
            kid = self._key_ids.get(key)
            if kid is not None:
                chunks.append(self._postings[self._offsets[kid] : self._offsets[kid + 1]])
        if not chunks:
            return np.empty(0, dtype=np.int32)
        if len(chunks) == 1:
            return chunks[0]
        return np.unique(np.concatenate(chunks))

    def candidates(
        self,
        forms: Sequence[NameForm],
        limit: int,
        allowed: npt.NDArray[np.bool_] | None = None,
    ) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.float64]]:
        """Ids and scores of the name forms sharing the most informative keys
        with the query, best first.

        Each query spelling is scored separately (sparse: only the forms its
        keys reach) and a form keeps its best spelling's score.
        """
        id_chunks: list[npt.NDArray[np.int32]] = []
        score_chunks: list[npt.NDArray[np.float64]] = []
        for form in forms:
            found = self._score_form(form)
            if found is not None:
                id_chunks.append(found[0])
                score_chunks.append(found[1])
        if not id_chunks:
            return np.empty(0, dtype=np.int32), np.empty(0, dtype=np.float64)
        if len(id_chunks) == 1:
            ids, scores = id_chunks[0], score_chunks[0]
        else:
            ids = np.concatenate(id_chunks)
            scores = np.concatenate(score_chunks)
            order = np.lexsort((-scores, ids))
            ids, scores = ids[order], scores[order]
            first = np.concatenate(([True], ids[1:] != ids[:-1]))
            ids, scores = ids[first], scores[first]
        if allowed is not None:
            keep = allowed[ids]
            ids, scores = ids[keep], scores[keep]
        if ids.size > limit:
            top = np.argpartition(scores, -limit)[-limit:]
            ids, scores = ids[top], scores[top]
        order = np.argsort(-scores, kind="stable")
        return ids[order], scores[order]

    def _score_form(
        self, form: NameForm
    ) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.float64]] | None:
        # (near-match postings, exact postings, weight) per distinctive token
        tokens: list[tuple[npt.NDArray[np.int32], npt.NDArray[np.int32], float]] = []
        for keys in form_keys(form):
            if not keys:
                continue
            ids = self._postings_for(keys)
            if ids.size:
                weight = math.log1p(self.size / (1 + ids.size))
                tokens.append((ids, self._postings_for(keys[:1]), weight))
        if not tokens:
            return None
        # Candidates come from the rarer tokens; a very common token ("mohammad",
        # with its spellings and symbols: thousands of names) brings in only the
        # names that spell it exactly, and adds its weight to candidates found
        # otherwise; if every token is common, all of them bring candidates in.
        all_common = all(t[0].size > COMMON_TOKEN_POSTINGS for t in tokens)
        ids_parts: list[npt.NDArray[np.int32]] = []
        weight_parts: list[npt.NDArray[np.float64]] = []
        later: list[tuple[npt.NDArray[np.int32], float]] = []
        for ids, exact, weight in tokens:
            if all_common or ids.size <= COMMON_TOKEN_POSTINGS:
                ids_parts.append(ids)
                weight_parts.append(np.full(ids.size, FUZZY_CREDIT * weight))
            else:
                later.append((ids, FUZZY_CREDIT * weight))
            if exact.size and (all_common or exact.size <= COMMON_TOKEN_POSTINGS):
                ids_parts.append(exact)
                weight_parts.append(np.full(exact.size, (1.0 - FUZZY_CREDIT) * weight))
            elif exact.size:
                later.append((exact, (1.0 - FUZZY_CREDIT) * weight))
        if not ids_parts:
            return None
        found, inverse = np.unique(np.concatenate(ids_parts), return_inverse=True)
        scores = np.bincount(inverse, weights=np.concatenate(weight_parts)).astype(np.float64)
        for ids, credit in later:
            scores[_members(found, ids)] += credit
        # At equal evidence prefer names no longer than the query (a query
        # "Huawei Technologies" should see "Huawei Technologies Co." before
        # "Huawei Technologies R&D UK"), without favouring names shorter than it.
        size = np.maximum(self._form_sizes[found], float(len(tokens)))
        return found.astype(np.int32), scores / np.sqrt(size)


def _members(
    values: npt.NDArray[np.int64] | npt.NDArray[np.int32], sorted_ids: npt.NDArray[np.int32]
) -> npt.NDArray[np.bool_]:
    """Which ``values`` occur in the sorted array ``sorted_ids``."""
    pos = np.searchsorted(sorted_ids, values)
    pos[pos == sorted_ids.size] = 0
    return np.asarray(sorted_ids[pos] == values)
