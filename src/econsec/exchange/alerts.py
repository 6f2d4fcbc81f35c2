"""Alerts shared between partners: diversion findings, proposed listings, screening hits.

Each alert is a record under the same envelope and visibility rule as a
denial. ``diversion`` alerts can be imported from the JSON list that
``econsec trade alerts --format json`` prints (one alert per element: reporter,
intermediary, product, score, contributions …); the import is all or nothing,
and an error names the element and the field.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from econsec.exchange.access import ALERTS, Principal, visible_filter
from econsec.exchange.db import AlertKind, AlertRecord, Marking
from econsec.exchange.fields import ISO2, no_nul
from econsec.exchange.records import (
    Envelope,
    Kind,
    RecordStore,
    add_audience,
    check_envelope,
    envelope_json,
    log_ok,
    new_id,
    now,
)
from econsec.exchange.service import Exchange, ExchangeError

#: The fields each kind's payload must carry (checked again on import).
REQUIRED: dict[AlertKind, tuple[str, ...]] = {
    AlertKind.DIVERSION: ("reporter", "intermediary", "product", "score", "contributions"),
    AlertKind.PROPOSED_LISTING: ("name", "country", "list", "reason"),
    AlertKind.SCREENING_HIT: ("counterparty", "list_entry_id", "score"),
}
#: Fields the trade module's JSON carries besides the required ones.
DIVERSION_OPTIONAL = ("target", "baseline_value", "period_value", "currency")


@dataclass(frozen=True, slots=True)
class AlertInput:
    kind: AlertKind
    payload: dict[str, Any]
    envelope: Envelope


# -- payloads: one model per kind, for the create route and for federation ----------


class Contribution(BaseModel):
    """One indicator's part in a diversion score (as ``econsec trade alerts`` prints it)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    _text = field_validator("*")(no_nul)

    indicator: str = Field(min_length=1, max_length=200)
    value: float | None = None
    weight: float
    points: float
    detail: str = Field(default="", max_length=20000)


class DiversionPayload(BaseModel):
    """A diversion finding (the fields of ``econsec trade alerts --format json``)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    _text = field_validator("*")(no_nul)

    reporter: str = Field(pattern=ISO2)
    intermediary: str = Field(pattern=ISO2)
    target: str | None = Field(default=None, pattern=ISO2)
    product: str = Field(min_length=1, max_length=200)
    score: float = Field(ge=0)
    contributions: list[Contribution] = Field(max_length=200)
    baseline_value: float | None = None
    period_value: float | None = None
    currency: str | None = Field(default=None, max_length=3)


class ProposedListingPayload(BaseModel):
    """A listing proposed to a partner's list."""

    model_config = ConfigDict(extra="forbid")

    _text = field_validator("*")(no_nul)

    name: str = Field(min_length=1, max_length=300)
    country: str = Field(pattern=ISO2)
    list: str = Field(min_length=1, max_length=100)
    reason: str = Field(min_length=1, max_length=20000)


