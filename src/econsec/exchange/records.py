"""What every record kind of the exchange shares: audience, reads, markings, notifications.

Consultations, licence decisions and alerts carry the same envelope as a
denial (originator organisation, author, TLP 2.0 marking, optional sharing
group, named recipients for RED, excluded organisations) and are read through
:func:`econsec.exchange.access.visible_filter` with their own
:class:`~econsec.exchange.access.Audience`. Notifications are addressed to one
organisation and marked AMBER+STRICT: only that organisation reads them.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from econsec.exchange import audit
from econsec.exchange.access import Audience, Principal, visible_filter
from econsec.exchange.db import (
    AudienceExclusion,
    AudienceRecipient,
    GroupMember,
    Marking,
    Notification,
    Organisation,
    User,
)
from econsec.exchange.marking import apply_marking, marking_problem
from econsec.exchange.service import Exchange, ExchangeError

#: The marking of every notification: the addressee organisation only.
NOTIFICATION_MARKING = Marking.AMBER_STRICT


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def aware(value: dt.datetime) -> dt.datetime:
    """SQLite hands datetimes back naive; they were stored in UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


@dataclass(frozen=True, slots=True)
class Envelope:
    """Who may see a new record: its marking, group, RED recipients, exclusions."""

    marking: Marking
    sharing_group: int | None = None
    recipients: tuple[int, ...] = ()
    excluded_orgs: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Kind:
    """A record kind: its table, audience columns, and how it is shown."""

    #: Used in audit actions (``consultation.read``) and messages.
    name: str
    #: "consultation", "licence decision" … (404: ``id: no licence decision X``).
    label: str
    model: Any
    audience: Audience
    #: (session, record, today, reader) → JSON; references the reader may not see are null.
    json: Callable[[Session, Any, dt.date, Principal], dict[str, Any]]
    #: Markings a record of this kind may not carry, with the reason.
    forbidden: dict[Marking, str] = field(default_factory=dict)


def sees(session: Session, principal: Principal, kind_audience: Audience, record_id: str) -> bool:
    """Whether ``principal`` may see record ``record_id`` (for references inside records)."""
    found = session.scalar(
        select(kind_audience.id).where(
            kind_audience.id == record_id, visible_filter(principal, kind_audience)
        )
    )
    return found is not None


def envelope_json(record: Any) -> dict[str, Any]:
    return {
        "id": record.id,
        "originator_org_id": record.originator_org_id,
        "marking": record.marking,
        "sharing_group": record.sharing_group_id,
        "created_at": aware(record.created_at).isoformat(),
        "updated_at": aware(record.updated_at).isoformat(),
    }


def check_envelope(
    session: Session,
    principal: Principal,
    env: Envelope,
    kind: Kind,
    protected_orgs: Sequence[int] = (),
) -> str | None:
    """Why the audience of a new record is invalid (``field: why``), or None.

    ``protected_orgs`` may not be excluded (the consulted organisation of a
    consultation: it is a party).
    """
    if env.marking in kind.forbidden:
        return f"marking: {kind.forbidden[env.marking]}"
    if (
        env.sharing_group is not None
        and session.get(GroupMember, (env.sharing_group, principal.org_id)) is None
    ):
        return f"sharing_group: {env.sharing_group} is not a sharing group of your organisation"
    if env.marking is Marking.RED and not env.recipients:
        return "recipients: a RED record needs at least one named recipient"
    if env.recipients and env.marking is not Marking.RED:
        return "recipients: named recipients are only for RED records"
    for i, user_id in enumerate(env.recipients):
        if session.get(User, user_id) is None:
            return f"recipients[{i}]: no user {user_id}"
    for i, org_id in enumerate(env.excluded_orgs):
        if org_id == principal.org_id:
            return f"excluded_orgs[{i}]: an organisation cannot exclude itself"
        if org_id in protected_orgs:
            return f"excluded_orgs[{i}]: organisation {org_id} is a party and cannot be excluded"
        if session.get(Organisation, org_id) is None:
            return f"excluded_orgs[{i}]: no organisation {org_id}"
    return None


def add_audience(session: Session, record_id: str, env: Envelope) -> None:
    session.add_all(
        AudienceRecipient(record_id=record_id, user_id=u) for u in dict.fromkeys(env.recipients)
    )
    session.add_all(
        AudienceExclusion(record_id=record_id, org_id=o) for o in dict.fromkeys(env.excluded_orgs)
    )


