"""Screening: one call from a query to explained hits against every loaded list."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import time
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from rapidfuzz import fuzz
from rapidfuzz.process import cdist

from econsec.lists._common import country_code, parse_date
from econsec.model import ListVersion, Party, Schema
from econsec.model.screening import Hit, Match, ScreenQuery, ScreenResult
from econsec.screening.algorithms import name_v1
from econsec.screening.index import CandidateIndex, form_keys
from econsec.screening.names import NameForm, prepare_name
from econsec.store.workspace import Workspace

ALGORITHM = name_v1.VERSION
#: Name forms taken from the index per query and re-ranked; when the walk
#: below reaches the end of them, the pool is doubled (up to the maximum).
CANDIDATE_FORMS = 64
MAX_CANDIDATE_FORMS = 4096
#: Distinct entries are then scored in full, best-ranked first, on at most
#: ``FORMS_PER_PARTY`` of their names each: at least ``CANDIDATE_PARTIES`` of
#: them, then on while they keep matching. The walk stops after
#: ``STOP_AFTER_MISSES`` entries in a row scoring below the threshold, plus one
#: per hit found (up to ``MAX_EXTRA_PATIENCE``): a name listed on many entries
#: (one person on the SDN, UN and CSL copies, a family of affiliates, a common
#: name) is followed as far as it goes, while a query that matches nothing
#: costs only the minimum. The walk does not depend on ``limit`` (a smaller
#: limit shows the first results of a larger one), and from the default
#: threshold up it is the same whatever the threshold, so that raising the
#: threshold only removes hits.
CANDIDATE_PARTIES = 6
STOP_AFTER_MISSES = 5
MAX_EXTRA_PATIENCE = 20
FORMS_PER_PARTY = 2
#: Re-ranking mixes the index's key evidence with a cheap whole-string
#: similarity (rapidfuzz token-sort ratio), half and half; the string
#: similarity breaks the ties between names sharing the same tokens (a family
#: listed member by member) in favour of the one written like the query.
RERANK_STRING_SHARE = 0.5


class ScreeningError(ValueError):
    pass


class Screener:
    """An in-memory index over a set of parties (normally the active list versions)."""

    def __init__(self, parties: Sequence[Party], versions: Sequence[ListVersion] = ()) -> None:
        started = time.perf_counter()
        self.parties = list(parties)
        self.versions = tuple(versions)
        forms: list[NameForm] = []
        owners: list[int] = []
        weak_flags: list[bool] = []
        for pi, party in enumerate(self.parties):
            names = [(party.name, False)] + [(a.name, a.weak) for a in party.aliases]
            for name, weak in names:
                for form in prepare_name(name, party.schema):
                    forms.append(form)
                    owners.append(pi)
                    weak_flags.append(weak)
        self._forms = forms
        self._texts = [f.text for f in forms]
        self._weak = weak_flags
        self._owners: npt.NDArray[np.int32] = np.asarray(owners, dtype=np.int32)
        self.index = CandidateIndex(forms)
        self._masks: dict[tuple[str, ...], npt.NDArray[np.bool_]] = {}
        self.build_seconds = time.perf_counter() - started

    def __getstate__(self) -> dict[str, object]:
        # rigour's analysed names cannot be pickled; they are redone on demand
        # (names.rigour_name) for the few candidates that need them.
        state = dict(self.__dict__)
        state["_forms"] = [dataclasses.replace(f, name=None) for f in self._forms]
        state["_masks"] = {}
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)

    @classmethod
    def from_workspace(cls, workspace: Workspace) -> Screener:
        versions, parties = workspace.active_parties()
        return cls(parties, versions)

    @property
    def form_count(self) -> int:
        return self.index.size

    def _allowed(self, lists: tuple[str, ...]) -> npt.NDArray[np.bool_] | None:
        if not lists:
            return None
        key = tuple(sorted(x.lower() for x in lists))
        mask = self._masks.get(key)
        if mask is None:
            wanted = set(key)
            party_ok = np.fromiter(
                (p.source.lower() in wanted or p.list.lower() in wanted for p in self.parties),
                dtype=bool,
                count=len(self.parties),
            )
            if not party_ok.any():
                known = sorted({p.source for p in self.parties} | {p.list for p in self.parties})
                raise ScreeningError(
                    f"lists: no loaded list matches {', '.join(lists)}; known: {', '.join(known)}"
                )
            mask = party_ok[self._owners]
            self._masks[key] = mask
        return mask

    def _rank(
        self, forms: tuple[NameForm, ...], allowed: npt.NDArray[np.bool_] | None, pool: int
    ) -> npt.NDArray[np.int32]:
        ids, scores = self.index.candidates(forms, pool, allowed)
        if ids.size <= 1:
            return ids
        texts = [self._texts[i] for i in ids.tolist()]
        similarity = cdist(
            [f.text for f in forms], texts, scorer=fuzz.token_sort_ratio, dtype=np.float32
        ).max(axis=0)
        combined = (1.0 - RERANK_STRING_SHARE) * scores / scores[0] + (
            RERANK_STRING_SHARE * similarity / 100.0
        )
        return ids[np.argsort(-combined, kind="stable")]

    def _entries(self, form_ids: npt.NDArray[np.int32]) -> dict[int, list[tuple[NameForm, bool]]]:
        """Candidate names grouped by list entry, best-ranked entry first."""
        grouped: dict[int, list[tuple[NameForm, bool]]] = {}
        for fid in form_ids.tolist():
            entry = grouped.setdefault(int(self._owners[fid]), [])
            if len(entry) < FORMS_PER_PARTY:
                entry.append((self._forms[fid], self._weak[fid]))
        return grouped

    def index_keys(self) -> set[str]:
        """Every candidate-index key of every name form indexed here.

        A query that shares no key with them can get no candidate, hence no hit,
        from this screener (delta screening uses this to skip such queries).
        """
        return {key for form in self._forms for keys in form_keys(form) for key in keys}

    def screen(
        self, query: ScreenQuery, prepared: name_v1.PreparedQuery | None = None
    ) -> ScreenResult:
        """Screen one query; ``prepared`` is ``name_v1.prepare_query(query)`` if
        the caller already has it."""
        if not query.name.strip():
            raise ScreeningError("name: empty")
        threshold = name_v1.DEFAULT_THRESHOLD if query.threshold is None else query.threshold
        if not 0.0 <= threshold <= 1.0:
            raise ScreeningError(f"threshold: must be between 0 and 1, got {threshold}")
        if query.limit < 1:
            raise ScreeningError(f"limit: must be at least 1, got {query.limit}")
        if prepared is None or prepared.query is not query:
            prepared = name_v1.prepare_query(query)
        allowed = self._allowed(query.lists)
        floor = min(threshold, name_v1.DEFAULT_THRESHOLD)
        hits: list[Hit] = []
        scored: set[int] = set()
        misses = 0
        pool = CANDIDATE_FORMS
        while True:
            form_ids = self._rank(prepared.forms, allowed, pool)
            for pi, forms in self._entries(form_ids).items():
                if pi in scored:
                    continue
                patience = STOP_AFTER_MISSES + min(len(hits), MAX_EXTRA_PATIENCE)
                if len(scored) >= CANDIDATE_PARTIES and misses >= patience:
                    break
                scored.add(pi)
                party = self.parties[pi]
                match = name_v1.score(prepared, party, forms, floor)
                misses = misses + 1 if match is None else 0
                if match is not None and match.score >= threshold:
                    hits.append(Hit(party, match))
            else:
                # Every candidate was scored and they still mattered: widen the pool.
                if form_ids.size >= pool and pool < MAX_CANDIDATE_FORMS:
                    pool *= 2
                    continue
            break
        hits.sort(key=lambda h: (-h.match.score, h.party.entity_id))
        return ScreenResult(
            query=query,
            algorithm=ALGORITHM,
            threshold=threshold,
            hits=tuple(hits[: query.limit]),
            list_versions=self.versions,
        )


def compare(name1: str, name2: str, schema: Schema | None = None) -> Match:
    """Why two names do or do not match (name feature only), with ``name-v1``."""
    q = prepare_name(name1, schema)
    c = prepare_name(name2, schema)
    if not q or not c:
        raise ScreeningError("name1, name2: both names must contain letters or digits")
    best = name_v1.best_name_match(q, [(f, False) for f in c])
    assert best is not None
    comparison, weak = best
    feature = name_v1.name_feature(comparison, weak)
    return Match(score=feature.effect, matched_name=name2, features=(feature,))


def build_query(
    name: str,
    schema: str | None = None,
    countries: Sequence[str] = (),
    dates_of_birth: Sequence[str] = (),
    lists: Sequence[str] = (),
    threshold: float | None = None,
    limit: int = 10,
) -> ScreenQuery:
    """A query from user input (CLI options, API fields), validated field by field."""
    if not name.strip():
        raise ScreeningError("name: empty")
    parsed_schema = None
    if schema:
        try:
            parsed_schema = Schema.parse(schema)
        except ValueError as exc:
            raise ScreeningError(f"schema: {exc}") from None
    codes = []
    for value in countries:
        code = country_code(value)
        if code is None:
            raise ScreeningError(f"country: {value!r} is not a known country name or ISO code")
        codes.append(code)
    dobs: list[str] = []
    for value in dates_of_birth:
        dobs.extend(_query_date(value))
    wanted = [x.strip() for item in lists for x in item.split(",") if x.strip()]
    if threshold is not None and not 0.0 <= threshold <= 1.0:
        raise ScreeningError(f"threshold: must be between 0 and 1, got {threshold}")
    if limit < 1:
        raise ScreeningError(f"limit: must be at least 1, got {limit}")
    return ScreenQuery(
        name=name.strip(),
        schema=parsed_schema,
        countries=tuple(dict.fromkeys(codes)),
        dates_of_birth=tuple(dict.fromkeys(dobs)),
        lists=tuple(dict.fromkeys(wanted)),
        threshold=threshold,
        limit=limit,
    )


_ISO_PARTIAL = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")


def _query_date(value: str) -> tuple[str, ...]:
    """A date of birth typed by a user, checked strictly.

    List data is read leniently (``parse_date`` keeps what it can of a damaged
    date); a query is not: ``1984-02-30`` is an error, not "some day in 1984".
    """
    text = value.strip()
    hint = "use YYYY, YYYY-MM or YYYY-MM-DD"
    if m := _ISO_PARTIAL.match(text):
        year, month, day = (int(g) if g else None for g in m.groups())
        try:
            dt.date(year or 1, 1 if month is None else month, 1 if day is None else day)
        except ValueError as exc:
            raise ScreeningError(f"dob: {value!r} is not a valid date ({exc})") from None
        if not 1800 <= (year or 0) <= dt.date.today().year:
            raise ScreeningError(f"dob: {value!r}: year out of range")
        parts = [f"{year:04d}"] + [f"{x:02d}" for x in (month, day) if x is not None]
        return ("-".join(parts),)
    parsed = parse_date(text)
    if not parsed:
        raise ScreeningError(f"dob: {value!r} is not a date ({hint})")
    return parsed
