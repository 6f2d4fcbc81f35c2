"""A small community of partner authorities for the exchange's record tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from econsec.exchange.app import create_exchange_app
from econsec.exchange.db import AuditEntry, Role
from econsec.exchange.service import Exchange


class Partners:
    """BAFA (DE), BIS (US) and the NL authority in one group; METI (JP) outside it."""

    def __init__(self, exchange: Exchange) -> None:
        self.exchange = exchange
        self.de = exchange.add_organisation("BAFA", "DE")
        self.us = exchange.add_organisation("BIS", "US")
        self.nl = exchange.add_organisation("CDIU", "NL")
        self.jp = exchange.add_organisation("METI", "JP")
        self.group = exchange.add_group("EU-US", [self.de, self.us, self.nl])
        users = {
            "de": (self.de, Role.OFFICER),
            "de2": (self.de, Role.ANALYST),
            "us": (self.us, Role.OFFICER),
            "us2": (self.us, Role.OFFICER),
            "nl": (self.nl, Role.OFFICER),
            "jp": (self.jp, Role.OFFICER),
            "audit": (self.de, Role.AUDITOR),
        }
        self.users = {
            name: exchange.add_user(org, f"{name}-user", role)
            for name, (org, role) in users.items()
        }
        self.tokens = {name: exchange.issue_token(uid) for name, uid in self.users.items()}
        self.client = TestClient(create_exchange_app(exchange))

    def call(self, method: str, url: str, who: str | None, **kwargs: Any) -> Any:
        headers = {"authorization": f"Bearer {self.tokens[who]}"} if who else {}
        return self.client.request(method, url, headers=headers, **kwargs)

    def ok(self, method: str, url: str, who: str, status: int = 200, **kwargs: Any) -> Any:
        answer = self.call(method, url, who, **kwargs)
        assert answer.status_code == status, answer.text
        return answer.json()

    def audit_count(self, outcome: str | None = None, action: str | None = None) -> int:
        query = select(func.count()).select_from(AuditEntry)
        if outcome:
            query = query.where(AuditEntry.outcome == outcome)
        if action:
            query = query.where(AuditEntry.action == action)
        with self.exchange._sessions() as session:
            return int(session.scalar(query) or 0)

    def set_today(self, day: dt.date) -> None:
        self.exchange.today = lambda: day  # type: ignore[method-assign]


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


def licence(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "reference": "BIS-L-2025-7",
        "item": "GPU accelerator modules",
        "control_entries": ["3A090"],
        "destination": "CN",
        "consignee": "Shenzhen Example Trading Company Limited",
        "end_user": "Example Super Computing Center",
        "marking": "AMBER+STRICT",
    }
    return {**body, **changes}
