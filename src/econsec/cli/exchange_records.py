"""`econsec exchange consult|reply|outcome|reminders|…-licence|alerts-import`.

Licence commands: draft-licence, issue-licence, refuse-licence, withdraw-licence.

Thin commands over the exchange's services. Those that act for a user take
its API token (``--token`` or ``$ECONSEC_EXCHANGE_TOKEN``), so the same
scopes, visibility and audit apply as over HTTP. Input is checked with the
API's own request models: an error names the field.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from pydantic import BaseModel, ValidationError

from econsec.cli._common import fail
from econsec.cli.exchange import DbOption, _open, app
from econsec.exchange.access import Principal
from econsec.exchange.alerts import Alerts, read_trade_alerts
from econsec.exchange.consultations import ConsultationInput, Consultations
from econsec.exchange.db import Marking, Outcome, Reply, Scope
from econsec.exchange.licences import LicenceInput, Licences
from econsec.exchange.records_api import AudienceIn, ConsultationIn, LicenceIn, RefuseIn
from econsec.exchange.service import Exchange, ExchangeError

TokenOption = Annotated[
    str,
    typer.Option("--token", envvar="ECONSEC_EXCHANGE_TOKEN", help="API token of the user acting."),
]
MarkingOption = Annotated[Marking, typer.Option(help="TLP 2.0 marking.")]
M = TypeVar("M", bound=BaseModel)


def _echo(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def _as(exchange: Exchange, token: str, scope: Scope, action: str) -> Principal:
    return exchange.authenticate(token, scope, action)


def _model(model: type[M], **fields: Any) -> M:
    try:
        return model(**fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "input"
        fail(f"{where}: {first['msg']}")


@app.command("consult")
def consult_cmd(
    denial_id: Annotated[str, typer.Argument(help="The partner's denial.")],
    summary: Annotated[str, typer.Option(help="The transaction you are about to grant.")],
    token: TokenOption,
    marking: MarkingOption = Marking.AMBER_STRICT,
    licence: Annotated[str | None, typer.Option(help="Your draft licence decision.")] = None,
    db: DbOption = None,
) -> None:
    """Open a consultation with the organisation that issued DENIAL_ID."""
    body = _model(
        ConsultationIn, denial_id=denial_id, summary=summary, marking=marking, licence_id=licence
    )
    exchange = _open(db)
    try:
        principal = _as(exchange, token, Scope.DENIALS_WRITE, "consultation.create")
        _echo(
            Consultations(exchange).open(
                principal,
                ConsultationInput(body.denial_id, body.summary, body.envelope(), body.licence_id),
            )
        )
    except ExchangeError as exc:
        fail(exc.message)


@app.command("reply")
def reply_cmd(
    consultation_id: Annotated[str, typer.Argument()],
    answer: Annotated[Reply, typer.Option("--reply", help="agree or object.")],
    text: Annotated[str, typer.Option(help="The reply.")],
    token: TokenOption,
    db: DbOption = None,
) -> None:
    """Reply to a consultation your organisation was asked (open → answered)."""
    exchange = _open(db)
    try:
        principal = _as(exchange, token, Scope.DENIALS_WRITE, "consultation.reply")
        _echo(Consultations(exchange).reply(principal, consultation_id, answer, text))
    except ExchangeError as exc:
        fail(exc.message)


@app.command("outcome")
def outcome_cmd(
    consultation_id: Annotated[str, typer.Argument()],
    outcome: Annotated[Outcome, typer.Option(help="granted, not_granted or withdrawn.")],
    token: TokenOption,
    text: Annotated[str, typer.Option(help="Explanation.")] = "",
    db: DbOption = None,
) -> None:
    """Record the outcome of your organisation's consultation."""
    exchange = _open(db)
    try:
        principal = _as(exchange, token, Scope.DENIALS_WRITE, "consultation.outcome")
        _echo(Consultations(exchange).record_outcome(principal, consultation_id, outcome, text))
    except ExchangeError as exc:
        fail(exc.message)


@app.command("reminders")
def reminders_cmd(
    on: Annotated[
        str | None, typer.Option(help="Day to judge deadlines on (default today, UTC).")
    ] = None,
    db: DbOption = None,
) -> None:
    """Record due-soon and overdue consultation reminders (once each; safe to rerun)."""
    day = None
    if on is not None:
        try:
            day = dt.date.fromisoformat(on)
        except ValueError:
            fail(f"--on: not an ISO date (YYYY-MM-DD): {on!r}")
    made = Consultations(_open(db)).record_reminders(day)
    for reminder in made:
        typer.echo(json.dumps(reminder, ensure_ascii=False))
    typer.echo(f"{len(made)} reminders recorded")


