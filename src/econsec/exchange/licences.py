"""Licence decisions and the "essentially identical" check.

An officer drafts an approval (item, control entries, destination, consignee,
end user). The check finds the denials in force that the drafter may see
(:func:`~econsec.exchange.access.visible_filter`: a denial the drafter cannot
see cannot block, or the block would reveal it) with an overlapping control
entry (the same entry, or one a parent of the other: ``3A090`` and
``3A090.a``), the same destination, and the consignee or end user the same
party by name (the screening module's ``name-v1`` comparison, threshold from
dated rule data). A partner's denial blocks issuing until a consultation of
the drafter's organisation about it was answered or its deadline passed;
the drafter's own organisation's denials are shown as warnings. Issuing
despite a partner's denial ("undercut") notifies the denying organisation
with the explanation (``undercut``) and, as Art. 16(5) of Regulation
2021/821 asks ("it shall inform the competent authorities of the other Member
States and the Commission"), every other organisation entitled to see that
denial (``undercut_information``); organisations that may not see the denial
are not told, since the notice would reveal it.

A draft can also end in a **refusal** (itself a denial: Art. 16(2)-(3) of
Regulation 2021/821 has member states notify their denials to the other
member states and the Commission — verify the paragraph numbering against the
consolidated text) or be **withdrawn**. Refusing creates, in the same
transaction, a denial notification with the draft's item, control entries,
parties and destination (and by default its marking and audience), links the
two (``refusal_denial_id``) and closes the consultations the draft opened as
``not_granted``; withdrawing closes them as ``withdrawn``.

What a reader is told about the check (``matches``, ``warnings``,
``blocked``, the consultation of each match) is computed from the records
that reader may see and nothing else: a denial or consultation hidden from it
changes nothing in its view (tested by adding and removing hidden records in
``tests/exchange/test_access_all.py``). The drafting organisation sees every
consultation it opened, so its ``blocked`` is the one the issue check applies;
a partner's ``blocked`` says whether the denials and consultations *it* sees
block the draft, and can differ from the drafter's.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.orm import Session

from econsec.exchange.access import CONSULTATIONS, DENIALS, LICENCES, Principal, visible_filter
from econsec.exchange.consultations import Consultations, clears
from econsec.exchange.db import (
    AudienceExclusion,
    AudienceRecipient,
    Consultation,
    ConsultationState,
    Denial,
    LicenceDecision,
    LicenceMatch,
    LicenceStatus,
    Marking,
    Organisation,
    Outcome,
    ReviewStatus,
)
from econsec.exchange.record_rules import name_threshold, undercut_rule
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
from econsec.exchange.rules import expiry
from econsec.exchange.service import DenialInput, Exchange
from econsec.rules.dated import DatedError
from econsec.screening.screen import ScreeningError, compare


@dataclass(frozen=True, slots=True)
class LicenceInput:
    reference: str
    item: str
    control_entries: tuple[str, ...]
    destination: str
    consignee: str
    end_user: str
    envelope: Envelope


@dataclass(frozen=True, slots=True)
class RefusalInput:
    """Why a draft is refused, and who is to see the denial notification it becomes.

    ``envelope`` None: the notification gets the draft's own marking, sharing
    group, RED recipients and exclusions. ``decision_date`` None: today.
    """

    reason: str
    criterion: str = ""
    decision_date: dt.date | None = None
    envelope: Envelope | None = None


#: Markings under which a denial notification reaches no other organisation.
NATIONAL_ONLY = frozenset({Marking.AMBER_STRICT, Marking.RED})


@dataclass(frozen=True, slots=True)
class Found:
    """A denial the check matched, with why."""

    denial: Denial
    score: float
    fields: dict[str, Any]
    own: bool


def entries_overlap(a: str, b: str) -> bool:
    """Same entry, or one a parent of the other (``3A090`` ⊇ ``3A090.a`` ⊇ ``3A090.a.1``)."""
    a, b = a.strip(), b.strip()
    return a == b or a.startswith(b + ".") or b.startswith(a + ".")


@lru_cache(maxsize=4096)
def name_score(a: str, b: str) -> tuple[float, str]:
    """The ``name-v1`` score of two party names (0 when one has no letters), and why."""
    try:
        match = compare(a, b)
    except ScreeningError:
        return 0.0, "no comparable name"
    return round(match.score, 4), match.features[0].detail if match.features else ""


def compare_parties(
    licence: LicenceDecision, denial: Denial, threshold: float
) -> tuple[float, list[dict[str, Any]]]:
    """Best score over the parties of both (a consignee may be the other's end user)."""
    pairs: list[dict[str, Any]] = []
    for lf, lname in (("consignee", licence.consignee), ("end_user", licence.end_user)):
        for df, dname in (("consignee", denial.consignee), ("end_user", denial.end_user)):
            score, why = name_score(lname, dname)
            pairs.append(
                {
                    "licence_field": lf,
                    "denial_field": df,
                    "licence_name": lname,
                    "denial_name": dname,
                    "score": score,
                    "matched": score >= threshold,
                    "detail": why,
                }
            )
    best = max(float(p["score"]) for p in pairs)
    return best, [p for p in pairs if p["matched"]]


def essentially_identical(
    session: Session, principal: Principal, licence: LicenceDecision, today: dt.date
) -> list[Found]:
    """The denials in force, visible to ``principal``, essentially identical to ``licence``."""
    rule = name_threshold(today)
    threshold = rule.number("name_threshold")
    candidates = session.scalars(
        select(Denial)
        .where(
            visible_filter(principal, DENIALS),
            Denial.destination == licence.destination,
            Denial.review_status != ReviewStatus.REVOKED.value,
            Denial.expires_on >= today,
        )
        .order_by(Denial.decision_date.desc(), Denial.id)
    ).all()
    wanted = licence.control_entries.split()
    found = []
    for denial in candidates:
        entries = [
            {"licence": a, "denial": b}
            for a in wanted
            for b in denial.control_entries.split()
            if entries_overlap(a, b)
        ]
        if not entries:
            continue
        score, names = compare_parties(licence, denial, threshold)
        if not names:
            continue
        found.append(
            Found(
                denial,
                score,
                {
                    "control_entries": entries,
                    "destination": denial.destination,
                    "names": names,
                    "threshold": threshold,
                    "rule": rule.source(),
                },
                denial.originator_org_id == principal.org_id,
            )
        )
    return found


def _consultation_state(
    session: Session, reader: Principal, org_id: int, denial_id: str, today: dt.date
) -> tuple[Consultation | None, bool]:
    """The organisation's latest consultation about the denial, and whether it clears it.

    Only consultations ``reader`` may see count: one hidden from it must not
    change what it is told (for the drafting organisation, which sees all the
    consultations it opened, this is all of them).
    """
    rows = session.scalars(
        select(Consultation)
        .where(
            Consultation.originator_org_id == org_id,
            Consultation.denial_id == denial_id,
            visible_filter(reader, CONSULTATIONS),
        )
        .order_by(Consultation.created_at.desc(), Consultation.id)
    ).all()
    for c in rows:
        if clears(c, today):
            return c, True
    return (rows[0] if rows else None), False


def _match_json(
    session: Session,
    reader: Principal,
    licence: LicenceDecision,
    denial: Denial,
    score: float,
    fields: dict[str, Any],
    own: bool,
    today: dt.date,
) -> dict[str, Any]:
    consultation, cleared = (
        (None, True)
        if own
        else _consultation_state(session, reader, licence.originator_org_id, denial.id, today)
    )
    return {
        "denial_id": denial.id,
        "denial_reference": denial.reference,
        "denial_org_id": denial.originator_org_id,
        "score": score,
        "fields": fields,
        "own_organisation": own,
        "blocking": not own and not cleared,
        "consultation": None
        if consultation is None
        else {
            "id": consultation.id,
            "state": consultation.state,
            "deadline": consultation.deadline.isoformat(),
            "reply": consultation.reply,
            "outcome": consultation.outcome,
        },
    }


def licence_json(
    session: Session, lic: LicenceDecision, today: dt.date, reader: Principal
) -> dict[str, Any]:
    """A licence decision with the matches of its last check that ``reader`` may see."""
    rows = session.execute(
        select(LicenceMatch, Denial)
        .join(Denial, Denial.id == LicenceMatch.denial_id)
        .where(LicenceMatch.licence_id == lic.id, visible_filter(reader, DENIALS))
        .order_by(LicenceMatch.score.desc(), Denial.id)
    ).all()
    matches = [
        _match_json(session, reader, lic, d, m.score, json.loads(m.fields), m.own, today)
        for m, d in rows
    ]
    refusal = lic.refusal_denial_id
    if refusal is not None and not sees(session, reader, DENIALS, refusal):
        refusal = None  # the notification's audience may be narrower than the draft's
    return {
        **envelope_json(lic),
        "kind": "licence_decision",
        "reference": lic.reference,
        "item": lic.item,
        "control_entries": lic.control_entries.split(),
        "destination": lic.destination,
        "consignee": lic.consignee,
        "end_user": lic.end_user,
        "status": lic.status,
        "reasons": lic.reasons,
        "issued_on": lic.issued_on.isoformat() if lic.issued_on else None,
        "criterion": lic.criterion,
        "closed_on": lic.closed_on.isoformat() if lic.closed_on else None,
        "refusal_denial_id": refusal,
        "matches": [m for m in matches if not m["own_organisation"]],
        "warnings": [m for m in matches if m["own_organisation"]],
        # only a draft can be blocked; computed from what this reader may see
        "blocked": lic.status == LicenceStatus.DRAFT.value and any(m["blocking"] for m in matches),
    }


LICENCE = Kind(
    name="licence",
    label="licence decision",
    model=LicenceDecision,
    audience=LICENCES,
    json=licence_json,
)


def _store_matches(session: Session, licence_id: str, found: list[Found]) -> None:
    session.execute(delete(LicenceMatch).where(LicenceMatch.licence_id == licence_id))
    session.add_all(
        LicenceMatch(
            licence_id=licence_id,
            denial_id=f.denial.id,
            score=f.score,
            fields=json.dumps(f.fields, sort_keys=True, ensure_ascii=False),
            own=f.own,
        )
        for f in found
    )


def _why_blocked(m: dict[str, Any]) -> str:
    names = "; ".join(
        f"{n['licence_field']} {n['licence_name']!r} ~ {n['denial_field']} "
        f"{n['denial_name']!r} {n['score']:.2f}"
        for n in m["fields"]["names"]
    )
    entries = ", ".join(f"{e['licence']}~{e['denial']}" for e in m["fields"]["control_entries"])
    c = m["consultation"]
    if c is None:
        state = "no consultation opened"
    else:
        state = f"consultation {c['id']} is {c['state']}"
        state += f" (deadline {c['deadline']})" if c["state"] == "open" else ""
        state += f", outcome {c['outcome']}" if c["outcome"] else ""
    return (
        f"denial {m['denial_id']} ({m['denial_reference']}, organisation {m['denial_org_id']}): "
        f"control entries {entries}, destination {m['fields']['destination']}, {names}; {state}"
    )


class Licences:
    """Drafting and issuing licence decisions under the essentially-identical check."""

    def __init__(self, exchange: Exchange) -> None:
        self.exchange = exchange
        self.store = RecordStore(exchange)

    def draft(self, principal: Principal, data: LicenceInput) -> dict[str, Any]:
        action = "licence.create"
        today = self.exchange.today()
        with self.exchange._write() as session:
            message = check_envelope(session, principal, data.envelope, LICENCE)
            if message is None:
                stamp = now()
                lic = LicenceDecision(
                    id=new_id(),
                    originator_org_id=principal.org_id,
                    author_user_id=principal.user_id,
                    marking=data.envelope.marking.value,
                    sharing_group_id=data.envelope.sharing_group,
                    reference=data.reference,
                    item=data.item,
                    control_entries=" ".join(data.control_entries),
                    destination=data.destination,
                    consignee=data.consignee,
                    end_user=data.end_user,
                    status=LicenceStatus.DRAFT.value,
                    created_at=stamp,
                    updated_at=stamp,
                )
                session.add(lic)
                session.flush()
                add_audience(session, lic.id, data.envelope)
                found = essentially_identical(session, principal, lic, today)
                _store_matches(session, lic.id, found)
                session.flush()
                log_ok(
                    session,
                    principal,
                    action,
                    lic.id,
                    {
                        "marking": lic.marking,
                        "matches": [
                            {"denial": f.denial.id, "score": f.score, "own": f.own} for f in found
                        ],
                    },
                )
                return licence_json(session, lic, today, principal)
        raise self.store.refuse(principal, action, 422, message)

    def recheck(self, principal: Principal, licence_id: str) -> dict[str, Any]:
        """Run the check again on a draft (denials notified since) and store its matches."""
        action = "licence.check"
        today = self.exchange.today()
        problem: tuple[int, str] | None = None
        with self.exchange._write() as session:
            lic: LicenceDecision | None = self.store.visible(
                session, principal, LICENCE, licence_id
            )
            if lic is None:
                problem = (404, f"id: no licence decision {licence_id}")
            elif lic.originator_org_id != principal.org_id:
                problem = (403, "id: only the drafting organisation checks its licence decision")
            elif lic.status != LicenceStatus.DRAFT.value:
                problem = (409, f"status: licence decision {lic.id} is already {lic.status}")
            if problem is None and lic is not None:
                found = essentially_identical(session, principal, lic, today)
                _store_matches(session, lic.id, found)
                lic.updated_at = now()
                session.flush()
                log_ok(
                    session,
                    principal,
                    action,
                    lic.id,
                    {"matches": [{"denial": f.denial.id, "score": f.score} for f in found]},
                )
                return licence_json(session, lic, today, principal)
        assert problem is not None
        raise self.store.refuse(principal, action, problem[0], problem[1], licence_id)

    def issue(self, principal: Principal, licence_id: str, reasons: str) -> dict[str, Any]:
        """Issue the licence if no partner's denial still blocks it; notify undercuts."""
        action = "licence.issue"
        today = self.exchange.today()
        problem: tuple[int, str] | None = None
        with self.exchange._write() as session:
            lic: LicenceDecision | None = self.store.visible(
                session, principal, LICENCE, licence_id
            )
            if lic is None:
                problem = (404, f"id: no licence decision {licence_id}")
            elif lic.originator_org_id != principal.org_id:
                problem = (403, "id: only the drafting organisation issues its licence decision")
            elif lic.status != LicenceStatus.DRAFT.value:
                problem = (409, f"status: licence decision {lic.id} is already {lic.status}")
            if problem is None and lic is not None:
                found = essentially_identical(session, principal, lic, today)
                matches = [
                    _match_json(session, principal, lic, f.denial, f.score, f.fields, f.own, today)
                    for f in found
                ]
                blocking = [m for m in matches if m["blocking"]]
                partners = [m for m in matches if not m["own_organisation"]]
                if blocking:
                    problem = (
                        409,
                        f"licence: blocked by {len(blocking)} essentially identical partner "
                        "denial(s) until a consultation about each is answered or its deadline "
                        "has passed: " + " | ".join(_why_blocked(m) for m in blocking),
                    )
                elif partners and not reasons.strip():
                    problem = (
                        422,
                        "reasons: state why the licence is granted despite the partner "
                        "denial(s) " + ", ".join(m["denial_id"] for m in partners),
                    )
            if problem is None and lic is not None:
                lic.status = LicenceStatus.ISSUED.value
                lic.reasons = reasons
                lic.issued_on = today
                lic.updated_at = now()
                _store_matches(session, lic.id, found)
                rule = undercut_rule(today)
                notified = []
                for f in found:
                    if f.own:
                        continue
                    c = self._settle(session, principal, lic, f.denial.id, today)
                    body = {
                        "licence_id": lic.id,
                        "licence_reference": lic.reference,
                        "approving_org_id": principal.org_id,
                        "issued_on": today.isoformat(),
                        "denial_id": f.denial.id,
                        "denial_reference": f.denial.reference,
                        "score": f.score,
                        "fields": f.fields,
                        "consultation": None
                        if c is None
                        else {
                            "id": c.id,
                            "reply": c.reply,
                            "reply_text": c.reply_text,
                            "outcome": c.outcome,
                            "deadline": c.deadline.isoformat(),
                        },
                        "reasons": reasons,
                        "explanation": (
                            f"licence {lic.reference} granted on {today} for a transaction "
                            f"essentially identical to your denial {f.denial.reference}; "
                            + (
                                "no consultation"
                                if c is None
                                else f"consultation {c.id}: reply {c.reply or 'none'}, "
                                f"outcome {c.outcome}"
                            )
                            + f"; reasons given: {reasons}"
                        ),
                        "rule": rule.source(),
                        "notify_within_days": rule.whole("notify_within_days"),
                    }
                    notify(
                        session, f.denial.originator_org_id, "undercut", lic.id, body, f.denial.id
                    )
                    notified.append({"org": f.denial.originator_org_id, "denial": f.denial.id})
                    for org in _entitled_to(session, f.denial, principal.org_id):
                        notify(session, org, "undercut_information", lic.id, body, f.denial.id)
                        notified.append({"org": org, "denial": f.denial.id, "informed": True})
                log_ok(
                    session,
                    principal,
                    action,
                    lic.id,
                    {
                        "undercut": notified,
                        "warnings": [f.denial.id for f in found if f.own],
                        "scores": {f.denial.id: f.score for f in found},
                    },
                )
                session.flush()
                return licence_json(session, lic, today, principal)
        assert problem is not None
        raise self.store.refuse(principal, action, problem[0], problem[1], licence_id)

    @staticmethod
    def _settle(
        session: Session,
        principal: Principal,
        lic: LicenceDecision,
        denial_id: str,
        today: dt.date,
    ) -> Consultation | None:
        """The consultation that cleared the denial, closed as ``granted`` if still pending."""
        c, _cleared = _consultation_state(session, principal, principal.org_id, denial_id, today)
        if c is not None and c.outcome is None:
            _close_for(
                session, principal, c, lic, Outcome.GRANTED, f"licence {lic.reference} issued"
            )
        return c

    def _draft_of(
        self, session: Session, principal: Principal, licence_id: str, verb: str, done: str
    ) -> tuple[LicenceDecision | None, tuple[int, str] | None]:
        """The caller's organisation's draft, or why it may not ``verb`` it (404/403/409)."""
        lic: LicenceDecision | None = self.store.visible(session, principal, LICENCE, licence_id)
        if lic is None:
            return None, (404, f"id: no licence decision {licence_id}")
        if lic.originator_org_id != principal.org_id:
            return None, (403, f"id: only the drafting organisation {verb} its licence decision")
        if lic.status != LicenceStatus.DRAFT.value:
            return None, (
                409,
                f"status: licence decision {lic.id} is already {lic.status}; "
                f"only a draft can be {done}",
            )
        return lic, None

    def refuse(self, principal: Principal, licence_id: str, data: RefusalInput) -> dict[str, Any]:
        """Refuse a draft: it becomes a denial notification, and its consultations close.

        In one transaction: the draft turns ``refused``; a denial with its item,
        control entries, parties and destination is notified under the draft's
        audience (or ``data.envelope``), decided on ``data.decision_date``
        (today by default) and in force for the review period; the two are
        linked; the consultations the draft opened are closed ``not_granted``
        (which tells each consulted organisation). A draft marked AMBER+STRICT
        or RED would make a notification that reaches no other organisation:
        the caller must then choose the notification's marking explicitly.
        """
        action = "licence.refuse"
        today = self.exchange.today()
        with self.exchange._write() as session:
            lic, problem = self._draft_of(session, principal, licence_id, "refuses", "refused")
            decided = data.decision_date or today
            env: Envelope | None = None
            if problem is None and lic is not None:
                env = data.envelope or _licence_envelope(session, lic)
                problem = _refusal_problem(session, principal, lic, data, env, decided, today)
            if problem is None and lic is not None and env is not None:
                # the check first: the refusal's own notification is not one of its matches
                found = essentially_identical(session, principal, lic, today)
                _store_matches(session, lic.id, found)
                denial, why = _notify_refusal(session, principal, lic, data, env, decided)
                lic.status = LicenceStatus.REFUSED.value
                lic.reasons = data.reason.strip()
                lic.criterion = data.criterion.strip() or None
                lic.closed_on = decided
                lic.refusal_denial_id = denial.id
                lic.updated_at = now()
                closed = _close_consultations(
                    session,
                    principal,
                    lic,
                    found,
                    Outcome.NOT_GRANTED,
                    f"the licence was refused on {decided}",
                )
                session.flush()
                log_ok(
                    session,
                    principal,
                    action,
                    lic.id,
                    {
                        "denial": denial.id,
                        "marking": denial.marking,
                        "expiry": why,
                        "criterion": data.criterion,
                        "decision_date": decided.isoformat(),
                        "consultations_closed": closed,
                    },
                )
                return licence_json(session, lic, today, principal)
        assert problem is not None
        raise self.store.refuse(principal, action, problem[0], problem[1], licence_id)

    def withdraw(self, principal: Principal, licence_id: str, text: str = "") -> dict[str, Any]:
        """Withdraw a draft (no decision, nothing notified); its consultations close withdrawn."""
        action = "licence.withdraw"
        today = self.exchange.today()
        with self.exchange._write() as session:
            lic, problem = self._draft_of(session, principal, licence_id, "withdraws", "withdrawn")
            if problem is None and lic is not None:
                lic.status = LicenceStatus.WITHDRAWN.value
                lic.reasons = text or None
                lic.closed_on = today
                lic.updated_at = now()
                found = [
                    Found(d, m.score, {}, m.own)
                    for m, d in session.execute(
                        select(LicenceMatch, Denial)
                        .join(Denial, Denial.id == LicenceMatch.denial_id)
                        .where(LicenceMatch.licence_id == lic.id)
                    ).all()
                ]
                closed = _close_consultations(
                    session,
                    principal,
                    lic,
                    found,
                    Outcome.WITHDRAWN,
                    f"the licence application was withdrawn on {today}",
                )
                session.flush()
                log_ok(
                    session,
                    principal,
                    action,
                    lic.id,
                    {"text": text, "consultations_closed": closed},
                )
                return licence_json(session, lic, today, principal)
        assert problem is not None
        raise self.store.refuse(principal, action, problem[0], problem[1], licence_id)

    def get(self, principal: Principal, licence_id: str) -> dict[str, Any]:
        return self.store.get(principal, LICENCE, licence_id)

    def page(
        self,
        principal: Principal,
        status: LicenceStatus | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> tuple[int, list[dict[str, Any]]]:
        where: list[ColumnElement[bool]] = []
        if status is not None:
            where.append(LicenceDecision.status == status.value)
        return self.store.page(
            principal, LICENCE, where, (LicenceDecision.created_at.desc(),), limit, offset
        )

    def change_marking(
        self, principal: Principal, licence_id: str, marking: Marking
    ) -> dict[str, Any]:
        return self.store.change_marking(principal, LICENCE, licence_id, marking)


def _entitled_to(session: Session, d: Denial, approving_org: int) -> list[int]:
    """Other organisations that may see denial ``d`` as an organisation (not as a named user).

    Decided by the same :func:`visible_filter`, for a principal standing for the
    whole organisation (no user, so a RED denial reaches no one beyond its
    named recipients' own view, and none of them is told here).
    """
    orgs = session.scalars(
        select(Organisation.id).where(Organisation.id.not_in([approving_org, d.originator_org_id]))
    ).all()
    out = []
    for org in orgs:
        whole = Principal(user_id=-1, org_id=org, role="officer", scopes=frozenset())
        seen = session.scalar(
            select(Denial.id).where(Denial.id == d.id, visible_filter(whole, DENIALS))
        )
        if seen is not None:
            out.append(org)
    return out


def _licence_envelope(session: Session, lic: LicenceDecision) -> Envelope:
    """The draft's own audience: marking, group, RED recipients, exclusions."""
    recipients = session.scalars(
        select(AudienceRecipient.user_id)
        .where(AudienceRecipient.record_id == lic.id)
        .order_by(AudienceRecipient.user_id)
    ).all()
    excluded = session.scalars(
        select(AudienceExclusion.org_id)
        .where(AudienceExclusion.record_id == lic.id)
        .order_by(AudienceExclusion.org_id)
    ).all()
    return Envelope(Marking(lic.marking), lic.sharing_group_id, tuple(recipients), tuple(excluded))


def _refusal_problem(
    session: Session,
    principal: Principal,
    lic: LicenceDecision,
    data: RefusalInput,
    env: Envelope,
    decided: dt.date,
    today: dt.date,
) -> tuple[int, str] | None:
    """Why the refusal cannot be recorded as asked (422), or None."""
    if not data.reason.strip():
        return 422, "reason: state why the licence is refused (it is notified as the denial reason)"
    if decided > today:
        return 422, f"decision_date: {decided} is after today ({today})"
    try:
        expiry(decided)
    except DatedError:
        return 422, f"decision_date: no denial review rule is in force on {decided}"
    if data.envelope is None and env.marking in NATIONAL_ONLY:
        return (
            422,
            f"marking: the draft is {env.marking.value}, so its refusal's denial notification "
            "would reach no other organisation (Regulation (EU) 2021/821, Art. 16(2)-(3): "
            "denials are notified to the other member states and the Commission); give the "
            f"notification's marking explicitly ({env.marking.value} to keep it national)",
        )
    message = check_envelope(session, principal, env, LICENCE)  # no marking is forbidden
    return None if message is None else (422, message)


def _notify_refusal(
    session: Session,
    principal: Principal,
    lic: LicenceDecision,
    data: RefusalInput,
    env: Envelope,
    decided: dt.date,
) -> tuple[Denial, str]:
    """Create the refusal's denial notification in the caller's transaction (audited).

    ``Exchange.create_denial`` opens its own transaction, and the refusal must
    be one unit with it: the same rows are written by ``Exchange.add_denial``.
    """
    criterion, reason = data.criterion.strip(), data.reason.strip()
    if criterion:
        reason = f"{criterion}: {reason}"
    return Exchange.add_denial(
        session,
        principal,
        DenialInput(
            reference=lic.reference,
            decision_date=decided,
            control_entries=tuple(lic.control_entries.split()),
            item=lic.item,
            consignee=lic.consignee,
            end_user=lic.end_user,
            destination=lic.destination,
            reason=reason,
            marking=env.marking,
            sharing_group=env.sharing_group,
            recipients=tuple(env.recipients),
            excluded_orgs=tuple(env.excluded_orgs),
        ),
        {"refusal_of": lic.id},
    )


def _close_consultations(
    session: Session,
    principal: Principal,
    lic: LicenceDecision,
    found: list[Found],
    outcome: Outcome,
    text: str,
) -> list[str]:
    """Close the pending consultations the draft opened; their ids.

    Those naming the draft, and those of the drafting organisation about a
    partner denial the draft matched that name no licence (an organisation
    has at most one pending consultation per denial; issuing settles the same
    ones as ``granted``). Each consulted organisation is told the outcome.
    """
    partner_denials = [f.denial.id for f in found if not f.own]
    pending = (ConsultationState.OPEN.value, ConsultationState.ANSWERED.value)
    rows = session.scalars(
        select(Consultation)
        .where(
            Consultation.originator_org_id == lic.originator_org_id,
            Consultation.state.in_(pending),
            (Consultation.licence_id == lic.id)
            | (Consultation.licence_id.is_(None) & Consultation.denial_id.in_(partner_denials)),
        )
        .order_by(Consultation.created_at, Consultation.id)
    ).all()
    for c in rows:
        _close_for(session, principal, c, lic, outcome, text)
    return [c.id for c in rows]


def _close_for(
    session: Session,
    principal: Principal,
    c: Consultation,
    lic: LicenceDecision,
    outcome: Outcome,
    text: str,
) -> None:
    """Close ``c`` with ``outcome`` because of what happened to ``lic`` (audited)."""
    Consultations.close(session, c, outcome, text)
    if c.licence_id is None:
        c.licence_id = lic.id
    log_ok(
        session,
        principal,
        "consultation.outcome",
        c.id,
        {"outcome": outcome.value, "licence": lic.id, "automatic": True},
    )
