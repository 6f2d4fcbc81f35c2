"""Federation between exchange instances, in process: two (or three) apps, two databases.

Pull and push go through FastAPI TestClients injected as the HTTP client, so
every exchange crosses the real routes, authentication and JSON wire format.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, inspect, select, text

from econsec.exchange.app import create_exchange_app
from econsec.exchange.db import (
    MIGRATIONS,
    AuditEntry,
    Denial,
    RecordExclusion,
    Role,
    Scope,
    migrate,
)
from econsec.exchange.federation import Federation
from econsec.exchange.federation_db import FedReach, FedRecord, FedSent
from econsec.exchange.service import Exchange, ExchangeError


class Instance:
    """One exchange instance: its database, app, client and local partners."""

    def __init__(self, root: Path, name: str, exchange: Exchange | None = None) -> None:
        self.name = name
        self.exchange = exchange or Exchange.open(root / f"{name}.sqlite")
        self.fed = Federation(self.exchange)
        self.fed.set_instance(name)
        self.client = TestClient(create_exchange_app(self.exchange))
        self.tokens: dict[str, str] = {}
        self.orgs: dict[str, int] = {}
        self.users: dict[str, int] = {}

    def partner(self, org: str, country: str, user: str, role: Role = Role.OFFICER) -> int:
        if org not in self.orgs:
            self.orgs[org] = self.exchange.add_organisation(org, country)
        self.users[user] = self.exchange.add_user(self.orgs[org], user, role)
        self.tokens[user] = self.exchange.issue_token(self.users[user])
        return self.orgs[org]

    def call(self, method: str, url: str, user: str, **kwargs: Any) -> Any:
        headers = {"authorization": f"Bearer {self.tokens[user]}"}
        return self.client.request(method, url, headers=headers, **kwargs)

    def create(self, user: str, **changes: Any) -> dict[str, Any]:
        response = self.call("POST", "/v1/denials", user, json=denial(**changes))
        assert response.status_code == 201, response.text
        result: dict[str, Any] = response.json()
        return result

    def visible(self, user: str) -> dict[str, dict[str, Any]]:
        """Reference → record, as ``user`` lists them over HTTP."""
        response = self.call("GET", "/v1/denials", user)
        assert response.status_code == 200, response.text
        return {i["reference"]: i for i in response.json()["items"]}

    def table(self) -> list[tuple[Any, ...]]:
        """Every denial row, as stored (for 'nothing changed' checks)."""
        with self.exchange.engine.connect() as con:
            return [tuple(r) for r in con.execute(text("SELECT * FROM denials ORDER BY id"))]

    def audit(self, action: str) -> list[AuditEntry]:
        with self.exchange._read() as session:
            return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def denial(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "reference": "BAFA-2025-0042",
        "decision_date": "2025-03-14",
        "control_entries": ["3A090.a"],
        "item": "Data-centre GPU accelerator boards",
        "consignee": "Shenzhen Example Trading Co., Ltd",
        "end_user": "Example Supercomputing Centre",
        "destination": "CN",
        "reason": "Art. 4(1)(a) catch-all; risk of diversion to military end use",
        "marking": "GREEN",
    }
    return {**body, **changes}


def link(a: Instance, b: Instance, a_terms: dict[str, Any], b_terms: dict[str, Any]) -> None:
    """Register ``a`` and ``b`` as each other's peer, exchanging the tokens."""
    _, token_for_b = a.fed.add_peer(b.name, "http://testserver", b.name.upper()[:2], **a_terms)
    _, token_for_a = b.fed.add_peer(
        a.name, "http://testserver", a.name.upper()[:2], token=token_for_b, **b_terms
    )
    a.fed.update_peer(b.name, token=token_for_a)


