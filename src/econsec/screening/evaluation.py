"""Evaluation of screening quality on the public matching sets.

The sets (``../shared/data/matching``):

* yente positives: names that must be found. The UN sets hold the names of
  UN list entries as listed ("untreated") and with typical clerical noise
  ("treated": swapped or doubled letters, "LAST, First" order, a misplaced
  space), line for line; the US Congress set holds members of Congress.
  The files do not name the entry each row came from, so the *right entry*
  is established from the untreated name: the entry of the target list with
  that exact name or alias (case and spacing ignored), narrowed by date of
  birth when several share it; for Congress, failing an exact name, the
  member with the same birth year and surname. Rows whose person is no
  longer on the loaded edition (delisted since the set was made) have no
  right entry and are reported, not counted.
* yente negatives: 50,000 synthetic people each (global and US) who must not
  be flagged at the default threshold.
* cross-script pairs: a name in another script, its Latin spelling and the
  minimum score a matcher should reach.
* the Senzing truth set: customers and a watch list with the answer key
  (which records are the same person).
"""

from __future__ import annotations

import csv
import re
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from econsec.lists import default_targets, load, senzing
from econsec.lists._common import country_code, parse_date
from econsec.model import Party, Schema
from econsec.model.screening import ScreenQuery
from econsec.screening.screen import Screener, compare
from econsec.store.workspace import Workspace


@dataclass(frozen=True, slots=True)
class LabelledQuery:
    """A query from a matching set, with the entries that count as right answers."""

    query: ScreenQuery
    #: Entity ids of the right entries; empty when the person is not on the list.
    truth: frozenset[str]
    line: int


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text.upper()).strip()


def read_people(path: Path, lists: tuple[str, ...] = ()) -> list[tuple[int, ScreenQuery, str]]:
    """Rows of a yente CSV as person queries: ``(line, query, raw full_name)``."""
    out = []
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        for row in reader:
            name = row["full_name"].strip()
            if not name:
                continue
            nationality = row.get("nationality") or ""
            code = country_code(nationality)
            query = ScreenQuery(
                name=name,
                schema=Schema.PERSON,
                countries=(code,) if code else (),
                dates_of_birth=parse_date(row.get("date_of_birth")),
                lists=lists,
            )
            out.append((reader.line_num, query, name))
    return out


def label_positives(
    untreated: Path, treated: Path | None, target: Sequence[Party], lists: tuple[str, ...]
) -> tuple[list[LabelledQuery], list[LabelledQuery]]:
    """Label the untreated rows (and the treated rows, line for line) with their entry."""
    by_name: dict[str, list[Party]] = defaultdict(list)
    by_year_surname: dict[tuple[str, str], list[Party]] = defaultdict(list)
    for party in target:
        for name in party.all_names:
            by_name[_norm(name)].append(party)
        for dob in party.dates_of_birth:
            by_year_surname[(dob[:4], _norm(party.name).split(" ")[-1])].append(party)

    def exact(raw: str, query: ScreenQuery) -> list[Party]:
        found = by_name.get(_norm(raw), [])
        if len(found) > 1 and query.dates_of_birth:
            narrowed = [
                p
                for p in found
                if any(d[:4] == q[:4] for d in p.dates_of_birth for q in query.dates_of_birth)
            ]
            found = narrowed or found
        return found

    rows = read_people(untreated, lists)
    labelled = []
    for line, query, raw in rows:
        found = exact(raw, query)
        if not found and query.dates_of_birth:
            surname = _norm(raw).split(" ")[-1]
            found = by_year_surname.get((query.dates_of_birth[0][:4], surname), [])
        labelled.append(LabelledQuery(query, frozenset(p.entity_id for p in found), line))
    treated_labelled: list[LabelledQuery] = []
    if treated is not None:
        treated_rows = read_people(treated, lists)
        if len(treated_rows) != len(rows):
            raise ValueError(f"{treated}: {len(treated_rows)} rows, {untreated}: {len(rows)}")
        # A few treated rows name a relative listed separately (same family
        # name, other given name and birth date); that entry is right too.
        treated_labelled = [
            LabelledQuery(q, lab.truth | {p.entity_id for p in exact(raw, q)}, line)
            for (line, q, raw), lab in zip(treated_rows, labelled, strict=True)
        ]
    return labelled, treated_labelled


@dataclass(frozen=True, slots=True)
class Recall:
    found: int
    total: int
    #: Rows without a right entry on the loaded edition (not counted).
    unlabelled: int
    misses: tuple[str, ...]

    @property
    def rate(self) -> float:
        return self.found / self.total if self.total else 0.0


