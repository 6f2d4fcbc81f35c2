"""Routes of consultations, licence decisions, alerts and notifications (thin layer).

Included by :func:`econsec.exchange.app.create_exchange_app`; request bodies
refuse unknown fields, and every refusal is audited (by the service, or by the
app's validation handler).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from econsec.exchange.access import Principal
from econsec.exchange.alerts import (
    AlertInput,
    Alerts,
    DiversionPayload,
    ProposedListingPayload,
    ScreeningHitPayload,
)
from econsec.exchange.consultations import ConsultationInput, Consultations
from econsec.exchange.db import (
    INT32_MAX,
    AlertKind,
    ConsultationState,
    DbInt,
    LicenceStatus,
    Marking,
    Outcome,
    Reply,
    Scope,
)
from econsec.exchange.fields import ISO2, no_nul
from econsec.exchange.http_auth import auth
from econsec.exchange.licences import LicenceInput, Licences, RefusalInput
from econsec.exchange.records import Envelope, RecordStore
from econsec.exchange.service import Exchange

_ENTRY = r"^[0-9][A-E][0-9]{3}(\.[a-z0-9]+)*$"
#: Printable text without NUL (ids and kinds in query parameters).
_PLAIN = r"^[^\x00]*$"
_ID = Field(min_length=1, max_length=36)


AlertFacetsReader = Annotated[Principal, auth(Scope.DENIALS_READ, "alert.facets")]
AlertListReader = Annotated[Principal, auth(Scope.DENIALS_READ, "alert.list")]
AlertReadReader = Annotated[Principal, auth(Scope.DENIALS_READ, "alert.read")]
ConsultationListReader = Annotated[Principal, auth(Scope.DENIALS_READ, "consultation.list")]
ConsultationReadReader = Annotated[Principal, auth(Scope.DENIALS_READ, "consultation.read")]
LicenceListReader = Annotated[Principal, auth(Scope.DENIALS_READ, "licence.list")]
LicenceReadReader = Annotated[Principal, auth(Scope.DENIALS_READ, "licence.read")]
NotificationListReader = Annotated[Principal, auth(Scope.DENIALS_READ, "notification.list")]
LicenceCheckWriter = Annotated[Principal, auth(Scope.DENIALS_WRITE, "licence.check")]
AlertCreateWriter = Annotated[Principal, auth(Scope.DENIALS_WRITE, "alert.create")]
AlertImportWriter = Annotated[Principal, auth(Scope.DENIALS_WRITE, "alert.import")]
AlertMarkingWriter = Annotated[Principal, auth(Scope.DENIALS_WRITE, "alert.marking")]
ConsultationCreateWriter = Annotated[Principal, auth(Scope.DENIALS_WRITE, "consultation.create")]
ConsultationMarkingWriter = Annotated[Principal, auth(Scope.DENIALS_WRITE, "consultation.marking")]
ConsultationOutcomeWriter = Annotated[Principal, auth(Scope.DENIALS_WRITE, "consultation.outcome")]
ConsultationReplyWriter = Annotated[Principal, auth(Scope.DENIALS_WRITE, "consultation.reply")]
LicenceCreateWriter = Annotated[Principal, auth(Scope.DENIALS_WRITE, "licence.create")]
LicenceIssueWriter = Annotated[Principal, auth(Scope.DENIALS_WRITE, "licence.issue")]
LicenceMarkingWriter = Annotated[Principal, auth(Scope.DENIALS_WRITE, "licence.marking")]
LicenceRefuseWriter = Annotated[Principal, auth(Scope.DENIALS_WRITE, "licence.refuse")]
LicenceWithdrawWriter = Annotated[Principal, auth(Scope.DENIALS_WRITE, "licence.withdraw")]


class AudienceIn(BaseModel):
    """Marking and audience of a new record (as for a denial)."""

    model_config = ConfigDict(extra="forbid")

    _text = field_validator("*")(no_nul)

    marking: Marking = Field(description="TLP 2.0 marking.")
    sharing_group: DbInt | None = None
    recipients: list[DbInt] = Field(default_factory=list, description="RED: named user ids.")
    excluded_orgs: list[DbInt] = Field(
        default_factory=list, description="Organisations never to see it (deny beats allow)."
    )

    def envelope(self) -> Envelope:
        return Envelope(
            self.marking,
            self.sharing_group,
            tuple(self.recipients),
            tuple(self.excluded_orgs),
        )


class ConsultationIn(AudienceIn):
    """A consultation of the organisation that issued ``denial_id``."""

    denial_id: str = _ID
    summary: str = Field(min_length=1, max_length=20000, description="The transaction.")
    licence_id: str | None = Field(default=None, max_length=36)


class ReplyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    _text = field_validator("*")(no_nul)
    reply: Reply
    text: str = Field(min_length=1, max_length=20000)


class OutcomeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    _text = field_validator("*")(no_nul)
    outcome: Outcome
    text: str = Field(default="", max_length=20000)


class LicenceIn(AudienceIn):
    """A draft approval, checked at once against partners' denials."""

    reference: str = Field(min_length=1, max_length=200)
    item: str = Field(min_length=1, max_length=2000)
    control_entries: list[Annotated[str, Field(pattern=_ENTRY)]] = Field(min_length=1)
    destination: str = Field(pattern=ISO2, description="ISO 3166 alpha-2.")
    consignee: str = Field(min_length=1, max_length=2000)
    end_user: str = Field(min_length=1, max_length=2000)


class IssueIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    _text = field_validator("*")(no_nul)
    reasons: str = Field(
        default="",
        max_length=20000,
        description="Why it is granted (required when a partner denied the same).",
    )


class RefuseIn(BaseModel):
    """A refusal: notified as a denial (Regulation (EU) 2021/821, Art. 16(2)-(3)).

    The audience fields are those of the denial notification; left out, it
    gets the draft's own marking, sharing group, RED recipients and exclusions
    (a draft marked AMBER+STRICT or RED needs an explicit ``marking``: the
    notification would otherwise reach no other organisation).
    """

    model_config = ConfigDict(extra="forbid")
    _text = field_validator("*")(no_nul)

    reason: str = Field(
        min_length=1, max_length=20000, description="Why it is refused (the denial's reason)."
    )
    criterion: str = Field(
        default="",
        max_length=200,
        description="The ground cited, e.g. 'Art. 15(1)' or a regime's criterion.",
    )
    decision_date: dt.date | None = Field(
        default=None, description="Day of the refusal (default today; not in the future)."
    )
    marking: Marking | None = Field(
        default=None, description="The notification's TLP 2.0 marking (default: the draft's)."
    )
    sharing_group: DbInt | None = None
    recipients: list[DbInt] = Field(default_factory=list, description="RED: named user ids.")
    excluded_orgs: list[DbInt] = Field(default_factory=list)

    @field_validator("sharing_group", "recipients", "excluded_orgs")
    @classmethod
    def _with_marking(cls, value: Any, info: ValidationInfo) -> Any:
        if value and info.data.get("marking") is None:
            raise ValueError("give the notification's marking with its audience")
        return value

    def refusal(self) -> RefusalInput:
        envelope = (
            None
            if self.marking is None
            else Envelope(
                self.marking,
                self.sharing_group,
                tuple(self.recipients),
                tuple(self.excluded_orgs),
            )
        )
        return RefusalInput(self.reason, self.criterion, self.decision_date, envelope)


class WithdrawIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    _text = field_validator("*")(no_nul)
    text: str = Field(default="", max_length=20000, description="Why it is withdrawn.")


class MarkingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    marking: Marking


class DiversionIn(AudienceIn, DiversionPayload):
    """A diversion finding (the fields of ``econsec trade alerts --format json``)."""

    kind: Literal["diversion"]


class ProposedListingIn(AudienceIn, ProposedListingPayload):
    kind: Literal["proposed_listing"]


class ScreeningHitIn(AudienceIn, ScreeningHitPayload):
    kind: Literal["screening_hit"]


AlertIn = Annotated[DiversionIn | ProposedListingIn | ScreeningHitIn, Field(discriminator="kind")]


class TradeImportIn(AudienceIn):
    """The JSON list printed by ``econsec trade alerts --format json``, under one marking."""

    alerts: list[Any] = Field(min_length=1)


class ConsultationOut(BaseModel):
    id: str
    kind: str
    originator_org_id: int
    consulting_org_id: int
    consulted_org_id: int
    marking: str
    sharing_group: int | None
    denial_id: str | None = Field(description="Null when the reader may not see the denial.")
    licence_id: str | None
    summary: str
    opened_on: dt.date
    deadline: dt.date
    deadline_explanation: str
    state: str
    overdue: bool
    days_left: int
    reply: str | None
    reply_text: str | None
    outcome: str | None
    outcome_text: str | None
    created_at: str
    updated_at: str


class ConsultationPage(BaseModel):
    total: int
    items: list[ConsultationOut]


class LicenceOut(BaseModel):
    id: str
    kind: str
    originator_org_id: int
    marking: str
    sharing_group: int | None
    reference: str
    item: str
    control_entries: list[str]
    destination: str
    consignee: str
    end_user: str
    status: str
    reasons: str | None
    issued_on: dt.date | None
    criterion: str | None = Field(description="Refused: the ground cited.")
    closed_on: dt.date | None = Field(description="Day it was refused or withdrawn.")
    refusal_denial_id: str | None = Field(
        description="Refused: the denial notification it became (null if the reader may not "
        "see it)."
    )
    matches: list[dict[str, Any]] = Field(
        description="Partners' denials found essentially identical (those the reader sees)."
    )
    warnings: list[dict[str, Any]] = Field(description="Denials of the drafter's organisation.")
    blocked: bool = Field(
        description="A draft that the partner denials and consultations the reader may see "
        "keep from being issued. The drafting organisation sees all it opened; another "
        "reader's flag ignores what is hidden from it and may differ."
    )
    created_at: str
    updated_at: str


