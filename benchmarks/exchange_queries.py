"""The exchange's hot-path choices, each timed against the alternative it replaced.

The figures docs/exchange.md ("Load") gives for each change to the denial
routes, reproduced in one run on a throwaway PostgreSQL (fsync on) seeded like
``benchmarks/exchange_load.py`` (``--records`` denials, default 10,000):

1. **A page of denials with its total** (20 rows, an officer of one partner):
   the previous single query with a window count (baseline) against the count
   and the index-walking page as two queries (``service._HotStatements``); and
   what PostgreSQL's JIT adds to a query whose estimated cost passes
   ``jit_above_cost`` (forced here with ``jit_above_cost=0``; the planner's
   estimates are printed beside the threshold), which ``db._PG_CONNECT``
   avoids by switching JIT off.
2. **Building the page statement per request** (``select(...).where(visibility)``
   and its cache key; baseline) against executing the prebuilt one.
3. **A connection checkout** from a pool switched to autocommit per checkout
   (baseline) against the read pool that stays in autocommit (``db.reader``).
4. **A worker-thread hop** (``anyio.to_thread.run_sync``, what FastAPI does for
   a sync dependency and again for a sync route), against none.

Prints milliseconds of wall time (1) or microseconds of CPU time (2–4) per
operation, and each time as a multiple of its section's baseline.

    python benchmarks/exchange_queries.py [--records N] [--repeat N]
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable
from typing import Any, cast

import anyio
import anyio.to_thread
from sqlalchemy import (
    ClauseElement,
    Engine,
    Executable,
    bindparam,
    create_engine,
    func,
    select,
    text,
)

from econsec.exchange import tempdb
from econsec.exchange.access import DENIALS, viewer, visible_clause, visible_filter
from econsec.exchange.db import Denial, Scope, reader
from econsec.exchange.service import _HOT, Exchange
from exchange_load import seed


def per_call(fn: Callable[[], object], repeat: int, clock: Callable[[], float]) -> float:
    """Seconds of ``clock`` per call of ``fn``, after a warm-up of a tenth as many."""
    for _ in range(max(repeat // 10, 1)):
        fn()
    started = clock()
    for _ in range(repeat):
        fn()
    return (clock() - started) / repeat


def line(label: str, value: float, unit: str, baseline: float | None = None) -> None:
    ratio = f"  {value / baseline:7.3f}× the baseline's time" if baseline else ""
    print(f"  {label:<58} {value:8.3f} {unit}{ratio}")


def pages(exchange: Exchange, url: str, params: dict[str, Any], repeat: int) -> None:
    columns = Denial.__table__.c
    window = (
        select(*columns, func.count().over().label("total"))
        .where(visible_clause(DENIALS))
        .order_by(Denial.decision_date.desc(), Denial.id)
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
    )

    def one_query(engine: Engine) -> Callable[[], object]:
        def run() -> object:
            with engine.connect() as connection:
                return connection.execute(window, params).all()

        return run

    def two_queries(engine: Engine) -> Callable[[], object]:
        def run() -> object:
            with engine.connect() as connection:
                connection.execute(_HOT.count, params).scalar()
                return connection.execute(_HOT.page, params).all()

        return run

    jit_on = create_engine(
        url.replace("postgresql://", "postgresql+psycopg://"),
        isolation_level="AUTOCOMMIT",
        connect_args={"options": "-c jit=on -c jit_above_cost=0"},
    )
    jit_off = reader(exchange.engine)
    with jit_off.connect() as connection:
        threshold = connection.execute(text("SHOW jit_above_cost")).scalar()
        estimates = []
        count = cast(ClauseElement, _HOT.count)
        for name, statement in (("window query", window), ("count", count)):
            compiled = statement.compile(dialect=connection.dialect)
            plan = connection.exec_driver_sql(
                "EXPLAIN " + str(compiled), {**compiled.params, **params}
            ).scalar()
            estimates.append(f"{name} {str(plan).split('..')[1].split()[0]}")
    print("1. a page of 20 denials with its total (wall ms per request)")
    print(f"   planner's estimated costs: {', '.join(estimates)}; jit_above_cost {threshold}")
    cases = (
        ("one query, window count (before; baseline)", one_query(jit_off)),
        ("count + page on the index (now)", two_queries(jit_off)),
        ("one query, window count, JIT compiling it", one_query(jit_on)),
        ("count + page on the index, JIT compiling them", two_queries(jit_on)),
    )
    base = 0.0
    for label, run in cases:
        ms = per_call(run, repeat, time.perf_counter) * 1e3
        line(label, ms, "ms", base or None)
        base = base or ms
    jit_on.dispose()


def building(exchange: Exchange, params: dict[str, Any], repeat: int) -> None:
    principal = exchange.authenticate(TOKEN[0], Scope.DENIALS_READ, "benchmark")

    def built() -> object:
        statement = (
            select(Denial)
            .where(visible_filter(principal))
            .order_by(Denial.decision_date.desc(), Denial.id)
            .limit(20)
            .offset(0)
        )
        return statement._generate_cache_key()

    def prebuilt() -> object:
        statement: Executable = _HOT.page
        return statement._generate_cache_key()  # type: ignore[attr-defined]

    print("2. the page statement (CPU µs per request)")
    base = per_call(built, repeat * 10, time.process_time) * 1e6
    line("built per request, cache key hashed (before; baseline)", base, "µs")
    line(
        "prebuilt, memoised cache key (now)",
        per_call(prebuilt, repeat * 10, time.process_time) * 1e6,
        "µs",
        base,
    )


def checkouts(exchange: Exchange, repeat: int) -> None:
    switching = exchange.engine.execution_options(isolation_level="AUTOCOMMIT")
    staying = reader(exchange.engine)
    ping = text("SELECT 1")

    def checkout(engine: Engine) -> Callable[[], object]:
        def run() -> object:
            with engine.connect() as connection:
                return connection.execute(ping).scalar()

        return run

    print("3. a connection checkout and SELECT 1 (CPU µs)")
    base = per_call(checkout(switching), repeat * 5, time.process_time) * 1e6
    line("pool switched to autocommit per checkout (before; baseline)", base, "µs")
    line(
        "read pool that stays in autocommit (now)",
        per_call(checkout(staying), repeat * 5, time.process_time) * 1e6,
        "µs",
        base,
    )


def hops(repeat: int) -> None:
    async def hop_each(n: int) -> None:
        for _ in range(n):
            await anyio.to_thread.run_sync(int)

    async def none_each(n: int) -> None:
        for _ in range(n):
            pass

    def timed(fn: Callable[[int], Any]) -> float:
        started = time.process_time()
        anyio.run(fn, repeat * 5, backend="asyncio")
        return (time.process_time() - started) / (repeat * 5) * 1e6

    print("4. a worker-thread hop (CPU µs, event loop and worker together)")
    hop = timed(hop_each)
    line("anyio.to_thread.run_sync (one per sync dependency or route)", hop, "µs")
    line("no hop", timed(none_each), "µs")


TOKEN: list[str] = []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    with tempdb.running(durable=True, settings={"shared_buffers": "256MB"}) as pg:
        url = pg.url(pg.create_database("queries"))
        seeded = seed(url, args.records, random.Random(7))
        TOKEN.append(seeded.tokens[0])
        exchange = Exchange.connect(url)
        with exchange.engine.begin() as connection:
            connection.execute(text("ANALYZE"))
        principal = exchange.authenticate(TOKEN[0], Scope.DENIALS_READ, "benchmark")
        params: dict[str, Any] = {**viewer(principal), "limit": 20, "offset": 0}
        print(f"{args.records} denials; officer of organisation {principal.org_id}")
        pages(exchange, url, params, args.repeat)
        building(exchange, params, args.repeat)
        checkouts(exchange, args.repeat)
        exchange.engine.dispose()
    hops(args.repeat)


if __name__ == "__main__":
    main()
