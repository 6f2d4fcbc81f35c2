"""Licence determinations in bulk: catalogue (+ a parameter sweep) × every
destination × every rule-change date, against the engine's one-call loop.

The issue's target: the full catalogue × every country × every date on which
a rule changes, about 10⁶ determinations (item, destination, date; both
regimes each), as one batch in under a minute. The catalogue has a dozen and a
half products, so it is extended by a seeded sweep of raw-parameter chips
(dense FP16 rate, die area, datacentre marketing) until ``--target`` is
reached. Baseline: :func:`econsec.rules.determine.determine` called once per
(item, destination, date) on a random sample, timed and extrapolated to the
full size; the sample's answers must equal the batch's.

    python benchmarks/determinations.py                    # ~10⁶
    python benchmarks/determinations.py --target 100000 --sample 500
"""

from __future__ import annotations

import argparse
import math
import random
import time

from econsec.model.rules import Item
from econsec.rules.batch import answer_key, determine_many
from econsec.rules.determine import determine
from econsec.rules.ecfr import destinations
from econsec.rules.items import item_from_params, load_catalogue
from econsec.rules.regimes import change_dates, us_rules


def sweep(count: int, rng: random.Random) -> list[Item]:
    items = []
    for n in range(count):
        params = {
            "id": f"sweep-{n}",
            "kind": "ic",
            "datacenter": rng.random() < 0.8,
            "performance": [
                {"precision": "FP16", "bit_length": 16, "tops": round(rng.uniform(50, 1500), 1)}
            ],
        }
        if rng.random() < 0.95:  # a few without die area: incomplete answers
            params["die_area_mm2"] = round(rng.uniform(100, 900), 1)
        items.append(item_from_params(params))
    return items


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", type=int, default=1_000_000, help="determinations wanted")
    parser.add_argument("--sample", type=int, default=2000, help="one-call loop sample size")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    codes = destinations().codes()
    days = [d for d in change_dates() if d >= us_rules().coverage_from]
    catalogue = list(load_catalogue())
    per_item = len(codes) * len(days)
    extra = max(0, math.ceil(args.target / per_item) - len(catalogue))
    items = catalogue + sweep(extra, rng)
    total = len(items) * per_item
    print(
        f"{len(items)} items ({len(catalogue)} catalogue + {extra} swept) × {len(codes)} "
        f"destinations × {len(days)} rule-change dates ({days[0]} … {days[-1]}) = "
        f"{total:,} determinations, regimes US and EU"
    )

    started = time.perf_counter()
    result = determine_many(items, codes, days, "both")
    batch_s = time.perf_counter() - started
    print(
        f"batch (determine_many): {batch_s:.2f} s, {total / batch_s:,.0f} determinations/s; "
        f"{result.engine_calls:,} engine calls, "
        f"{sum(len(k) for k in result.keys.values())} distinct answers"
    )

    picks = [
        (rng.randrange(len(items)), rng.randrange(len(codes)), rng.randrange(len(days)))
        for _ in range(args.sample)
    ]
    started = time.perf_counter()
    answers = [determine(items[i], codes[c], days[d], regime="both") for i, c, d in picks]
    loop_s = time.perf_counter() - started
    per_call = loop_s / len(picks)
    mismatches = 0
    for (i, c, d), one in zip(picks, answers, strict=True):
        for a in one.answers:
            if result.key(a.regime, i, c, d) != answer_key(a):
                mismatches += 1
    assert mismatches == 0, f"{mismatches} answers of the sample differ from the batch"
    extrapolated = per_call * total
    print(
        f"baseline (determine, one call at a time): {per_call * 1e3:.3f} ms/call on "
        f"{len(picks):,} sampled calls → {extrapolated:,.0f} s extrapolated for {total:,}"
    )
    print(f"answers identical on the sample: {len(picks):,}/{len(picks):,}")
    print(f"speed-up batch vs one-call loop: {extrapolated / batch_s:,.0f}×")
    print(f"target: < 60 s for the batch: {'met' if batch_s < 60 else 'NOT met'} ({batch_s:.1f} s)")


if __name__ == "__main__":
    main()
