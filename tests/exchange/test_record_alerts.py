"""Alerts on the exchange: the three kinds, the trade import, visibility, facets, refusals."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from partners import Partners
from sqlalchemy import func, select

from econsec.exchange.db import AlertRecord
from econsec.exchange.service import Exchange
from econsec.model.trade import Alert, Contribution


@pytest.fixture
def partners(exchange: Exchange) -> Partners:
    return Partners(exchange)


def alerts_in_db(p: Partners) -> int:
    with p.exchange._sessions() as session:
        return int(session.scalar(select(func.count()).select_from(AlertRecord)) or 0)


def trade_alerts_json(scores: tuple[float, ...] = (0.71, 0.42)) -> str:
    """What ``econsec trade alerts --format json`` prints: its dataclasses, dumped alike."""
    rows = [
        Alert(
            reporter="DE",
            intermediary=partner,
            target="RU",
            product="chpl:1",
            score=score,
            contributions=(
                Contribution(
                    "growth", 3.2, 0.3, 0.3, "2022 1,200,000 vs baseline 2021 avg 375,000"
                ),
                Contribution("did", None, 0.2, 0.0, "not computable (a zero value)"),
            ),
            baseline_value=375000.0,
            period_value=1200000.0,
        )
        for partner, score in zip(("KG", "AM"), scores, strict=True)
    ]
    return json.dumps([dataclasses.asdict(a) for a in rows], indent=2, default=str)


LISTING = {
    "kind": "proposed_listing",
    "name": "Example Procurement LLC",
    "country": "AE",
    "list": "EU Annex IV",
    "reason": "Procures 3A090 items for a listed end user",
    "marking": "AMBER",
}
HIT = {
    "kind": "screening_hit",
    "counterparty": "Rosoboron Export",
    "list_entry_id": "ofac-sdn-12345",
    "score": 0.93,
    "marking": "GREEN",
}


def test_each_kind_is_shared_by_its_marking(partners: Partners) -> None:
    listing = partners.ok("POST", "/v1/alerts", "de", 201, json=LISTING)
    assert (listing["kind"], listing["country"], listing["subject"]) == (
        "proposed_listing",
        "AE",
        "Example Procurement LLC (EU Annex IV)",
    )
    assert listing["payload"]["reason"].startswith("Procures")
    hit = partners.ok("POST", "/v1/alerts", "us", 201, json=HIT)
    assert (hit["score"], hit["payload"]["list_entry_id"]) == (0.93, "ofac-sdn-12345")
    # AMBER (no group): BAFA's partners, not METI
    assert partners.ok("GET", f"/v1/alerts/{listing['id']}", "nl")["id"] == listing["id"]
    hidden = partners.call("GET", f"/v1/alerts/{listing['id']}", "jp")
    assert (hidden.status_code, hidden.json()["detail"]) == (404, f"id: no alert {listing['id']}")
    assert partners.ok("GET", "/v1/alerts", "jp")["total"] == 1
    assert partners.ok("GET", "/v1/alerts/facets", "jp") == {"screening_hit": 1}
    assert partners.ok("GET", "/v1/alerts/facets", "nl") == {
        "proposed_listing": 1,
        "screening_hit": 1,
    }
    assert partners.ok("GET", "/v1/alerts?kind=proposed_listing", "us")["total"] == 1
    assert partners.ok("GET", "/v1/alerts?country=AE", "jp")["total"] == 0
    # only BAFA changes its alert's marking
    url = f"/v1/alerts/{listing['id']}/marking"
    assert partners.call("PATCH", url, "us", json={"marking": "CLEAR"}).status_code == 403
    assert partners.call("PATCH", url, "jp", json={"marking": "CLEAR"}).status_code == 404
    assert partners.ok("PATCH", url, "de", json={"marking": "GREEN"})["marking"] == "GREEN"
    assert partners.ok("GET", f"/v1/alerts/{listing['id']}", "jp")["marking"] == "GREEN"


def test_trade_alerts_import_over_http_and_the_cli(partners: Partners, tmp_path: Path) -> None:
    rows = json.loads(trade_alerts_json())
    made = partners.ok(
        "POST", "/v1/alerts/import", "de", 201, json={"alerts": rows, "marking": "AMBER"}
    )
    assert [(a["kind"], a["subject"], a["score"]) for a in made] == [
        ("diversion", "DE → KG (chpl:1)", 0.71),
        ("diversion", "DE → AM (chpl:1)", 0.42),
    ]
    assert made[0]["payload"]["contributions"][0]["indicator"] == "growth"
    assert partners.ok("GET", "/v1/alerts?kind=diversion&country=KG", "us")["total"] == 1

    from typer.testing import CliRunner  # noqa: PLC0415

    from econsec.cli.main import app  # noqa: PLC0415

    url = partners.exchange.engine.url.render_as_string(hide_password=False)
    file = tmp_path / "alerts.json"
    file.write_text(trade_alerts_json((0.9, 0.8)), encoding="utf-8")
    runner = CliRunner()
    base = ["exchange", "--db-url", url, "alerts-import", str(file)]
    ok = runner.invoke(app, [*base, "--token", partners.tokens["us"], "--marking", "GREEN"])
    assert ok.exit_code == 0, ok.output
    assert "2 alerts shared" in ok.output
    assert alerts_in_db(partners) == 4
    # one bad element: nothing imported, the error names the element and the field
    broken = json.loads(trade_alerts_json())
    broken[1]["score"] = "high"
    file.write_text(json.dumps(broken), encoding="utf-8")
    bad = runner.invoke(app, [*base, "--token", partners.tokens["us"]])
    assert bad.exit_code == 1
    assert f"{file}: alerts[1].score:" in bad.output
    file.write_text('[{"reporter": ', encoding="utf-8")
    bad = runner.invoke(app, [*base, "--token", partners.tokens["us"]])
    assert bad.exit_code == 1
    assert "malformed JSON at line 1" in bad.output
    assert alerts_in_db(partners) == 4


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda r: r[0].update(intermediary="Kyrgyzstan"), "alerts[0].intermediary"),
        (lambda r: r[1].pop("contributions"), "alerts[1].contributions"),
        (lambda r: r[0].update(colour="red"), "alerts[0].colour"),
        (
            lambda r: r[0]["contributions"][1].update(points="x"),
            "alerts[0].contributions[1].points",
        ),
    ],
)
def test_bad_trade_import_is_refused_whole_and_audited(
    partners: Partners, mutate: Any, field: str
) -> None:
    rows = json.loads(trade_alerts_json())
    mutate(rows)
    refused = partners.audit_count("refused")
    answer = partners.call(
        "POST", "/v1/alerts/import", "de", json={"alerts": rows, "marking": "AMBER"}
    )
    assert answer.status_code == 422
    assert answer.json()["detail"].startswith(f"{field}:"), answer.json()
    assert alerts_in_db(partners) == 0
    assert partners.audit_count("refused") == refused + 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**HIT, "score": 1.5}, "screening_hit.score"),
        ({**LISTING, "country": "Emirates"}, "proposed_listing.country"),
        ({**LISTING, "kind": "rumour"}, "body"),
        ({**HIT, "colour": "blue"}, "screening_hit.colour"),
        ({**HIT, "counterparty": "Ros\x00oboron"}, "screening_hit.counterparty"),
        ({**HIT, "marking": "RED"}, "recipients"),
        ({**HIT, "excluded_orgs": [1]}, "excluded_orgs[0]"),
    ],
)
def test_bad_alerts_are_refused_precisely(
    partners: Partners, body: dict[str, Any], field: str
) -> None:
    refused = partners.audit_count("refused")
    answer = partners.call("POST", "/v1/alerts", "de", json=body)
    assert answer.status_code == 422
    assert answer.json()["detail"].startswith(f"{field}:"), answer.json()
    assert alerts_in_db(partners) == 0
    assert partners.audit_count("refused") == refused + 1


def test_amber_and_red_reads_are_audited(partners: Partners) -> None:
    red = partners.ok(
        "POST",
        "/v1/alerts",
        "de",
        201,
        json={**HIT, "marking": "RED", "recipients": [partners.users["us"]]},
    )
    green = partners.ok("POST", "/v1/alerts", "de", 201, json=HIT)
    before = partners.audit_count("ok", "alert.read")
    partners.ok("GET", f"/v1/alerts/{green['id']}", "us")
    assert partners.audit_count("ok", "alert.read") == before
    partners.ok("GET", f"/v1/alerts/{red['id']}", "us")
    assert partners.audit_count("ok", "alert.read") == before + 1
    # RED: the named recipient only, not even the author's colleagues
    assert partners.call("GET", f"/v1/alerts/{red['id']}", "de2").status_code == 404
    assert partners.call("GET", f"/v1/alerts/{red['id']}", "us2").status_code == 404
