"""Access control for every record kind and every read, against a plain-Python model.

Hypothesis draws populations of organisations, users, sharing groups and
records of every kind (denials, consultations, licence decisions with the
matches of their check, alerts, notifications) with random markings, groups,
named recipients and exclusions. For every user, every read the service offers
(lists and their totals, filters, facets, single reads, the denial a
consultation refers to, the reasons of the essentially-identical check,
notifications) must give exactly what :func:`model_visible` allows, and a
hidden record must answer exactly like a missing one.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete

from econsec.exchange.access import Principal
from econsec.exchange.alerts import Alerts
from econsec.exchange.app import create_exchange_app
from econsec.exchange.consultations import Consultations
from econsec.exchange.db import (
    ROLE_SCOPES,
    AlertKind,
    AlertRecord,
    ApiToken,
    AudienceExclusion,
    AudienceRecipient,
    Consultation,
    ConsultationState,
    Denial,
    GroupMember,
    LicenceDecision,
    LicenceMatch,
    Marking,
    Notification,
    Organisation,
    RecordExclusion,
    RecordRecipient,
    Role,
    SharingGroup,
    User,
)
from econsec.exchange.licences import Licences
from econsec.exchange.records import RecordStore
from econsec.exchange.service import Exchange, ExchangeError, hash_token

KINDS = ("denial", "consultation", "licence", "alert")
NOT_RED: list[Marking] = [m for m in Marking if m is not Marking.RED]


@dataclass(frozen=True)
class Rec:
    kind: str
    id: str
    org: int
    author: int
    marking: Marking
    group: int | None
    recipients: frozenset[int]
    excluded: frozenset[int]
    #: consultation: the consulted organisation (a second owner)
    party: int | None = None
    #: consultation: the denial it refers to; licence: the denials its check matched
    refs: tuple[str, ...] = ()
    state: str = "open"
    alert_kind: str = ""


@dataclass(frozen=True)
class Population:
    orgs: tuple[int, ...]
    users: tuple[tuple[int, int], ...]
    groups: tuple[frozenset[int], ...]
    records: tuple[Rec, ...]
    #: (id, addressee organisation)
    notifications: tuple[tuple[str, int], ...]

    def of(self, kind: str) -> list[Rec]:
        return [r for r in self.records if r.kind == kind]


def model_visible(rec: Rec, user: int, org: int, groups: tuple[frozenset[int], ...]) -> bool:
    """docs/exchange.md, as plainly as possible, for every kind."""
    if user == rec.author:
        return True
    if rec.marking is Marking.RED:
        return user in rec.recipients and org not in rec.excluded
    if org in (rec.org, rec.party):
        return True
    if org in rec.excluded:
        return False
    if rec.marking in (Marking.CLEAR, Marking.GREEN):
        return True
    if rec.marking is Marking.AMBER:
        if rec.group is not None:
            return org in groups[rec.group - 1]
        return any(rec.org in members and org in members for members in groups)
    return False


@st.composite
def populations(draw: st.DrawFn) -> Population:
    orgs = tuple(range(1, draw(st.integers(1, 4)) + 1))
    users = tuple(
        (i + 1, o)
        for i, o in enumerate(draw(st.lists(st.sampled_from(orgs), min_size=1, max_size=4)))
    )
    user_ids = [u for u, _ in users]
    groups = tuple(
        frozenset(g) for g in draw(st.lists(st.sets(st.sampled_from(orgs), min_size=1), max_size=3))
    )

    def envelope(
        markings: list[Marking],
    ) -> tuple[int, int, Marking, int | None, frozenset[int], frozenset[int]]:
        author, org = draw(st.sampled_from(users))
        marking = draw(st.sampled_from(markings))
        group = draw(st.none() | st.integers(1, len(groups))) if groups else None
        recipients = frozenset(draw(st.sets(st.sampled_from(user_ids), max_size=3)))
        excluded = frozenset(draw(st.sets(st.sampled_from(orgs), max_size=2)))
        return author, org, marking, group, recipients, excluded

    records: list[Rec] = []
    for i in range(draw(st.integers(1, 4))):
        a, o, m, g, r, x = envelope(list(Marking))
        records.append(Rec("denial", f"den-{i}", o, a, m, g, r, x))
    denial_ids = [r.id for r in records]
    for i in range(draw(st.integers(0, 3))):
        a, o, m, g, r, x = envelope(NOT_RED)
        records.append(
            Rec(
                "consultation",
                f"con-{i}",
                o,
                a,
                m,
                g,
                frozenset(),
                x,
                party=draw(st.sampled_from(orgs)),
                refs=(draw(st.sampled_from(denial_ids)),),
                state=draw(st.sampled_from([s.value for s in ConsultationState])),
            )
        )
    for i in range(draw(st.integers(0, 3))):
        a, o, m, g, r, x = envelope(list(Marking))
        refs = tuple(sorted(draw(st.sets(st.sampled_from(denial_ids), max_size=3))))
        records.append(Rec("licence", f"lic-{i}", o, a, m, g, r, x, refs=refs))
    for i in range(draw(st.integers(0, 3))):
        a, o, m, g, r, x = envelope(list(Marking))
        kind = draw(st.sampled_from([k.value for k in AlertKind]))
        records.append(Rec("alert", f"ale-{i}", o, a, m, g, r, x, alert_kind=kind))
    notifications = tuple(
        (f"not-{i}", o) for i, o in enumerate(draw(st.lists(st.sampled_from(orgs), max_size=4)))
    )
    return Population(orgs, users, groups, tuple(records), notifications)


@pytest.fixture(scope="module")
def shared_exchange(tmp_path_factory: pytest.TempPathFactory) -> Exchange:
    exchange = Exchange.open(tmp_path_factory.mktemp("access_all") / "exchange.sqlite")
    exchange.today = lambda: dt.date(2026, 1, 1)  # type: ignore[method-assign]
    return exchange


def _load(exchange: Exchange, pop: Population) -> None:
    """Replace the whole population directly (no service: no audit, any shape)."""
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    with exchange.engine.begin() as con:
        for table in (
            Notification,
            LicenceMatch,
            Consultation,
            LicenceDecision,
            AlertRecord,
            AudienceExclusion,
            AudienceRecipient,
            RecordExclusion,
            RecordRecipient,
            Denial,
            GroupMember,
            SharingGroup,
            ApiToken,
            User,
            Organisation,
        ):
            con.execute(delete(table))
    with exchange._sessions.begin() as session:
        session.add_all(Organisation(id=o, name=f"org {o}", country="EU") for o in pop.orgs)
        session.add_all(
            User(id=u, org_id=o, name=f"user {u}", role="analyst") for u, o in pop.users
        )
        session.flush()
        session.add_all(
            ApiToken(
                user_id=u,
                token_hash=hash_token(f"token-{u}"),
                scopes="denials:read",
                created_at=now,
                expires_at=now + dt.timedelta(days=3650),
                revoked=0,
            )
            for u, _ in pop.users
        )
        session.add_all(
            SharingGroup(id=g, name=f"group {g}") for g in range(1, len(pop.groups) + 1)
        )
        session.flush()
        for g, members in enumerate(pop.groups, start=1):
            session.add_all(GroupMember(group_id=g, org_id=o) for o in members)
        envelope = {"created_at": now, "updated_at": now}
        for r in pop.of("denial"):
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
                    **envelope,
                )
            )
            session.add_all(RecordRecipient(record_id=r.id, user_id=u) for u in r.recipients)
            session.add_all(RecordExclusion(record_id=r.id, org_id=o) for o in r.excluded)
        session.flush()
        for r in pop.of("licence"):
            session.add(
                LicenceDecision(
                    id=r.id,
                    originator_org_id=r.org,
                    author_user_id=r.author,
                    marking=r.marking.value,
                    sharing_group_id=r.group,
                    reference=r.id,
                    item="GPU",
                    control_entries="3A090",
                    destination="CN",
                    consignee="c",
                    end_user="e",
                    status="draft",
                    **envelope,
                )
            )
        session.flush()
        for r in pop.of("licence"):
            session.add_all(
                LicenceMatch(
                    licence_id=r.id,
                    denial_id=d,
                    score=0.9,
                    fields=json.dumps({"names": [], "control_entries": [], "destination": "CN"}),
                    own=pop_record(pop, d).org == r.org,
                )
                for d in r.refs
            )
        for r in pop.of("consultation"):
            closed = r.state == ConsultationState.CLOSED.value
            session.add(
                Consultation(
                    id=r.id,
                    originator_org_id=r.org,
                    author_user_id=r.author,
                    marking=r.marking.value,
                    sharing_group_id=r.group,
                    consulted_org_id=r.party,
                    denial_id=r.refs[0],
                    summary="s",
                    opened_on=dt.date(2025, 12, 1),
                    deadline=dt.date(2025, 12, 22),
                    deadline_explanation="x",
                    state=r.state,
                    outcome="withdrawn" if closed else None,
                    **envelope,
                )
            )
        for r in pop.of("alert"):
            session.add(
                AlertRecord(
                    id=r.id,
                    originator_org_id=r.org,
                    author_user_id=r.author,
                    marking=r.marking.value,
                    sharing_group_id=r.group,
                    kind=r.alert_kind,
                    subject=r.id,
                    country="AE",
                    score=0.5,
                    payload="{}",
                    **envelope,
                )
            )
        for r in pop.records:
            if r.kind != "denial":
                session.add_all(AudienceRecipient(record_id=r.id, user_id=u) for u in r.recipients)
                session.add_all(AudienceExclusion(record_id=r.id, org_id=o) for o in r.excluded)
        session.add_all(
            Notification(
                id=n,
                org_id=o,
                kind="undercut",
                record_id="x",
                related_id=n,
                marking="AMBER+STRICT",
                body="{}",
                created_at=now,
            )
            for n, o in pop.notifications
        )


def pop_record(pop: Population, record_id: str) -> Rec:
    (found,) = [r for r in pop.records if r.id == record_id]
    return found


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(pop=populations())
def test_every_read_of_every_kind_follows_the_model(
    shared_exchange: Exchange, pop: Population
) -> None:
    _load(shared_exchange, pop)
    store = RecordStore(shared_exchange)
    consultations, licences, alerts = (
        Consultations(shared_exchange),
        Licences(shared_exchange),
        Alerts(shared_exchange),
    )
    lists = {
        "consultation": lambda p: consultations.page(p, limit=1000),
        "licence": lambda p: licences.page(p, limit=1000),
        "alert": lambda p: alerts.page(p, limit=1000),
    }
    gets = {"consultation": consultations.get, "licence": licences.get, "alert": alerts.get}
    labels = {"consultation": "consultation", "licence": "licence decision", "alert": "alert"}
    scopes = frozenset(s.value for s in ROLE_SCOPES[Role.ANALYST])
    for user, org in pop.users:
        principal = Principal(user, org, Role.ANALYST.value, scopes)

        def sees(rec: Rec, user: int = user, org: int = org) -> bool:
            return model_visible(rec, user, org, pop.groups)

        seen = {r.id for r in pop.records if sees(r)}
        for kind in ("consultation", "licence", "alert"):
            expected = sorted(r.id for r in pop.of(kind) if r.id in seen)
            total, items = lists[kind](principal)
            assert (total, sorted(i["id"] for i in items)) == (len(expected), expected), (
                f"{kind} list, user {user} of org {org}"
            )
            for rec in [*pop.of(kind), None]:
                rec_id = rec.id if rec else f"{kind}-missing"
                if rec is not None and rec.id in seen:
                    item = gets[kind](principal, rec_id)
                    assert item["id"] == rec_id
                    if kind == "consultation":  # the denial it refers to, only if visible
                        shown = rec.refs[0] if rec.refs[0] in seen else None
                        assert item["denial_id"] == shown
                    if kind == "licence":  # the check's reasons: visible denials only
                        reasons = {m["denial_id"] for m in item["matches"] + item["warnings"]}
                        assert reasons == {d for d in rec.refs if d in seen}
                else:
                    with pytest.raises(ExchangeError) as err:
                        gets[kind](principal, rec_id)
                    assert (err.value.status, err.value.message) == (
                        404,
                        f"id: no {labels[kind]} {rec_id}",
                    )
        # filters and facets count only what is visible
        for state in ConsultationState:
            total, _ = consultations.page(principal, state=state)
            assert total == sum(
                1 for r in pop.of("consultation") if r.id in seen and r.state == state.value
            )
        overdue = sum(1 for r in pop.of("consultation") if r.id in seen and r.state == "open")
        assert consultations.page(principal, due_within=0)[0] == overdue
        for denial in pop.of("denial"):
            total, _ = consultations.page(principal, denial_id=denial.id)
            expected_total = sum(
                1
                for r in pop.of("consultation")
                if r.id in seen and r.refs[0] == denial.id and denial.id in seen
            )
            assert total == expected_total
        facets = Counter(r.alert_kind for r in pop.of("alert") if r.id in seen)
        assert alerts.facets(principal) == dict(facets)
        for kind in AlertKind:
            assert alerts.page(principal, kind=kind)[0] == facets.get(kind.value, 0)
        # notifications: the caller's organisation only
        total, items = store.notifications(principal)
        mine = sorted(n for n, o in pop.notifications if o == org)
        assert (total, sorted(i["id"] for i in items)) == (len(mine), mine)


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(pop=populations())
def test_every_http_read_follows_the_model(shared_exchange: Exchange, pop: Population) -> None:
    """The same property through the HTTP layer: bodies, totals, facets, and 404 texts."""
    _load(shared_exchange, pop)
    client = TestClient(create_exchange_app(shared_exchange))
    paths = {"consultation": "consultations", "licence": "licences", "alert": "alerts"}
    for user, org in pop.users:
        headers = {"authorization": f"Bearer token-{user}"}
        seen = {r.id for r in pop.records if model_visible(r, user, org, pop.groups)}
        for kind, path in paths.items():
            expected = sorted(r.id for r in pop.of(kind) if r.id in seen)
            page = client.get(f"/v1/{path}?limit=1000", headers=headers).json()
            assert (page["total"], sorted(i["id"] for i in page["items"])) == (
                len(expected),
                expected,
            )
            for rec in pop.of(kind):
                answer = client.get(f"/v1/{path}/{rec.id}", headers=headers)
                if rec.id in seen:
                    assert answer.status_code == 200
                    shown = str(answer.json())
                    hidden_denials = [d.id for d in pop.of("denial") if d.id not in seen]
                    assert not [d for d in hidden_denials if f"'{d}'" in shown]
                else:
                    missing = client.get(f"/v1/{path}/{rec.id}-x", headers=headers)
                    assert answer.status_code == missing.status_code == 404
                    assert answer.json()["detail"].replace(rec.id, "ID") == missing.json()[
                        "detail"
                    ].replace(f"{rec.id}-x", "ID")
        facets = Counter(r.alert_kind for r in pop.of("alert") if r.id in seen)
        assert client.get("/v1/alerts/facets", headers=headers).json() == dict(facets)
        notes = client.get("/v1/notifications", headers=headers).json()
        assert sorted(i["id"] for i in notes["items"]) == sorted(
            n for n, o in pop.notifications if o == org
        )


def test_model_is_not_trivial() -> None:
    """Guard for the property test: the model allows and denies in known cases."""
    groups = (frozenset({1, 2}),)
    strict = Rec(
        "consultation", "c", 1, 1, Marking.AMBER_STRICT, None, frozenset(), frozenset({2}), party=2
    )
    assert model_visible(strict, 7, 2, groups)  # the consulted party, even if "excluded"
    assert not model_visible(strict, 8, 3, groups)
    green = Rec("alert", "a", 1, 1, Marking.GREEN, None, frozenset(), frozenset({3}))
    assert model_visible(green, 9, 4, groups)
    assert not model_visible(green, 8, 3, groups)  # deny beats allow
    red = Rec("licence", "l", 1, 1, Marking.RED, None, frozenset({5}), frozenset())
    assert not model_visible(red, 2, 1, groups)  # a colleague, not named
    assert model_visible(red, 5, 3, groups)


# -- a licence's view does not depend on records hidden from its reader --------------------


@dataclass(frozen=True)
class World:
    """A population and its refusal links (licence id → denial id)."""

    pop: Population
    refused: dict[str, str]

    def seen_by(self, user: int, org: int) -> World:
        """The world without every record hidden from ``user`` that can be taken away.

        A hidden denial stays when something still there refers to it (a
        consultation's denial, a refusal link): it then stays hidden as well.
        """
        keep = [r for r in self.pop.records if model_visible(r, user, org, self.pop.groups)]
        kept_licences = {r.id for r in keep if r.kind == "licence"}
        refused = {lic: d for lic, d in self.refused.items() if lic in kept_licences}
        needed = {c.refs[0] for c in keep if c.kind == "consultation"} | set(refused.values())
        ids = {r.id for r in keep} | needed
        records = tuple(
            Rec(**{**r.__dict__, "refs": tuple(d for d in r.refs if d in ids)})
            if r.kind == "licence"
            else r
            for r in self.pop.records
            if r.id in ids
        )
        pop = self.pop
        return World(Population(pop.orgs, pop.users, pop.groups, records, ()), refused)


@st.composite
def licence_worlds(draw: st.DrawFn) -> World:
    """Licences whose check matched partners' denials, consultations about those, refusals.

    Three or four organisations, each with a user, so that matches can be
    partners' (blocking) ones and a third organisation reads; each licence
    gets one or two consultations of its own organisation about a
    denial it matched (the ones that decide ``blocked``) with random markings,
    groups, exclusions and states; some licences are refused, each linked to
    its own denial notification. Markings lean to the shared ones, so that
    readers often see a licence and its denial but not every consultation.
    """
    orgs = tuple(range(1, draw(st.integers(3, 4)) + 1))
    more = draw(st.lists(st.sampled_from(orgs), max_size=2))
    users = tuple((i + 1, o) for i, o in enumerate([*orgs, *more]))  # every organisation reads
    user_ids = [u for u, _ in users]
    groups = tuple(
        frozenset(g) for g in draw(st.lists(st.sets(st.sampled_from(orgs), min_size=1), max_size=2))
    )
    shared = [Marking.CLEAR, Marking.GREEN, Marking.GREEN, Marking.AMBER, *Marking]

    def envelope(
        markings: list[Marking], org: int | None = None
    ) -> tuple[int, int, Marking, int | None, frozenset[int], frozenset[int]]:
        if org is None:
            author, org = draw(st.sampled_from(users))
        else:
            author = draw(st.sampled_from([u for u, o in users if o == org] or user_ids))
        marking = draw(st.sampled_from(markings))
        group = draw(st.none() | st.integers(1, len(groups))) if groups else None
        recipients = (
            frozenset(draw(st.sets(st.sampled_from(user_ids), min_size=1, max_size=2)))
            if marking is Marking.RED
            else frozenset()
        )
        excluded = frozenset(draw(st.sets(st.sampled_from(orgs), max_size=1)))
        return author, org, marking, group, recipients, excluded

    records: list[Rec] = []
    for i in range(draw(st.integers(1, 3))):
        a, o, m, g, r, x = envelope(shared)
        records.append(Rec("denial", f"den-{i}", o, a, m, g, r, x))
    denials = list(records)
    for i in range(draw(st.integers(1, 2))):
        a, o, m, g, r, x = envelope(shared)
        refs = tuple(sorted(draw(st.sets(st.sampled_from([d.id for d in denials]), min_size=1))))
        lic = Rec("licence", f"lic-{i}", o, a, m, g, r, x, refs=refs)
        records.append(lic)
        for j in range(draw(st.integers(1, 2))):
            denial = draw(st.sampled_from([d for d in denials if d.id in refs]))
            a, o, m, g, _r, x = envelope(NOT_RED, org=lic.org)
            records.append(
                Rec(
                    "consultation",
                    f"con-{i}-{j}",
                    o,
                    a,
                    m,
                    g,
                    frozenset(),
                    x,
                    party=denial.org,
                    refs=(denial.id,),
                    state=draw(st.sampled_from([s.value for s in ConsultationState])),
                )
            )
    pop = Population(orgs, users, groups, tuple(records), ())
    unused = [d.id for d in denials]  # one refusal per denial notification
    refused: dict[str, str] = {}
    for lic in pop.of("licence"):
        if not unused:
            break
        if draw(st.booleans()):
            refused[lic.id] = unused.pop(draw(st.integers(0, len(unused) - 1)))
    return World(pop, refused)


def _licence_views(
    exchange: Exchange, pop: Population, refused: dict[str, str]
) -> dict[int, tuple[int, list[dict[str, object]]]]:
    """Every user's page of licences (the same JSON a single read gives), after loading."""
    _load(exchange, pop)
    with exchange._sessions.begin() as session:
        for licence_id, denial_id in refused.items():
            row = session.get(LicenceDecision, licence_id)
            assert row is not None
            row.status, row.refusal_denial_id = "refused", denial_id
            row.criterion, row.closed_on = "Art. 15(1)", dt.date(2025, 12, 30)
    licences = Licences(exchange)
    scopes = frozenset(s.value for s in ROLE_SCOPES[Role.ANALYST])
    views = {}
    for user, org in pop.users:
        total, items = licences.page(Principal(user, org, Role.ANALYST.value, scopes), limit=1000)
        views[user] = (total, sorted(items, key=lambda i: str(i["id"])))
    return views


#: Org 1 (user 1) drafts a GREEN licence matching org 2's GREEN denial; it consulted org 2
#: under AMBER+STRICT and org 2 answered. Org 3 (user 3) sees the licence and the denial,
#: not the consultation: the answer (which unblocks the draft) must not show through
#: ``blocked``. The bug this guards against was found here.
HIDDEN_ANSWER = World(
    Population(
        orgs=(1, 2, 3),
        users=((1, 1), (2, 2), (3, 3)),
        groups=(),
        records=(
            Rec("denial", "den-0", 2, 2, Marking.GREEN, None, frozenset(), frozenset()),
            Rec(
                "licence",
                "lic-0",
                1,
                1,
                Marking.GREEN,
                None,
                frozenset(),
                frozenset(),
                refs=("den-0",),
            ),
            Rec(
                "consultation",
                "con-0",
                1,
                1,
                Marking.AMBER_STRICT,
                None,
                frozenset(),
                frozenset(),
                party=2,
                refs=("den-0",),
                state="answered",
            ),
        ),
        notifications=(),
    ),
    refused={},
)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(world=licence_worlds())
@example(world=HIDDEN_ANSWER)
def test_records_hidden_from_a_reader_change_nothing_in_its_view_of_licences(
    shared_exchange: Exchange, world: World
) -> None:
    """Take away every denial and consultation a reader may not see: it sees the same licences.

    Matches, warnings, ``blocked``, each match's consultation, the refusal
    link and the totals are computed per reader, so nothing hidden from it may
    show through any of them (read the other way: adding records hidden from a
    reader changes nothing it is told).
    """
    everything = _licence_views(shared_exchange, world.pop, world.refused)
    for user, org in world.pop.users:
        alone = world.seen_by(user, org)
        assert (
            _licence_views(shared_exchange, alone.pop, alone.refused)[user] == everything[user]
        ), f"user {user} of org {org} is told of a record hidden from it"