class ScreeningHitPayload(BaseModel):
    """A screening hit of interest: a counterparty matched to a list entry."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    _text = field_validator("*")(no_nul)

    counterparty: str = Field(min_length=1, max_length=300)
    list_entry_id: str = Field(min_length=1, max_length=200)
    score: float = Field(ge=0, le=1)


#: The payload model of each alert kind.
ALERT_PAYLOADS: dict[AlertKind, type[BaseModel]] = {
    AlertKind.DIVERSION: DiversionPayload,
    AlertKind.PROPOSED_LISTING: ProposedListingPayload,
    AlertKind.SCREENING_HIT: ScreeningHitPayload,
}


def alert_summary(kind: AlertKind, p: Mapping[str, Any]) -> tuple[str, str | None, float | None]:
    """(subject, country, score) of a payload, for listing and filtering."""
    if kind is AlertKind.DIVERSION:
        return (
            f"{p['reporter']} → {p['intermediary']} ({p['product']})",
            str(p["intermediary"]),
            float(p["score"]),
        )
    if kind is AlertKind.PROPOSED_LISTING:
        return f"{p['name']} ({p['list']})", str(p["country"]), None
    return f"{p['counterparty']} ~ {p['list_entry_id']}", None, float(p["score"])


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def check_diversion(row: Any, where: str) -> dict[str, Any]:
    """One element of ``econsec trade alerts --format json``, checked field by field."""
    if not isinstance(row, dict):
        raise ExchangeError(422, f"{where}: expected an object")
    if "\\u0000" in json.dumps(row):
        raise ExchangeError(422, f"{where}: NUL characters are not allowed")
    allowed = set(REQUIRED[AlertKind.DIVERSION]) | set(DIVERSION_OPTIONAL)
    for name in sorted(row):
        if name not in allowed:
            raise ExchangeError(422, f"{where}.{name}: unknown field")
    for name in REQUIRED[AlertKind.DIVERSION]:
        if name not in row:
            raise ExchangeError(422, f"{where}.{name}: missing")
    for name in ("reporter", "intermediary"):
        value = row[name]
        if not (isinstance(value, str) and len(value) == 2 and value.isalpha()):
            raise ExchangeError(422, f"{where}.{name}: not an ISO 3166 alpha-2 code: {value!r}")
    if not isinstance(row["product"], str) or not row["product"].strip():
        raise ExchangeError(422, f"{where}.product: a non-empty text is required")
    if not _is_number(row["score"]) or row["score"] < 0:
        raise ExchangeError(422, f"{where}.score: a number ≥ 0 is required")
    contributions = row["contributions"]
    if not isinstance(contributions, list):
        raise ExchangeError(422, f"{where}.contributions: a list is required")
    for i, c in enumerate(contributions):
        at = f"{where}.contributions[{i}]"
        if not isinstance(c, dict):
            raise ExchangeError(422, f"{at}: expected an object")
        if not isinstance(c.get("indicator"), str):
            raise ExchangeError(422, f"{at}.indicator: missing")
        for name in ("weight", "points"):
            if not _is_number(c.get(name)):
                raise ExchangeError(422, f"{at}.{name}: a number is required")
    if "currency" in row and not isinstance(row["currency"], str):
        raise ExchangeError(422, f"{where}.currency: a currency code is required")
    for name in ("baseline_value", "period_value"):
        if name in row and row[name] is not None and not _is_number(row[name]):
            raise ExchangeError(422, f"{where}.{name}: a number is required")
    return dict(row)


def alert_json(
    _session: Session, a: AlertRecord, _today: dt.date, _reader: Principal
) -> dict[str, Any]:
    return {
        **envelope_json(a),
        "kind": a.kind,
        "subject": a.subject,
        "country": a.country,
        "score": a.score,
        "payload": json.loads(a.payload),
    }


ALERT = Kind(name="alert", label="alert", model=AlertRecord, audience=ALERTS, json=alert_json)


class Alerts:
    """Creating, importing, listing and reading alerts."""

    def __init__(self, exchange: Exchange) -> None:
        self.exchange = exchange
        self.store = RecordStore(exchange)

    def _add(self, session: Session, principal: Principal, data: AlertInput) -> AlertRecord:
        subject, country, score = alert_summary(data.kind, data.payload)
        stamp = now()
        alert = AlertRecord(
            id=new_id(),
            originator_org_id=principal.org_id,
            author_user_id=principal.user_id,
            marking=data.envelope.marking.value,
            sharing_group_id=data.envelope.sharing_group,
            kind=data.kind.value,
            subject=subject[:400],
            country=country,
            score=score,
            payload=json.dumps(data.payload, sort_keys=True, ensure_ascii=False),
            created_at=stamp,
            updated_at=stamp,
        )
        session.add(alert)
        session.flush()
        add_audience(session, alert.id, data.envelope)
        return alert

    def create(self, principal: Principal, data: AlertInput) -> dict[str, Any]:
        action = "alert.create"
        today = self.exchange.today()
        with self.exchange._write() as session:
            message = check_envelope(session, principal, data.envelope, ALERT)
            if message is None:
                alert = self._add(session, principal, data)
                log_ok(
                    session,
                    principal,
                    action,
                    alert.id,
                    {"kind": alert.kind, "marking": alert.marking},
                )
                return alert_json(session, alert, today, principal)
        raise self.store.refuse(principal, action, 422, message)

    def import_diversion(
        self, principal: Principal, rows: Any, envelope: Envelope
    ) -> list[dict[str, Any]]:
        """Import ``econsec trade alerts --format json`` output: every element or none."""
        action = "alert.import"
        today = self.exchange.today()
        try:
            if not isinstance(rows, list):
                raise ExchangeError(422, "alerts: expected the JSON list of trade alerts")
            checked = [check_diversion(row, f"alerts[{i}]") for i, row in enumerate(rows)]
        except ExchangeError as exc:
            raise self.store.refuse(principal, action, exc.status, exc.message) from None
        with self.exchange._write() as session:
            message = check_envelope(session, principal, envelope, ALERT)
            if message is None:
                made = [
                    self._add(session, principal, AlertInput(AlertKind.DIVERSION, row, envelope))
                    for row in checked
                ]
                log_ok(
                    session,
                    principal,
                    action,
                    None,
                    {"alerts": [a.id for a in made], "marking": envelope.marking.value},
                )
                return [alert_json(session, a, today, principal) for a in made]
        raise self.store.refuse(principal, action, 422, message)

    def filters(
        self, kind: AlertKind | None = None, country: str | None = None
    ) -> list[ColumnElement[bool]]:
        where: list[ColumnElement[bool]] = []
        if kind is not None:
            where.append(AlertRecord.kind == kind.value)
        if country is not None:
            where.append(AlertRecord.country == country)
        return where

    def page(
        self,
        principal: Principal,
        kind: AlertKind | None = None,
        country: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> tuple[int, list[dict[str, Any]]]:
        return self.store.page(
            principal,
            ALERT,
            self.filters(kind, country),
            (AlertRecord.created_at.desc(),),
            limit,
            offset,
        )

    def facets(self, principal: Principal, country: str | None = None) -> dict[str, int]:
        """How many visible alerts of each kind (only kinds with at least one)."""
        query = (
            select(AlertRecord.kind, func.count())
            .where(visible_filter(principal, ALERTS), *self.filters(None, country))
            .group_by(AlertRecord.kind)
        )
        with self.exchange._read() as session:
            return {str(k): int(n) for k, n in session.execute(query)}

    def get(self, principal: Principal, alert_id: str) -> dict[str, Any]:
        return self.store.get(principal, ALERT, alert_id)

    def change_marking(
        self, principal: Principal, alert_id: str, marking: Marking
    ) -> dict[str, Any]:
        return self.store.change_marking(principal, ALERT, alert_id, marking)


def read_trade_alerts(text: str, source: str) -> Sequence[Any]:
    """The JSON list in ``text`` (a file named ``source``), or a clear error."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ExchangeError(
            422, f"{source}: malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from None
    if not isinstance(data, list):
        raise ExchangeError(422, f"{source}: expected the JSON list of trade alerts")
    return data