def pair_on(
    eu_exchange: Exchange | None, us_exchange: Exchange | None, root: Path
) -> tuple[Instance, Instance]:
    """EU (BAFA, group ``to-US``) and US (BIS in ``from-EU``, DDTC outside), linked."""
    eu, us = Instance(root, "eu", eu_exchange), Instance(root, "us", us_exchange)
    bafa = eu.partner("BAFA", "DE", "de-officer")
    eu.partner("BAFA", "DE", "de-recipient", Role.ANALYST)
    eu.orgs["group"] = eu.exchange.add_group("to-US", [bafa])
    bis = us.partner("BIS", "US", "bis-officer")
    us.partner("DDTC", "US", "ddtc-officer")
    us.orgs["group"] = us.exchange.add_group("from-EU", [bis])
    link(
        eu,
        us,
        {"send_markings": ["CLEAR", "GREEN", "AMBER"], "send_group": eu.orgs["group"]},
        {"receive_group": us.orgs["group"]},
    )
    return eu, us


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Instance, Instance]:
    """EU (BAFA, with a group for AMBER sent to the US) and US (BIS in the group
    AMBER from the EU lands in; DDTC outside it)."""
    return pair_on(None, None, tmp_path)


def create_all_markings(eu: Instance) -> None:
    eu.create("de-officer", reference="G", marking="GREEN")
    eu.create("de-officer", reference="C", marking="CLEAR")
    eu.create("de-officer", reference="A", marking="AMBER", sharing_group=eu.orgs["group"])
    eu.create("de-officer", reference="A-nogroup", marking="AMBER")
    eu.create("de-officer", reference="AS", marking="AMBER+STRICT")
    eu.create("de-officer", reference="R", marking="RED", recipients=[eu.users["de-recipient"]])
    other = eu.exchange.add_organisation("Other", "FR")
    eu.create("de-officer", reference="G-excl", marking="GREEN", excluded_orgs=[other])


def test_pull_brings_exactly_what_the_agreement_allows(pair: tuple[Instance, Instance]) -> None:
    eu, us = pair
    create_all_markings(eu)
    result = us.fed.pull("eu", client=eu.client)
    assert result.outcomes == {"created": 3}
    seen = us.visible("bis-officer")
    assert sorted(seen) == ["A", "C", "G"]
    assert (seen["G"]["marking"], seen["G"]["sharing_group"]) == ("GREEN", None)
    assert (seen["A"]["marking"], seen["A"]["sharing_group"]) == ("AMBER", us.orgs["group"])
    # a US user outside the group the AMBER record landed in never sees it
    assert sorted(us.visible("ddtc-officer")) == ["C", "G"]
    hidden = us.call("GET", f"/v1/denials/{seen['A']['id']}", "ddtc-officer")
    assert hidden.status_code == 404
    # provenance: origin instance, organisation and id are kept
    originals = eu.visible("de-officer")
    with us.exchange._read() as session:
        record = session.get(FedRecord, ("denial", seen["A"]["id"]))
        assert record is not None
        assert (record.origin_instance, record.origin_org, record.origin_id) == (
            "eu",
            "BAFA",
            originals["A"]["id"],
        )
    # no US organisation can change the marking of a record it received
    changed = us.call(
        "PATCH", f"/v1/denials/{seen['G']['id']}/marking", "bis-officer", json={"marking": "CLEAR"}
    )
    assert changed.status_code == 403
    # every record sent and received is audited on both sides, chains intact
    assert len(eu.audit("federation.send")) == 3
    assert len(us.audit("federation.receive")) == 3
    assert eu.exchange.verify_audit().ok
    assert us.exchange.verify_audit().ok


def test_pull_and_push_are_idempotent(pair: tuple[Instance, Instance]) -> None:
    eu, us = pair
    create_all_markings(eu)
    pushed = eu.fed.push("us", client=us.client, limit=2)  # pages of 2: the cursor pages
    assert (pushed.outcomes, pushed.batches) == ({"created": 3}, 2)
    before = us.table()
    # pulling what was pushed, from the very beginning: all unchanged
    assert us.fed.pull("eu", client=eu.client).outcomes == {"unchanged": 3}
    assert us.fed.push("eu", client=eu.client).outcomes == {}  # nothing of the US's own
    assert eu.fed.push("us", client=us.client).outcomes == {}  # nothing new since the cursor
    assert us.fed.pull("eu", client=eu.client).outcomes == {}
    # replaying the push from scratch changes nothing either
    with eu.exchange._write() as session:
        session.execute(text("UPDATE fed_peers SET push_cursor = NULL"))
    assert eu.fed.push("us", client=us.client).outcomes == {"unchanged": 3}
    assert us.table() == before
    # the US never echoes EU records back to the EU
    assert us.fed.serve_feed("eu", None).entries == []


