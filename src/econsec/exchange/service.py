"""The exchange's business logic: partners, tokens and denial notifications.

Every read goes through :func:`econsec.exchange.access.visible_filter`; every
write, every refused attempt and every read of an AMBER/AMBER+STRICT/RED record
is written to the audit log. A refused write leaves nothing behind but its
audit entry.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Executable, Row, bindparam, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from econsec.exchange import audit
from econsec.exchange.access import DENIALS, Principal, viewer, visible_clause, visible_filter
from econsec.exchange.db import (
    ROLE_SCOPES,
    ApiToken,
    AuditEntry,
    Denial,
    GroupMember,
    Marking,
    Organisation,
    RecordExclusion,
    RecordRecipient,
    ReviewStatus,
    Role,
    Scope,
    SharingGroup,
    User,
    database_url,
    make_engine,
    migrate,
    reader,
    writer,
)
from econsec.exchange.marking import apply_marking, marking_problem
from econsec.exchange.rules import expiry, review_rule
from econsec.rules.dated import DatedError

#: Reads of records with these markings are audited.
AUDITED_READS = frozenset({Marking.AMBER, Marking.AMBER_STRICT, Marking.RED})


class ExchangeError(Exception):
    """A refused request; ``status`` is the HTTP status the API answers with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True, slots=True)