def log_ok(
    session: Session,
    principal: Principal | None,
    action: str,
    record_id: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    audit.append(
        session,
        action=action,
        outcome="ok",
        org_id=principal.org_id if principal else None,
        user_id=principal.user_id if principal else None,
        record_id=record_id,
        detail=detail or {},
    )


def new_id() -> str:
    return str(uuid.uuid4())


def notify(
    session: Session,
    org_id: int,
    kind: str,
    record_id: str,
    body: dict[str, Any],
    related_id: str = "",
) -> str | None:
    """Address a notification to ``org_id`` once: the id, or None if it was already sent.

    A savepoint keeps a duplicate (same organisation, kind, record, related
    record) from spoiling the caller's transaction.
    """
    found = session.scalar(
        select(Notification.id).where(
            Notification.org_id == org_id,
            Notification.kind == kind,
            Notification.record_id == record_id,
            Notification.related_id == related_id,
        )
    )
    if found is not None:
        return None
    notification = Notification(
        id=new_id(),
        org_id=org_id,
        kind=kind,
        record_id=record_id,
        related_id=related_id,
        marking=NOTIFICATION_MARKING.value,
        body=json.dumps(body, sort_keys=True, ensure_ascii=False, default=str),
        created_at=now(),
    )
    try:
        with session.begin_nested():
            session.add(notification)
    except IntegrityError:  # recorded by a concurrent writer in between
        return None
    return notification.id


def notification_json(n: Notification) -> dict[str, Any]:
    return {
        "id": n.id,
        "kind": n.kind,
        "record_id": n.record_id,
        "related_id": n.related_id or None,
        "marking": n.marking,
        "body": json.loads(n.body),
        "created_at": aware(n.created_at).isoformat(),
    }


class RecordStore:
    """Reads, lists and marking changes for any :class:`Kind`, always filtered."""

    def __init__(self, exchange: Exchange) -> None:
        self.exchange = exchange

    def refuse(
        self,
        principal: Principal | None,
        action: str,
        status: int,
        message: str,
        record_id: str | None = None,
    ) -> ExchangeError:
        """Audit a refused attempt (in its own transaction) and return the error to raise.

        NUL characters (which PostgreSQL text cannot hold) are escaped in the log.
        """
        logged = message.replace("\x00", "\\x00")
        if record_id is not None and "\x00" in record_id:
            record_id = None
        self.exchange.audit_refusal(principal, action, logged, record_id)
        return ExchangeError(status, message)

    @staticmethod
    def visible(session: Session, principal: Principal, kind: Kind, record_id: str) -> Any:
        """The record if ``principal`` may see it, else None (missing or hidden alike)."""
        if "\x00" in record_id:  # no such id, and PostgreSQL refuses NUL in parameters
            return None
        return session.scalars(
            select(kind.model).where(
                kind.audience.id == record_id, visible_filter(principal, kind.audience)
            )
        ).first()

    def get(self, principal: Principal, kind: Kind, record_id: str) -> dict[str, Any]:
        today = self.exchange.today()
        with self.exchange._read() as session:
            record = self.visible(session, principal, kind, record_id)
            item = None if record is None else kind.json(session, record, today, principal)
        if item is None:
            raise self.refuse(
                principal, f"{kind.name}.read", 404, f"id: no {kind.label} {record_id}", record_id
            )
        self.exchange.audit_reads(principal, f"{kind.name}.read", [item], single=True)
        return item

    def count(
        self, principal: Principal, kind: Kind, where: Sequence[ColumnElement[bool]] = ()
    ) -> int:
        query = (
            select(func.count())
            .select_from(kind.model)
            .where(visible_filter(principal, kind.audience), *where)
        )
        with self.exchange._read() as session:
            return int(session.scalar(query) or 0)

    def page(
        self,
        principal: Principal,
        kind: Kind,
        where: Sequence[ColumnElement[bool]] = (),
        order: Sequence[Any] = (),
        limit: int = 100,
        offset: int = 0,
    ) -> tuple[int, list[dict[str, Any]]]:
        """The number of visible records matching ``where`` and one page of them."""
        today = self.exchange.today()
        query = (
            select(kind.model)
            .where(visible_filter(principal, kind.audience), *where)
            .order_by(*order, kind.audience.id)
            .limit(limit)
            .offset(offset)
        )
        total = self.count(principal, kind, where)
        with self.exchange._read() as session:
            items = [kind.json(session, r, today, principal) for r in session.scalars(query)]
        self.exchange.audit_reads(principal, f"{kind.name}.list", items)
        return total, items

    def change_marking(
        self, principal: Principal, kind: Kind, record_id: str, marking: Marking
    ) -> dict[str, Any]:
        """Raise or lower the marking: the originator organisation only (its consent)."""
        action = f"{kind.name}.marking"
        today = self.exchange.today()
        with self.exchange._write() as session:
            record = self.visible(session, principal, kind, record_id)
            problem = marking_problem(
                session,
                principal,
                record,
                record_id,
                kind.label,
                marking,
                AudienceRecipient,
                kind.forbidden,
            )
            if problem is None and record is not None:
                detail = apply_marking(record, marking, now())
                log_ok(session, principal, action, record_id, detail)
                return dict(kind.json(session, record, today, principal))
        assert problem is not None
        raise self.refuse(principal, action, problem[0], problem[1], record_id)

    def notifications(
        self,
        principal: Principal,
        kind: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> tuple[int, list[dict[str, Any]]]:
        """The notifications addressed to the caller's organisation, newest first."""
        where: list[ColumnElement[bool]] = [Notification.org_id == principal.org_id]
        if kind:
            where.append(Notification.kind == kind)
        with self.exchange._read() as session:
            total = int(
                session.scalar(select(func.count()).select_from(Notification).where(*where)) or 0
            )
            rows = session.scalars(
                select(Notification)
                .where(*where)
                .order_by(Notification.created_at.desc(), Notification.id)
                .limit(limit)
                .offset(offset)
            )
            items = [notification_json(n) for n in rows]
        self.exchange.audit_reads(principal, "notification.list", items)
        return total, items