class LicencePage(BaseModel):
    total: int
    items: list[LicenceOut]


class AlertOut(BaseModel):
    id: str
    kind: str
    originator_org_id: int
    marking: str
    sharing_group: int | None
    subject: str
    country: str | None
    score: float | None
    payload: dict[str, Any]
    created_at: str
    updated_at: str


class AlertPage(BaseModel):
    total: int
    items: list[AlertOut]


class NotificationOut(BaseModel):
    id: str
    kind: str
    record_id: str
    related_id: str | None
    marking: str
    body: dict[str, Any]
    created_at: str


class NotificationPage(BaseModel):
    total: int
    items: list[NotificationOut]


_PAYLOAD_SKIP = {"kind", "marking", "sharing_group", "recipients", "excluded_orgs"}
Limit = Annotated[int, Query(ge=1, le=1000)]
Offset = Annotated[int, Query(ge=0, le=INT32_MAX)]


def records_router(exchange: Exchange) -> APIRouter:
    """The consultation, licence, alert and notification routes under ``/v1``."""
    consultations = Consultations(exchange)
    licences = Licences(exchange)
    alerts = Alerts(exchange)
    store = RecordStore(exchange)
    router = APIRouter(prefix="/v1")

    # -- consultations ----------------------------------------------------------------

    @router.post(
        "/consultations", response_model=ConsultationOut, status_code=201, tags=["consultations"]
    )
    def open_consultation(
        body: ConsultationIn, principal: ConsultationCreateWriter
    ) -> dict[str, Any]:
        """Consult the organisation that issued a denial before granting the same."""
        return consultations.open(
            principal,
            ConsultationInput(body.denial_id, body.summary, body.envelope(), body.licence_id),
        )

    @router.get("/consultations", response_model=ConsultationPage, tags=["consultations"])
    def list_consultations(
        principal: ConsultationListReader,
        state: ConsultationState | None = None,
        due_within: Annotated[
            int | None, Query(ge=0, le=3650, description="Open, due in ≤ N days or overdue.")
        ] = None,
        denial_id: Annotated[str | None, Query(max_length=36, pattern=_PLAIN)] = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> dict[str, Any]:
        """The consultations the caller may see (the total counts only those)."""
        total, items = consultations.page(principal, state, due_within, denial_id, limit, offset)
        return {"total": total, "items": items}

    @router.get(
        "/consultations/{consultation_id}", response_model=ConsultationOut, tags=["consultations"]
    )
    def get_consultation(consultation_id: str, principal: ConsultationReadReader) -> dict[str, Any]:
        return consultations.get(principal, consultation_id)

    @router.post(
        "/consultations/{consultation_id}/reply",
        response_model=ConsultationOut,
        tags=["consultations"],
    )
    def reply(
        consultation_id: str, body: ReplyIn, principal: ConsultationReplyWriter
    ) -> dict[str, Any]:
        """The consulted organisation agrees or objects (open → answered)."""
        return consultations.reply(principal, consultation_id, body.reply, body.text)

    @router.post(
        "/consultations/{consultation_id}/outcome",
        response_model=ConsultationOut,
        tags=["consultations"],
    )
    def outcome(
        consultation_id: str, body: OutcomeIn, principal: ConsultationOutcomeWriter
    ) -> dict[str, Any]:
        """The consulting organisation records granted, not granted or withdrawn."""
        return consultations.record_outcome(principal, consultation_id, body.outcome, body.text)

    @router.patch(
        "/consultations/{consultation_id}/marking",
        response_model=ConsultationOut,
        tags=["consultations"],
    )
    def consultation_marking(
        consultation_id: str, body: MarkingIn, principal: ConsultationMarkingWriter
    ) -> dict[str, Any]:
        return consultations.change_marking(principal, consultation_id, body.marking)

    # -- licence decisions ------------------------------------------------------------

    @router.post("/licences", response_model=LicenceOut, status_code=201, tags=["licences"])
    def draft_licence(body: LicenceIn, principal: LicenceCreateWriter) -> dict[str, Any]:
        """Draft an approval; the answer lists partners' essentially identical denials."""
        return licences.draft(
            principal,
            LicenceInput(
                reference=body.reference,
                item=body.item,
                control_entries=tuple(body.control_entries),
                destination=body.destination,
                consignee=body.consignee,
                end_user=body.end_user,
                envelope=body.envelope(),
            ),
        )

    @router.get("/licences", response_model=LicencePage, tags=["licences"])
    def list_licences(
        principal: LicenceListReader,
        status: LicenceStatus | None = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> dict[str, Any]:
        total, items = licences.page(principal, status, limit, offset)
        return {"total": total, "items": items}

    @router.get("/licences/{licence_id}", response_model=LicenceOut, tags=["licences"])
    def get_licence(licence_id: str, principal: LicenceReadReader) -> dict[str, Any]:
        return licences.get(principal, licence_id)

    @router.post("/licences/{licence_id}/check", response_model=LicenceOut, tags=["licences"])
    def check_licence(licence_id: str, principal: LicenceCheckWriter) -> dict[str, Any]:
        """Run the essentially-identical check again on a draft (new denials since)."""
        return licences.recheck(principal, licence_id)

    @router.post("/licences/{licence_id}/issue", response_model=LicenceOut, tags=["licences"])
    def issue_licence(
        licence_id: str, body: IssueIn, principal: LicenceIssueWriter
    ) -> dict[str, Any]:
        """Issue the licence: 409 with the reasons while a partner's denial blocks it."""
        return licences.issue(principal, licence_id, body.reasons)

    @router.post("/licences/{licence_id}/refuse", response_model=LicenceOut, tags=["licences"])
    def refuse_licence(
        licence_id: str, body: RefuseIn, principal: LicenceRefuseWriter
    ) -> dict[str, Any]:
        """Refuse a draft: notified as a denial, linked to it; its consultations close."""
        return licences.refuse(principal, licence_id, body.refusal())

    @router.post("/licences/{licence_id}/withdraw", response_model=LicenceOut, tags=["licences"])
    def withdraw_licence(
        licence_id: str, body: WithdrawIn, principal: LicenceWithdrawWriter
    ) -> dict[str, Any]:
        """Withdraw a draft (nothing is notified); its consultations close as withdrawn."""
        return licences.withdraw(principal, licence_id, body.text)

    @router.patch("/licences/{licence_id}/marking", response_model=LicenceOut, tags=["licences"])
    def licence_marking(
        licence_id: str, body: MarkingIn, principal: LicenceMarkingWriter
    ) -> dict[str, Any]:
        return licences.change_marking(principal, licence_id, body.marking)

    # -- alerts -----------------------------------------------------------------------

    @router.post("/alerts", response_model=AlertOut, status_code=201, tags=["alerts"])
    def create_alert(body: AlertIn, principal: AlertCreateWriter) -> dict[str, Any]:
        """Share a diversion finding, a proposed listing or a screening hit."""
        payload = body.model_dump(exclude=_PAYLOAD_SKIP, mode="json")
        return alerts.create(principal, AlertInput(AlertKind(body.kind), payload, body.envelope()))

    @router.post("/alerts/import", response_model=list[AlertOut], status_code=201, tags=["alerts"])
    def import_alerts(body: TradeImportIn, principal: AlertImportWriter) -> Any:
        """Import ``econsec trade alerts --format json`` output (all or nothing)."""
        return alerts.import_diversion(principal, body.alerts, body.envelope())

    @router.get("/alerts", response_model=AlertPage, tags=["alerts"])
    def list_alerts(
        principal: AlertListReader,
        kind: AlertKind | None = None,
        country: Annotated[str | None, Query(pattern=ISO2)] = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> dict[str, Any]:
        total, items = alerts.page(principal, kind, country, limit, offset)
        return {"total": total, "items": items}

    @router.get("/alerts/facets", tags=["alerts"])
    def alert_facets(
        principal: AlertFacetsReader,
        country: Annotated[str | None, Query(pattern=ISO2)] = None,
    ) -> dict[str, int]:
        """Visible alerts per kind."""
        return alerts.facets(principal, country)

    @router.get("/alerts/{alert_id}", response_model=AlertOut, tags=["alerts"])
    def get_alert(alert_id: str, principal: AlertReadReader) -> dict[str, Any]:
        return alerts.get(principal, alert_id)

    @router.patch("/alerts/{alert_id}/marking", response_model=AlertOut, tags=["alerts"])
    def alert_marking(
        alert_id: str, body: MarkingIn, principal: AlertMarkingWriter
    ) -> dict[str, Any]:
        return alerts.change_marking(principal, alert_id, body.marking)

    # -- notifications ----------------------------------------------------------------

    @router.get("/notifications", response_model=NotificationPage, tags=["notifications"])
    def notifications(
        principal: NotificationListReader,
        kind: Annotated[str | None, Query(max_length=32, pattern=_PLAIN)] = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> dict[str, Any]:
        """Notifications addressed to the caller's organisation (undercuts, reminders …)."""
        total, items = store.notifications(principal, kind, limit, offset)
        return {"total": total, "items": items}

    return router
