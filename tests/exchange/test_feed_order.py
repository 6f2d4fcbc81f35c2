"""The federation feed follows commit order: no record is skipped under concurrent writers.

The sending instance runs on the ``exchange`` fixture (SQLite and PostgreSQL);
the feed is read through :meth:`Federation.serve_feed` (what a pulling peer
gets) or pulled end to end by a second, SQLite, instance through a TestClient.
The PostgreSQL scenarios hold a write transaction open on a raw connection
while the exchange commits another one: with the old ``(updated_at, id)``
cursor the record of the transaction committing last was passed over for good.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import random
import re
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, event, insert, inspect, select, text, update

from econsec.exchange.access import Principal
from econsec.exchange.app import create_exchange_app
from econsec.exchange.db import MIGRATIONS, Denial, Marking, Role, Scope, migrate
from econsec.exchange.federation import (
    Federation,
    FeedPage,
    decode_cursor,
    encode_cursor,
    feed_horizon,
)
from econsec.exchange.federation_db import FedRecord
from econsec.exchange.service import DenialInput, Exchange, ExchangeError

FEDERATED = ("denials", "consultations", "licence_decisions", "alerts")


class Origin:
    """The sending instance ``eu`` with one officer and the peer ``us`` (CLEAR, GREEN)."""

    def __init__(self, exchange: Exchange) -> None:
        self.exchange = exchange
        self.fed = Federation(exchange)
        self.fed.set_instance("eu")
        org = exchange.add_organisation("BAFA", "DE")
        user = exchange.add_user(org, "de-officer", Role.OFFICER)
        self.officer = Principal(
            user,
            org,
            Role.OFFICER.value,
            frozenset({Scope.DENIALS_READ.value, Scope.DENIALS_WRITE.value}),
        )
        _, self.token_for_us = self.fed.add_peer("us", "http://testserver", "US")

    def create(self, reference: str, marking: Marking = Marking.GREEN) -> str:
        created = self.exchange.create_denial(
            self.officer,
            DenialInput(
                reference=reference,
                decision_date=dt.date(2025, 3, 14),
                control_entries=("3A090.a",),
                item="Data-centre GPU accelerator boards",
                consignee="Shenzhen Example Trading Co., Ltd",
                end_user="Example Supercomputing Centre",
                destination="CN",
                reason="Art. 4(1)(a) catch-all; risk of diversion to military end use",
                marking=marking,
            ),
        )
        denial_id: str = created["id"]
        return denial_id

    def feed(self, cursor: str | None, limit: int = 500) -> tuple[dict[str, str], str]:
        """Every page after ``cursor``: origin id → reference, and the last cursor."""
        seen: dict[str, str] = {}
        while True:
            page: FeedPage = self.fed.serve_feed("us", cursor, limit)
            for entry in page.entries:
                assert entry.content is not None
                seen[entry.origin_id] = entry.content["reference"]
            cursor = page.next_cursor
            if not page.more:
                return seen, cursor


@pytest.fixture
def origin(exchange: Exchange) -> Origin:
    return Origin(exchange)


def _copy_denial(connection: Connection, template: str, reference: str, at: dt.datetime) -> str:
    """Insert, on ``connection``, a copy of denial ``template`` (as another writer would)."""
    columns = [c for c in Denial.__table__.c if c.name != "change_xid"]
    row = connection.execute(select(*columns).where(Denial.id == template)).one()._asdict()
    new_id = str(uuid.uuid4())
    row.update(id=new_id, reference=reference, created_at=at, updated_at=at)
    connection.execute(insert(Denial).values(**row))
    return new_id


@pytest.fixture
def pg_origin(postgres_url: str) -> Iterator[Origin]:
    """An origin on PostgreSQL only: on SQLite a second write transaction waits
    for the open one, so no commit can overtake another (nothing to test)."""
    exchange = Exchange.connect(postgres_url)
    yield Origin(exchange)
    exchange.engine.dispose()


def test_a_writer_that_began_first_holds_the_feed_until_it_commits(pg_origin: Origin) -> None:
    """A writes first (smaller transaction id) and commits after B: B waits in the
    feed behind A's open transaction, then both come. The old cursor sent B, moved
    past B's later ``updated_at``, and never sent A."""
    origin = pg_origin
    template = origin.create("X")
    seen, cursor = origin.feed(None)
    assert sorted(seen.values()) == ["X"]
    with origin.exchange.engine.connect() as a:
        a.begin()
        a_id = _copy_denial(a, template, "A", dt.datetime.now(dt.UTC))
        b_id = origin.create("B")  # commits while A is still open
        seen, held = origin.feed(cursor)
        assert seen == {}  # B waits behind A; nothing passed over
        assert decode_cursor(held) == decode_cursor(cursor)
        a.commit()
    seen, after = origin.feed(held)
    assert seen == {a_id: "A", b_id: "B"}
    assert origin.feed(after)[0] == {}