def test_updates_renewals_and_withdrawals_propagate(pair: tuple[Instance, Instance]) -> None:
    eu, us = pair
    green = eu.create("de-officer", reference="G", marking="GREEN")
    amber = eu.create("de-officer", reference="A", marking="AMBER", sharing_group=eu.orgs["group"])
    eu.fed.push("us", client=us.client)
    # renewal on review: a newer version updates the copy
    renewed = eu.call(
        "POST", f"/v1/denials/{amber['id']}/renew", "de-officer", json={"on": "2027-01-10"}
    )
    assert renewed.status_code == 200, renewed.text
    # the originator lowers AMBER to GREEN: allowed, it comes from the origin
    eu.call("PATCH", f"/v1/denials/{amber['id']}/marking", "de-officer", json={"marking": "GREEN"})
    # and raises the GREEN one to AMBER+STRICT: it must disappear at the US
    eu.call(
        "PATCH",
        f"/v1/denials/{green['id']}/marking",
        "de-officer",
        json={"marking": "AMBER+STRICT"},
    )
    result = eu.fed.push("us", client=us.client)
    assert result.outcomes == {"updated": 1, "withdrawn": 1}
    seen = us.visible("ddtc-officer")
    assert sorted(seen) == ["A"]
    assert (seen["A"]["marking"], seen["A"]["sharing_group"]) == ("GREEN", None)
    assert (seen["A"]["review_status"], seen["A"]["expires_on"]) == ("renewed", "2030-01-10")
    assert "G" not in us.visible("bis-officer")
    # a revocation (set directly: no revocation route yet) propagates by pull
    with eu.exchange._write() as session:
        row = session.get(Denial, amber["id"])
        assert row is not None
        row.review_status = "revoked"
        row.updated_at = dt.datetime.now(dt.UTC)
    assert us.fed.pull("eu", client=eu.client).outcomes == {"updated": 1}
    revoked = us.visible("bis-officer")["A"]
    assert (revoked["review_status"], revoked["in_force"]) == ("revoked", False)
    # lowered back to GREEN by the origin: the withdrawn copy is visible again
    eu.call("PATCH", f"/v1/denials/{green['id']}/marking", "de-officer", json={"marking": "GREEN"})
    assert us.fed.pull("eu", client=eu.client).outcomes == {"updated": 1}
    assert sorted(us.visible("ddtc-officer")) == ["A", "G"]
    with eu.exchange._read() as session:
        sent = session.scalars(select(FedSent)).all()
        assert {s.withdrawn for s in sent} == {0}


