"""Alerts federate like denials: what leaves, downgrade on receipt, versions, withdrawal.

The instance under test runs on the ``exchange`` fixture (SQLite and PostgreSQL):
the sender in the sharing tests, the receiver in the payload tests; its peer is
an SQLite instance. Push and pull cross the real routes through TestClients.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text
from test_federation import Instance, pair_on

from econsec.exchange.db import AlertRecord, Denial
from econsec.exchange.federation import KINDS, AlertRecordKind, Federation, InboxBatch
from econsec.exchange.federation_db import FedReach, FedRecord, FedSent
from econsec.exchange.service import Exchange
from econsec.model.trade import Alert, Contribution

LISTING: dict[str, Any] = {
    "kind": "proposed_listing",
    "country": "AE",
    "list": "EU Annex IV",
    "reason": "Procures 3A090 items for a listed end user",
}
HIT: dict[str, Any] = {
    "kind": "screening_hit",
    "list_entry_id": "ofac-sdn-12345",
    "score": 0.93,
}
DIVERSION: dict[str, Any] = {
    "kind": "diversion",
    "reporter": "DE",
    "intermediary": "KG",
    "target": "RU",
    "score": 0.71,
    "contributions": [
        {"indicator": "growth", "value": 3.2, "weight": 0.3, "points": 0.3, "detail": "x3.2"},
        {"indicator": "did", "value": None, "weight": 0.2, "points": 0.0},
    ],
    "baseline_value": 375000.0,
    "period_value": 1200000.0,
    "currency": "EUR",
}


#: The payload field each test alert is tagged in.
NAMED = {"proposed_listing": "name", "screening_hit": "counterparty", "diversion": "product"}


def alert(tag: str, marking: str, kind: dict[str, Any] = LISTING, **extra: Any) -> dict[str, Any]:
    """An alert body tagged ``tag`` (its name, counterparty or product)."""
    return {**kind, NAMED[kind["kind"]]: tag, "marking": marking, **extra}


def tag(record: dict[str, Any]) -> str:
    name: str = record["payload"][NAMED[record["kind"]]]
    return name


def share(instance: Instance, user: str, body: dict[str, Any]) -> dict[str, Any]:
    response = instance.call("POST", "/v1/alerts", user, json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def seen(instance: Instance, user: str) -> dict[str, dict[str, Any]]:
    """Tag → alert, as ``user`` lists them over HTTP."""
    response = instance.call("GET", "/v1/alerts", user)
    assert response.status_code == 200, response.text
    return {tag(i): i for i in response.json()["items"]}


def alert_rows(instance: Instance) -> list[tuple[Any, ...]]:
    with instance.exchange.engine.connect() as con:
        return [tuple(r) for r in con.execute(text("SELECT * FROM alerts ORDER BY id"))]


@pytest.fixture
def pair(exchange: Exchange, tmp_path: Path) -> tuple[Instance, Instance]:
    """The EU on the ``exchange`` fixture (both backends), the US on SQLite."""
    eu, us = pair_on(exchange, None, tmp_path)
    return eu, us


def share_every_marking(eu: Instance) -> dict[str, dict[str, Any]]:
    group = eu.orgs["group"]
    other = eu.exchange.add_organisation("Other", "FR")
    made = [
        share(eu, "de-officer", alert("G", "GREEN")),
        share(eu, "de-officer", alert("C", "CLEAR", HIT)),
        share(eu, "de-officer", alert("A", "AMBER", DIVERSION, sharing_group=group)),
        share(eu, "de-officer", alert("Anogroup", "AMBER")),
        share(eu, "de-officer", alert("AS", "AMBER+STRICT")),
        share(eu, "de-officer", alert("R", "RED", recipients=[eu.users["de-recipient"]])),
        share(eu, "de-officer", alert("Gexcl", "GREEN", excluded_orgs=[other])),
    ]
    return {tag(a): a for a in made}


@pytest.mark.parametrize("via", ["pull", "push"])
def test_alerts_reach_the_peer_as_the_agreement_allows(
    pair: tuple[Instance, Instance], via: str
) -> None:
    eu, us = pair
    originals = share_every_marking(eu)
    eu.create("de-officer", reference="D", marking="GREEN")  # a denial travels beside them
    if via == "pull":
        result = us.fed.pull("eu", client=eu.client)
    else:
        result = eu.fed.push("us", client=us.client)
    assert result.outcomes == {"created": 4}
    bis = seen(us, "bis-officer")
    assert sorted(bis) == ["A", "C", "G"]
    assert sorted(us.visible("bis-officer")) == ["D"]
    # GREEN and CLEAR as they are; AMBER only in the receiving group
    assert (bis["G"]["marking"], bis["G"]["sharing_group"]) == ("GREEN", None)
    assert (bis["C"]["marking"], bis["A"]["marking"]) == ("CLEAR", "AMBER")
    assert bis["A"]["sharing_group"] == us.orgs["group"]
    assert sorted(seen(us, "ddtc-officer")) == ["C", "G"]
    hidden = us.call("GET", f"/v1/alerts/{bis['A']['id']}", "ddtc-officer")
    assert hidden.status_code == 404
    # the content arrives whole: kind, payload, what lists show, when it was raised
    for name, copy in bis.items():
        original = originals[name]
        for field in ("kind", "subject", "country", "score", "payload", "created_at"):
            assert copy[field] == original[field], (name, field)
    assert bis["A"]["payload"]["contributions"][1] == DIVERSION["contributions"][1] | {"detail": ""}
    # provenance and reach, as for denials; the US echoes nothing back
    with us.exchange._read() as session:
        record = session.get(FedRecord, ("alert", bis["A"]["id"]))
        assert record is not None
        assert (record.origin_instance, record.origin_org, record.origin_id) == (
            "eu",
            "BAFA",
            originals["A"]["id"],
        )
        reach = session.scalars(select(FedReach.instance).where(FedReach.kind == "alert"))
        assert sorted(set(reach)) == ["eu", "us"]
    assert us.fed.serve_feed("eu", None).entries == []
    # no US organisation can change the marking of an alert it received
    changed = us.call(
        "PATCH", f"/v1/alerts/{bis['G']['id']}/marking", "bis-officer", json={"marking": "CLEAR"}
    )
    assert changed.status_code == 403
    # every alert sent and received is audited on both sides, chains intact
    sent = [json.loads(e.detail) for e in eu.audit("federation.send")]
    received = [json.loads(e.detail) for e in us.audit("federation.receive")]
    assert sorted(d["kind"] for d in sent) == ["alert"] * 3 + ["denial"]
    assert sorted(d["kind"] for d in received) == ["alert"] * 3 + ["denial"]
    assert eu.exchange.verify_audit().ok
    assert us.exchange.verify_audit().ok


def test_a_resent_alert_changes_nothing(pair: tuple[Instance, Instance]) -> None:
    eu, us = pair
    share_every_marking(eu)
    pushed = eu.fed.push("us", client=us.client, limit=1)  # pages of one per kind
    assert (pushed.outcomes, pushed.batches) == ({"created": 3}, 3)
    before = alert_rows(us)
    assert us.fed.pull("eu", client=eu.client).outcomes == {"unchanged": 3}
    assert eu.fed.push("us", client=us.client).outcomes == {}
    with eu.exchange._write() as session:
        session.execute(text("UPDATE fed_peers SET push_cursor = NULL"))
    assert eu.fed.push("us", client=us.client).outcomes == {"unchanged": 3}
    assert alert_rows(us) == before


def test_a_marking_change_travels_and_a_raise_withdraws(pair: tuple[Instance, Instance]) -> None:
    eu, us = pair
    amber = share(eu, "de-officer", alert("A", "AMBER", HIT, sharing_group=eu.orgs["group"]))
    green = share(eu, "de-officer", alert("G", "GREEN", DIVERSION))
    assert eu.fed.push("us", client=us.client).outcomes == {"created": 2}

    def mark(record: dict[str, Any], marking: str) -> None:
        url = f"/v1/alerts/{record['id']}/marking"
        response = eu.call("PATCH", url, "de-officer", json={"marking": marking})
        assert response.status_code == 200, response.text

    # the originator lowers AMBER to GREEN (a newer version), raises GREEN beyond the
    # agreement: the first is updated at the US, the second withdrawn there
    mark(amber, "GREEN")
    mark(green, "AMBER+STRICT")
    assert eu.fed.push("us", client=us.client).outcomes == {"updated": 1, "withdrawn": 1}
    assert sorted(seen(us, "ddtc-officer")) == ["A"]
    assert seen(us, "ddtc-officer")["A"]["marking"] == "GREEN"
    assert sorted(seen(us, "bis-officer")) == ["A"]
    with us.exchange._read() as session:
        withdrawn = session.scalars(select(FedRecord).where(FedRecord.withdrawn == 1)).one()
        assert withdrawn.origin_id == green["id"]
    with eu.exchange._read() as session:
        sent = session.get(FedSent, (1, "alert", green["id"]))
        assert sent is not None
        assert sent.withdrawn == 1
    # sent again from the start: the withdrawn one is not sent again (the US has
    # hidden it), the other changes nothing; lowered again, it is back (by pull)
    with eu.exchange._write() as session:
        session.execute(text("UPDATE fed_peers SET push_cursor = NULL"))
    assert eu.fed.push("us", client=us.client).outcomes == {"unchanged": 1}
    mark(green, "GREEN")
    assert us.fed.pull("eu", client=eu.client).outcomes == {"updated": 1, "unchanged": 1}
    assert sorted(seen(us, "ddtc-officer")) == ["A", "G"]
    assert seen(us, "ddtc-officer")["G"]["payload"]["contributions"][0]["detail"] == "x3.2"


def test_imported_trade_alerts_federate(pair: tuple[Instance, Instance]) -> None:
    """What ``econsec trade alerts --format json`` prints, imported, reaches the peer."""
    eu, us = pair
    rows = [
        dataclasses.asdict(
            Alert(
                reporter="DE",
                intermediary="AM",
                target="RU",
                product="chpl:1",
                score=0.42,
                contributions=(Contribution("growth", 3.2, 0.3, 0.3, "2022 vs 2021"),),
                baseline_value=375000.0,
                period_value=1200000.0,
            )
        )
    ]
    body = {"alerts": json.loads(json.dumps(rows, default=str)), "marking": "GREEN"}
    response = eu.call("POST", "/v1/alerts/import", "de-officer", json=body)
    assert response.status_code == 201, response.text
    assert us.fed.pull("eu", client=eu.client).outcomes == {"created": 1}
    (copy,) = seen(us, "ddtc-officer").values()
    assert (copy["kind"], copy["payload"]) == ("diversion", response.json()[0]["payload"])


# -- the receiving side ----------------------------------------------------------------


@pytest.fixture
def receiver(exchange: Exchange, tmp_path: Path) -> tuple[Instance, Instance]:
    """The US on the ``exchange`` fixture (both backends) receives; the EU is SQLite."""
    eu, us = pair_on(None, exchange, tmp_path)
    return eu, us


def entry(origin_id: str, content: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {
        "kind": "alert",
        "origin_instance": "eu",
        "origin_org": "BAFA",
        "origin_country": "DE",
        "origin_id": origin_id,
        "version": "2026-12-01T10:00:00+00:00",
        "marking": "GREEN",
        "reach": ["eu", "us"],
        "content": content,
        **changes,
    }


def content(**payload: Any) -> dict[str, Any]:
    base = {k: v for k, v in alert("Listing", "GREEN").items() if k not in ("kind", "marking")}
    return {
        "kind": "proposed_listing",
        "raised_at": "2026-11-30T08:00:00+01:00",
        "payload": {**base, **payload},
    }


def test_received_alerts_are_checked_field_by_field(receiver: tuple[Instance, Instance]) -> None:
    eu, us = receiver
    with eu.exchange._read() as session:
        (token,) = session.execute(text("SELECT token FROM fed_peers")).one()
    auth = {"authorization": f"Bearer {token}"}
    long_reason = "x" * 20001
    cases: list[tuple[dict[str, Any], str]] = [
        (content(), ""),
        ({**content(), "kind": "rumour"}, "content.kind: Input should be"),
        ({**content(), "subject": "x"}, "content.subject: Extra inputs are not permitted"),
        ({k: v for k, v in content().items() if k != "raised_at"}, "content.raised_at: Field"),
        ({**content(), "raised_at": "2026-11-30T08:00:00"}, "content.raised_at: Input should"),
        ({**content(), "payload": ["x"]}, "content.payload: Input should be a valid dictionary"),
        (content(source="x"), "content.payload.source: Extra inputs are not permitted"),
        (content(name="Nul\x00Trading"), "content.payload.name: Value error, NUL characters"),
        (content(reason=long_reason), "content.payload.reason: String should have at most"),
        (content(country="China"), "content.payload.country: String should match pattern"),
        (
            {**content(), "kind": "screening_hit", "payload": {**HIT, "counterparty": "X"}},
            "content.payload.kind: Extra inputs are not permitted",
        ),
        (
            {
                **content(),
                "kind": "screening_hit",
                "payload": {"counterparty": "X", "list_entry_id": "y", "score": 1.5},
            },
            "content.payload.score: Input should be less than or equal to 1",
        ),
        (
            {
                **content(),
                "kind": "diversion",
                "payload": {
                    **{k: v for k, v in DIVERSION.items() if k != "kind"},
                    "product": "chpl:1",
                    "contributions": [{"indicator": "growth", "weight": 1, "points": 1, "z": 2}],
                },
            },
            "content.payload.contributions.0.z: Extra inputs are not permitted",
        ),
    ]
    entries = [entry(f"x-{i}", body) for i, (body, _) in enumerate(cases)]
    answer = us.client.post(
        "/v1/federation/inbox", json={"sender": "eu", "entries": entries}, headers=auth
    )
    assert answer.status_code == 200, answer.text
    outcomes = answer.json()["outcomes"]
    assert outcomes[0]["outcome"] == "created"
    for (_, why), outcome, sent in zip(cases[1:], outcomes[1:], entries[1:], strict=True):
        # each refusal names the record (kind, origin, id) and the field
        assert (outcome["kind"], outcome["origin_instance"], outcome["origin_id"]) == (
            "alert",
            "eu",
            sent["origin_id"],
        )
        assert (outcome["outcome"], outcome["reason"][: len(why)]) == ("refused", why)
    with us.exchange._read() as session:
        (stored,) = session.scalars(select(AlertRecord)).all()
        assert (stored.kind, stored.subject) == ("proposed_listing", "Listing (EU Annex IV)")
        # raised at 08:00+01:00: stored in UTC (SQLite hands it back naive)
        raised = stored.created_at
        raised = raised if raised.tzinfo else raised.replace(tzinfo=dt.UTC)
        assert raised == dt.datetime(2026, 11, 30, 7, 0, tzinfo=dt.UTC)
    refused = [e for e in us.audit("federation.receive") if e.outcome == "refused"]
    assert len(refused) == len(cases) - 1
    # a denial with a NUL character is refused the same way (PostgreSQL cannot store it)
    with us.exchange._read() as session:
        assert session.scalar(select(func.count()).select_from(Denial)) == 0
    denial_content = {
        "reference": "BAFA-1",
        "decision_date": "2025-03-14",
        "control_entries": ["3A090.a"],
        "item": "GPU\x00boards",
        "consignee": "C",
        "end_user": "E",
        "destination": "CN",
        "reason": "R",
        "expires_on": "2028-03-14",
        "review_status": "in_force",
    }
    nul = us.client.post(
        "/v1/federation/inbox",
        json={"sender": "eu", "entries": [entry("d-1", denial_content, kind="denial")]},
        headers=auth,
    )
    assert nul.status_code == 200, nul.text
    (outcome,) = nul.json()["outcomes"]
    assert (outcome["outcome"], outcome["reason"]) == (
        "refused",
        "content.item: Value error, NUL characters are not allowed",
    )
    # the envelope itself is the wire format: a 422 naming the entry and the field
    malformed = us.client.post(
        "/v1/federation/inbox",
        json={"sender": "eu", "entries": [entry("x-99", content(), origin_org="B\x00")]},
        headers=auth,
    )
    assert malformed.status_code == 422
    assert malformed.json()["detail"] == (
        "entries.0.origin_org: Value error, NUL characters are not allowed"
    )
    assert us.exchange.verify_audit().ok


def test_a_received_alert_that_turns_invalid_is_hidden(
    receiver: tuple[Instance, Instance],
) -> None:
    """A newer version the receiver may not hold (bad content) hides the older copy,
    as a denial's would be."""
    _, us = receiver
    fed = Federation(us.exchange)

    def send(*entries: dict[str, Any]) -> list[str]:
        batch = InboxBatch.model_validate({"sender": "eu", "entries": list(entries)})
        return [o.outcome for o in fed.receive("eu", batch).outcomes]

    assert send(entry("x-1", content())) == ["created"]
    assert sorted(seen(us, "ddtc-officer")) == ["Listing"]
    newer = entry("x-1", content(country="China"), version="2026-12-02T10:00:00+00:00")
    assert send(newer) == ["refused"]
    assert seen(us, "ddtc-officer") == {}
    assert seen(us, "bis-officer") == {}


def test_alerts_are_a_registered_kind() -> None:
    assert isinstance(KINDS["alert"], AlertRecordKind)
    assert list(KINDS) == ["denial", "alert"]