def test_a_writer_that_commits_last_is_sent_after_its_commit(pg_origin: Origin) -> None:
    """A takes its timestamp, B commits (later timestamp), then A writes and commits:
    B is delivered while A is open and the cursor moves past B; A comes next. The
    old cursor, past B's ``updated_at``, skipped A's earlier one for good."""
    origin = pg_origin
    template = origin.create("X")
    _, cursor = origin.feed(None)
    with origin.exchange.engine.connect() as a:
        a.begin()
        a_time = dt.datetime.now(dt.UTC)  # A's clock reads before B's
        b_id = origin.create("B")
        a_id = _copy_denial(a, template, "A", a_time)
        seen, advanced = origin.feed(cursor)
        assert seen == {b_id: "B"}
        assert decode_cursor(advanced)["denial"][1] == b_id
        a.commit()
    seen, _ = origin.feed(advanced)
    assert seen == {a_id: "A"}


def test_equal_or_earlier_timestamps_after_the_cursor_are_sent(origin: Origin) -> None:
    """A write with the same ``updated_at`` as the last one sent but a smaller id (a
    clock that did not tick), then one with an earlier ``updated_at`` (a clock
    stepped back): both are sent. The old (updated_at, id) cursor passed both over.
    Both backends."""
    ids = [origin.create(r) for r in ("P", "Q", "R")]
    _, cursor = origin.feed(None)
    small, large, other = [*sorted(ids[:2]), ids[2]]
    same = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.UTC)
    for denial_id, at in (
        (large, same),
        (small, same),
        (other, same - dt.timedelta(minutes=5)),
    ):
        with origin.exchange.engine.begin() as connection:
            connection.execute(
                update(Denial).where(Denial.id == denial_id).values(reason="changed", updated_at=at)
            )
        seen, cursor = origin.feed(cursor)
        assert list(seen) == [denial_id]
    assert origin.feed(cursor)[0] == {}


def test_a_record_updated_again_moves_forward_with_its_latest_state(origin: Origin) -> None:
    ids = [origin.create(f"R{i}") for i in range(3)]
    seen, cursor = origin.feed(None, limit=2)
    assert set(seen) == set(ids)
    with origin.exchange._read() as session:
        before = {i: x for i, x in session.execute(select(Denial.id, Denial.change_xid))}
    origin.exchange.renew(origin.officer, ids[0], dt.date(2027, 1, 10))
    with origin.exchange._read() as session:
        after = {i: x for i, x in session.execute(select(Denial.id, Denial.change_xid))}
    assert after[ids[0]] > max(before.values())
    assert {i: after[i] for i in ids[1:]} == {i: before[i] for i in ids[1:]}
    page = origin.fed.serve_feed("us", cursor)
    (entry,) = page.entries
    assert entry.origin_id == ids[0]
    assert entry.content is not None
    assert entry.content["expires_on"] == "2030-01-10"