def test_three_instances_never_widen(tmp_path: Path) -> None:
    eu, us, jp = Instance(tmp_path, "eu"), Instance(tmp_path, "us"), Instance(tmp_path, "jp")
    bafa = eu.partner("BAFA", "DE", "de-officer")
    eu_group = eu.exchange.add_group("to-US", [bafa])
    bis = us.partner("BIS", "US", "bis-officer")
    us_group = us.exchange.add_group("from-EU", [bis])
    meti = jp.partner("METI", "JP", "meti-officer")
    jp.partner("MOFA", "JP", "mofa-officer")
    jp_group = jp.exchange.add_group("from-US", [meti])
    link(
        eu,
        us,
        {"send_markings": ["GREEN", "AMBER"], "send_group": eu_group},
        {"receive_group": us_group},
    )
    link(
        us,
        jp,
        {
            "send_markings": ["GREEN", "AMBER"],
            "send_group": us_group,
            "forward_received": True,
        },
        {"receive_group": jp_group, "forward_received": True},
    )
    # before the EU agreement names JP, EU records stop at the US
    eu.create("de-officer", reference="G-us-only", marking="GREEN")
    assert eu.fed.push("us", client=us.client).outcomes == {"created": 1}
    eu.fed.update_peer("us", forward_to=["jp"])
    eu.create("de-officer", reference="G", marking="GREEN")
    amber = eu.create("de-officer", reference="A", marking="AMBER", sharing_group=eu_group)
    us.create("bis-officer", reference="US-own", marking="GREEN")
    assert eu.fed.push("us", client=us.client).outcomes == {"created": 2}
    assert us.fed.push("jp", client=jp.client).outcomes == {"created": 3}
    seen = jp.visible("meti-officer")
    assert sorted(seen) == ["A", "G", "US-own"]
    assert (seen["A"]["marking"], seen["A"]["sharing_group"]) == ("AMBER", jp_group)
    assert sorted(jp.visible("mofa-officer")) == ["G", "US-own"]
    with jp.exchange._read() as session:
        origins = {(r.origin_instance, r.origin_org) for r in session.scalars(select(FedRecord))}
    assert origins == {("eu", "BAFA"), ("us", "BIS")}
    # the originator lowers A to GREEN: the US (its peer) follows; JP gets it from the
    # US, not from its originator, so JP keeps AMBER in its group
    eu.call("PATCH", f"/v1/denials/{amber['id']}/marking", "de-officer", json={"marking": "GREEN"})
    eu.fed.push("us", client=us.client)
    assert us.visible("bis-officer")["A"]["marking"] == "GREEN"
    assert us.fed.push("jp", client=jp.client).outcomes == {"updated": 1}
    assert jp.visible("meti-officer")["A"]["marking"] == "AMBER"
    assert "A" not in jp.visible("mofa-officer")
    # JP sends its own records on, but never EU or US records to a fourth instance
    # outside their reach, nor records back to the US or on to the EU
    jp.create("meti-officer", reference="JP-own", marking="GREEN")
    jp.partner("KOSTI", "KR", "kr-officer")
    jp.fed.add_peer("kr", "http://kr.invalid", "KR", send_markings=["GREEN"], forward_received=True)
    to_kr = jp.fed.serve_feed("kr", None).entries
    assert [(e.origin_instance, e.content and e.content["reference"]) for e in to_kr] == [
        ("jp", "JP-own")
    ]
    assert [e.origin_instance for e in jp.fed.serve_feed("us", None).entries] == ["jp"]
    with jp.exchange._read() as session:
        reach = {
            (
                r.origin_instance,
                tuple(
                    sorted(
                        session.scalars(
                            select(FedReach.instance).where(FedReach.local_id == r.local_id)
                        )
                    )
                ),
            )
            for r in session.scalars(select(FedRecord))
        }
    assert reach == {("eu", ("eu", "jp", "us")), ("us", ("jp", "us"))}


