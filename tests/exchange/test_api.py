"""The exchange's HTTP API end to end: denials, refusals, audit and its verification."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from conftest import drop_audit_trigger
from econsec.exchange.app import create_exchange_app
from econsec.exchange.db import ApiToken, AuditEntry, Denial, Role, Scope
from econsec.exchange.service import Exchange, hash_token


class Partners:
    """An EU authority, a US agency and a third partner outside the EU–US group."""

    def __init__(self, exchange: Exchange) -> None:
        self.exchange = exchange
        self.de = exchange.add_organisation("BAFA", "DE")
        self.us = exchange.add_organisation("BIS", "US")
        self.jp = exchange.add_organisation("METI", "JP")
        self.group = exchange.add_group("EU-US", [self.de, self.us])
        self.de_officer = exchange.add_user(self.de, "de-officer", Role.OFFICER)
        self.de_colleague = exchange.add_user(self.de, "de-analyst", Role.ANALYST)
        self.us_officer = exchange.add_user(self.us, "us-officer", Role.OFFICER)
        self.jp_officer = exchange.add_user(self.jp, "jp-officer", Role.OFFICER)
        self.de_auditor = exchange.add_user(self.de, "de-auditor", Role.AUDITOR)
        self.tokens = {
            name: exchange.issue_token(user)
            for name, user in (
                ("de", self.de_officer),
                ("de2", self.de_colleague),
                ("us", self.us_officer),
                ("jp", self.jp_officer),
                ("audit", self.de_auditor),
            )
        }
        self.client = TestClient(create_exchange_app(exchange))

    def call(self, method: str, url: str, who: str | None, **kwargs: Any) -> Any:
        headers = {"authorization": f"Bearer {self.tokens[who]}"} if who else {}
        return self.client.request(method, url, headers=headers, **kwargs)


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
        "marking": "AMBER",
    }
    return {**body, **changes}


@pytest.fixture
def partners(exchange: Exchange) -> Partners:
    return Partners(exchange)


def audit_count(exchange: Exchange, outcome: str | None = None) -> int:
    query = select(func.count()).select_from(AuditEntry)
    if outcome:
        query = query.where(AuditEntry.outcome == outcome)
    with exchange._sessions() as session:
        return int(session.scalar(query) or 0)


def denial_count(exchange: Exchange) -> int:
    with exchange._sessions() as session:
        return int(session.scalar(select(func.count()).select_from(Denial)) or 0)


def test_denial_is_shared_by_marking_and_expires_after_the_review_period(
    partners: Partners,
) -> None:
    created = partners.call("POST", "/v1/denials", "de", json=denial())
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["expires_on"] == "2028-03-14"
    assert "2021/821" in body["explanation"]
    assert body["originator_org_id"] == partners.de
    # AMBER with no group: the originator's partners (the EU-US group), not METI
    assert partners.call("GET", f"/v1/denials/{body['id']}", "us").status_code == 200
    listing = partners.call("GET", "/v1/denials", "us").json()
    assert (listing["total"], [i["id"] for i in listing["items"]]) == (1, [body["id"]])
    assert partners.call("GET", "/v1/denials", "jp").json() == {"total": 0, "items": []}
    hidden = partners.call("GET", f"/v1/denials/{body['id']}", "jp")
    missing = partners.call("GET", "/v1/denials/no-such-id", "jp")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["detail"] == f"id: no denial {body['id']}"
    # the AMBER reads by BIS were audited, with the record
    with partners.exchange._sessions() as session:
        reads = session.scalars(
            select(AuditEntry).where(AuditEntry.action.in_(("denial.read", "denial.list")))
        ).all()
    assert {(e.org_id, e.outcome) for e in reads} >= {(partners.us, "ok")}


def test_red_goes_to_named_recipients_only(partners: Partners) -> None:
    body = denial(marking="RED", recipients=[partners.us_officer])
    rec = partners.call("POST", "/v1/denials", "de", json=body).json()
    assert partners.call("GET", f"/v1/denials/{rec['id']}", "us").status_code == 200
    assert partners.call("GET", f"/v1/denials/{rec['id']}", "de2").status_code == 404
    assert partners.call("GET", f"/v1/denials/{rec['id']}", "de").status_code == 200
    no_one = partners.call("POST", "/v1/denials", "de", json=denial(marking="RED"))
    assert no_one.status_code == 422
    assert no_one.json()["detail"].startswith("recipients:")


def test_only_the_originator_changes_the_marking(partners: Partners) -> None:
    rec = partners.call("POST", "/v1/denials", "de", json=denial(marking="GREEN")).json()
    refused_before = audit_count(partners.exchange, "refused")
    by_us = partners.call(
        "PATCH", f"/v1/denials/{rec['id']}/marking", "us", json={"marking": "CLEAR"}
    )
    assert by_us.status_code == 403
    assert "originator" in by_us.json()["detail"]
    assert partners.call("GET", f"/v1/denials/{rec['id']}", "de").json()["marking"] == "GREEN"
    assert audit_count(partners.exchange, "refused") == refused_before + 1
    strict = partners.call(
        "PATCH", f"/v1/denials/{rec['id']}/marking", "de", json={"marking": "AMBER+STRICT"}
    )
    assert strict.json()["marking"] == "AMBER+STRICT"
    # now invisible to BIS: 404, same as a missing record, and nothing changes
    again = partners.call(
        "PATCH", f"/v1/denials/{rec['id']}/marking", "us", json={"marking": "CLEAR"}
    )
    assert again.status_code == 404
    lowered = partners.call(
        "PATCH", f"/v1/denials/{rec['id']}/marking", "de", json={"marking": "GREEN"}
    )
    assert lowered.json()["marking"] == "GREEN"


def test_renewal_restarts_the_review_period(partners: Partners) -> None:
    rec = partners.call("POST", "/v1/denials", "de", json=denial()).json()
    renewed = partners.call(
        "POST", f"/v1/denials/{rec['id']}/renew", "de", json={"on": "2027-12-01"}
    ).json()
    assert (renewed["expires_on"], renewed["review_status"]) == ("2030-12-01", "renewed")
    assert renewed["explanation"].startswith("renewed on review; expires on 2030-12-01")
    early = partners.call("POST", f"/v1/denials/{rec['id']}/renew", "de", json={"on": "2020-01-01"})
    assert early.status_code == 422
    assert (
        partners.call(
            "POST", f"/v1/denials/{rec['id']}/renew", "us", json={"on": "2027-12-01"}
        ).status_code
        == 403
    )


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (denial(marking="YELLOW"), "marking"),
        (denial(decision_date="2025-02-30"), "decision_date"),
        (denial(colour="blue"), "colour"),
        (denial(destination="China"), "destination"),
        (denial(control_entries=["XYZ"]), "control_entries.0"),
        (denial(sharing_group=999), "sharing_group"),
        (denial(excluded_orgs=[1]), "excluded_orgs[0]"),
    ],
)
def test_bad_input_is_refused_precisely_and_audited(
    partners: Partners, payload: dict[str, Any], field: str
) -> None:
    refused = audit_count(partners.exchange, "refused")
    answer = partners.call("POST", "/v1/denials", "de", json=payload)
    assert answer.status_code == 422
    assert answer.json()["detail"].startswith(f"{field}:"), answer.json()
    assert denial_count(partners.exchange) == 0
    assert audit_count(partners.exchange, "refused") == refused + 1


def test_malformed_json_is_refused(partners: Partners) -> None:
    refused = audit_count(partners.exchange, "refused")
    answer = partners.client.post(
        "/v1/denials",
        content=b'{"reference": ',
        headers={
            "authorization": f"Bearer {partners.tokens['de']}",
            "content-type": "application/json",
        },
    )
    assert answer.status_code == 422
    assert answer.json()["detail"].startswith("body: malformed JSON")
    assert denial_count(partners.exchange) == 0
    assert audit_count(partners.exchange, "refused") == refused + 1


def test_tokens_are_hashed_scoped_and_expire(partners: Partners) -> None:
    with partners.exchange._sessions() as session:
        stored = session.scalars(select(ApiToken.token_hash)).all()
    assert hash_token(partners.tokens["de"]) in stored
    assert partners.tokens["de"] not in stored
    assert partners.call("GET", "/v1/denials", None).status_code == 401
    read_only = partners.exchange.issue_token(partners.de_officer, [Scope.DENIALS_READ])
    wrong = partners.client.post(
        "/v1/denials", json=denial(), headers={"authorization": f"Bearer {read_only}"}
    )
    assert (wrong.status_code, wrong.json()["detail"]) == (
        403,
        "authorization: token lacks scope denials:write",
    )
    expired = partners.exchange.issue_token(partners.de_officer, days=0)
    late = partners.client.get("/v1/denials", headers={"authorization": f"Bearer {expired}"})
    assert late.status_code == 401
    assert "expired" in late.json()["detail"]
    with pytest.raises(Exception, match="may not hold audit:read"):
        partners.exchange.issue_token(partners.us_officer, [Scope.AUDIT_READ])
    assert denial_count(partners.exchange) == 0


def test_auditor_sees_own_organisation_log_and_verify_detects_alteration(
    partners: Partners,
) -> None:
    partners.call("POST", "/v1/denials", "de", json=denial())
    partners.call("POST", "/v1/denials", "us", json=denial(reference="BIS-1", marking="CLEAR"))
    log = partners.call("GET", "/v1/audit", "audit").json()
    assert log
    assert {e["org_id"] for e in log} == {partners.de}
    assert partners.call("GET", "/v1/audit", "de").status_code == 403  # officer: no scope
    assert partners.exchange.verify_audit().ok
    with partners.exchange.engine.begin() as con:  # someone with database access…
        drop_audit_trigger(con, "update")
        target = con.execute(
            text("SELECT id FROM audit_log WHERE action = 'denial.create' ORDER BY id")
        ).scalar()
        con.execute(text("UPDATE audit_log SET detail = '{}' WHERE id = :id"), {"id": target})
    result = partners.exchange.verify_audit()
    assert not result.ok
    assert result.bad_id == target
    assert "altered" in result.reason


def test_cli_audit_verify_exit_status(tmp_path: Any) -> None:
    from typer.testing import CliRunner  # noqa: PLC0415

    from econsec.cli.main import app  # noqa: PLC0415

    db = tmp_path / "x.sqlite"
    runner = CliRunner()
    assert (
        runner.invoke(
            app, ["exchange", "add-org", "BAFA", "--country", "DE", "--db", str(db)]
        ).exit_code
        == 0
    )
    ok = runner.invoke(app, ["audit", "verify", "--db", str(db)])
    assert ok.exit_code == 0
    assert '"entries": 1' in ok.output
    exchange = Exchange.open(db)
    with exchange.engine.begin() as con:
        con.execute(text("DROP TRIGGER audit_log_no_delete"))
        con.execute(text("INSERT INTO organisations (name, country) VALUES ('x', 'FR')"))
        con.execute(
            text(
                "INSERT INTO audit_log (at, action, outcome, detail, prev_hash, hash) "
                "VALUES (:at, 'forged', 'ok', '{}', :p, :h)"
            ),
            {"at": dt.datetime.now(dt.UTC).isoformat(), "p": "0" * 64, "h": "f" * 64},
        )
    bad = runner.invoke(app, ["audit", "verify", "--db", str(db)])
    assert bad.exit_code == 1
    assert "audit_log entry 2" in bad.output


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("GET", "/v1/denials?limit=0", None),
        ("GET", "/v1/denials/x?limit=1", None),
        ("POST", "/v1/denials", denial(marking="PURPLE")),
    ],
)
def test_a_bad_token_is_refused_before_bad_parameters_and_a_422_names_its_caller(
    partners: Partners, method: str, url: str, body: dict[str, Any] | None
) -> None:
    """The denial routes authenticate in their worker thread (http_auth.caller).

    When the parameters are invalid too, the token is still judged first, as on
    the routes that authenticate in a dependency: no token, a token without the
    scope, and a valid token each get the answer and the audit entry they got
    before.
    """
    if url.startswith("/v1/denials/x"):
        url = "/v1/denials/" + "x" * 201  # past the path parameter's 200 characters
    read_only = partners.exchange.issue_token(partners.de_officer, [Scope.DENIALS_READ])
    cases = [
        ({}, 401, "authorization: bearer token missing", None),
        ({"authorization": "Bearer nonsense"}, 401, "authorization: unknown token", None),
        ({"authorization": f"Bearer {partners.tokens['de']}"}, 422, None, partners.de_officer),
    ]
    if method == "POST":
        cases.insert(
            2,
            (
                {"authorization": f"Bearer {read_only}"},
                403,
                "authorization: token lacks scope denials:write",
                partners.de_officer,
            ),
        )
    for headers, status, detail, user in cases:
        answer = partners.client.request(method, url, headers=headers, json=body)
        assert answer.status_code == status, (headers, answer.json())
        if detail:
            assert answer.json()["detail"] == detail
        with partners.exchange._sessions() as session:
            last = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
        assert last is not None
        assert (last.outcome, last.user_id) == ("refused", user)
        assert last.detail.count("reason") == 1
    assert denial_count(partners.exchange) == 0


def test_pages_follow_decision_order_and_the_total_survives_any_offset(
    partners: Partners,
) -> None:
    """Newest decision first, ties by id; past the end: no items, the same total."""
    days = ["2025-01-10", "2025-03-01", "2025-03-01", "2024-12-31", "2025-02-14"]
    for n, day in enumerate(days):
        created = partners.call(
            "POST", "/v1/denials", "de", json=denial(reference=f"R-{n}", decision_date=day)
        )
        assert created.status_code == 201, created.json()
    seen: list[tuple[str, str]] = []
    for offset in (0, 2, 4):
        page = partners.call("GET", f"/v1/denials?limit=2&offset={offset}", "de").json()
        assert page["total"] == 5
        seen += [(item["decision_date"], item["id"]) for item in page["items"]]
    assert [d for d, _ in seen] == sorted(days, reverse=True)
    assert seen == sorted(seen, key=lambda s: (-dt.date.fromisoformat(s[0]).toordinal(), s[1]))
    for offset in (5, 1000):
        past = partners.call("GET", f"/v1/denials?limit=2&offset={offset}", "de").json()
        assert past == {"total": 5, "items": []}
    # the US partner sees the AMBER ones through the EU-US group; Japan none
    assert partners.call("GET", "/v1/denials?offset=9", "us").json()["total"] == 5
    assert partners.call("GET", "/v1/denials?offset=9", "jp").json() == {"total": 0, "items": []}
