"""Consultations end to end: request → reply → outcome, deadlines, reminders, refusals."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from partners import Partners, denial
from sqlalchemy import func, select

from econsec.exchange.consultations import Consultations
from econsec.exchange.db import Consultation, Notification
from econsec.exchange.record_rules import add_working_days, consultation_deadline, load
from econsec.exchange.service import Exchange
from econsec.rules.dated import DatedError

TODAY = dt.date(2026, 3, 2)


@pytest.fixture
def partners(exchange: Exchange) -> Partners:
    p = Partners(exchange)
    p.set_today(TODAY)
    return p


def consultations_in_db(p: Partners) -> int:
    with p.exchange._sessions() as session:
        return int(session.scalar(select(func.count()).select_from(Consultation)) or 0)


def notifications_of(p: Partners, who: str) -> list[dict[str, Any]]:
    page = p.ok("GET", "/v1/notifications", who)
    assert page["total"] == len(page["items"])
    return list(page["items"])


def open_one(p: Partners, **changes: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    d = p.ok("POST", "/v1/denials", "de", 201, json=denial())
    body = {
        "denial_id": d["id"],
        "summary": "GPUs to the same consignee",
        "marking": "AMBER+STRICT",
    }
    c = p.ok("POST", "/v1/consultations", "us", 201, json={**body, **changes})
    return d, c


def test_request_reply_outcome(partners: Partners) -> None:
    d, c = open_one(partners)
    assert (c["state"], c["consulting_org_id"], c["consulted_org_id"]) == (
        "open",
        partners.us,
        partners.de,
    )
    assert c["denial_id"] == d["id"]
    # the deadline comes from the dated rule, with its source and its caveat
    assert c["opened_on"] == "2026-03-02"
    assert c["deadline"] == (TODAY + dt.timedelta(days=21)).isoformat()
    assert "2021/821, Art. 16(5)" in c["deadline_explanation"]
    assert "to verify" in c["deadline_explanation"]
    assert "2026-03-02 + 21 calendar days = 2026-03-23" in c["deadline_explanation"]
    # AMBER+STRICT consultation: the two parties only
    assert partners.ok("GET", f"/v1/consultations/{c['id']}", "de")["id"] == c["id"]
    for outsider in ("nl", "jp"):
        hidden = partners.call("GET", f"/v1/consultations/{c['id']}", outsider)
        assert (hidden.status_code, hidden.json()["detail"]) == (
            404,
            f"id: no consultation {c['id']}",
        )
        assert partners.ok("GET", "/v1/consultations", outsider) == {"total": 0, "items": []}
    # the consulted organisation was told
    (request,) = notifications_of(partners, "de")
    assert (request["kind"], request["record_id"]) == ("consultation_request", c["id"])
    assert notifications_of(partners, "nl") == []
    # only the consulted organisation replies, once
    refused = partners.audit_count("refused")
    wrong = partners.call(
        "POST", f"/v1/consultations/{c['id']}/reply", "us", json={"reply": "agree", "text": "ok"}
    )
    assert wrong.status_code == 403
    answered = partners.ok(
        "POST",
        f"/v1/consultations/{c['id']}/reply",
        "de",
        json={"reply": "object", "text": "Same end user; we maintain our denial."},
    )
    assert (answered["state"], answered["reply"]) == ("answered", "object")
    again = partners.call(
        "POST", f"/v1/consultations/{c['id']}/reply", "de", json={"reply": "agree", "text": "x"}
    )
    assert again.status_code == 409
    assert again.json()["detail"].startswith(f"state: consultation {c['id']} is answered")
    assert partners.audit_count("refused") == refused + 2
    # the consulting organisation closes it, once
    assert (
        partners.call(
            "POST", f"/v1/consultations/{c['id']}/outcome", "de", json={"outcome": "granted"}
        ).status_code
        == 403
    )
    closed = partners.ok(
        "POST",
        f"/v1/consultations/{c['id']}/outcome",
        "us",
        json={"outcome": "not_granted", "text": "we follow the denial"},
    )
    assert (closed["state"], closed["outcome"]) == ("closed", "not_granted")
    twice = partners.call(
        "POST", f"/v1/consultations/{c['id']}/outcome", "us", json={"outcome": "granted"}
    )
    assert twice.status_code == 409
    assert "an outcome is recorded once" in twice.json()["detail"]
    kinds = {n["kind"] for n in notifications_of(partners, "de")}
    assert kinds == {"consultation_request", "consultation_outcome"}
    assert {n["kind"] for n in notifications_of(partners, "us")} == {"consultation_reply"}


def test_outcome_waits_for_the_reply_or_the_deadline(partners: Partners) -> None:
    _, c = open_one(partners)
    early = partners.call(
        "POST", f"/v1/consultations/{c['id']}/outcome", "us", json={"outcome": "granted"}
    )
    assert early.status_code == 409
    assert "deadline" in early.json()["detail"]
    assert partners.ok("GET", f"/v1/consultations/{c['id']}", "us")["state"] == "open"
    # after the deadline, silence lets the consulting organisation decide
    partners.set_today(dt.date.fromisoformat(c["deadline"]) + dt.timedelta(days=1))
    late = partners.ok("GET", f"/v1/consultations/{c['id']}", "us")
    assert (late["overdue"], late["days_left"]) == (True, -1)
    done = partners.ok(
        "POST", f"/v1/consultations/{c['id']}/outcome", "us", json={"outcome": "granted"}
    )
    assert done["outcome"] == "granted"


def test_withdrawal_is_possible_at_any_time_and_a_second_consultation_waits(
    partners: Partners,
) -> None:
    d, c = open_one(partners)
    body = {"denial_id": d["id"], "summary": "again", "marking": "AMBER+STRICT"}
    dup = partners.call("POST", "/v1/consultations", "us", json=body)
    assert dup.status_code == 409
    assert c["id"] in dup.json()["detail"]
    partners.ok("POST", f"/v1/consultations/{c['id']}/outcome", "us", json={"outcome": "withdrawn"})
    assert partners.ok("POST", "/v1/consultations", "us", 201, json=body)["state"] == "open"


def test_reminders_are_recorded_once_per_threshold(partners: Partners) -> None:
    _, c = open_one(partners)
    service = Consultations(partners.exchange)
    deadline = dt.date.fromisoformat(c["deadline"])
    assert service.record_reminders(deadline - dt.timedelta(days=6)) == []
    soon = service.record_reminders(deadline - dt.timedelta(days=5))
    assert [(r["org_id"], r["kind"], r["days_left"]) for r in soon] == [
        (partners.de, "reminder_due_soon", 5)
    ]
    assert service.record_reminders(deadline - dt.timedelta(days=2)) == []  # idempotent
    assert service.record_reminders(deadline) == []
    overdue = service.record_reminders(deadline + dt.timedelta(days=1))
    assert sorted((r["org_id"], r["kind"]) for r in overdue) == sorted(
        [(partners.de, "reminder_overdue"), (partners.us, "reminder_overdue")]
    )
    assert service.record_reminders(deadline + dt.timedelta(days=9)) == []
    with partners.exchange._sessions() as session:
        stored = session.scalar(select(func.count()).select_from(Notification)) or 0
    assert stored == 4  # the request, due soon, overdue twice
    assert partners.audit_count("ok", "consultation.reminders") == 2
    # the due-soon list (open, due in ≤ N days, or overdue) sees it at the right time
    partners.set_today(deadline - dt.timedelta(days=4))
    assert partners.ok("GET", "/v1/consultations?due_within=3", "us")["total"] == 0
    assert partners.ok("GET", "/v1/consultations?due_within=4", "de")["total"] == 1
    assert partners.ok("GET", "/v1/consultations?due_within=4", "nl")["total"] == 0


def test_cli_reminders(partners: Partners) -> None:
    from typer.testing import CliRunner  # noqa: PLC0415

    from econsec.cli.main import app  # noqa: PLC0415

    _, c = open_one(partners)
    url = partners.exchange.engine.url.render_as_string(hide_password=False)
    day = (dt.date.fromisoformat(c["deadline"]) + dt.timedelta(days=1)).isoformat()
    runner = CliRunner()
    first = runner.invoke(app, ["exchange", "--db-url", url, "reminders", "--on", day])
    assert first.exit_code == 0, first.output
    assert first.output.count("reminder_overdue") == 2
    second = runner.invoke(app, ["exchange", "--db-url", url, "reminders", "--on", day])
    assert second.exit_code == 0
    assert "0 reminders recorded" in second.output


@pytest.mark.parametrize(
    ("changes", "status", "field"),
    [
        ({"colour": "blue"}, 422, "colour"),
        ({"marking": "YELLOW"}, 422, "marking"),
        ({"marking": "RED", "recipients": [1]}, 422, "marking"),
        ({"summary": ""}, 422, "summary"),
        ({"excluded_orgs": ["DE"]}, 422, "excluded_orgs.0"),
        ({"denial_id": "no-such-denial"}, 404, "denial_id"),
    ],
)
def test_bad_requests_are_refused_precisely_and_audited(
    partners: Partners, changes: dict[str, Any], status: int, field: str
) -> None:
    d = partners.ok("POST", "/v1/denials", "de", 201, json=denial())
    refused = partners.audit_count("refused")
    body = {"denial_id": d["id"], "summary": "s", "marking": "AMBER", **changes}
    answer = partners.call("POST", "/v1/consultations", "us", json=body)
    assert answer.status_code == status, answer.text
    assert answer.json()["detail"].startswith(f"{field}:"), answer.json()
    assert consultations_in_db(partners) == 0
    assert partners.audit_count("refused") == refused + 1


def test_a_party_cannot_be_excluded_and_own_or_hidden_denials_are_refused(
    partners: Partners,
) -> None:
    d = partners.ok("POST", "/v1/denials", "de", 201, json=denial())
    base = {"denial_id": d["id"], "summary": "s", "marking": "GREEN"}
    party = partners.call(
        "POST", "/v1/consultations", "us", json={**base, "excluded_orgs": [partners.de]}
    )
    assert (party.status_code, party.json()["detail"]) == (
        422,
        f"excluded_orgs[0]: organisation {partners.de} is a party and cannot be excluded",
    )
    own = partners.call("POST", "/v1/consultations", "de2", json=base)
    assert own.status_code == 403  # an analyst has no write scope
    own = partners.call("POST", "/v1/consultations", "de", json=base)
    assert own.status_code == 422
    assert own.json()["detail"].startswith("denial_id: a denial of your own organisation")
    # METI cannot see the AMBER denial: the same answer as for a missing one
    hidden = partners.call("POST", "/v1/consultations", "jp", json=base)
    missing = partners.call("POST", "/v1/consultations", "jp", json={**base, "denial_id": "x"})
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["detail"] == f"denial_id: no denial {d['id']}"
    assert consultations_in_db(partners) == 0


def test_green_consultation_hides_the_denial_it_refers_to_from_outsiders(
    partners: Partners,
) -> None:
    d, c = open_one(partners, marking="GREEN")
    seen_by_jp = partners.ok("GET", f"/v1/consultations/{c['id']}", "jp")
    assert seen_by_jp["denial_id"] is None  # METI may not see the AMBER denial
    assert partners.ok("GET", f"/v1/consultations/{c['id']}", "nl")["denial_id"] == d["id"]
    # filtering by a denial one cannot see finds nothing
    assert partners.ok("GET", f"/v1/consultations?denial_id={d['id']}", "jp")["total"] == 0
    assert partners.ok("GET", f"/v1/consultations?denial_id={d['id']}", "nl")["total"] == 1


def test_only_the_consulting_organisation_changes_the_marking(partners: Partners) -> None:
    _, c = open_one(partners, marking="AMBER")
    url = f"/v1/consultations/{c['id']}/marking"
    by_party = partners.call("PATCH", url, "de", json={"marking": "CLEAR"})
    assert by_party.status_code == 403
    assert "originator" in by_party.json()["detail"]
    assert partners.call("PATCH", url, "jp", json={"marking": "CLEAR"}).status_code == 404
    red = partners.call("PATCH", url, "us", json={"marking": "RED"})
    assert (red.status_code, red.json()["detail"][:8]) == (422, "marking:")
    assert partners.ok("PATCH", url, "us", json={"marking": "GREEN"})["marking"] == "GREEN"
    assert partners.ok("GET", f"/v1/consultations/{c['id']}", "jp")["marking"] == "GREEN"


def test_deadline_rule_is_dated_data_and_errors_name_the_field(tmp_path: Path) -> None:
    deadline, why = consultation_deadline(dt.date(2025, 12, 20))
    assert deadline == dt.date(2026, 1, 10)
    assert "2025-12-20 + 21 calendar days = 2026-01-10" in why
    bad = tmp_path / "rules.yaml"
    good = (Path(__file__).parents[2] / "src/econsec/exchange/data/exchange_rules.yaml").read_text(
        encoding="utf-8"
    )
    bad.write_text(good.replace("    days: 21\n", "    days: three weeks\n"), encoding="utf-8")
    with pytest.raises(DatedError, match=r"rules\.yaml, consultation_deadline\[0\], field 'days'"):
        load(bad)
    bad.write_text(good.replace("    name_threshold: 0.80\n", ""), encoding="utf-8")
    with pytest.raises(DatedError, match=r"essentially_identical\[0\], field 'name_threshold'"):
        load(bad)


def test_migration_0002_creates_and_drops_the_record_tables(tmp_path: Path) -> None:
    from alembic import command  # noqa: PLC0415
    from alembic.config import Config  # noqa: PLC0415
    from sqlalchemy import inspect  # noqa: PLC0415

    from econsec.exchange.db import MIGRATIONS, database_url, make_engine, migrate  # noqa: PLC0415

    engine = make_engine(database_url(tmp_path / "m.sqlite"))
    migrate(engine, "0002")
    ours = {
        "consultations",
        "licence_decisions",
        "licence_matches",
        "alerts",
        "audience_recipients",
        "audience_exclusions",
        "notifications",
    }
    assert ours <= set(inspect(engine).get_table_names())
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0001")
    left = set(inspect(engine).get_table_names())
    assert not ours & left
    assert "denials" in left
    migrate(engine, "0002")
    assert ours <= set(inspect(engine).get_table_names())


@pytest.mark.parametrize("url", ["/v1/consultations", "/v1/licences", "/v1/alerts"])
def test_malformed_json_is_refused_and_audited(partners: Partners, url: str) -> None:
    refused = partners.audit_count("refused")
    answer = partners.client.post(
        url,
        content=b'{"denial_id": ',
        headers={
            "authorization": f"Bearer {partners.tokens['us']}",
            "content-type": "application/json",
        },
    )
    assert answer.status_code == 422
    assert answer.json()["detail"].startswith("body: malformed JSON")
    assert partners.audit_count("refused") == refused + 1


def test_nul_in_ids_is_a_missing_record_not_a_server_error(partners: Partners) -> None:
    for url in ("/v1/consultations/a%00b", "/v1/licences/a%00b", "/v1/alerts/a%00b"):
        assert partners.call("GET", url, "us").status_code == 404
    body = {"denial_id": "a\x00b", "summary": "s", "marking": "AMBER"}
    answer = partners.call("POST", "/v1/consultations", "us", json=body)
    assert answer.status_code == 422
    assert answer.json()["detail"].startswith("denial_id:")
    assert partners.call("GET", "/v1/consultations?denial_id=a%00b", "us").status_code == 422


RULES = Path(__file__).parents[2] / "src/econsec/exchange/data/exchange_rules.yaml"


def rules_counting(tmp_path: Path, count: str | None) -> Path:
    """The shipped rules with the consultation deadline counted as ``count`` (None: unset)."""
    text = RULES.read_text(encoding="utf-8")
    assert "    count: calendar\n" in text  # the shipped default, stated
    changed = tmp_path / f"rules-{count}.yaml"
    line = "" if count is None else f"    count: {count}\n"
    changed.write_text(text.replace("    count: calendar\n", line), encoding="utf-8")
    return changed


def test_working_days_skip_saturdays_and_sundays() -> None:
    monday, friday, saturday = dt.date(2026, 12, 7), dt.date(2026, 12, 4), dt.date(2026, 12, 5)
    assert add_working_days(friday, 1) == (monday, 2)
    assert add_working_days(saturday, 1) == (monday, 1)
    assert add_working_days(saturday, 5) == (dt.date(2026, 12, 11), 1)
    assert add_working_days(monday, 0) == (monday, 0)
    assert add_working_days(monday, 5) == (dt.date(2026, 12, 14), 2)
    # 21 working days from Monday 7 December: three weeks, plus the 4 weekends in between
    assert add_working_days(monday, 21) == (dt.date(2027, 1, 5), 8)
    for start in (monday + dt.timedelta(days=i) for i in range(7)):
        for days in range(1, 30):
            end, skipped = add_working_days(start, days)
            assert end.weekday() < 5
            assert (end - start).days == days + skipped
            between = [start + dt.timedelta(days=i) for i in range(1, (end - start).days + 1)]
            assert sum(1 for day in between if day.weekday() < 5) == days


def test_the_rule_says_whether_days_are_calendar_or_working_days(tmp_path: Path) -> None:
    opened = dt.date(2026, 12, 7)  # a Monday
    calendar, why = consultation_deadline(opened)  # the shipped rule: calendar days
    assert calendar == dt.date(2026, 12, 28)
    assert why.startswith("2026-12-07 + 21 calendar days = 2026-12-28 (Regulation (EU) 2021/821")
    unset, _ = consultation_deadline(opened, rules_counting(tmp_path, None))
    assert unset == calendar  # calendar days unless the rule says otherwise
    working, why = consultation_deadline(opened, rules_counting(tmp_path, "working"))
    assert working == dt.date(2027, 1, 5)
    assert why.startswith(
        "2026-12-07 + 21 working days (Monday to Friday; 8 Saturday/Sunday days not counted; "
        "public holidays are counted) = 2027-01-05 (Regulation (EU) 2021/821"
    )
    assert "to verify" in why
    friday, why = consultation_deadline(dt.date(2026, 12, 4), rules_counting(tmp_path, "working"))
    assert friday == dt.date(2027, 1, 4)
    bad = rules_counting(tmp_path, "lunar")
    with pytest.raises(
        DatedError, match=r"consultation_deadline\[0\], field 'count': one of calendar, working"
    ):
        load(bad)


def test_a_consultation_under_a_working_day_rule(
    partners: Partners, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import econsec.exchange.consultations as consultations_module  # noqa: PLC0415

    working = rules_counting(tmp_path, "working")

    def deadline(opened_on: dt.date) -> tuple[dt.date, str]:
        return consultation_deadline(opened_on, working)

    monkeypatch.setattr(consultations_module, "consultation_deadline", deadline)
    partners.set_today(dt.date(2026, 12, 4))  # a Friday
    _d, c = open_one(partners)
    assert (c["opened_on"], c["deadline"]) == ("2026-12-04", "2027-01-04")
    assert "21 working days" in c["deadline_explanation"]
    assert "10 Saturday/Sunday days not counted" in c["deadline_explanation"]
    (request,) = [
        n for n in notifications_of(partners, "de") if n["kind"] == "consultation_request"
    ]
    assert request["body"]["deadline"] == "2027-01-04"
    assert request["body"]["explanation"] == c["deadline_explanation"]
    # still open on the deadline, overdue the day after
    partners.set_today(dt.date(2027, 1, 4))
    assert partners.ok("GET", f"/v1/consultations/{c['id']}", "us")["overdue"] is False
    partners.set_today(dt.date(2027, 1, 5))
    assert partners.ok("GET", f"/v1/consultations/{c['id']}", "us")["overdue"] is True