def test_refusals_name_the_field_and_store_nothing(pair: tuple[Instance, Instance]) -> None:
    eu, us = pair
    with pytest.raises(ExchangeError, match=r"send_markings\[1\]: RED"):
        eu.fed.add_peer("jp", "http://jp.invalid", "JP", send_markings=["GREEN", "RED"])
    with pytest.raises(ExchangeError, match="send_group: AMBER"):
        eu.fed.add_peer("jp", "http://jp.invalid", "JP", send_markings=["AMBER"])
    with pytest.raises(ExchangeError, match="AMBER\\+STRICT never leaves"):
        eu.fed.update_peer("us", send_markings=["AMBER+STRICT"])
    with pytest.raises(ExchangeError, match="name: 'eu' is this instance's own name"):
        eu.fed.add_peer("eu", "http://x.invalid", "DE")
    (eu_peer,) = us.fed.peers()
    assert (eu_peer.name, eu_peer.has_token, eu_peer.receive_group) == (
        "eu",
        True,
        us.orgs["group"],
    )
    # the peer's token only opens the federation routes, and only as that peer
    with us.exchange._read() as session:
        (us_token,) = session.execute(text("SELECT token FROM fed_peers")).one()
    feed = eu.client.get(
        "/v1/federation/feed",
        params={"since": "%%%"},
        headers={"authorization": f"Bearer {us_token}"},
    )
    assert (feed.status_code, feed.json()["detail"].split(" (")[0]) == (
        422,
        "since: malformed cursor",
    )
    listing = eu.client.get("/v1/denials", headers={"authorization": f"Bearer {us_token}"})
    assert listing.status_code == 403
    officer = eu.call("GET", "/v1/federation/feed", "de-officer")
    assert officer.status_code == 403  # an officer's token has no federation scope
    admin = eu.exchange.add_user(eu.orgs["BAFA"], "de-admin", Role.ADMIN)
    admin_token = eu.exchange.issue_token(admin, [Scope.FEDERATION])
    not_peer = eu.client.get(
        "/v1/federation/feed", headers={"authorization": f"Bearer {admin_token}"}
    )
    assert (not_peer.status_code, not_peer.json()["detail"]) == (
        403,
        "authorization: the token is not a federation peer's",
    )
    # a pushed batch: wrong sender, then records that may not land here
    entry: dict[str, Any] = {
        "kind": "denial",
        "origin_instance": "eu",
        "origin_org": "BAFA",
        "origin_country": "DE",
        "origin_id": "x-1",
        "version": "2026-01-01T00:00:00+00:00",
        "marking": "RED",
        "reach": ["eu", "us"],
        "content": {k: v for k, v in denial().items() if k != "marking"}
        | {"expires_on": "2028-03-14", "review_status": "in_force"},
    }
    with eu.exchange._read() as session:
        (eu_token,) = session.execute(text("SELECT token FROM fed_peers")).one()
    auth = {"authorization": f"Bearer {eu_token}"}
    wrong = us.client.post(
        "/v1/federation/inbox", json={"sender": "jp", "entries": []}, headers=auth
    )
    assert wrong.status_code == 403
    bad_content = {**entry, "origin_id": "x-2", "marking": "GREEN"}
    bad_content["content"] = {**entry["content"], "destination": "China"}
    outside = {**entry, "origin_id": "x-3", "marking": "GREEN", "reach": ["eu", "jp"]}
    answer = us.client.post(
        "/v1/federation/inbox",
        json={"sender": "eu", "entries": [entry, bad_content, outside]},
        headers=auth,
    )
    assert answer.status_code == 200, answer.text
    reasons = [(o["outcome"], o["reason"].split(":")[0]) for o in answer.json()["outcomes"]]
    assert reasons == [
        ("refused", "marking"),
        ("refused", "content.destination"),
        ("refused", "reach"),
    ]
    with us.exchange._read() as session:
        assert session.scalar(select(func.count()).select_from(Denial)) == 0
    refused = [e for e in us.audit("federation.receive") if e.outcome == "refused"]
    assert len(refused) == 3
    malformed = us.client.post(
        "/v1/federation/inbox",
        json={"sender": "eu", "entries": [{**entry, "marking": "PURPLE"}]},
        headers=auth,
    )
    assert malformed.status_code == 422
    assert malformed.json()["detail"].startswith("entries.0.marking:")


def test_amber_without_a_receiving_group_is_refused_and_peer_errors_name_the_peer(
    tmp_path: Path,
) -> None:
    eu, us = Instance(tmp_path, "eu"), Instance(tmp_path, "us")
    bafa = eu.partner("BAFA", "DE", "de-officer")
    group = eu.exchange.add_group("to-US", [bafa])
    us.partner("BIS", "US", "bis-officer")
    link(eu, us, {"send_markings": ["GREEN", "AMBER"], "send_group": group}, {})
    eu.create("de-officer", reference="G", marking="GREEN")
    eu.create("de-officer", reference="A", marking="AMBER", sharing_group=group)
    result = us.fed.pull("eu", client=eu.client)
    assert result.outcomes == {"created": 1, "refused": 1}
    assert sorted(us.visible("bis-officer")) == ["G"]
    (refused,) = [e for e in us.audit("federation.receive") if e.outcome == "refused"]
    assert "agreement: AMBER lands only in a receiving sharing group" in refused.detail
    us.fed.update_peer("eu", token="ecx_not-a-token")
    with pytest.raises(ExchangeError) as error:
        us.fed.pull("eu", client=eu.client)
    assert (error.value.status, error.value.message) == (
        502,
        "peer 'eu': feed answered 401: authorization: unknown token",
    )
    with pytest.raises(ExchangeError, match="peer: no peer 'jp'"):
        us.fed.push("jp", client=eu.client)


