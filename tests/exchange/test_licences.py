"""Licence decisions and the "essentially identical" check: blocks, consultations, undercuts."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from partners import Partners, denial, licence
from sqlalchemy import func, select

from econsec.exchange.db import LicenceDecision, Notification
from econsec.exchange.licences import entries_overlap, name_score
from econsec.exchange.service import Exchange

TODAY = dt.date(2026, 3, 2)


@pytest.fixture
def partners(exchange: Exchange) -> Partners:
    p = Partners(exchange)
    p.set_today(TODAY)
    return p


def licences_in_db(p: Partners) -> int:
    with p.exchange._sessions() as session:
        return int(session.scalar(select(func.count()).select_from(LicenceDecision)) or 0)


def undercuts(p: Partners, who: str) -> list[dict[str, Any]]:
    items = p.ok("GET", "/v1/notifications?kind=undercut", who)["items"]
    return list(items)


def test_a_partners_denial_blocks_until_consulted_then_the_undercut_is_notified(
    partners: Partners,
) -> None:
    d = partners.ok("POST", "/v1/denials", "de", 201, json=denial())
    drafted = partners.ok("POST", "/v1/licences", "us", 201, json=licence())
    assert (drafted["status"], drafted["blocked"], drafted["warnings"]) == ("draft", True, [])
    (match,) = drafted["matches"]
    assert (match["denial_id"], match["denial_org_id"], match["blocking"]) == (
        d["id"],
        partners.de,
        True,
    )
    assert match["score"] >= 0.8
    assert match["fields"]["control_entries"] == [{"licence": "3A090", "denial": "3A090.a"}]
    assert match["fields"]["destination"] == "CN"
    matched = {(n["licence_field"], n["denial_field"]) for n in match["fields"]["names"]}
    assert matched == {("consignee", "consignee"), ("end_user", "end_user")}
    assert "2021/821" in match["fields"]["rule"]
    # blocked: 409 with the reasons, nothing changes, the attempt is audited
    lid = drafted["id"]
    refused = partners.audit_count("refused", "licence.issue")
    blocked = partners.call("POST", f"/v1/licences/{lid}/issue", "us", json={"reasons": "x"})
    assert blocked.status_code == 409
    why = blocked.json()["detail"]
    assert why.startswith("licence: blocked by 1 essentially identical partner denial")
    assert d["id"] in why
    assert "3A090~3A090.a" in why
    assert "no consultation opened" in why
    assert partners.audit_count("refused", "licence.issue") == refused + 1
    assert partners.ok("GET", f"/v1/licences/{lid}", "us")["status"] == "draft"
    # consult: still blocked while the consultation is open
    c = partners.ok(
        "POST",
        "/v1/consultations",
        "us",
        201,
        json={
            "denial_id": d["id"],
            "licence_id": lid,
            "summary": "GPU modules to the same consignee",
            "marking": "AMBER+STRICT",
        },
    )
    still = partners.call("POST", f"/v1/licences/{lid}/issue", "us", json={"reasons": "x"})
    assert still.status_code == 409
    assert f"consultation {c['id']} is open (deadline {c['deadline']})" in still.json()["detail"]
    # answered (even with an objection): the approval can go ahead, with reasons
    partners.ok(
        "POST",
        f"/v1/consultations/{c['id']}/reply",
        "de",
        json={"reply": "object", "text": "The end user builds military systems."},
    )
    viewed = partners.ok("GET", f"/v1/licences/{lid}", "us")
    assert viewed["blocked"] is False
    assert viewed["matches"][0]["consultation"]["state"] == "answered"
    no_reasons = partners.call("POST", f"/v1/licences/{lid}/issue", "us", json={})
    assert no_reasons.status_code == 422
    assert no_reasons.json()["detail"].startswith("reasons:")
    assert undercuts(partners, "de") == []
    issued = partners.ok(
        "POST",
        f"/v1/licences/{lid}/issue",
        "us",
        json={"reasons": "End-use check on site; items are for civil weather modelling."},
    )
    assert (issued["status"], issued["issued_on"]) == ("issued", "2026-03-02")
    # the consultation is closed as granted, and the denying organisation is told why
    closed = partners.ok("GET", f"/v1/consultations/{c['id']}", "de")
    assert (closed["state"], closed["outcome"]) == ("closed", "granted")
    (notice,) = undercuts(partners, "de")
    body = notice["body"]
    assert (notice["record_id"], notice["related_id"]) == (lid, d["id"])
    assert (body["denial_reference"], body["approving_org_id"]) == ("BAFA-2025-0042", partners.us)
    assert body["consultation"]["reply"] == "object"
    assert body["consultation"]["outcome"] == "granted"
    assert "civil weather modelling" in body["explanation"]
    assert "BAFA-2025-0042" in body["explanation"]
    assert "Wassenaar" in body["rule"]
    assert undercuts(partners, "nl") == undercuts(partners, "us") == []
    # Art. 16(5): the other partners entitled to see the denial are informed too
    # (the AMBER denial goes to BAFA's group partners: NL yes, METI in Japan no).
    informed = "/v1/notifications?kind=undercut_information"
    (info,) = partners.ok("GET", informed, "nl")["items"]
    assert (info["record_id"], info["related_id"]) == (lid, d["id"])
    assert "civil weather modelling" in info["body"]["explanation"]
    assert partners.ok("GET", informed, "jp")["items"] == []
    assert partners.ok("GET", informed, "de")["items"] == []
    assert partners.exchange.verify_audit().ok
    assert partners.audit_count("ok", "licence.issue") == 1
    again = partners.call("POST", f"/v1/licences/{lid}/issue", "us", json={"reasons": "x"})
    assert (again.status_code, again.json()["detail"]) == (
        409,
        f"status: licence decision {lid} is already issued",
    )


def test_the_deadline_passing_unblocks(partners: Partners) -> None:
    d = partners.ok("POST", "/v1/denials", "de", 201, json=denial())
    lid = partners.ok("POST", "/v1/licences", "us", 201, json=licence())["id"]
    c = partners.ok(
        "POST",
        "/v1/consultations",
        "us",
        201,
        json={"denial_id": d["id"], "summary": "s", "marking": "AMBER+STRICT"},
    )
    deadline = dt.date.fromisoformat(c["deadline"])
    partners.set_today(deadline)
    assert (
        partners.call("POST", f"/v1/licences/{lid}/issue", "us", json={"reasons": "r"}).status_code
        == 409
    )
    partners.set_today(deadline + dt.timedelta(days=1))
    issued = partners.ok("POST", f"/v1/licences/{lid}/issue", "us", json={"reasons": "no reply"})
    assert issued["status"] == "issued"
    (notice,) = undercuts(partners, "de")
    assert notice["body"]["consultation"]["reply"] is None


@pytest.mark.parametrize(
    "changes",
    [
        {"destination": "RU"},
        {"control_entries": ["4A090"]},
        {"control_entries": ["3A09"]},  # not a parent entry, only a shared prefix
        {"consignee": "Oslo Weather Institute", "end_user": "Norwegian Met Office"},
    ],
)
def test_different_transactions_do_not_match(partners: Partners, changes: dict[str, Any]) -> None:
    partners.ok("POST", "/v1/denials", "de", 201, json=denial())
    body = licence(**changes)
    if body["control_entries"] == ["3A09"]:
        assert not entries_overlap("3A09", "3A090.a")
        body["control_entries"] = ["3A001"]
    drafted = partners.ok("POST", "/v1/licences", "us", 201, json=body)
    assert (drafted["matches"], drafted["blocked"]) == ([], False)
    assert partners.ok("POST", f"/v1/licences/{drafted['id']}/issue", "us", json={})["status"] == (
        "issued"
    )
    assert undercuts(partners, "de") == []


def test_expired_or_revoked_denials_do_not_block(partners: Partners) -> None:
    partners.ok("POST", "/v1/denials", "de", 201, json=denial(decision_date="2022-01-10"))
    partners.set_today(dt.date(2025, 1, 11))  # expired on 2025-01-10
    drafted = partners.ok("POST", "/v1/licences", "us", 201, json=licence())
    assert drafted["matches"] == []


def test_own_denials_warn_and_invisible_denials_cannot_block(partners: Partners) -> None:
    # a BIS denial is BIS's own: a warning, not a block
    own = partners.ok("POST", "/v1/denials", "us2", 201, json=denial(reference="BIS-D-1"))
    # BAFA's AMBER+STRICT denial is invisible to BIS: it cannot block without revealing itself
    partners.ok("POST", "/v1/denials", "de", 201, json=denial(marking="AMBER+STRICT"))
    drafted = partners.ok("POST", "/v1/licences", "us", 201, json=licence())
    assert drafted["matches"] == []
    assert [w["denial_id"] for w in drafted["warnings"]] == [own["id"]]
    assert drafted["blocked"] is False
    issued = partners.ok("POST", f"/v1/licences/{drafted['id']}/issue", "us", json={})
    assert issued["status"] == "issued"
    assert undercuts(partners, "de") == []
    with partners.exchange._sessions() as session:
        assert session.scalar(select(func.count()).select_from(Notification)) == 0


def test_each_reader_sees_only_the_matches_it_may_see(partners: Partners) -> None:
    d = partners.ok("POST", "/v1/denials", "de", 201, json=denial())
    lid = partners.ok("POST", "/v1/licences", "us", 201, json=licence(marking="GREEN"))["id"]
    assert [m["denial_id"] for m in partners.ok("GET", f"/v1/licences/{lid}", "nl")["matches"]] == [
        d["id"]
    ]
    seen_by_jp = partners.ok("GET", f"/v1/licences/{lid}", "jp")
    assert seen_by_jp["matches"] == []  # METI may not see the AMBER denial
    assert d["id"] not in str(seen_by_jp)
    page = partners.ok("GET", "/v1/licences?status=draft", "jp")
    assert page["total"] == 1
    assert d["id"] not in str(page)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"control_entries": ["XYZ"]}, "control_entries.0"),
        ({"destination": "China"}, "destination"),
        ({"marking": "PURPLE"}, "marking"),
        ({"colour": "blue"}, "colour"),
        ({"marking": "RED"}, "recipients"),
        ({"sharing_group": 999}, "sharing_group"),
    ],
)
def test_bad_drafts_are_refused_precisely_and_audited(
    partners: Partners, changes: dict[str, Any], field: str
) -> None:
    refused = partners.audit_count("refused")
    answer = partners.call("POST", "/v1/licences", "us", json=licence(**changes))
    assert answer.status_code == 422
    assert answer.json()["detail"].startswith(f"{field}:"), answer.json()
    assert licences_in_db(partners) == 0
    assert partners.audit_count("refused") == refused + 1


def test_only_the_drafting_organisation_issues(partners: Partners) -> None:
    lid = partners.ok("POST", "/v1/licences", "us", 201, json=licence(marking="GREEN"))["id"]
    other = partners.call("POST", f"/v1/licences/{lid}/issue", "nl", json={})
    assert other.status_code == 403
    hidden = partners.ok("POST", "/v1/licences", "us", 201, json=licence())["id"]
    assert partners.call("POST", f"/v1/licences/{hidden}/issue", "nl", json={}).status_code == 404
    assert partners.ok("GET", f"/v1/licences/{lid}", "us")["status"] == "draft"


def test_entry_overlap_and_name_scores() -> None:
    assert entries_overlap("3A090", "3A090.a")
    assert entries_overlap("3A090.a.1", "3A090")
    assert entries_overlap("4A090", "4A090")
    assert not entries_overlap("3A090.a", "3A090.b")
    assert not entries_overlap("3A09", "3A090")
    assert (
        name_score("Shenzhen Example Trading Co., Ltd", "Shenzhen Example Trading Company")[0]
        >= 0.8
    )
    assert name_score("Huawei Technologies", "Acme GmbH")[0] < 0.5


def test_cli_draft_licence(partners: Partners) -> None:
    from typer.testing import CliRunner  # noqa: PLC0415

    from econsec.cli.main import app  # noqa: PLC0415

    d = partners.ok("POST", "/v1/denials", "de", 201, json=denial())
    url = partners.exchange.engine.url.render_as_string(hide_password=False)
    body = licence()
    args = ["exchange", "--db-url", url, "draft-licence", "--reference", body["reference"]]
    args += ["--item", body["item"], "--entry", "3A090", "--destination", "CN"]
    args += ["--consignee", body["consignee"], "--end-user", body["end_user"]]
    runner = CliRunner()
    result = runner.invoke(app, [*args, "--token", partners.tokens["us"]])
    assert result.exit_code == 0, result.output
    assert d["id"] in result.output
    wrong = ["China" if a == "CN" else a for a in args]
    bad = runner.invoke(app, [*wrong, "--token", partners.tokens["us"]])
    assert bad.exit_code == 1
    assert "destination:" in bad.output


def test_a_denial_notified_after_the_draft_is_found_by_the_recheck(partners: Partners) -> None:
    lid = partners.ok("POST", "/v1/licences", "us", 201, json=licence())["id"]
    assert partners.ok("GET", f"/v1/licences/{lid}", "us")["matches"] == []
    d = partners.ok("POST", "/v1/denials", "de", 201, json=denial())
    checked = partners.ok("POST", f"/v1/licences/{lid}/check", "us")
    assert [m["denial_id"] for m in checked["matches"]] == [d["id"]]
    assert checked["blocked"] is True
    assert partners.ok("GET", f"/v1/licences/{lid}", "us")["blocked"] is True
    assert partners.call("POST", f"/v1/licences/{lid}/check", "nl").status_code == 404
    assert partners.audit_count("ok", "licence.check") == 1