@app.command("draft-licence")
def draft_licence_cmd(
    reference: Annotated[str, typer.Option(help="Your licence reference.")],
    item: Annotated[str, typer.Option(help="The item.")],
    entry: Annotated[list[str], typer.Option(help="Control list entry (repeatable).")],
    destination: Annotated[str, typer.Option(help="ISO 3166 alpha-2.")],
    consignee: Annotated[str, typer.Option()],
    end_user: Annotated[str, typer.Option()],
    token: TokenOption,
    marking: MarkingOption = Marking.AMBER_STRICT,
    db: DbOption = None,
) -> None:
    """Draft an approval and show the partners' essentially identical denials."""
    body = _model(
        LicenceIn,
        reference=reference,
        item=item,
        control_entries=entry,
        destination=destination,
        consignee=consignee,
        end_user=end_user,
        marking=marking,
    )
    exchange = _open(db)
    try:
        principal = _as(exchange, token, Scope.DENIALS_WRITE, "licence.create")
        _echo(
            Licences(exchange).draft(
                principal,
                LicenceInput(
                    body.reference,
                    body.item,
                    tuple(body.control_entries),
                    body.destination,
                    body.consignee,
                    body.end_user,
                    body.envelope(),
                ),
            )
        )
    except ExchangeError as exc:
        fail(exc.message)


@app.command("issue-licence")
def issue_licence_cmd(
    licence_id: Annotated[str, typer.Argument()],
    token: TokenOption,
    reasons: Annotated[str, typer.Option(help="Why it is granted despite a denial.")] = "",
    db: DbOption = None,
) -> None:
    """Issue a drafted licence (refused while a partner's denial blocks it)."""
    exchange = _open(db)
    try:
        principal = _as(exchange, token, Scope.DENIALS_WRITE, "licence.issue")
        _echo(Licences(exchange).issue(principal, licence_id, reasons))
    except ExchangeError as exc:
        fail(exc.message)


@app.command("refuse-licence")
def refuse_licence_cmd(
    licence_id: Annotated[str, typer.Argument()],
    reason: Annotated[str, typer.Option(help="Why it is refused (the denial's reason).")],
    token: TokenOption,
    criterion: Annotated[str, typer.Option(help="The ground cited, e.g. 'Art. 15(1)'.")] = "",
    decision_date: Annotated[
        str | None, typer.Option(help="Day of the refusal, YYYY-MM-DD (default today).")
    ] = None,
    marking: Annotated[
        Marking | None,
        typer.Option(help="Marking of the denial notification (default: the draft's)."),
    ] = None,
    db: DbOption = None,
) -> None:
    """Refuse a drafted licence: it is notified as a denial and its consultations close."""
    body = _model(
        RefuseIn,
        reason=reason,
        criterion=criterion,
        decision_date=decision_date,
        marking=marking,
    )
    exchange = _open(db)
    try:
        principal = _as(exchange, token, Scope.DENIALS_WRITE, "licence.refuse")
        _echo(Licences(exchange).refuse(principal, licence_id, body.refusal()))
    except ExchangeError as exc:
        fail(exc.message)


@app.command("withdraw-licence")
def withdraw_licence_cmd(
    licence_id: Annotated[str, typer.Argument()],
    token: TokenOption,
    text: Annotated[str, typer.Option(help="Why it is withdrawn.")] = "",
    db: DbOption = None,
) -> None:
    """Withdraw a drafted licence (nothing is notified); its consultations close."""
    exchange = _open(db)
    try:
        principal = _as(exchange, token, Scope.DENIALS_WRITE, "licence.withdraw")
        _echo(Licences(exchange).withdraw(principal, licence_id, text))
    except ExchangeError as exc:
        fail(exc.message)


@app.command("alerts-import")
def alerts_import_cmd(
    file: Annotated[Path, typer.Argument(help="Output of `econsec trade alerts --format json`.")],
    token: TokenOption,
    marking: MarkingOption = Marking.AMBER,
    db: DbOption = None,
) -> None:
    """Share diversion alerts from the trade module (all or nothing)."""
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        fail(f"{file}: {exc.strerror}")
    audience = _model(AudienceIn, marking=marking)
    exchange = _open(db)
    try:
        rows = read_trade_alerts(text, str(file))
        principal = _as(exchange, token, Scope.DENIALS_WRITE, "alert.import")
        made = Alerts(exchange).import_diversion(principal, rows, audience.envelope())
    except ExchangeError as exc:
        fail(f"{file}: {exc.message}" if exc.message.startswith("alerts[") else exc.message)
    typer.echo(f"{len(made)} alerts shared: " + " ".join(a["id"] for a in made))