def test_migration_0003_adds_and_removes_only_federation_tables(tmp_path: Path) -> None:
    from alembic import command  # noqa: PLC0415
    from alembic.config import Config  # noqa: PLC0415

    exchange = Exchange.open(tmp_path / "x.sqlite")
    fed_tables = {
        "fed_instance",
        "fed_peers",
        "fed_origins",
        "fed_records",
        "fed_reach",
        "fed_sent",
        "fed_change_counter",  # revision 0004, SQLite only (feed order)
    }
    assert fed_tables <= set(inspect(exchange.engine).get_table_names())
    before = set(inspect(exchange.engine).get_table_names()) - fed_tables
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with exchange.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0002")
    inspector = inspect(exchange.engine)
    assert set(inspector.get_table_names()) == before
    migrate(exchange.engine)
    assert fed_tables <= set(inspect(exchange.engine).get_table_names())


def test_cli_names_the_instance_and_registers_peers(tmp_path: Path) -> None:
    from typer.testing import CliRunner  # noqa: PLC0415

    from econsec.cli.main import app  # noqa: PLC0415

    db = str(tmp_path / "cli.sqlite")
    runner = CliRunner()

    def run(*args: str) -> Any:
        return runner.invoke(app, ["exchange", *args, "--db", db])

    assert run("instance", "eu").stdout.strip() == "eu"
    assert run("instance").stdout.strip() == "eu"
    renamed = run("instance", "us")
    assert renamed.exit_code == 1
    assert "name: this instance is already named 'eu'" in renamed.stderr
    added = run("peer", "add", "us", "--url", "http://127.0.0.1:9", "--country", "US")
    assert added.exit_code == 0, added.stderr
    token = json.loads(added.stdout)["token_for_peer"]
    listed = run("peer", "list")
    (peer,) = [json.loads(line) for line in listed.stdout.splitlines()]
    assert (peer["name"], peer["send_markings"], peer["has_token"]) == (
        "us",
        ["CLEAR", "GREEN"],
        False,
    )
    assert token not in listed.stdout
    red = run("peer", "set", "us", "--send", "RED")
    assert red.exit_code == 1
    assert "send_markings[0]: RED is for named individuals and never leaves" in red.stderr
    no_token = run("federate", "push", "us")
    assert no_token.exit_code == 1
    assert "token: no token for calling peer 'us'" in no_token.stderr