def recall_at(screener: Screener, queries: Iterable[LabelledQuery], top: int = 3) -> Recall:
    """Share of labelled queries whose right entry is among the top hits (above threshold)."""
    found = total = unlabelled = 0
    misses: list[str] = []
    for lab in queries:
        if not lab.truth:
            unlabelled += 1
            continue
        total += 1
        result = screener.screen(lab.query)
        ids = [h.party.entity_id for h in result.hits[:top]]
        if lab.truth & set(ids):
            found += 1
        else:
            misses.append(f"line {lab.line}: {lab.query.name!r} → {ids}")
    return Recall(found, total, unlabelled, tuple(misses))


@dataclass(frozen=True, slots=True)
class FalseAlarms:
    flagged: int
    total: int
    examples: tuple[str, ...]

    @property
    def rate(self) -> float:
        return self.flagged / self.total if self.total else 0.0


def false_alarms(screener: Screener, queries: Iterable[ScreenQuery]) -> FalseAlarms:
    flagged = total = 0
    examples: list[str] = []
    for query in queries:
        total += 1
        result = screener.screen(query)
        if result.hits:
            flagged += 1
            if len(examples) < 50:
                top = result.hits[0]
                examples.append(
                    f"{query.name!r} → {top.match.matched_name!r} "
                    f"({top.party.entity_id}) {top.match.score:.3f}"
                )
    return FalseAlarms(flagged, total, tuple(examples))


@dataclass(frozen=True, slots=True)
class CrossScriptPair:
    query: str
    expected: str
    min_score: float
    description: str


def read_cross_script(path: Path) -> list[CrossScriptPair]:
    pairs = []
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.reader(line for line in fh if line.strip() and not line.startswith("#")):
            pairs.append(CrossScriptPair(row[0], row[1], float(row[2]), row[3]))
    return pairs


@dataclass(frozen=True, slots=True)
class CrossScriptResult:
    pair: CrossScriptPair
    score: float

    @property
    def passed(self) -> bool:
        return self.score >= self.pair.min_score


def cross_script(pairs: Iterable[CrossScriptPair]) -> list[CrossScriptResult]:
    return [CrossScriptResult(p, compare(p.query, p.expected, Schema.PERSON).score) for p in pairs]


@dataclass(frozen=True, slots=True)
class TruthSetResult:
    true_positives: int
    false_positives: int
    false_negatives: int

    @property
    def precision(self) -> float:
        flagged = self.true_positives + self.false_positives
        return self.true_positives / flagged if flagged else 0.0

    @property
    def recall(self) -> float:
        expected = self.true_positives + self.false_negatives
        return self.true_positives / expected if expected else 0.0


def senzing_truth_set(folder: Path, threshold: float | None = None) -> TruthSetResult:
    """Screen each customer against the watch list; compare with the answer key.

    A (customer, watch-list record) pair is expected when the key puts both in
    one cluster. Screening is by name and date of birth only: a watch-list
    record the key links through an SSN or an e-mail alone is not findable by
    name and is still counted as a miss.
    """
    watchlist = senzing.parse(folder / "watchlist.jsonl").parties
    customers = senzing.parse(folder / "customers.jsonl").parties
    cluster: dict[tuple[str, str], str] = {}
    with (folder / "actual_truthset_key.csv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            cluster[(row["DATA_SOURCE"].lower(), row["RECORD_ID"])] = row["CLUSTER_ID"]
    expected: set[tuple[str, str]] = set()
    watch_by_cluster: dict[str, list[str]] = defaultdict(list)
    for (source, record), cid in cluster.items():
        if source == "watchlist":
            watch_by_cluster[cid].append(record)
    for customer in customers:
        customer_cluster = cluster.get(("customers", customer.list_entry_id), "")
        for record in watch_by_cluster.get(customer_cluster, []):
            expected.add((customer.list_entry_id, record))
    screener = Screener(watchlist)
    flagged: set[tuple[str, str]] = set()
    for customer in customers:
        result = screener.screen(
            ScreenQuery(
                name=customer.name,
                schema=customer.schema,
                dates_of_birth=customer.dates_of_birth,
                threshold=threshold,
            )
        )
        for hit in result.hits:
            flagged.add((customer.list_entry_id, hit.party.list_entry_id))
    tp = len(flagged & expected)
    return TruthSetResult(tp, len(flagged - expected), len(expected - flagged))


def screener_over_data(data: Path) -> Screener:
    """A screener over every list in ``data/lists``, loaded into a throw-away
    workspace the way `econsec lists load` loads them (for the benchmarks)."""
    with tempfile.TemporaryDirectory() as tmp:
        workspace = Workspace(Path(tmp))
        for target in default_targets(data):
            load(target, workspace)
        return Screener.from_workspace(workspace)
