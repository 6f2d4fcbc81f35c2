"""Access control in the query, proved against a plain-Python reference predicate.

Hypothesis draws random populations of organisations, users, sharing groups and
records with random markings, groups, named recipients and exclusions; for
every user, the list, the count and every single read must give exactly what
:func:`reference_visible` allows, and a hidden record must be indistinguishable
from one that does not exist.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from econsec.exchange.access import Principal, visible_filter
from econsec.exchange.db import (
    ROLE_SCOPES,
    Denial,
    GroupMember,
    Marking,
    Organisation,
    RecordExclusion,
    RecordRecipient,
    Role,
    SharingGroup,
    User,
)
from econsec.exchange.service import Exchange, ExchangeError


@dataclass(frozen=True)
class Rec:
    id: str
    org: int
    author: int
    marking: Marking
    group: int | None
    recipients: frozenset[int]
    excluded: frozenset[int]


@dataclass(frozen=True)
class Population:
    orgs: tuple[int, ...]
    users: tuple[tuple[int, int], ...]  # (user id, org id)
    groups: tuple[frozenset[int], ...]  # group i+1 -> member orgs
    records: tuple[Rec, ...]


def reference_visible(rec: Rec, user: int, org: int, groups: tuple[frozenset[int], ...]) -> bool:
    """The access rules of docs/exchange.md, written as plainly as possible."""
    if user == rec.author:
        return True
    if rec.marking is Marking.RED:
        return user in rec.recipients and org not in rec.excluded
    if org == rec.org:
        return True
    if org in rec.excluded:
        return False
    if rec.marking in (Marking.CLEAR, Marking.GREEN):
        return True
    if rec.marking is Marking.AMBER:
        if rec.group is not None:
            return org in groups[rec.group - 1]
        return any(rec.org in members and org in members for members in groups)
    return False  # AMBER+STRICT: the originator organisation only


@st.composite
def populations(draw: st.DrawFn) -> Population:
    n_orgs = draw(st.integers(1, 4))
    orgs = tuple(range(1, n_orgs + 1))
    user_orgs = draw(st.lists(st.sampled_from(orgs), min_size=1, max_size=6))
    users = tuple((i + 1, o) for i, o in enumerate(user_orgs))
    groups = tuple(
        frozenset(g) for g in draw(st.lists(st.sets(st.sampled_from(orgs), min_size=1), max_size=3))
    )
    records = []
    for i in range(draw(st.integers(0, 8))):
        author, org = draw(st.sampled_from(users))
        group = draw(st.none() | st.integers(1, len(groups))) if groups else None
        records.append(
            Rec(
                id=f"rec-{i}",
                org=org,
                author=author,
                marking=draw(st.sampled_from(list(Marking))),
                group=group,
                recipients=frozenset(draw(st.sets(st.sampled_from([u for u, _ in users])))),
                excluded=frozenset(draw(st.sets(st.sampled_from(orgs), max_size=2))),
            )
        )
    return Population(orgs, users, groups, tuple(records))


@pytest.fixture(scope="module")
def shared_exchange(tmp_path_factory: pytest.TempPathFactory) -> Exchange:
    return Exchange.open(tmp_path_factory.mktemp("access") / "exchange.sqlite")


def _load(exchange: Exchange, pop: Population) -> None:
    """Replace the whole population (not through the service: no audit, any shape)."""
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    with exchange.engine.begin() as con:
        for table in (
            RecordExclusion,
            RecordRecipient,
            Denial,
            GroupMember,
            SharingGroup,
            User,
            Organisation,
        ):
            con.execute(delete(table))
    with exchange._sessions.begin() as session:
        session.add_all(Organisation(id=o, name=f"org {o}", country="EU") for o in pop.orgs)
        session.add_all(
            User(id=u, org_id=o, name=f"user {u}", role="analyst") for u, o in pop.users
        )
        session.add_all(
            SharingGroup(id=g, name=f"group {g}") for g in range(1, len(pop.groups) + 1)
        )
        session.flush()
        for g, members in enumerate(pop.groups, start=1):
            session.add_all(GroupMember(group_id=g, org_id=o) for o in members)
        session.flush()
        for r in pop.records:
            session.add(
                Denial(
                    id=r.id,
                    originator_org_id=r.org,
                    author_user_id=r.author,
                    marking=r.marking.value,
                    sharing_group_id=r.group,
                    reference=r.id,
                    decision_date=dt.date(2025, 1, 1),
                    control_entries="3A090",
                    item="GPU",
                    consignee="c",
                    end_user="e",
                    destination="CN",
                    reason="criterion 7",
                    expires_on=dt.date(2028, 1, 1),
                    review_status="in_force",
                    created_at=now,
                    updated_at=now,
                )
            )
        session.flush()
        for r in pop.records:
            session.add_all(RecordRecipient(record_id=r.id, user_id=u) for u in r.recipients)
            session.add_all(RecordExclusion(record_id=r.id, org_id=o) for o in r.excluded)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(pop=populations())
def test_every_read_returns_exactly_what_the_rules_allow(
    shared_exchange: Exchange, pop: Population
) -> None:
    _load(shared_exchange, pop)
    all_ids = sorted(r.id for r in pop.records)
    for user, org in pop.users:
        principal = Principal(
            user, org, Role.ANALYST.value, frozenset(s.value for s in ROLE_SCOPES[Role.ANALYST])
        )
        expected = sorted(r.id for r in pop.records if reference_visible(r, user, org, pop.groups))
        # the raw filter
        with shared_exchange._sessions() as session:
            got = sorted(session.scalars(select(Denial.id).where(visible_filter(principal))))
        assert got == expected, f"user {user} of org {org}"
        # list and count, whole and filtered
        total, items = shared_exchange.list_denials(principal, limit=1000)
        assert total == len(expected) == shared_exchange.count_denials(principal)
        assert sorted(i["id"] for i in items) == expected
        assert shared_exchange.count_denials(principal, destination="RU") == 0
        # single reads: a hidden record answers exactly like a missing one
        for rec_id in [*all_ids, "rec-missing"]:
            if rec_id in expected:
                assert shared_exchange.get_denial(principal, rec_id)["id"] == rec_id
            else:
                with pytest.raises(ExchangeError) as err:
                    shared_exchange.get_denial(principal, rec_id)
                assert (err.value.status, err.value.message) == (404, f"id: no denial {rec_id}")


def test_reference_predicate_is_not_trivial() -> None:
    """Guard for the property test: the rules both allow and deny in known cases."""
    groups = (frozenset({1, 2}),)
    amber = Rec("a", 1, 1, Marking.AMBER, None, frozenset(), frozenset())
    assert reference_visible(amber, 2, 2, groups)  # partner through a shared group
    assert not reference_visible(amber, 3, 3, groups)  # no shared group
    red = Rec("r", 1, 1, Marking.RED, None, frozenset({3}), frozenset())
    assert not reference_visible(red, 2, 1, groups)  # colleague, not named
    assert reference_visible(red, 3, 3, groups)
    clear = Rec("c", 1, 1, Marking.CLEAR, None, frozenset(), frozenset({2}))
    assert not reference_visible(clear, 2, 2, groups)  # deny beats allow
    strict = Rec("s", 1, 1, Marking.AMBER_STRICT, 1, frozenset(), frozenset())
    assert reference_visible(strict, 5, 1, groups)
    assert not reference_visible(strict, 2, 2, groups)
