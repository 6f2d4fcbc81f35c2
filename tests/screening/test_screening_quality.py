"""Screening quality on the public matching sets (../shared/data/matching).

The sets are read and labelled by econsec.screening.evaluation, as the quality
benchmark does (benchmarks/screening_quality.py); these tests hold the
figures to a floor on the whole positive sets and a sample of the negatives.
"""

from __future__ import annotations

import pytest

from conftest import shared_file
from econsec.model import Schema
from econsec.screening import evaluation as ev
from econsec.screening.screen import Screener

pytestmark = pytest.mark.slow

MIN_RECALL = 0.98
MAX_FALSE_ALARMS = 0.01
NEGATIVES_SAMPLE = 2_000
MIN_CROSS_SCRIPT = 0.90


def _un_sets(screener: Screener) -> tuple[list[ev.LabelledQuery], list[ev.LabelledQuery]]:
    un = [p for p in screener.parties if p.source == "un_sc"]
    return ev.label_positives(
        shared_file("matching/yente_positives_un_untreated.csv"),
        shared_file("matching/yente_positives_un_treated.csv"),
        un,
        ("un_sc",),
    )


def _check_recall(screener: Screener, rows: list[ev.LabelledQuery]) -> None:
    recall = ev.recall_at(screener, rows)
    # The labelling must find the right entry for nearly every row, or the rate
    # would be measured on a few easy rows.
    assert recall.total >= 0.98 * len(rows), f"{recall.unlabelled} rows unlabelled"
    assert recall.rate >= MIN_RECALL, "\n".join(recall.misses[:20])


def test_recall_of_un_names_as_listed(screener: Screener) -> None:
    untreated, _ = _un_sets(screener)
    assert len(untreated) > 600
    _check_recall(screener, untreated)


def test_recall_of_un_names_with_clerical_noise(screener: Screener) -> None:
    untreated, treated = _un_sets(screener)
    assert len(treated) == len(untreated)
    # The noise is real: a good share of the rows differ from the listed spelling.
    changed = sum(t.query.name != u.query.name for t, u in zip(treated, untreated, strict=True))
    assert changed >= len(treated) // 5
    _check_recall(screener, treated)


def test_recall_of_us_congress(screener: Screener) -> None:
    congress = [p for p in screener.parties if p.source == "os_us_congress"]
    rows, _ = ev.label_positives(
        shared_file("matching/yente_positives_us_congress_untreated.csv"),
        None,
        congress,
        ("os_us_congress",),
    )
    assert len(rows) > 1_000
    _check_recall(screener, rows)


@pytest.mark.parametrize("name", ["yente_negatives_global.csv", "yente_negatives_us.csv"])
def test_false_alarms_on_synthetic_people(screener: Screener, name: str) -> None:
    rows = ev.read_people(shared_file(f"matching/{name}"))
    queries = [q for _, q, _ in rows][:NEGATIVES_SAMPLE]
    assert len(queries) == NEGATIVES_SAMPLE
    assert all(q.schema is Schema.PERSON for q in queries)
    alarms = ev.false_alarms(screener, queries)
    assert alarms.total == NEGATIVES_SAMPLE
    assert alarms.rate <= MAX_FALSE_ALARMS, "\n".join(alarms.examples)


def test_cross_script_pairs_reach_their_minimum_score() -> None:
    pairs = ev.read_cross_script(shared_file("matching/cross_script_pairs.csv"))
    assert len(pairs) >= 20
    results = ev.cross_script(pairs)
    passed = [r for r in results if r.passed]
    failed = [f"{r.pair.query} ~ {r.pair.expected}: {r.score:.3f}" for r in results if not r.passed]
    assert len(passed) / len(results) >= MIN_CROSS_SCRIPT, failed
    # Every script of the set is covered by at least one passing pair.
    passing = {r.pair.expected for r in passed}
    for latin in (
        "Vladimir Putin",
        "Mohamed Ali",
        "Xi Jinping",
        "Yamada Taro",
        "Nikolaos",
        "Moshe",
        "Somchai",
    ):
        assert latin in passing