class DenialInput:
    """A validated denial notification as submitted (see api schema DenialIn)."""

    reference: str
    decision_date: dt.date
    control_entries: tuple[str, ...]
    item: str
    consignee: str
    end_user: str
    destination: str
    reason: str
    marking: Marking
    sharing_group: int | None = None
    recipients: tuple[int, ...] = ()
    excluded_orgs: tuple[int, ...] = ()


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _aware(value: dt.datetime) -> dt.datetime:
    """SQLite hands datetimes back naive; they were stored in UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


class Exchange:
    """One exchange database (SQLite by default) and the operations on it."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._writes = sessionmaker(writer(engine), expire_on_commit=False)
        self._reads = sessionmaker(reader(engine), expire_on_commit=False)
        # Core connections for the hot paths (authentication, denial reads): no
        # ORM session or unit of work, prebuilt statements (see _HOT below).
        self._read_engine = reader(engine)
        self._write_engine = writer(engine)
        # SQLite has one writer at a time anyway: threads queue on this lock rather
        # than poll the busy timeout. PostgreSQL writers run concurrently; the audit
        # chain serialises its appends itself (audit.append).
        self._write_lock: AbstractContextManager[Any] = (
            threading.Lock() if engine.dialect.name == "sqlite" else nullcontext()
        )

    @classmethod
    def open(cls, path: Path) -> Exchange:
        """Open (creating and migrating if needed) the SQLite exchange at ``path``."""
        path.parent.mkdir(parents=True, exist_ok=True)
        return cls.connect(database_url(path))

    @classmethod
    def connect(cls, url: str, *, pool_size: int = 10, upgrade: bool = True) -> Exchange:
        """Open the exchange at an SQLAlchemy ``url``, migrating it unless ``upgrade`` is false.

        ``sqlite:///PATH`` (embedded) or ``postgresql+psycopg://USER@HOST:PORT/DB``
        (shared server; ``pool_size`` connections per process).
        """
        engine = make_engine(url, pool_size=pool_size)
        if upgrade:
            migrate(engine)
        return cls(engine)

    @contextmanager
    def _write(self) -> Iterator[Session]:
        with self._write_lock, self._writes.begin() as session:
            yield session

    @contextmanager
    def _read(self) -> Iterator[Session]:
        with self._reads() as session:
            yield session

    @contextmanager
    def _read_connection(self) -> Iterator[Connection]:
        """A Core connection for reads (autocommit on PostgreSQL)."""
        with self._read_engine.connect() as connection:
            yield connection

    @contextmanager
    def _audit_connection(self) -> Iterator[Connection]:
        """A connection for an audit entry on its own (an audited read).

        PostgreSQL appends in one autocommit statement (audit.append_to); SQLite
        needs a write transaction.
        """
        if self.engine.dialect.name == "postgresql":
            with self._read_connection() as connection:
                yield connection
        else:
            with self._write_connection() as connection:
                yield connection

    @contextmanager
    def _write_connection(self) -> Iterator[Connection]:
        """A Core connection in a write transaction, committed when the block ends."""
        with self._write_lock, self._write_engine.begin() as connection:
            yield connection

    def today(self) -> dt.date:
        """The exchange's current day (UTC): deadlines and "in force" are judged on it."""
        return _now().date()

    def audit_refusal(
        self,
        principal: Principal | None,
        action: str,
        message: str,
        record_id: str | None = None,
    ) -> None:
        """Record a refused attempt in its own transaction (nothing else is written)."""
        with self._write() as session:
            audit.append(
                session,
                action=action,
                outcome="refused",
                org_id=principal.org_id if principal else None,
                user_id=principal.user_id if principal else None,
                record_id=record_id,
                detail={"reason": message},
            )

    def _refuse(
        self,
        principal: Principal | None,
        action: str,
        status: int,
        message: str,
        record_id: str | None = None,
    ) -> ExchangeError:
        self.audit_refusal(principal, action, message, record_id)
        return ExchangeError(status, message)

    # -- administration (CLI) ---------------------------------------------------------

    def add_organisation(self, name: str, country: str) -> int:
        if len(country) != 2 or not country.isalpha() or not country.isupper():
            raise ExchangeError(422, f"country: {country!r} is not an ISO 3166 alpha-2 code")
        with self._write() as session:
            if session.scalar(select(Organisation.id).where(Organisation.name == name)):
                raise ExchangeError(409, f"name: organisation {name!r} already exists")
            org = Organisation(name=name, country=country)
            session.add(org)
            session.flush()
            audit.append(
                session,
                action="org.create",
                outcome="ok",
                org_id=org.id,
                detail={"name": name, "country": country},
            )
            return org.id

    def add_user(self, org_id: int, name: str, role: Role) -> int:
        with self._write() as session:
            if session.get(Organisation, org_id) is None:
                raise ExchangeError(404, f"org_id: no organisation {org_id}")
            if session.scalar(select(User.id).where(User.name == name)):
                raise ExchangeError(409, f"name: user {name!r} already exists")
            user = User(org_id=org_id, name=name, role=role.value)
            session.add(user)
            session.flush()
            audit.append(
                session,
                action="user.create",
                outcome="ok",
                org_id=org_id,
                user_id=user.id,
                detail={"name": name, "role": role.value},
            )
            return user.id

    def add_group(self, name: str, org_ids: Sequence[int]) -> int:
        with self._write() as session:
            for org_id in org_ids:
                if session.get(Organisation, org_id) is None:
                    raise ExchangeError(404, f"org_id: no organisation {org_id}")
            group = SharingGroup(name=name)
            session.add(group)
            session.flush()
            session.add_all(GroupMember(group_id=group.id, org_id=o) for o in set(org_ids))
            audit.append(
                session,
                action="group.create",
                outcome="ok",
                detail={"group": group.id, "name": name, "orgs": sorted(set(org_ids))},
            )
            return group.id

    def issue_token(
        self, user_id: int, scopes: Sequence[Scope] | None = None, days: int = 90
    ) -> str:
        """A new API token for ``user_id``; only its sha256 is stored."""
        with self._write() as session:
            user = session.get(User, user_id)
            if user is None:
                raise ExchangeError(404, f"user_id: no user {user_id}")
            allowed = ROLE_SCOPES[Role(user.role)]
            wanted = frozenset(scopes) if scopes is not None else allowed
            extra = sorted(s.value for s in wanted - allowed)
            if extra:
                raise ExchangeError(
                    422, f"scopes: role {user.role} may not hold {', '.join(extra)}"
                )
            token = "ecx_" + secrets.token_urlsafe(32)
            now = _now()
            session.add(
                ApiToken(
                    user_id=user_id,
                    token_hash=hash_token(token),
                    scopes=" ".join(sorted(s.value for s in wanted)),
                    created_at=now,
                    expires_at=now + dt.timedelta(days=days),
                    revoked=0,
                )
            )
            audit.append(
                session,
                action="token.issue",
                outcome="ok",
                org_id=user.org_id,
                user_id=user_id,
                detail={"scopes": sorted(s.value for s in wanted), "days": days},
            )
            return token

    # -- authentication ---------------------------------------------------------------

    def authenticate(self, token: str | None, scope: Scope, action: str) -> Principal:
        """The principal holding ``token`` if it is valid and carries ``scope``."""
        if not token:
            raise self._refuse(None, action, 401, "authorization: bearer token missing")
        with self._read_connection() as connection:
            row = connection.execute(_HOT.token, {"token_hash": hash_token(token)}).first()
        if row is None:
            raise self._refuse(None, action, 401, "authorization: unknown token")
        principal = Principal(row.user_id, row.org_id, row.role, frozenset(row.scopes.split()))
        if row.revoked:
            raise self._refuse(principal, action, 401, "authorization: token revoked")
        if _aware(row.expires_at) <= _now():
            raise self._refuse(
                principal, action, 401, f"authorization: token expired at {row.expires_at}"
            )
        if scope.value not in principal.scopes:
            raise self._refuse(
                principal, action, 403, f"authorization: token lacks scope {scope.value}"
            )
        return principal

    # -- denials ----------------------------------------------------------------------

    def create_denial(self, principal: Principal, data: DenialInput) -> dict[str, Any]:
        action = "denial.create"
        with self._write() as session:
            problem = self._check_audience(session, principal, data)
            if problem is None:
                denial, _why = self.add_denial(session, principal, data)
                return self._json(denial)
        raise self._refuse(principal, action, 422, problem)

    @staticmethod
    def add_denial(
        session: Session,
        principal: Principal,
        data: DenialInput,
        detail: dict[str, Any] | None = None,
    ) -> tuple[Denial, str]:
        """Write a checked denial, its recipients, exclusions and ``denial.create``
        audit entry in the caller's transaction; the denial and why it expires when
        it does. ``detail`` adds to the audit entry (a refusal names its licence)."""
        until, why = expiry(data.decision_date)
        now = _now()
        denial = Denial(
            id=str(uuid.uuid4()),
            originator_org_id=principal.org_id,
            author_user_id=principal.user_id,
            marking=data.marking.value,
            sharing_group_id=data.sharing_group,
            reference=data.reference,
            decision_date=data.decision_date,
            control_entries=" ".join(data.control_entries),
            item=data.item,
            consignee=data.consignee,
            end_user=data.end_user,
            destination=data.destination,
            reason=data.reason,
            expires_on=until,
            review_status=ReviewStatus.IN_FORCE.value,
            created_at=now,
            updated_at=now,
        )
        session.add(denial)
        session.flush()
        session.add_all(
            RecordRecipient(record_id=denial.id, user_id=u) for u in dict.fromkeys(data.recipients)
        )
        session.add_all(
            RecordExclusion(record_id=denial.id, org_id=o)
            for o in dict.fromkeys(data.excluded_orgs)
        )
        audit.append(
            session,
            action="denial.create",
            outcome="ok",
            org_id=principal.org_id,
            user_id=principal.user_id,
            record_id=denial.id,
            detail={"marking": denial.marking, "expiry": why, **(detail or {})},
        )
        return denial, why

    @staticmethod
    def _check_audience(session: Session, principal: Principal, data: DenialInput) -> str | None:
        """Why the audience (or the date) of a new record is invalid, or None."""
        try:
            expiry(data.decision_date)
        except DatedError:  # before the regulation's review rule applies
            return (
                f"decision_date: no denial review rule is in force on {data.decision_date} "
                "(see exchange_rules.yaml)"
            )
        if data.sharing_group is not None:
            member = session.get(GroupMember, (data.sharing_group, principal.org_id))
            if member is None:
                return (
                    f"sharing_group: {data.sharing_group} is not a sharing group "
                    "of your organisation"
                )
        if data.marking is Marking.RED and not data.recipients:
            return "recipients: a RED record needs at least one named recipient"
        if data.recipients and data.marking is not Marking.RED:
            return "recipients: named recipients are only for RED records"
        for i, user_id in enumerate(data.recipients):
            if session.get(User, user_id) is None:
                return f"recipients[{i}]: no user {user_id}"
        for i, org_id in enumerate(data.excluded_orgs):
            if org_id == principal.org_id:
                return f"excluded_orgs[{i}]: an organisation cannot exclude itself"
            if session.get(Organisation, org_id) is None:
                return f"excluded_orgs[{i}]: no organisation {org_id}"
        return None

    def count_denials(self, principal: Principal, destination: str | None = None) -> int:
        params: dict[str, Any] = {**viewer(principal), "destination": destination}
        with self._read_connection() as connection:
            statement = _HOT.count_at if destination else _HOT.count
            return int(connection.execute(statement, params).scalar() or 0)

    def list_denials(
        self,
        principal: Principal,
        destination: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> tuple[int, list[dict[str, Any]]]:
        """The total visible and one page of denials, newest decision first.

        Two queries on one connection: the count, then the page, which walks
        the ``(decision_date DESC, id)`` index and stops after ``offset + limit``
        visible rows (skipped when the offset is past the total). One query with
        a window count read and sorted every visible row for each page: about
        four times as long with 10,000 denials (benchmarks/exchange_queries.py).
        """
        params: dict[str, Any] = {
            **viewer(principal),
            "destination": destination,
            "limit": limit,
            "offset": offset,
        }
        with self._read_connection() as connection:
            count, page = (_HOT.count_at, _HOT.page_at) if destination else (_HOT.count, _HOT.page)
            total = int(connection.execute(count, params).scalar() or 0)
            rows = connection.execute(page, params).all() if offset < total else []
        today = self.today()
        items = [self._json(row, today) for row in rows]
        self.audit_reads(principal, "denial.list", items)
        return total, items

    def get_denial(self, principal: Principal, denial_id: str) -> dict[str, Any]:
        with self._read_connection() as connection:
            row = connection.execute(_HOT.one, {**viewer(principal), "id": denial_id}).first()
        if row is None:
            # The same answer whether it does not exist or is not visible.
            raise self._refuse(
                principal, "denial.read", 404, f"id: no denial {denial_id}", denial_id
            )
        item = self._json(row)
        self.audit_reads(principal, "denial.read", [item], single=True)
        return item

    def audit_reads(
        self,
        principal: Principal,
        action: str,
        items: Sequence[dict[str, Any]],
        *,
        single: bool = False,
    ) -> None:
        """Audit the read of every AMBER, AMBER+STRICT or RED record among ``items``.

        One entry for a list (the ids), or for a single read (its marking); on
        PostgreSQL one autocommit statement (:meth:`_audit_connection`).
        """
        audited = [i for i in items if Marking(i["marking"]) in AUDITED_READS]
        if not audited:
            return
        with self._audit_connection() as connection:
            audit.append_to(
                connection,
                action=action,
                outcome="ok",
                org_id=principal.org_id,
                user_id=principal.user_id,
                record_id=audited[0]["id"] if single else None,
                detail=(
                    {"marking": audited[0]["marking"]}
                    if single
                    else {"records": [i["id"] for i in audited]}
                ),
            )

    def change_marking(
        self, principal: Principal, denial_id: str, marking: Marking
    ) -> dict[str, Any]:
        """Raise or lower a record's marking: the originator organisation only."""
        action = "denial.marking"
        with self._write() as session:
            denial = self._visible(session, principal, denial_id)
            problem = marking_problem(
                session, principal, denial, denial_id, "denial", marking, RecordRecipient
            )
            if problem is None and denial is not None:
                detail = apply_marking(denial, marking, _now())
                audit.append(
                    session,
                    action=action,
                    outcome="ok",
                    org_id=principal.org_id,
                    user_id=principal.user_id,
                    record_id=denial_id,
                    detail=detail,
                )
                return self._json(denial)
        assert problem is not None
        raise self._refuse(principal, action, problem[0], problem[1], denial_id)

    def renew(self, principal: Principal, denial_id: str, on: dt.date) -> dict[str, Any]:
        """Renew a denial on review: in force for the review period from ``on``."""
        action = "denial.renew"
        with self._write() as session:
            denial = self._visible(session, principal, denial_id)
            problem: tuple[int, str] | None = None
            if denial is None:
                problem = (404, f"id: no denial {denial_id}")
            elif denial.originator_org_id != principal.org_id:
                problem = (403, "id: only the originator organisation may renew its denial")
            elif on < denial.decision_date:
                problem = (422, f"on: {on} is before the decision date {denial.decision_date}")
            if problem is None and denial is not None:
                until, why = expiry(on)
                denial.expires_on = until
                denial.review_status = ReviewStatus.RENEWED.value
                denial.updated_at = _now()
                audit.append(
                    session,
                    action=action,
                    outcome="ok",
                    org_id=principal.org_id,
                    user_id=principal.user_id,
                    record_id=denial_id,
                    detail={"expiry": why},
                )
                return self._json(denial)
        assert problem is not None
        raise self._refuse(principal, action, problem[0], problem[1], denial_id)

    @staticmethod
    def _visible(session: Session, principal: Principal, denial_id: str) -> Denial | None:
        return session.scalars(
            select(Denial).where(Denial.id == denial_id, visible_filter(principal))
        ).first()

    def _json(self, denial: Denial | Row[Any], today: dt.date | None = None) -> dict[str, Any]:
        """A denial as the API returns it; ``in_force`` is judged on ``today`` (UTC)."""
        today = today or self.today()
        in_force = denial.review_status != ReviewStatus.REVOKED.value and denial.expires_on >= today
        return {
            "id": denial.id,
            "originator_org_id": denial.originator_org_id,
            "marking": denial.marking,
            "sharing_group": denial.sharing_group_id,
            "reference": denial.reference,
            "decision_date": denial.decision_date.isoformat(),
            "control_entries": denial.control_entries.split(),
            "item": denial.item,
            "consignee": denial.consignee,
            "end_user": denial.end_user,
            "destination": denial.destination,
            "reason": denial.reason,
            "expires_on": denial.expires_on.isoformat(),
            "review_status": denial.review_status,
            "in_force": in_force,
            "explanation": _explanation(
                denial.review_status, denial.decision_date, denial.expires_on, in_force
            ),
        }

    # -- audit ------------------------------------------------------------------------

    def audit_log(
        self, principal: Principal, limit: int = 100, offset: int = 0
    ) -> list[dict[str, Any]]:
        """The audit entries of the caller's own organisation (auditors, admins)."""
        if principal.role not in (Role.AUDITOR.value, Role.ADMIN.value):
            raise self._refuse(
                principal, "audit.read", 403, "role: only auditors and admins read the audit log"
            )
        with self._read() as session:
            rows = session.scalars(
                select(AuditEntry)
                .where(AuditEntry.org_id == principal.org_id)
                .order_by(AuditEntry.id)
                .limit(limit)
                .offset(offset)
            )
            return [audit.entry_json(e) for e in rows]

    def verify_audit(self) -> audit.Verification:
        with self._read() as session:
            return audit.verify(session)


@lru_cache(maxsize=8192)
def _explanation(review_status: str, decided: dt.date, expires_on: dt.date, in_force: bool) -> str:
    """Why a denial expires when it does (one string per distinct case, cached)."""
    why = (
        f"renewed on review; expires on {expires_on} unless renewed again "
        f"({review_rule(expires_on).period.citation})"
        if review_status == ReviewStatus.RENEWED.value
        else f"expires on {expires_on} unless renewed ({expiry(decided)[1]})"
    )
    return why + ("; in force today" if in_force else "; not in force today")


@dataclass(frozen=True, slots=True)
class _HotStatements:
    """Statements of the hot request paths, built once with bind parameters.

    A statement object that is executed again reuses its memoised cache key and
    SQLAlchemy's compiled form; building ``select(...).where(...)`` anew per
    request cost about 0.1 ms of CPU a query (benchmarks/exchange_queries.py).
    """

    token: Executable
    count: Executable
    count_at: Executable
    page: Executable
    page_at: Executable
    one: Executable

    @classmethod
    def build(cls) -> _HotStatements:
        visible = visible_clause(DENIALS)
        at = Denial.destination == bindparam("destination")
        columns = Denial.__table__.c
        page = (
            select(*columns)
            .where(visible)
            .order_by(Denial.decision_date.desc(), Denial.id)
            .limit(bindparam("limit"))
            .offset(bindparam("offset"))
        )
        count = select(func.count()).select_from(Denial).where(visible)
        return cls(
            token=select(
                ApiToken.revoked,
                ApiToken.expires_at,
                ApiToken.scopes,
                User.id.label("user_id"),
                User.org_id,
                User.role,
            )
            .join(User, User.id == ApiToken.user_id)
            .where(ApiToken.token_hash == bindparam("token_hash")),
            count=count,
            count_at=count.where(at),
            page=page,
            page_at=page.where(at),
            one=select(*columns).where(Denial.id == bindparam("id"), visible),
        )


_HOT = _HotStatements.build()
