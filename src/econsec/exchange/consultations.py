"""Consultations: request → reply → outcome, with deadlines and reminders.

An officer of organisation A about to grant a transaction essentially
identical to a denial D of organisation B consults B first (Regulation (EU)
2021/821, Art. 16(5)). The consultation is a record of A (its marking, group,
exclusions) with B as second party: both organisations see it whatever its
marking, except that a consultation is never RED (it is addressed to an
organisation, not to named individuals) and B cannot be excluded.

States: ``open`` → (B replies agree/object) ``answered`` → (A records the
outcome) ``closed``. A may withdraw an open consultation, and may record
``granted``/``not_granted`` on an open one once its deadline has passed. Any
other transition is refused with 409 and audited. Issuing, refusing or
withdrawing the draft a consultation serves closes it automatically
(``granted``, ``not_granted``, ``withdrawn``; see ``licences.py``). The deadline
comes from the dated rule ``consultation_deadline``, in calendar or working
days as the rule says (``count``), and the explanation shows the counting;
reminders (due soon, overdue) are recorded once per consultation, threshold
and organisation.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from econsec.exchange.access import CONSULTATIONS, DENIALS, LICENCES, Principal, visible_filter
from econsec.exchange.db import (
    Consultation,
    ConsultationState,
    Denial,
    LicenceDecision,
    LicenceStatus,
    Marking,
    Outcome,
    Reply,
    ReviewStatus,
)
from econsec.exchange.record_rules import consultation_deadline, due_soon_days
from econsec.exchange.records import (
    Envelope,
    Kind,
    RecordStore,
    add_audience,
    check_envelope,
    envelope_json,
    log_ok,
    new_id,
    notify,
    now,
    sees,
)
from econsec.exchange.service import Exchange


def consultation_json(
    session: Session, c: Consultation, today: dt.date, reader: Principal
) -> dict[str, Any]:
    """A consultation as ``reader`` sees it: the denial and licence it refers to are
    named only to a reader who may see them (a GREEN consultation must not reveal
    an AMBER denial)."""
    denial_seen = sees(session, reader, DENIALS, c.denial_id)
    licence_seen = c.licence_id is not None and sees(session, reader, LICENCES, c.licence_id)
    overdue = c.state == ConsultationState.OPEN.value and today > c.deadline
    return {
        **envelope_json(c),
        "kind": "consultation",
        "consulting_org_id": c.originator_org_id,
        "consulted_org_id": c.consulted_org_id,
        "denial_id": c.denial_id if denial_seen else None,
        "licence_id": c.licence_id if licence_seen else None,
        "summary": c.summary,
        "opened_on": c.opened_on.isoformat(),
        "deadline": c.deadline.isoformat(),
        "deadline_explanation": c.deadline_explanation,
        "state": c.state,
        "overdue": overdue,
        "days_left": (c.deadline - today).days,
        "reply": c.reply,
        "reply_text": c.reply_text,
        "outcome": c.outcome,
        "outcome_text": c.outcome_text,
    }


CONSULTATION = Kind(
    name="consultation",
    label="consultation",
    model=Consultation,
    audience=CONSULTATIONS,
    json=consultation_json,
    forbidden={
        Marking.RED: "a consultation is addressed to the consulted organisation, not to "
        "named individuals: RED is not available (use AMBER+STRICT: the two parties only)"
    },
)


@dataclass(frozen=True, slots=True)
class ConsultationInput:
    denial_id: str
    summary: str
    envelope: Envelope
    licence_id: str | None = None


def clears(c: Consultation, today: dt.date) -> bool:
    """Whether consultation ``c`` lets its consulting organisation grant despite the denial."""
    if c.state == ConsultationState.ANSWERED.value:
        return True
    if c.state == ConsultationState.OPEN.value:
        return today > c.deadline
    return c.outcome == Outcome.GRANTED.value


class Consultations:
    """Opening, replying to and closing consultations; reminders."""

    def __init__(self, exchange: Exchange) -> None:
        self.exchange = exchange
        self.store = RecordStore(exchange)

    def open(self, principal: Principal, data: ConsultationInput) -> dict[str, Any]:
        action = "consultation.create"
        today = self.exchange.today()
        problem: tuple[int, str] | None = None
        with self.exchange._write() as session:
            denial = (
                None
                if "\x00" in data.denial_id
                else session.scalars(
                    select(Denial).where(
                        Denial.id == data.denial_id, visible_filter(principal, DENIALS)
                    )
                ).first()
            )
            if denial is None:
                problem = (404, f"denial_id: no denial {data.denial_id}")
            elif denial.originator_org_id == principal.org_id:
                problem = (
                    422,
                    "denial_id: a denial of your own organisation needs no consultation",
                )
            elif denial.review_status == ReviewStatus.REVOKED.value or denial.expires_on < today:
                problem = (422, f"denial_id: denial {denial.id} is not in force on {today}")
            if problem is None and data.licence_id is not None:
                licence = session.scalars(
                    select(LicenceDecision).where(
                        LicenceDecision.id == data.licence_id,
                        visible_filter(principal, LICENCES),
                    )
                ).first()
                if licence is None:
                    problem = (404, f"licence_id: no licence decision {data.licence_id}")
                elif licence.originator_org_id != principal.org_id:
                    problem = (
                        422,
                        f"licence_id: licence decision {licence.id} is not your organisation's",
                    )
                elif licence.status != LicenceStatus.DRAFT.value:
                    problem = (
                        409,
                        f"licence_id: licence decision {licence.id} is already {licence.status}",
                    )
            if problem is None and denial is not None:
                pending = session.scalar(
                    select(Consultation.id).where(
                        Consultation.originator_org_id == principal.org_id,
                        Consultation.denial_id == denial.id,
                        Consultation.state.in_(
                            (ConsultationState.OPEN.value, ConsultationState.ANSWERED.value)
                        ),
                    )
                )
                if pending is not None:
                    problem = (
                        409,
                        f"denial_id: consultation {pending} about this denial is still "
                        "open or answered; record its outcome first",
                    )
            if problem is None and denial is not None:
                message = check_envelope(
                    session, principal, data.envelope, CONSULTATION, (denial.originator_org_id,)
                )
                if message is not None:
                    problem = (422, message)
            if problem is None and denial is not None:
                deadline, why = consultation_deadline(today)
                stamp = now()
                c = Consultation(
                    id=new_id(),
                    originator_org_id=principal.org_id,
                    author_user_id=principal.user_id,
                    marking=data.envelope.marking.value,
                    sharing_group_id=data.envelope.sharing_group,
                    consulted_org_id=denial.originator_org_id,
                    denial_id=denial.id,
                    licence_id=data.licence_id,
                    summary=data.summary,
                    opened_on=today,
                    deadline=deadline,
                    deadline_explanation=why,
                    state=ConsultationState.OPEN.value,
                    created_at=stamp,
                    updated_at=stamp,
                )
                session.add(c)
                session.flush()
                add_audience(session, c.id, data.envelope)
                notify(
                    session,
                    denial.originator_org_id,
                    "consultation_request",
                    c.id,
                    {
                        "consultation_id": c.id,
                        "denial_id": denial.id,
                        "denial_reference": denial.reference,
                        "consulting_org_id": principal.org_id,
                        "summary": data.summary,
                        "deadline": deadline.isoformat(),
                        "explanation": why,
                    },
                    related_id=denial.id,
                )
                log_ok(
                    session,
                    principal,
                    action,
                    c.id,
                    {"denial": denial.id, "deadline": why, "marking": c.marking},
                )
                return consultation_json(session, c, today, principal)
        assert problem is not None
        raise self.store.refuse(principal, action, problem[0], problem[1], data.denial_id)

    def _owned(
        self,
        session: Session,
        principal: Principal,
        consultation_id: str,
        *,
        consulted: bool,
    ) -> tuple[Consultation | None, tuple[int, str] | None]:
        c: Consultation | None = self.store.visible(
            session, principal, CONSULTATION, consultation_id
        )
        if c is None:
            return None, (404, f"id: no consultation {consultation_id}")
        party = c.consulted_org_id if consulted else c.originator_org_id
        if party != principal.org_id:
            who = "the consulted organisation" if consulted else "the consulting organisation"
            verb = "replies to" if consulted else "records the outcome of"
            return None, (403, f"id: only {who} {verb} consultation {c.id}")
        return c, None

    def reply(
        self, principal: Principal, consultation_id: str, answer: Reply, text: str
    ) -> dict[str, Any]:
        """The consulted organisation's answer (agree / object): ``open`` → ``answered``."""
        action = "consultation.reply"
        today = self.exchange.today()
        with self.exchange._write() as session:
            c, problem = self._owned(session, principal, consultation_id, consulted=True)
            if c is not None and c.state != ConsultationState.OPEN.value:
                problem = (
                    409,
                    f"state: consultation {c.id} is {c.state}; only an open consultation "
                    "can be replied to",
                )
            if problem is None and c is not None:
                stamp = now()
                c.state = ConsultationState.ANSWERED.value
                c.reply, c.reply_text = answer.value, text
                c.replied_by, c.replied_at, c.updated_at = principal.user_id, stamp, stamp
                notify(
                    session,
                    c.originator_org_id,
                    "consultation_reply",
                    c.id,
                    {
                        "consultation_id": c.id,
                        "denial_id": c.denial_id,
                        "reply": answer.value,
                        "text": text,
                        "late": today > c.deadline,
                    },
                )
                log_ok(
                    session,
                    principal,
                    action,
                    c.id,
                    {"reply": answer.value, "late": today > c.deadline},
                )
                return consultation_json(session, c, today, principal)
        assert problem is not None
        raise self.store.refuse(principal, action, problem[0], problem[1], consultation_id)

    def record_outcome(
        self, principal: Principal, consultation_id: str, outcome: Outcome, text: str
    ) -> dict[str, Any]:
        """The consulting organisation closes the consultation: granted, not granted, withdrawn."""
        action = "consultation.outcome"
        today = self.exchange.today()
        with self.exchange._write() as session:
            c, problem = self._owned(session, principal, consultation_id, consulted=False)
            if c is not None and c.state == ConsultationState.CLOSED.value:
                problem = (
                    409,
                    f"state: consultation {c.id} is closed (outcome {c.outcome}); "
                    "an outcome is recorded once",
                )
            elif (
                c is not None
                and c.state == ConsultationState.OPEN.value
                and outcome is not Outcome.WITHDRAWN
                and today <= c.deadline
            ):
                problem = (
                    409,
                    f"state: consultation {c.id} is open and its deadline {c.deadline} has "
                    "not passed; wait for the reply or the deadline (withdrawn is possible "
                    "at any time)",
                )
            if problem is None and c is not None:
                self.close(session, c, outcome, text)
                log_ok(
                    session,
                    principal,
                    action,
                    c.id,
                    {"outcome": outcome.value, "reply": c.reply},
                )
                return consultation_json(session, c, today, principal)
        assert problem is not None
        raise self.store.refuse(principal, action, problem[0], problem[1], consultation_id)

    @staticmethod
    def close(session: Session, c: Consultation, outcome: Outcome, text: str) -> None:
        stamp = now()
        c.state = ConsultationState.CLOSED.value
        c.outcome, c.outcome_text = outcome.value, text
        c.closed_at, c.updated_at = stamp, stamp
        notify(
            session,
            c.consulted_org_id,
            "consultation_outcome",
            c.id,
            {"consultation_id": c.id, "denial_id": c.denial_id, "outcome": outcome.value},
        )

    def get(self, principal: Principal, consultation_id: str) -> dict[str, Any]:
        return self.store.get(principal, CONSULTATION, consultation_id)

    def change_marking(
        self, principal: Principal, consultation_id: str, marking: Marking
    ) -> dict[str, Any]:
        return self.store.change_marking(principal, CONSULTATION, consultation_id, marking)

    def filters(
        self,
        principal: Principal,
        state: ConsultationState | None = None,
        due_within: int | None = None,
        denial_id: str | None = None,
    ) -> list[ColumnElement[bool]]:
        where: list[ColumnElement[bool]] = []
        if state is not None:
            where.append(Consultation.state == state.value)
        if due_within is not None:
            horizon = self.exchange.today() + dt.timedelta(days=due_within)
            where += [
                Consultation.state == ConsultationState.OPEN.value,
                Consultation.deadline <= horizon,
            ]
        if denial_id is not None:
            # only a denial the caller sees: the filter must not reveal what it refers to
            where.append(
                Consultation.denial_id.in_(
                    select(Denial.id).where(
                        Denial.id == denial_id, visible_filter(principal, DENIALS)
                    )
                )
            )
        return where

    def page(
        self,
        principal: Principal,
        state: ConsultationState | None = None,
        due_within: int | None = None,
        denial_id: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> tuple[int, list[dict[str, Any]]]:
        """Visible consultations; ``due_within`` = open ones due in at most N days or overdue."""
        return self.store.page(
            principal,
            CONSULTATION,
            self.filters(principal, state, due_within, denial_id),
            (Consultation.deadline,),
            limit,
            offset,
        )

    def record_reminders(self, today: dt.date | None = None) -> list[dict[str, Any]]:
        """Record due-soon and overdue reminders, once each; the ones recorded now.

        Due soon (deadline at most ``due_soon_days`` away): to the consulted
        organisation. Overdue (the day after the deadline): to both parties.
        Running it again the same day, or later, records nothing twice.
        """
        today = today or self.exchange.today()
        soon = today + dt.timedelta(days=due_soon_days(today))
        made: list[dict[str, Any]] = []
        with self.exchange._write() as session:
            rows = session.scalars(
                select(Consultation)
                .where(
                    Consultation.state == ConsultationState.OPEN.value,
                    Consultation.deadline <= soon,
                )
                .order_by(Consultation.deadline, Consultation.id)
            ).all()
            for c in rows:
                if today > c.deadline:
                    targets = [("overdue", c.consulted_org_id), ("overdue", c.originator_org_id)]
                else:
                    targets = [("due_soon", c.consulted_org_id)]
                for threshold, org in targets:
                    body = {
                        "consultation_id": c.id,
                        "denial_id": c.denial_id,
                        "deadline": c.deadline.isoformat(),
                        "days_left": (c.deadline - today).days,
                        "threshold": threshold,
                    }
                    kind = f"reminder_{threshold}"
                    nid = notify(session, org, kind, c.id, body)
                    if nid is not None:
                        made.append({"id": nid, "org_id": org, "kind": kind, **body})
            if made:
                log_ok(
                    session,
                    None,
                    "consultation.reminders",
                    None,
                    {"on": today.isoformat(), "notifications": [m["id"] for m in made]},
                )
        return made