_OPS = st.lists(
    st.one_of(
        st.tuples(
            st.just("create"),
            st.sampled_from(
                ["CLEAR", "GREEN", "AMBER", "AMBER-group", "AMBER+STRICT", "RED", "GREEN-excl"]
            ),
        ),
        st.tuples(
            st.just("mark"),
            st.integers(0, 7),
            st.sampled_from(["CLEAR", "GREEN", "AMBER", "AMBER+STRICT"]),
        ),
        st.tuples(st.just("renew"), st.integers(0, 7)),
        st.tuples(st.just("sync"), st.sampled_from(["push", "pull"])),
    ),
    max_size=14,
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=_OPS, last=st.sampled_from(["push", "pull"]))
@example(ops=[("create", "GREEN"), ("sync", "push"), ("mark", 0, "AMBER+STRICT")], last="pull")
@example(
    ops=[("create", "AMBER-group"), ("sync", "pull"), ("mark", 0, "GREEN"), ("renew", 0)],
    last="push",
)
def test_any_interleaving_converges_to_what_the_agreement_allows(
    ops: list[tuple[Any, ...]], last: str
) -> None:
    """Random creations, marking changes, renewals and pushes/pulls: after a final
    sync the US sees exactly the EU records the agreement allows, with the EU's
    current marking and the mapped audience; one more round changes nothing."""
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        eu, us = Instance(root, "eu"), Instance(root, "us")
        bafa = eu.partner("BAFA", "DE", "de-officer")
        eu.partner("BAFA", "DE", "de-recipient", Role.ANALYST)
        group = eu.exchange.add_group("to-US", [bafa])
        other = eu.exchange.add_organisation("Other", "FR")
        bis = us.partner("BIS", "US", "bis-officer")
        us.partner("DDTC", "US", "ddtc-officer")
        us_group = us.exchange.add_group("from-EU", [bis])
        link(
            eu,
            us,
            {"send_markings": ["CLEAR", "GREEN", "AMBER"], "send_group": group},
            {"receive_group": us_group},
        )
        ids: list[str] = []

        def sync(direction: str) -> None:
            if direction == "push":
                eu.fed.push("us", client=us.client, limit=3)
            else:
                us.fed.pull("eu", client=eu.client, limit=3)

        for op in ops:
            if op[0] == "create":
                kind: str = op[1]
                extra: dict[str, Any] = {"marking": kind.split("-", maxsplit=1)[0]}
                if kind == "AMBER-group":
                    extra["sharing_group"] = group
                if kind == "RED":
                    extra["recipients"] = [eu.users["de-recipient"]]
                if kind == "GREEN-excl":
                    extra["excluded_orgs"] = [other]
                ids.append(eu.create("de-officer", reference=f"R{len(ids)}", **extra)["id"])
            elif op[0] == "mark" and ids:
                url = f"/v1/denials/{ids[op[1] % len(ids)]}/marking"
                eu.call("PATCH", url, "de-officer", json={"marking": op[2]})
            elif op[0] == "renew" and ids:
                url = f"/v1/denials/{ids[op[1] % len(ids)]}/renew"
                assert (
                    eu.call("POST", url, "de-officer", json={"on": "2027-01-10"}).status_code == 200
                )
            elif op[0] == "sync":
                sync(op[1])
        sync(last)

        with eu.exchange._read() as session:
            excluded = set(session.scalars(select(RecordExclusion.record_id)))
            records = {d.id: d for d in session.scalars(select(Denial))}
        allowed = {
            i: d
            for i, d in records.items()
            if i not in excluded
            and (
                d.marking in ("CLEAR", "GREEN")
                or (d.marking == "AMBER" and d.sharing_group_id == group)
            )
        }
        with us.exchange._read() as session:
            origin = {r.local_id: r.origin_id for r in session.scalars(select(FedRecord))}

        def held(user: str) -> dict[str, dict[str, Any]]:
            return {origin[i["id"]]: i for i in us.visible(user).values()}

        bis_sees, ddtc_sees = held("bis-officer"), held("ddtc-officer")
        assert set(bis_sees) == set(allowed)
        assert set(ddtc_sees) == {i for i, d in allowed.items() if d.marking != "AMBER"}
        for i, d in allowed.items():
            copy = bis_sees[i]
            assert (copy["marking"], copy["expires_on"], copy["review_status"]) == (
                d.marking,
                d.expires_on.isoformat(),
                d.review_status,
            )
            assert copy["sharing_group"] == (us_group if d.marking == "AMBER" else None)
        before = us.table()
        for direction in ("push", "pull"):
            with eu.exchange._write() as session:
                session.execute(text("UPDATE fed_peers SET push_cursor = NULL"))
            with us.exchange._write() as session:
                session.execute(text("UPDATE fed_peers SET pull_cursor = NULL"))
            sync(direction)
        assert us.table() == before
        assert eu.exchange.verify_audit().ok
        assert us.exchange.verify_audit().ok