def test_concurrent_writers_lose_nothing(origin: Origin, tmp_path: Path) -> None:
    """Writer threads create, re-mark and renew denials while the US pulls again and
    again: at the end the US holds every EU record in its latest state.

    Latency injected between each write's timestamp and its commit makes writers
    commit out of timestamp order; on PostgreSQL the old ``(updated_at, id)``
    cursor lost records here on every run tried (3 of 3), the change position none."""
    us = Exchange.open(tmp_path / "us.sqlite")
    us_fed = Federation(us)
    us_fed.set_instance("us")
    us_fed.add_peer("eu", "http://testserver", "DE", token=origin.token_for_us)
    client = TestClient(create_exchange_app(origin.exchange))
    errors: list[BaseException] = []
    jitter = random.Random(7)

    def latency(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        # a slow link to the database between a write's timestamp and its commit
        # (before the denial is written and before the audit chain's lock), so
        # that writers commit in another order than they took their timestamps
        if statement.startswith(("INSERT INTO denials", "UPDATE denials", "SELECT pg_advisory")):
            time.sleep(jitter.uniform(0, 0.02))

    event.listen(origin.exchange.engine, "before_cursor_execute", latency)

    def write(n: int) -> None:
        rng = random.Random(n)
        mine: list[str] = []
        try:
            for step in range(15):
                if not mine or rng.random() < 0.4:
                    mine.append(origin.create(f"W{n}-{step}"))
                elif rng.random() < 0.5:
                    marking = rng.choice([Marking.CLEAR, Marking.GREEN])
                    origin.exchange.change_marking(origin.officer, rng.choice(mine), marking)
                else:
                    on = dt.date(2027, 1, 1) + dt.timedelta(days=rng.randrange(300))
                    origin.exchange.renew(origin.officer, rng.choice(mine), on)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    writers = [threading.Thread(target=write, args=(n,)) for n in range(6)]
    for thread in writers:
        thread.start()
    pulls = 0
    while any(t.is_alive() for t in writers) or pulls == 0:
        # a whole page each time: the cursor keeps up with the newest commits
        us_fed.pull("eu", client=client, limit=50)
        pulls += 1
    for thread in writers:
        thread.join()
    assert errors == []
    us_fed.pull("eu", client=client, limit=3)

    with origin.exchange._read() as session:
        expected = {
            d.id: (d.reference, d.marking, d.expires_on, d.review_status)
            for d in session.scalars(select(Denial))
        }
    with us._read() as session:
        origin_of = {r.local_id: r.origin_id for r in session.scalars(select(FedRecord))}
        held = {
            origin_of[d.id]: (d.reference, d.marking, d.expires_on, d.review_status)
            for d in session.scalars(select(Denial))
        }
    assert len(expected) >= 6
    assert held == expected
    event.remove(origin.exchange.engine, "before_cursor_execute", latency)
    # a pull cursor stored before revision 0004: the kind is sent again, nothing changes
    old = _raw_cursor({"denial": ["2026-12-01T10:00:00+00:00", "x"]})
    with us._write() as session:
        session.execute(text("UPDATE fed_peers SET pull_cursor = :c"), {"c": old})
    again = us_fed.pull("eu", client=client)
    assert again.outcomes == {"unchanged": len(expected)}
    client.close()
    us.engine.dispose()


# -- cursors ---------------------------------------------------------------------------


def _raw_cursor(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def test_old_cursors_restart_the_kind_and_malformed_ones_are_422(origin: Origin) -> None:
    ids = {origin.create("O1"), origin.create("O2")}
    seen, cursor = origin.feed(None)
    assert set(seen) == ids
    assert origin.feed(cursor)[0] == {}
    # a cursor of the (updated_at, id) form, as stored before revision 0004
    old = _raw_cursor({"denial": ["2026-12-01T10:00:00+00:00", sorted(ids)[0]]})
    assert decode_cursor(old) == {}
    assert set(origin.feed(old)[0]) == ids  # sent again; the receiver changes nothing
    # a position this database never issued (restored under the cursor): restart too
    ahead = encode_cursor({"denial": (2**62, sorted(ids)[-1])})
    assert set(origin.feed(ahead)[0]) == ids
    for bad, why in (
        ("%%%", "malformed cursor"),
        (_raw_cursor([1, 2]), "not an object"),
        (_raw_cursor({"denial": [1]}), "denial: not a [position, id] pair"),
        (_raw_cursor({"denial": [True, "x"]}), "neither a change position nor a timestamp"),
        (_raw_cursor({"denial": [-1, "x"]}), "denial: negative position"),
        (_raw_cursor({"denial": ["yesterday", "x"]}), "Invalid isoformat"),
    ):
        with pytest.raises(ExchangeError, match=re.escape(why)) as error:
            decode_cursor(bad)
        assert error.value.status == 422
        assert error.value.message.startswith("since: malformed cursor (")
    response = client_feed(origin, "%%%")
    assert (response.status_code, response.json()["detail"].split(" (")[0]) == (
        422,
        "since: malformed cursor",
    )


def client_feed(origin: Origin, since: str) -> Any:
    with TestClient(create_exchange_app(origin.exchange)) as client:
        return client.get(
            "/v1/federation/feed",
            params={"since": since},
            headers={"authorization": f"Bearer {origin.token_for_us}"},
        )


# -- the database side -----------------------------------------------------------------


def test_every_federated_table_is_stamped_by_the_database(exchange: Exchange) -> None:
    """Triggers on the four federated tables at head (a later migration that rebuilds
    one of them must put them back), and the horizon is there."""
    with exchange.engine.connect() as connection:
        if exchange.engine.dialect.name == "postgresql":
            found = set(
                connection.execute(
                    text(
                        "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                        "WHERE t.tgname = c.relname || '_fed_change'"
                    )
                ).scalars()
            )
            assert found == set(FEDERATED)
        else:
            found = set(
                connection.execute(
                    text("SELECT name FROM sqlite_master WHERE type = 'trigger'")
                ).scalars()
            )
            for table in FEDERATED:
                assert {f"{table}_fed_change_insert", f"{table}_fed_change_update"} <= found
    with exchange._read() as session:
        assert feed_horizon(session) >= 1


def test_sqlite_triggers_stamp_once_even_with_recursive_triggers(tmp_path: Path) -> None:
    exchange = Exchange.open(tmp_path / "x.sqlite")
    origin = Origin(exchange)
    first = origin.create("S1")
    with exchange.engine.begin() as connection:
        # off by default: the trigger's own UPDATE fires no trigger of the same name
        assert connection.execute(text("PRAGMA recursive_triggers")).scalar_one() == 0
        # on: the WHEN clause alone must stop the recursion
        connection.execute(text("PRAGMA recursive_triggers = ON"))
        start = connection.execute(text("SELECT value FROM fed_change_counter")).scalar_one()
        # (each UPDATE moves the version forward itself: revision 0007's trigger,
        # which would otherwise do it with one more stamped UPDATE, stays out)
        later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
        connection.execute(
            update(Denial).where(Denial.id == first).values(reason="x", updated_at=later)
        )
        # an UPDATE that sets the position itself is stamped all the same
        connection.execute(
            update(Denial)
            .where(Denial.id == first)
            .values(change_xid=0, updated_at=later + dt.timedelta(seconds=1))
        )
        counter = connection.execute(text("SELECT value FROM fed_change_counter")).scalar_one()
        stamped = connection.execute(
            select(Denial.change_xid).where(Denial.id == first)
        ).scalar_one()
    assert (counter, stamped) == (start + 2, start + 2)
    exchange.engine.dispose()


def test_migration_0004_positions_existing_rows_and_downgrades(exchange: Exchange) -> None:
    """Down to 0003 (the column, triggers and counter go), rows written meanwhile,
    up again: every row gets a position below the horizon, in (updated_at, id) order
    on SQLite, and new writes land above them."""
    from alembic import command  # noqa: PLC0415
    from alembic.config import Config  # noqa: PLC0415

    origin = Origin(exchange)
    ids = [origin.create(f"M{i}") for i in range(3)]
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with exchange.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0003")
    with exchange.engine.connect() as connection:
        for table in FEDERATED:
            assert "change_xid" not in {c["name"] for c in inspect(connection).get_columns(table)}
        # a write while the triggers are gone
        connection.execute(
            text("UPDATE denials SET reason = 'meanwhile' WHERE id = :id"), {"id": ids[0]}
        )
        connection.commit()
    migrate(exchange.engine)
    with exchange._read() as session:
        rows = session.execute(
            select(Denial.id, Denial.change_xid).order_by(Denial.updated_at, Denial.id)
        ).all()
        horizon = feed_horizon(session)
    positions = [p for _, p in rows]
    assert all(0 < p < horizon for p in positions)
    if exchange.engine.dialect.name == "sqlite":
        assert positions == sorted(positions)
        assert len(set(positions)) == len(positions)
    newest = origin.create("M-new")
    with exchange._read() as session:
        stamped = session.scalar(select(Denial.change_xid).where(Denial.id == newest))
    assert stamped is not None
    assert stamped > max(positions)
    seen, _ = origin.feed(None)
    assert set(seen) == {*ids, newest}


# -- versions (revision 0007) ----------------------------------------------------------


def _stored_version(exchange: Exchange, denial_id: str) -> dt.datetime:
    with exchange._read() as session:
        at = session.scalar(select(Denial.updated_at).where(Denial.id == denial_id))
    assert at is not None
    return at if at.tzinfo is not None else at.replace(tzinfo=dt.UTC)


def test_every_update_moves_the_version_forward(origin: Origin) -> None:
    """A writer's clock that stepped back, an UPDATE that leaves ``updated_at``
    alone, a microsecond carry: the stored version still moves forward, and the
    feed sends it. A later clock is kept as it is. Both backends."""
    exchange = origin.exchange
    denial_id = origin.create("V")
    _, cursor = origin.feed(None)
    first = _stored_version(exchange, denial_id)
    micro = dt.timedelta(microseconds=1)

    def write(**values: Any) -> dt.datetime:
        with exchange.engine.begin() as connection:
            connection.execute(update(Denial).where(Denial.id == denial_id).values(**values))
        return _stored_version(exchange, denial_id)

    assert write(reason="stepped back", updated_at=first - dt.timedelta(minutes=5)) == first + micro
    assert write(reason="no timestamp") == first + 2 * micro
    later = dt.datetime(2030, 1, 1, 12, 0, 59, 999999, tzinfo=dt.UTC)
    assert write(updated_at=later) == later
    assert write(updated_at=later) == dt.datetime(2030, 1, 1, 12, 1, tzinfo=dt.UTC)
    (entry,) = origin.fed.serve_feed("us", cursor).entries
    assert entry.version == dt.datetime(2030, 1, 1, 12, 1, tzinfo=dt.UTC)
    # a new record keeps the version its writer gave it (only UPDATEs move it)
    with exchange._read() as session:
        row = session.get(Denial, origin.create("W"))
        assert row is not None
        assert row.updated_at == row.created_at


def test_every_federated_table_has_the_version_trigger(exchange: Exchange) -> None:
    with exchange.engine.connect() as connection:
        if exchange.engine.dialect.name == "postgresql":
            query = (
                "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "WHERE t.tgname = c.relname || '_fed_version'"
            )
        else:
            query = (
                "SELECT tbl_name FROM sqlite_master WHERE type = 'trigger' "
                "AND name = tbl_name || '_fed_version'"
            )
        assert set(connection.execute(text(query)).scalars()) == set(FEDERATED)


def test_sqlite_version_trigger_ends_with_recursive_triggers(tmp_path: Path) -> None:
    """The fix-up's own UPDATE fires no further fix-up, and the feed-position
    trigger's UPDATE none at all, with ``recursive_triggers`` on."""
    exchange = Exchange.open(tmp_path / "x.sqlite")
    origin = Origin(exchange)
    first = origin.create("S1")
    before = _stored_version(exchange, first)
    with exchange.engine.begin() as connection:
        connection.execute(text("PRAGMA recursive_triggers = ON"))
        start = connection.execute(text("SELECT value FROM fed_change_counter")).scalar_one()
        connection.execute(update(Denial).where(Denial.id == first).values(reason="x"))
        counter = connection.execute(text("SELECT value FROM fed_change_counter")).scalar_one()
        stamped = connection.execute(
            select(Denial.change_xid).where(Denial.id == first)
        ).scalar_one()
    # one position for the UPDATE, one for the fix-up's UPDATE; the row has the last
    assert (counter, stamped) == (start + 2, start + 2)
    assert _stored_version(exchange, first) == before + dt.timedelta(microseconds=1)
    exchange.engine.dispose()


def test_concurrent_updates_store_versions_in_commit_order(
    pg_origin: Origin, tmp_path: Path
) -> None:
    """B takes its timestamp, then A takes a later one, locks the denial and commits;
    B, which waited for A's lock, commits last with the earlier timestamp. The
    stored version is still later than A's, and a peer that received A's state
    receives B's (before revision 0007 it kept A's as "unchanged" for good)."""
    origin = pg_origin
    exchange = origin.exchange
    denial_id = origin.create("V")
    us = Exchange.open(tmp_path / "us.sqlite")
    us_fed = Federation(us)
    us_fed.set_instance("us")
    us_fed.add_peer("eu", "http://testserver", "DE", token=origin.token_for_us)
    client = TestClient(create_exchange_app(exchange))
    assert us_fed.pull("eu", client=client).outcomes == {"created": 1}

    b_time = dt.datetime.now(dt.UTC)  # B's clock reads first …
    a_time = b_time + dt.timedelta(milliseconds=50)  # … A's after it
    b_flushed, b_may_commit = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def writer_b() -> None:
        try:
            with exchange._write() as session:
                row = session.get(Denial, denial_id)
                assert row is not None
                row.reason, row.updated_at = "B", b_time
                session.flush()  # waits for A's row lock
                b_flushed.set()
                assert b_may_commit.wait(30)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
            b_flushed.set()

    def waiting_for_a_lock() -> bool:
        with exchange.engine.connect() as probe:
            return bool(
                probe.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                        "AND datname = current_database()"
                    )
                ).scalar_one()
            )

    b = threading.Thread(target=writer_b)
    with exchange._write() as session:
        row = session.get(Denial, denial_id)
        assert row is not None
        row.reason, row.updated_at = "A", a_time
        session.flush()  # A holds the row lock
        b.start()
        deadline = time.monotonic() + 30
        while not waiting_for_a_lock():
            assert time.monotonic() < deadline, "B never waited for A's lock"
            time.sleep(0.01)
    # A committed; B has written (after A's commit, under the lock) and is still open
    assert b_flushed.wait(30)
    assert errors == []
    assert us_fed.pull("eu", client=client).outcomes == {"updated": 1}
    with us._read() as session:
        assert session.scalars(select(Denial.reason)).one() == "A"
    b_may_commit.set()
    b.join(30)
    assert errors == []
    stored = _stored_version(exchange, denial_id)
    assert stored == a_time + dt.timedelta(microseconds=1)
    assert us_fed.pull("eu", client=client).outcomes == {"updated": 1}
    with us._read() as session:
        assert session.scalars(select(Denial.reason)).one() == "B"
        record = session.scalars(select(FedRecord)).one()
        assert _aware_utc(record.origin_version) == stored
    client.close()
    us.engine.dispose()


def _aware_utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def test_migration_0007_downgrades_and_upgrades(origin: Origin) -> None:
    from alembic import command  # noqa: PLC0415
    from alembic.config import Config  # noqa: PLC0415

    exchange = origin.exchange
    denial_id = origin.create("M")
    first = _stored_version(exchange, denial_id)
    earlier = first - dt.timedelta(minutes=5)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with exchange.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0006")
    with exchange.engine.begin() as connection:
        connection.execute(update(Denial).where(Denial.id == denial_id).values(updated_at=earlier))
    assert _stored_version(exchange, denial_id) == earlier  # no trigger: stepped back
    migrate(exchange.engine)
    test_every_federated_table_has_the_version_trigger(exchange)
    with exchange.engine.begin() as connection:
        connection.execute(update(Denial).where(Denial.id == denial_id).values(updated_at=first))
        connection.execute(update(Denial).where(Denial.id == denial_id).values(updated_at=earlier))
    assert _stored_version(exchange, denial_id) == first + dt.timedelta(microseconds=1)
