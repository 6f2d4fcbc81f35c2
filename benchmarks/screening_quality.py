"""Screening quality on the public matching sets (see econsec.screening.evaluation).

Loads every list in ../shared/data/lists into a fresh workspace, builds the
screener and reports, at the default threshold of the current algorithm:

* recall of the yente positive sets (right entry among the top 3 hits),
  screened against the list each set comes from;
* the false-alarm rate on the 50,000 global and 50,000 US synthetic negatives,
  screened against every loaded list;
* the share of cross-script pairs at or above their minimum score;
* precision and recall on the Senzing truth set.

Usage: python benchmarks/screening_quality.py [--negatives N] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from econsec.screening import evaluation as ev
from econsec.screening.algorithms import name_v1
from econsec.settings import data_dir


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--negatives", type=int, default=50_000, help="negatives per set")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    parser.add_argument("--show-misses", action="store_true")
    args = parser.parse_args()
    data = data_dir()
    if data is None:
        print("no ../shared/data folder (set ECONSEC_DATA)", file=sys.stderr)
        return 2
    matching = data / "matching"
    screener = ev.screener_over_data(data)
    build = screener.build_seconds
    print(f"algorithm {name_v1.VERSION}, threshold {name_v1.DEFAULT_THRESHOLD}")
    print(
        f"index: {len(screener.parties)} entries, {screener.form_count} name forms, "
        f"built in {build:.1f}s"
    )
    figures: dict[str, object] = {
        "algorithm": name_v1.VERSION,
        "threshold": name_v1.DEFAULT_THRESHOLD,
    }

    un = [p for p in screener.parties if p.source == "un_sc"]
    untreated, treated = ev.label_positives(
        matching / "yente_positives_un_untreated.csv",
        matching / "yente_positives_un_treated.csv",
        un,
        ("un_sc",),
    )
    congress = [p for p in screener.parties if p.source == "os_us_congress"]
    congress_rows, _ = ev.label_positives(
        matching / "yente_positives_us_congress_untreated.csv",
        None,
        congress,
        ("os_us_congress",),
    )
    for label, rows in (
        ("UN untreated", untreated),
        ("UN treated", treated),
        ("US Congress", congress_rows),
    ):
        recall = ev.recall_at(screener, rows)
        print(
            f"recall@3 {label:13s} {recall.rate:.4f}  ({recall.found}/{recall.total}; "
            f"{recall.unlabelled} rows not on the loaded edition)"
        )
        figures[f"recall_{label.lower().replace(' ', '_')}"] = recall.rate
        if args.show_misses:
            for miss in recall.misses:
                print("   miss", miss)

    for label, name in (("global", "yente_negatives_global.csv"), ("US", "yente_negatives_us.csv")):
        queries = [q for _, q, _ in ev.read_people(matching / name)][: args.negatives]
        started = time.perf_counter()
        fa = ev.false_alarms(screener, queries)
        elapsed = time.perf_counter() - started
        print(
            f"false alarms {label:7s} {fa.rate:.4f}  ({fa.flagged}/{fa.total}; "
            f"{fa.total / elapsed:.0f} queries/s)"
        )
        figures[f"false_alarm_rate_{label.lower()}"] = fa.rate
        if args.show_misses:
            for example in fa.examples[:30]:
                print("   alarm", example)

    results = ev.cross_script(ev.read_cross_script(matching / "cross_script_pairs.csv"))
    passed = sum(r.passed for r in results)
    print(
        f"cross-script pairs at/above min score: {passed}/{len(results)} "
        f"= {passed / len(results):.3f}"
    )
    for r in results:
        mark = "ok  " if r.passed else "FAIL"
        print(
            f"   {mark} {r.pair.query} ~ {r.pair.expected}: {r.score:.3f} (min {r.pair.min_score})"
        )
    figures["cross_script_pass_rate"] = passed / len(results)

    truth = ev.senzing_truth_set(matching / "senzing_truthsets")
    print(
        f"Senzing truth set: precision {truth.precision:.3f}, recall {truth.recall:.3f} "
        f"(tp {truth.true_positives}, fp {truth.false_positives}, "
        f"fn {truth.false_negatives})"
    )
    figures["senzing_precision"] = truth.precision
    figures["senzing_recall"] = truth.recall
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
