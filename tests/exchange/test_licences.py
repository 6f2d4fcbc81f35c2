"""Licence decisions and the "essentially identical" check: blocks, consultations, undercuts."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from partners import Partners, denial, licence
from sqlalchemy import func, select, text

from econsec.exchange.db import Denial, LicenceDecision, Notification
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


# -- refusals and withdrawals --------------------------------------------------------------


def denials_in_db(p: Partners) -> int:
    with p.exchange._sessions() as session:
        return int(session.scalar(select(func.count()).select_from(Denial)) or 0)


def consult(p: Partners, denial_id: str, licence_id: str | None = None) -> dict[str, Any]:
    body = {"denial_id": denial_id, "summary": "GPU modules", "marking": "AMBER+STRICT"}
    if licence_id is not None:
        body["licence_id"] = licence_id
    return dict(p.ok("POST", "/v1/consultations", "us", 201, json=body))


def test_a_refusal_is_notified_as_a_denial_linked_to_the_draft(partners: Partners) -> None:
    d = partners.ok("POST", "/v1/denials", "de", 201, json=denial())
    drafted = partners.ok("POST", "/v1/licences", "us", 201, json=licence(marking="AMBER"))
    lid = drafted["id"]
    c = consult(partners, d["id"], lid)
    created = partners.audit_count("ok", "denial.create")
    refused = partners.ok(
        "POST",
        f"/v1/licences/{lid}/refuse",
        "us",
        json={"reason": "Risk of diversion to a military end user.", "criterion": "Art. 15(1)"},
    )
    assert (refused["status"], refused["closed_on"], refused["criterion"]) == (
        "refused",
        TODAY.isoformat(),
        "Art. 15(1)",
    )
    assert refused["reasons"] == "Risk of diversion to a military end user."
    assert refused["blocked"] is False  # only a draft can be blocked
    # the check's findings stay, and the refusal's own notification is not among them
    assert ([m["denial_id"] for m in refused["matches"]], refused["warnings"]) == ([d["id"]], [])
    assert refused["issued_on"] is None
    notified = refused["refusal_denial_id"]
    assert notified is not None
    # the denial notification: the draft's transaction and audience, decided today
    seen = partners.ok("GET", f"/v1/denials/{notified}", "nl")  # a group partner of BIS
    assert seen["originator_org_id"] == partners.us
    assert (seen["reference"], seen["item"], seen["control_entries"]) == (
        "BIS-L-2025-7",
        "GPU accelerator modules",
        ["3A090"],
    )
    assert (seen["consignee"], seen["end_user"], seen["destination"]) == (
        "Shenzhen Example Trading Company Limited",
        "Example Super Computing Center",
        "CN",
    )
    assert seen["reason"] == "Art. 15(1): Risk of diversion to a military end user."
    assert (seen["marking"], seen["decision_date"], seen["review_status"]) == (
        "AMBER",
        TODAY.isoformat(),
        "in_force",
    )
    assert seen["expires_on"] == "2029-03-02"
    assert partners.call("GET", f"/v1/denials/{notified}", "jp").status_code == 404
    assert partners.audit_count("ok", "denial.create") == created + 1
    assert partners.audit_count("ok", "licence.refuse") == 1
    # the consultation the draft opened is closed as not granted, and BAFA is told
    closed = partners.ok("GET", f"/v1/consultations/{c['id']}", "de")
    assert (closed["state"], closed["outcome"]) == ("closed", "not_granted")
    (told,) = partners.ok("GET", "/v1/notifications?kind=consultation_outcome", "de")["items"]
    assert told["body"]["outcome"] == "not_granted"
    assert undercuts(partners, "de") == []
    # a refused draft stays refused
    for verb, body in (("refuse", {"reason": "again"}), ("withdraw", {}), ("issue", {})):
        again = partners.call("POST", f"/v1/licences/{lid}/{verb}", "us", json=body)
        assert again.status_code == 409, verb
        assert again.json()["detail"].startswith(
            f"status: licence decision {lid} is already refused"
        )
    late = partners.call(
        "POST",
        "/v1/consultations",
        "us",
        json={"denial_id": d["id"], "licence_id": lid, "summary": "s", "marking": "AMBER+STRICT"},
    )
    assert (late.status_code, late.json()["detail"]) == (
        409,
        f"licence_id: licence decision {lid} is already refused",
    )
    # the notified refusal is a denial like any other: it blocks the same transaction elsewhere
    elsewhere = partners.ok("POST", "/v1/licences", "nl", 201, json=licence(reference="NL-1"))
    assert notified in [m["denial_id"] for m in elsewhere["matches"]]
    assert elsewhere["blocked"] is True
    assert partners.exchange.verify_audit().ok


def test_a_national_draft_needs_an_explicit_marking_for_its_refusal(partners: Partners) -> None:
    lid = partners.ok("POST", "/v1/licences", "us", 201, json=licence())["id"]  # AMBER+STRICT
    refused = partners.audit_count("refused", "licence.refuse")
    answer = partners.call("POST", f"/v1/licences/{lid}/refuse", "us", json={"reason": "r"})
    assert answer.status_code == 422
    assert answer.json()["detail"].startswith("marking: the draft is AMBER+STRICT")
    assert "Art. 16" in answer.json()["detail"]
    assert partners.audit_count("refused", "licence.refuse") == refused + 1
    assert denials_in_db(partners) == 0
    assert partners.ok("GET", f"/v1/licences/{lid}", "us")["status"] == "draft"
    # the notification may be wider than the draft: GREEN reaches METI, the draft does not
    done = partners.ok(
        "POST", f"/v1/licences/{lid}/refuse", "us", json={"reason": "r", "marking": "GREEN"}
    )
    assert (
        partners.ok("GET", f"/v1/denials/{done['refusal_denial_id']}", "jp")["marking"] == "GREEN"
    )
    assert partners.call("GET", f"/v1/licences/{lid}", "jp").status_code == 404


def test_the_link_is_shown_only_to_readers_of_the_notification(partners: Partners) -> None:
    red = licence(marking="RED", recipients=[partners.users["us2"]])
    lid = partners.ok("POST", "/v1/licences", "us", 201, json=red)["id"]
    assert (
        partners.call("POST", f"/v1/licences/{lid}/refuse", "us", json={"reason": "r"}).status_code
        == 422
    )
    body = {"reason": "r", "marking": "RED", "recipients": [partners.users["nl"]]}
    done = partners.ok("POST", f"/v1/licences/{lid}/refuse", "us", json=body)
    notified = done["refusal_denial_id"]
    assert notified is not None  # its author
    assert partners.ok("GET", f"/v1/denials/{notified}", "nl")["marking"] == "RED"
    # us2 is named on the draft but not on the notification: told neither its id nor that it exists
    seen_by_us2 = partners.ok("GET", f"/v1/licences/{lid}", "us2")
    assert (seen_by_us2["status"], seen_by_us2["refusal_denial_id"]) == ("refused", None)
    assert notified not in str(seen_by_us2)
    assert partners.call("GET", f"/v1/denials/{notified}", "us2").status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "reason"),
        ({"reason": "  ", "marking": "GREEN"}, "reason"),
        ({"reason": "r", "marking": "GREEN", "decision_date": "2026-03-03"}, "decision_date"),
        ({"reason": "r", "marking": "GREEN", "decision_date": "2020-01-01"}, "decision_date"),
        ({"reason": "r", "sharing_group": 1}, "sharing_group"),
        ({"reason": "r", "marking": "AMBER", "sharing_group": 999}, "sharing_group"),
        ({"reason": "r", "marking": "RED"}, "recipients"),
        ({"reason": "r", "marking": "GREEN", "excluded_orgs": [999]}, "excluded_orgs[0]"),
        ({"reason": "r", "marking": "PURPLE"}, "marking"),
        ({"reason": "r", "marking": "GREEN", "colour": "blue"}, "colour"),
        ({"reason": "r", "marking": "GREEN", "criterion": "x" * 201}, "criterion"),
    ],
)
def test_bad_refusals_are_refused_precisely_and_audited(
    partners: Partners, body: dict[str, Any], field: str
) -> None:
    lid = partners.ok("POST", "/v1/licences", "us", 201, json=licence())["id"]
    refused = partners.audit_count("refused")
    answer = partners.call("POST", f"/v1/licences/{lid}/refuse", "us", json=body)
    assert answer.status_code == 422
    assert answer.json()["detail"].startswith(f"{field}:"), answer.json()
    assert partners.audit_count("refused") == refused + 1
    assert denials_in_db(partners) == 0
    assert partners.ok("GET", f"/v1/licences/{lid}", "us")["status"] == "draft"


def test_only_the_drafting_organisation_refuses_or_withdraws(partners: Partners) -> None:
    shared = partners.ok("POST", "/v1/licences", "us", 201, json=licence(marking="GREEN"))["id"]
    hidden = partners.ok("POST", "/v1/licences", "us", 201, json=licence())["id"]
    bodies = {"refuse": {"reason": "r", "marking": "GREEN"}, "withdraw": {"text": "t"}}
    for verb, body in bodies.items():
        other = partners.call("POST", f"/v1/licences/{shared}/{verb}", "nl", json=body)
        assert other.status_code == 403
        assert other.json()["detail"].startswith("id: only the drafting organisation")
        missing = partners.call("POST", f"/v1/licences/{hidden}/{verb}", "nl", json=body)
        assert missing.status_code == 404
        assert missing.json()["detail"] == f"id: no licence decision {hidden}"
        reader = partners.call("POST", f"/v1/licences/{shared}/{verb}", "de2", json=body)
        assert reader.status_code == 403  # an analyst's token lacks denials:write
        assert partners.audit_count("refused", f"licence.{verb}") == 3
    assert partners.ok("GET", f"/v1/licences/{shared}", "us")["status"] == "draft"
    assert denials_in_db(partners) == 0


def test_withdrawing_a_draft_closes_its_consultations_and_notifies_no_denial(
    partners: Partners,
) -> None:
    d = partners.ok("POST", "/v1/denials", "de", 201, json=denial())
    lid = partners.ok("POST", "/v1/licences", "us", 201, json=licence())["id"]
    c = consult(partners, d["id"])  # names no licence, but is about the draft's match
    withdrawn = partners.ok(
        "POST", f"/v1/licences/{lid}/withdraw", "us", json={"text": "applicant withdrew"}
    )
    assert (withdrawn["status"], withdrawn["closed_on"], withdrawn["reasons"]) == (
        "withdrawn",
        TODAY.isoformat(),
        "applicant withdrew",
    )
    assert (withdrawn["refusal_denial_id"], withdrawn["blocked"]) == (None, False)
    closed = partners.ok("GET", f"/v1/consultations/{c['id']}", "us")
    assert (closed["state"], closed["outcome"], closed["licence_id"]) == (
        "closed",
        "withdrawn",
        lid,
    )
    assert denials_in_db(partners) == 1
    assert partners.audit_count("ok", "licence.withdraw") == 1
    assert partners.ok("GET", "/v1/licences?status=withdrawn", "us")["total"] == 1
    again = partners.call("POST", f"/v1/licences/{lid}/withdraw", "us", json={})
    assert again.status_code == 409
    # a new consultation about the denial may be opened for the next application
    assert consult(partners, d["id"])["state"] == "open"


def test_a_refusal_is_one_transaction(partners: Partners, monkeypatch: pytest.MonkeyPatch) -> None:
    import econsec.exchange.licences as licences_module  # noqa: PLC0415

    d = partners.ok("POST", "/v1/denials", "de", 201, json=denial())
    lid = partners.ok("POST", "/v1/licences", "us", 201, json=licence(marking="AMBER"))["id"]
    c = consult(partners, d["id"], lid)

    def broken(*_args: Any, **_kwargs: Any) -> list[str]:
        raise RuntimeError("disk full")

    monkeypatch.setattr(licences_module, "_close_consultations", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        partners.call("POST", f"/v1/licences/{lid}/refuse", "us", json={"reason": "r"})
    assert denials_in_db(partners) == 1  # the partner's only: no notification was left behind
    assert partners.ok("GET", f"/v1/licences/{lid}", "us")["status"] == "draft"
    assert partners.ok("GET", f"/v1/consultations/{c['id']}", "us")["state"] == "open"
    assert partners.audit_count("ok", "licence.refuse") == 0
    assert partners.exchange.verify_audit().ok


def test_blocked_is_computed_from_what_the_reader_may_see(partners: Partners) -> None:
    """A consultation hidden from a reader changes nothing in its view of the licence."""
    d = partners.ok("POST", "/v1/denials", "de", 201, json=denial(marking="GREEN"))
    lid = partners.ok("POST", "/v1/licences", "us", 201, json=licence(marking="GREEN"))["id"]
    before = {who: partners.ok("GET", f"/v1/licences/{lid}", who) for who in ("nl", "jp")}
    assert before["nl"]["blocked"] is True
    c = consult(partners, d["id"], lid)  # AMBER+STRICT: BIS and BAFA only
    partners.ok(
        "POST", f"/v1/consultations/{c['id']}/reply", "de", json={"reply": "agree", "text": "ok"}
    )
    for who in ("us", "de"):  # the two parties see the answer: no longer blocked
        view = partners.ok("GET", f"/v1/licences/{lid}", who)
        assert view["blocked"] is False
        assert view["matches"][0]["consultation"]["state"] == "answered"
    for who in ("nl", "jp"):  # the others are told nothing new, not even by the flag
        assert partners.ok("GET", f"/v1/licences/{lid}", who) == before[who]
        assert c["id"] not in str(before[who])


#: Tables the SQLite side of migration 0005 rebuilds or sets aside.
CHANGED = ("licence_decisions", "consultations")


def test_migration_0005_keeps_drafts_and_their_references(partners: Partners) -> None:
    from alembic import command  # noqa: PLC0415
    from alembic.config import Config  # noqa: PLC0415
    from alembic.script import ScriptDirectory  # noqa: PLC0415

    from econsec.exchange.db import MIGRATIONS, migrate, writer  # noqa: PLC0415

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    below = ScriptDirectory.from_config(config).get_revision("0005").down_revision
    assert isinstance(below, str)
    d = partners.ok("POST", "/v1/denials", "de", 201, json=denial())
    lid = partners.ok("POST", "/v1/licences", "us", 201, json=licence(marking="AMBER"))["id"]
    c = consult(partners, d["id"], lid)
    engine = partners.exchange.engine

    def downgrade() -> None:
        with writer(engine).begin() as connection:  # rolled back when the migration raises
            config.attributes["connection"] = connection
            command.downgrade(config, below)

    positions = "SELECT id, change_xid FROM {} ORDER BY id"  # revision 0004's feed order
    with engine.connect() as connection:
        before = {t: connection.execute(text(positions.format(t))).all() for t in CHANGED}
    engine.dispose()
    downgrade()
    engine.dispose()
    migrate(engine)
    engine.dispose()
    with engine.connect() as connection:  # a schema change moves nothing in the feed
        assert {t: connection.execute(text(positions.format(t))).all() for t in CHANGED} == before
    view = partners.ok("GET", f"/v1/licences/{lid}", "us")
    assert (view["status"], [m["denial_id"] for m in view["matches"]]) == ("draft", [d["id"]])
    assert partners.ok("GET", f"/v1/consultations/{c['id']}", "us")["licence_id"] == lid
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA foreign_key_check").all() == []
    partners.ok("POST", f"/v1/licences/{lid}/refuse", "us", json={"reason": "r"})
    with engine.connect() as connection:  # the feed triggers are back: the changes moved on
        after = {t: connection.execute(text(positions.format(t))).all() for t in CHANGED}
    for table in CHANGED:
        (row_id, old_position), *_more = before[table]
        assert dict(after[table])[row_id] > old_position, table
    # a refused decision has no place before 0005: the downgrade refuses and changes nothing
    with pytest.raises(RuntimeError, match="refused or withdrawn"):
        downgrade()
    assert partners.ok("GET", f"/v1/licences/{lid}", "us")["status"] == "refused"


def test_cli_refuse_and_withdraw_licence(partners: Partners) -> None:
    from typer.testing import CliRunner  # noqa: PLC0415

    from econsec.cli.main import app  # noqa: PLC0415

    url = partners.exchange.engine.url.render_as_string(hide_password=False)
    first = partners.ok("POST", "/v1/licences", "us", 201, json=licence())["id"]
    second = partners.ok("POST", "/v1/licences", "us", 201, json=licence())["id"]
    runner = CliRunner()
    base = ["exchange", "--db-url", url]
    token = ["--token", partners.tokens["us"]]
    national = runner.invoke(app, [*base, "refuse-licence", first, "--reason", "r", *token])
    assert national.exit_code == 1
    assert "marking: the draft is AMBER+STRICT" in national.output
    args = [*base, "refuse-licence", first, "--reason", "Risk of diversion"]
    args += ["--criterion", "Art. 15(1)", "--marking", "AMBER", *token]
    done = runner.invoke(app, args)
    assert done.exit_code == 0, done.output
    assert '"status": "refused"' in done.output
    assert '"criterion": "Art. 15(1)"' in done.output
    gone = runner.invoke(app, [*base, "withdraw-licence", second, "--text", "withdrawn", *token])
    assert gone.exit_code == 0, gone.output
    assert '"status": "withdrawn"' in gone.output
    twice = runner.invoke(app, [*base, "withdraw-licence", second, *token])
    assert twice.exit_code == 1
    assert "already withdrawn" in twice.output
