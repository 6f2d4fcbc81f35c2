"""Federation: two exchange instances share the records their agreement allows.

Each instance has a name (``eu``, ``us`` …, :meth:`Federation.set_instance`).
A **peer** is another instance; this side keeps its half of the agreement
(:class:`econsec.exchange.federation_db.FedPeer`): which markings it sends,
the local sharing group whose AMBER records may flow, the local group AMBER
records received from the peer land in, whether records received from a third
instance may be sent on to the peer, and which instances its own records may be
forwarded to. The peer acts here as a local stand-in organisation and user
whose token carries only the ``federation`` scope.

Rules (``docs/exchange.md``, "Federation"):

* **What leaves**: the records the peer's stand-in may see under the ordinary
  visibility filter, narrowed in the same query by the agreement: CLEAR and
  GREEN if the agreement lists them; AMBER only when in the agreement's sending
  group (and the peer has a receiving group); never AMBER+STRICT (it never
  leaves its originator organisation), never RED (named individuals only),
  never a record with exclusions (they name organisations the peer cannot
  apply: deny beats allow). A record received from another instance goes on
  only if the agreement forwards received records *and* the peer is in the
  record's ``reach``, never back to the instance it came from or its origin.
* **Downgrade rules** on receipt: the record keeps its origin (instance,
  organisation, id, version) and is stored under a local stand-in of the origin
  organisation (no one can log in as it, so no one here can change its marking);
  CLEAR/GREEN stay as they are, AMBER lands in the receiving group only (no
  group: refused); ``reach`` is the origin's list and is only ever narrowed;
  a copy from a non-origin instance never lowers the marking received before.
* **Versions**: the origin's last change; an older or equal version changes
  nothing (idempotent), a newer one updates. A record that stops being allowed
  for a peer it was sent to is *withdrawn*: the peer hides it (visible to no
  one) and withdraws it from whoever it forwarded it to.
* Every record sent and every record received (or refused) is audited.

Two kinds federate: denials (:class:`DenialKind`) and alerts
(:class:`AlertRecordKind`: diversion findings, proposed listings, screening
hits), under the one implementation of these rules; new record kinds join by
:func:`register` ing a :class:`RecordKind`. Received content is checked as
strictly as the origin's create routes check it (unknown fields, enums,
patterns, text limits, no NUL); an entry that fails is refused on its own, its
outcome naming the record and the field.

Versions (revision ``0007``)
----------------------------

The ``version`` a record carries is its ``updated_at`` (or its origin's). The
database keeps it strictly increasing per record in commit order: every UPDATE
of a federated table leaves it at least a microsecond after the value it
replaces (:func:`econsec.exchange.federation_db.version_trigger_sql`), so a
writer that took its timestamp before a concurrent one but committed after it
still stores a later version, and a receiver never ignores the latest state as
"unchanged". The API response of an update shows the writer's own timestamp
(not re-read; see ``docs/exchange.md``, "Versions").

Feed order (revision ``0004``)
------------------------------

The feed pages through each kind's records by a **change position**,
``change_xid``, that the database itself sets on every INSERT and UPDATE (triggers;
no write path sets it), and the cursor is ``(change_xid, id)`` of the last record
passed, per kind. The invariant the feed keeps: *it passes a position only once
no transaction that could still commit can write a position at or below it*, so
nothing can appear behind a cursor later.

* **PostgreSQL**: ``change_xid`` is the writing transaction's id
  (``pg_current_xact_id()``, 64-bit, so it never wraps). The feed returns only
  rows with ``change_xid`` below the *horizon*, ``pg_snapshot_xmin`` of the
  current snapshot (and below this transaction's own id, should it have one):
  every transaction still in progress has an id at or above that xmin, and a
  transaction that has not yet written gets an id above every id assigned so
  far, so each id below the horizon belongs to a transaction that is over
  (committed: its rows are visible to the query; rolled back: its rows never
  existed). The set of rows below the horizon can therefore no longer grow, and
  the cursor, which only ever points at such a row, can never be passed by a
  later commit. Ids are not commit order, and need not be: a transaction A that
  began writing before B and commits after it holds the horizon at its own id,
  so B waits in the feed until A is over; a B that began writing before A is
  sent first, and A, whose id is above B's, after it. The price: a
  long-running *writing* transaction (in any database of the cluster: ids are
  cluster-wide) delays, never loses, what was written after it began
  (read-only transactions have no id and hold nothing back).
* **SQLite**: writers are serialised (``BEGIN IMMEDIATE``), so a one-row counter
  bumped by ``AFTER`` triggers is a sequence in commit order; every row a
  reader sees has a value below the counter it sees, and every later write a
  higher one.
* **A record updated again** is stamped again: it moves forward to the new
  position, and the feed sends it there with its latest state (a peer that had
  the older state gets the newer version; one that had not gets only the latest).
  Until the updating transaction is over, the feed still sees the previous
  committed version at the previous position, which is correct too.
* The position only orders the feed; the ``version`` a record carries across
  instances is still its ``updated_at`` (or its origin's).
* **Old cursors** (``(updated_at, id)`` per kind, issued before revision ``0004``
  and stored in a peer's ``pull_cursor``/``push_cursor`` or sent by a peer):
  that kind restarts from the beginning, i.e. what the peer may receive is sent
  again, which changes nothing on a receiver that has it (versions are
  compared). So does a cursor ahead of the horizon, which a live database
  never issues (the database was restored or replaced under it). A cursor that
  is not a cursor at all stays a 422 ``since: malformed cursor``.
* **Restoring from a logical dump** (``pg_dump``) keeps ``change_xid`` values
  from the old cluster while the new one counts transaction ids afresh:
  re-stamp each federated table afterwards (``UPDATE denials SET change_xid =
  change_xid``, likewise the other kinds' tables; on both databases this lets
  the trigger set a fresh position).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
import secrets
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

import httpx
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)
from sqlalchemy import ColumnElement, and_, case, exists, false, or_, select, text
from sqlalchemy.orm import Session

from econsec.exchange import audit
from econsec.exchange.access import ALERTS, Principal, visible_filter
from econsec.exchange.alerts import ALERT_PAYLOADS, alert_summary
from econsec.exchange.db import (
    AlertKind,
    AlertRecord,
    ApiToken,
    AudienceExclusion,
    Denial,
    GroupMember,
    Marking,
    Organisation,
    RecordExclusion,
    ReviewStatus,
    Role,
    Scope,
    SharingGroup,
    User,
)
from econsec.exchange.federation_db import (
    FedInstance,
    FedOrigin,
    FedPeer,
    FedReach,
    FedRecord,
    FedSent,
)
from econsec.exchange.fields import no_nul
from econsec.exchange.service import Exchange, ExchangeError, hash_token

NAME = r"^[a-z][a-z0-9-]{0,39}$"
_NAME = re.compile(NAME)
#: Markings that may ever cross instances (AMBER under a named group only).
FEDERABLE = (Marking.CLEAR, Marking.GREEN, Marking.AMBER)
DEFAULT_SEND = (Marking.CLEAR.value, Marking.GREEN.value)
PEER_PREFIX = "peer:"
_ENTRY = r"^[0-9][A-E][0-9]{3}(\.[a-z0-9]+)*$"
InstanceName = Annotated[str, Field(pattern=NAME)]
ControlEntry = Annotated[str, Field(pattern=_ENTRY)]


class ContentError(ValueError):
    """Received content that may not be stored; ``where`` names the field within it."""

    def __init__(self, where: str, why: str) -> None:
        super().__init__(f"{where}: {why}")
        self.where = where
        self.why = why


def _first_error(exc: ValidationError, *prefix: str) -> str:
    """``<field>: <why>`` of the first error of ``exc``, its location under ``prefix``."""
    first = exc.errors()[0]
    return f"{'.'.join(str(p) for p in (*prefix, *first['loc']))}: {first['msg']}"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _aware(value: dt.datetime) -> dt.datetime:
    """SQLite hands datetimes back naive; they were stored in UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


# -- wire format ---------------------------------------------------------------------


class FedEntry(BaseModel):
    """One record as it crosses instances (or its withdrawal)."""

    model_config = ConfigDict(extra="forbid")

    _text = field_validator("origin_org", "origin_id")(no_nul)

    kind: str = Field(pattern=NAME, description="Record kind: denial or alert.")
    origin_instance: str = Field(pattern=NAME)
    origin_org: str = Field(min_length=1, max_length=200)
    origin_country: str = Field(pattern=r"^[A-Z]{2}$")
    origin_id: str = Field(min_length=1, max_length=36)
    version: AwareDatetime = Field(description="The origin's last change of the record.")
    withdrawn: bool = False
    marking: Marking | None = None
    #: Instances allowed to hold the record (set by its origin, never widened).
    reach: list[InstanceName] = Field(default_factory=list)
    content: dict[str, Any] | None = None


class FeedPage(BaseModel):
    model_config = ConfigDict(extra="forbid")
    instance: str = Field(pattern=NAME)
    entries: list[FedEntry]
    next_cursor: str
    more: bool


class InboxBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sender: str = Field(pattern=NAME)
    entries: list[FedEntry] = Field(max_length=5000)


class Outcome(BaseModel):
    kind: str
    origin_instance: str
    origin_id: str
    outcome: Literal["created", "updated", "withdrawn", "unchanged", "ignored", "refused"]
    reason: str = ""


class InboxResult(BaseModel):
    instance: str
    outcomes: list[Outcome]

    def count(self, outcome: str) -> int:
        return sum(1 for o in self.outcomes if o.outcome == outcome)


# -- record kinds --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Placement:
    """Who may see a received record here: its marking, group and stand-in originator."""

    marking: Marking
    sharing_group_id: int | None
    originator_org_id: int
    author_user_id: int


class RecordKind:
    """A kind of record that federates. Its table has the columns ``id``,
    ``marking``, ``sharing_group_id``, ``originator_org_id``, ``author_user_id``
    and ``updated_at`` (every change sets it) that the exchange's records share,
    and ``change_xid``, the feed position the database maintains (revision
    ``0004`` installs its triggers on ``denials``, ``consultations``,
    ``licence_decisions`` and ``alerts``; another table needs the same)."""

    name: str
    table: Any

    def visible(self, principal: Principal) -> ColumnElement[bool]:
        raise NotImplementedError

    def stays_home(self) -> ColumnElement[bool]:
        """Records of this kind that never leave the instance (e.g. with exclusions)."""
        return false()

    def content(self, row: Any) -> dict[str, Any]:
        raise NotImplementedError

    def validate(self, content: dict[str, Any]) -> BaseModel:
        """The received content, checked: unknown fields, wrong types, over-long or
        NUL-holding text raise :class:`pydantic.ValidationError` (its locations
        relative to ``content``) or :class:`ContentError`; the entry is then refused
        with ``content.<field>: <why>``."""
        raise NotImplementedError

    def write(self, session: Session, row: Any | None, content: BaseModel) -> Any:
        """Create (``row`` None) or update the local row from validated content."""
        raise NotImplementedError

    def set_audience(self, row: Any, audience: Placement) -> None:
        row.marking = audience.marking.value
        row.sharing_group_id = audience.sharing_group_id
        row.originator_org_id = audience.originator_org_id
        row.author_user_id = audience.author_user_id
        row.updated_at = _now()


class DenialContent(BaseModel):
    """The fields of a denial that cross instances (audience fields do not)."""

    model_config = ConfigDict(extra="forbid")

    _text = field_validator("*")(no_nul)

    reference: str = Field(min_length=1, max_length=200)
    decision_date: dt.date
    control_entries: list[ControlEntry] = Field(min_length=1)
    item: str = Field(min_length=1)
    consignee: str = Field(min_length=1)
    end_user: str = Field(min_length=1)
    destination: str = Field(pattern=r"^[A-Z]{2}$")
    reason: str = Field(min_length=1)
    expires_on: dt.date
    review_status: ReviewStatus


class DenialKind(RecordKind):
    name = "denial"
    table = Denial

    def visible(self, principal: Principal) -> ColumnElement[bool]:
        return visible_filter(principal)

    def stays_home(self) -> ColumnElement[bool]:
        return exists(
            select(RecordExclusion.record_id).where(RecordExclusion.record_id == Denial.id)
        )

    def content(self, row: Any) -> dict[str, Any]:
        denial: Denial = row
        return {
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
        }

    def validate(self, content: dict[str, Any]) -> BaseModel:
        return DenialContent.model_validate(content)

    def write(self, session: Session, row: Any | None, content: BaseModel) -> Any:
        assert isinstance(content, DenialContent)
        if row is None:
            now = _now()
            row = Denial(id=str(uuid.uuid4()), created_at=now, updated_at=now)
            session.add(row)
        row.reference = content.reference
        row.decision_date = content.decision_date
        row.control_entries = " ".join(content.control_entries)
        row.item = content.item
        row.consignee = content.consignee
        row.end_user = content.end_user
        row.destination = content.destination
        row.reason = content.reason
        row.expires_on = content.expires_on
        row.review_status = content.review_status.value
        return row


class AlertContent(BaseModel):
    """The fields of an alert that cross instances (audience fields do not).

    ``payload`` arrives as an object and is checked against its kind's model
    (:data:`ALERT_PAYLOADS`) by :meth:`AlertRecordKind.validate`; the subject,
    country and score shown in lists are derived from it here, as on creation.
    """

    model_config = ConfigDict(extra="forbid")

    kind: AlertKind
    #: When the origin raised the alert (its ``created_at``).
    raised_at: AwareDatetime
    payload: dict[str, Any]


class CheckedAlert(BaseModel):
    """A received alert after its payload passed its kind's model."""

    kind: AlertKind
    raised_at: AwareDatetime
    #: The payload as sent (fields the sender left out stay out).
    payload: dict[str, Any]


class AlertRecordKind(RecordKind):
    """Alerts (diversion findings, proposed listings, screening hits) federate like
    denials; their exclusions live in ``audience_exclusions``."""

    name = "alert"
    table = AlertRecord

    def visible(self, principal: Principal) -> ColumnElement[bool]:
        return visible_filter(principal, ALERTS)

    def stays_home(self) -> ColumnElement[bool]:
        return exists(
            select(AudienceExclusion.record_id).where(AudienceExclusion.record_id == AlertRecord.id)
        )

    def content(self, row: Any) -> dict[str, Any]:
        alert: AlertRecord = row
        payload: dict[str, Any] = json.loads(alert.payload)
        return {
            "kind": alert.kind,
            "raised_at": _aware(alert.created_at).isoformat(),
            "payload": payload,
        }

    def validate(self, content: dict[str, Any]) -> BaseModel:
        head = AlertContent.model_validate(content)
        try:
            checked = ALERT_PAYLOADS[head.kind].model_validate(head.payload)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in ("payload", *first["loc"]))
            raise ContentError(where, first["msg"]) from None
        return CheckedAlert(
            kind=head.kind,
            raised_at=head.raised_at,
            payload=checked.model_dump(mode="json", exclude_unset=True),
        )

    def write(self, session: Session, row: Any | None, content: BaseModel) -> Any:
        assert isinstance(content, CheckedAlert)
        raised = content.raised_at.astimezone(dt.UTC)
        if row is None:
            row = AlertRecord(id=str(uuid.uuid4()), created_at=raised, updated_at=_now())
            session.add(row)
        subject, country, score = alert_summary(content.kind, content.payload)
        row.kind = content.kind.value
        row.subject = subject[:400]
        row.country = country
        row.score = score
        row.payload = json.dumps(content.payload, sort_keys=True, ensure_ascii=False)
        row.created_at = raised
        return row


KINDS: dict[str, RecordKind] = {}


def register(kind: RecordKind) -> None:
    """Make records of ``kind`` federate (feed, inbox, withdrawal)."""
    if not _NAME.match(kind.name):
        raise ValueError(f"kind: {kind.name!r} is not a valid record kind name")
    KINDS[kind.name] = kind


register(DenialKind())
register(AlertRecordKind())


# -- cursors -------------------------------------------------------------------------

#: A cursor position: the ``(change_xid, id)`` of the last record passed, per kind.
Position = tuple[int, str]


def encode_cursor(positions: dict[str, Position]) -> str:
    """An opaque cursor: per kind, the (change position, id) of the last record passed."""
    raw = {k: [x, i] for k, (x, i) in sorted(positions.items())}
    return base64.urlsafe_b64encode(json.dumps(raw).encode()).decode().rstrip("=")


def _position(kind: str, value: Any) -> Position | None:
    """One kind's entry of a cursor; None for the old ``(updated_at, id)`` form."""
    if not isinstance(value, list) or len(value) != 2 or not isinstance(value[1], str):
        raise TypeError(f"{kind}: not a [position, id] pair")
    at, last = value
    if isinstance(at, int) and not isinstance(at, bool):
        if at < 0:
            raise ValueError(f"{kind}: negative position")
        return at, last
    if isinstance(at, str):
        dt.datetime.fromisoformat(at)  # a timestamp: a cursor from before revision 0004
        return None
    raise TypeError(f"{kind}: position is neither a change position nor a timestamp")


def decode_cursor(cursor: str | None) -> dict[str, Position]:
    """The positions of ``cursor`` (empty: from the beginning).

    A kind whose entry has the old ``(updated_at, id)`` form is left out, so it
    restarts from the beginning (see "Feed order" above); anything else that is
    not a cursor is a 422.
    """
    if not cursor:
        return {}
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(raw, dict):
            raise TypeError("not an object")
        positions: dict[str, Position] = {}
        for kind, value in raw.items():
            position = _position(str(kind), value)
            if position is not None:
                positions[str(kind)] = position
        return positions
    except (binascii.Error, ValueError, TypeError, IndexError, KeyError) as exc:
        raise ExchangeError(422, f"since: malformed cursor ({exc})") from exc


def feed_horizon(session: Session) -> int:
    """The change position below which every write is over, as ``session`` sees it.

    PostgreSQL: the xmin of the current snapshot (no transaction still in
    progress has a smaller id), or this transaction's own id if it has one and
    it is smaller (its own uncommitted rows are never sent). SQLite: one past
    the counter (writers are serialised, so every committed row is below it).
    """
    if session.get_bind().dialect.name == "postgresql":
        horizon = session.scalar(
            text(
                "SELECT LEAST(pg_snapshot_xmin(pg_current_snapshot())::text::bigint, "
                "pg_current_xact_id_if_assigned()::text::bigint)"
            )
        )
    else:
        horizon = session.scalar(text("SELECT value + 1 FROM fed_change_counter WHERE id = 1"))
    assert horizon is not None, "feed order: revision 0004 is missing"
    return int(horizon)


# -- federation ----------------------------------------------------------------------


@dataclass(slots=True)
class _Sent:
    entry: FedEntry
    local_id: str


@dataclass(slots=True)
class _Page:
    items: list[_Sent]
    next_cursor: str
    more: bool


@dataclass(slots=True)
class SyncResult:
    """What one push or pull did: entries sent or received, by outcome."""

    peer: str
    direction: Literal["push", "pull"]
    batches: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)

    def add(self, outcomes: Iterable[Outcome]) -> None:
        for o in outcomes:
            self.outcomes[o.outcome] = self.outcomes.get(o.outcome, 0) + 1


@dataclass(frozen=True, slots=True)
class PeerInfo:
    id: int
    name: str
    base_url: str
    has_token: bool
    org_id: int
    user_id: int
    send_markings: tuple[str, ...]
    send_group: int | None
    receive_group: int | None
    forward_received: bool
    forward_to: tuple[str, ...]
    push_cursor: str | None
    pull_cursor: str | None


def _info(peer: FedPeer) -> PeerInfo:
    return PeerInfo(
        id=peer.id,
        name=peer.name,
        base_url=peer.base_url,
        has_token=bool(peer.token),
        org_id=peer.org_id,
        user_id=peer.user_id,
        send_markings=tuple(peer.send_markings.split()),
        send_group=peer.send_group_id,
        receive_group=peer.receive_group_id,
        forward_received=bool(peer.forward_received),
        forward_to=tuple(peer.forward_to.split()),
        push_cursor=peer.push_cursor,
        pull_cursor=peer.pull_cursor,
    )


class Federation:
    """Federation operations on one exchange (shares its write lock and audit chain)."""

    def __init__(self, exchange: Exchange) -> None:
        self.exchange = exchange

    # -- configuration ----------------------------------------------------------------

    def instance_name(self) -> str | None:
        with self.exchange._read() as session:
            row = session.get(FedInstance, 1)
            return row.name if row is not None else None

    def _require_instance(self, session: Session) -> str:
        row = session.get(FedInstance, 1)
        if row is None:
            raise ExchangeError(
                409, "instance: this exchange has no federation name (econsec exchange instance)"
            )
        return row.name

    def set_instance(self, name: str) -> str:
        """Name this instance (once; the name is part of every record's provenance)."""
        if not _NAME.match(name):
            raise ExchangeError(422, f"name: {name!r} must match {NAME}")
        with self.exchange._write() as session:
            row = session.get(FedInstance, 1)
            if row is not None:
                if row.name != name:
                    raise ExchangeError(409, f"name: this instance is already named {row.name!r}")
                return name
            session.add(FedInstance(id=1, name=name, created_at=_now()))
            audit.append(session, action="federation.instance", outcome="ok", detail={"name": name})
            return name

    @staticmethod
    def _check_agreement(
        session: Session,
        send_markings: Sequence[str],
        send_group: int | None,
        receive_group: int | None,
        forward_to: Sequence[str],
    ) -> str | None:
        for i, value in enumerate(send_markings):
            try:
                marking = Marking(value)
            except ValueError:
                return f"send_markings[{i}]: {value!r} is not a TLP 2.0 marking"
            if marking is Marking.RED:
                return f"send_markings[{i}]: RED is for named individuals and never leaves"
            if marking is Marking.AMBER_STRICT:
                return f"send_markings[{i}]: AMBER+STRICT never leaves its originator organisation"
        if Marking.AMBER.value in send_markings and send_group is None:
            return "send_group: AMBER is sent only under a named sharing group"
        for fld, group in (("send_group", send_group), ("receive_group", receive_group)):
            if group is not None and session.get(SharingGroup, group) is None:
                return f"{fld}: no sharing group {group}"
        for i, name in enumerate(forward_to):
            if not _NAME.match(name):
                return f"forward_to[{i}]: {name!r} is not an instance name"
        return None

    def add_peer(
        self,
        name: str,
        base_url: str,
        country: str,
        *,
        token: str | None = None,
        send_markings: Sequence[str] = DEFAULT_SEND,
        send_group: int | None = None,
        receive_group: int | None = None,
        forward_received: bool = False,
        forward_to: Sequence[str] = (),
        token_days: int = 365,
    ) -> tuple[int, str]:
        """Register a peer; returns its id and the token the peer must present here.

        Creates, in one transaction, the peer's stand-in organisation and user
        (``peer:<name>``, in the sending group so the visibility filter lets it
        see that group's AMBER records) and a token with the ``federation`` scope
        only (shown once; only its sha256 is stored).
        """
        if not _NAME.match(name):
            raise ExchangeError(422, f"name: {name!r} must match {NAME}")
        if not re.match(r"^https?://[^\s]+$", base_url):
            raise ExchangeError(422, f"base_url: {base_url!r} is not an http(s) URL")
        if len(country) != 2 or not country.isalpha() or not country.isupper():
            raise ExchangeError(422, f"country: {country!r} is not an ISO 3166 alpha-2 code")
        with self.exchange._write() as session:
            me = self._require_instance(session)
            problem = self._check_agreement(
                session, send_markings, send_group, receive_group, forward_to
            )
            if name == me:
                problem = f"name: {name!r} is this instance's own name"
            elif session.scalar(select(FedPeer.id).where(FedPeer.name == name)):
                problem = f"name: peer {name!r} already exists"
            elif session.scalar(
                select(Organisation.id).where(Organisation.name == PEER_PREFIX + name)
            ):
                problem = f"name: organisation {PEER_PREFIX + name!r} already exists"
            if problem is not None:
                raise ExchangeError(409 if "exists" in problem else 422, problem)
            org = Organisation(name=PEER_PREFIX + name, country=country)
            session.add(org)
            session.flush()
            user = User(org_id=org.id, name=PEER_PREFIX + name, role=Role.ADMIN.value)
            session.add(user)
            session.flush()
            now = _now()
            peer = FedPeer(
                name=name,
                base_url=base_url.rstrip("/"),
                token=token,
                org_id=org.id,
                user_id=user.id,
                send_markings=" ".join(dict.fromkeys(send_markings)),
                send_group_id=send_group,
                receive_group_id=receive_group,
                forward_received=int(forward_received),
                forward_to=" ".join(dict.fromkeys(forward_to)),
                created_at=now,
                updated_at=now,
            )
            session.add(peer)
            if send_group is not None:
                session.add(GroupMember(group_id=send_group, org_id=org.id))
            inbound = "ecx_" + secrets.token_urlsafe(32)
            session.add(
                ApiToken(
                    user_id=user.id,
                    token_hash=hash_token(inbound),
                    scopes=Scope.FEDERATION.value,
                    created_at=now,
                    expires_at=now + dt.timedelta(days=token_days),
                    revoked=0,
                )
            )
            session.flush()
            audit.append(
                session,
                action="federation.peer",
                outcome="ok",
                org_id=org.id,
                user_id=user.id,
                detail={"peer": name, "base_url": peer.base_url, **self._agreement(peer)},
            )
            return peer.id, inbound

    @staticmethod
    def _agreement(peer: FedPeer) -> dict[str, Any]:
        return {
            "send_markings": peer.send_markings.split(),
            "send_group": peer.send_group_id,
            "receive_group": peer.receive_group_id,
            "forward_received": bool(peer.forward_received),
            "forward_to": peer.forward_to.split(),
        }

    def update_peer(
        self,
        name: str,
        *,
        token: str | None = None,
        base_url: str | None = None,
        send_markings: Sequence[str] | None = None,
        send_group: int | None = None,
        receive_group: int | None = None,
        forward_received: bool | None = None,
        forward_to: Sequence[str] | None = None,
    ) -> PeerInfo:
        """Change the token, address or agreement of a peer (None: unchanged).

        A narrower agreement applies to records changed from now on; records
        already sent stay with the peer until they change (then withdrawn).
        """
        if base_url is not None and not re.match(r"^https?://[^\s]+$", base_url):
            raise ExchangeError(422, f"base_url: {base_url!r} is not an http(s) URL")
        with self.exchange._write() as session:
            peer = self._peer(session, name)
            markings = send_markings if send_markings is not None else peer.send_markings.split()
            group = send_group if send_group is not None else peer.send_group_id
            receive = receive_group if receive_group is not None else peer.receive_group_id
            onward = forward_to if forward_to is not None else peer.forward_to.split()
            problem = self._check_agreement(session, markings, group, receive, onward)
            if problem is not None:
                raise ExchangeError(422, problem)
            if token is not None:
                peer.token = token
            if base_url is not None:
                peer.base_url = base_url.rstrip("/")
            peer.send_markings = " ".join(dict.fromkeys(markings))
            if group is not None and group != peer.send_group_id:
                if peer.send_group_id is not None:
                    old = session.get(GroupMember, (peer.send_group_id, peer.org_id))
                    if old is not None:
                        session.delete(old)
                if session.get(GroupMember, (group, peer.org_id)) is None:
                    session.add(GroupMember(group_id=group, org_id=peer.org_id))
            peer.send_group_id = group
            peer.receive_group_id = receive
            if forward_received is not None:
                peer.forward_received = int(forward_received)
            peer.forward_to = " ".join(dict.fromkeys(onward))
            peer.updated_at = _now()
            audit.append(
                session,
                action="federation.peer",
                outcome="ok",
                org_id=peer.org_id,
                user_id=peer.user_id,
                detail={
                    "peer": name,
                    "change": "update",
                    "token": "replaced" if token is not None else "unchanged",
                    **self._agreement(peer),
                },
            )
            return _info(peer)

    def peers(self) -> list[PeerInfo]:
        with self.exchange._read() as session:
            return [_info(p) for p in session.scalars(select(FedPeer).order_by(FedPeer.name))]

    @staticmethod
    def _peer(session: Session, name: str) -> FedPeer:
        peer = session.scalars(select(FedPeer).where(FedPeer.name == name)).first()
        if peer is None:
            raise ExchangeError(404, f"peer: no peer {name!r}")
        return peer

    def peer_of(self, principal: Principal, action: str) -> str:
        """The name of the peer ``principal`` acts for (403 if it is no peer's)."""
        with self.exchange._read() as session:
            name = session.scalar(select(FedPeer.name).where(FedPeer.user_id == principal.user_id))
        if name is None:
            message = "authorization: the token is not a federation peer's"
            self.exchange.audit_refusal(principal, action, message)
            raise ExchangeError(403, message)
        return name

    # -- the feed ---------------------------------------------------------------------

    def _allowed(self, kind: RecordKind, peer: FedPeer) -> ColumnElement[bool]:
        """What the agreement lets ``peer`` receive, on top of the visibility filter."""
        table = kind.table
        principal = Principal(
            peer.user_id, peer.org_id, Role.ADMIN.value, frozenset({Scope.FEDERATION.value})
        )
        markings = [m for m in peer.send_markings.split() if Marking(m) in FEDERABLE]
        amber_ok: ColumnElement[bool] = (
            table.sharing_group_id == peer.send_group_id
            if peer.send_group_id is not None
            else false()
        )
        reached = exists(
            select(FedReach.instance).where(
                FedReach.kind == kind.name,
                FedReach.local_id == table.id,
                FedReach.instance == peer.name,
            )
        )
        forwardable = (
            and_(
                FedRecord.withdrawn == 0,
                FedRecord.origin_instance != peer.name,
                FedRecord.via_peer_id != peer.id,
                reached,
            )
            if peer.forward_received
            else false()
        )
        return and_(
            table.marking.in_(markings),
            or_(table.marking != Marking.AMBER.value, amber_ok),
            kind.visible(principal),
            ~kind.stays_home(),
            or_(FedRecord.local_id.is_(None), forwardable),
        )

    def _feed(self, session: Session, peer: FedPeer, since: str | None, limit: int) -> _Page:
        """The next page for ``peer`` after ``since``: per kind, the records changed
        after the cursor's position and below the horizon, in (change_xid, id) order."""
        me = self._require_instance(session)
        positions = decode_cursor(since)
        horizon = feed_horizon(session)
        items: list[_Sent] = []
        more = False
        for kind in KINDS.values():
            table = kind.table
            allowed = self._allowed(kind, peer)
            sent_before = exists(
                select(FedSent.local_id).where(
                    FedSent.peer_id == peer.id,
                    FedSent.kind == kind.name,
                    FedSent.local_id == table.id,
                    FedSent.withdrawn == 0,
                )
            )
            # the position is read from the row itself, never from the ORM object
            # (the ORM does not know what the trigger wrote)
            query = (
                select(table, FedRecord, case((allowed, 1), else_=0), table.change_xid)
                .outerjoin(
                    FedRecord, and_(FedRecord.kind == kind.name, FedRecord.local_id == table.id)
                )
                .where(or_(allowed, sent_before), table.change_xid < horizon)
                .order_by(table.change_xid, table.id)
                .limit(limit)
            )
            at = positions.get(kind.name)
            if at is not None and at[0] >= horizon:
                # never issued by this database as it is now (restored or replaced
                # under the cursor): start the kind again rather than skip records
                del positions[kind.name]
                at = None
            if at is not None:
                query = query.where(
                    or_(
                        table.change_xid > at[0],
                        and_(table.change_xid == at[0], table.id > at[1]),
                    )
                )
            rows = session.execute(query).all()
            more = more or len(rows) == limit
            for row, record, ok, change in rows:
                items.append(
                    _Sent(self._entry(session, kind, me, peer, row, record, bool(ok)), row.id)
                )
                positions[kind.name] = (int(change), row.id)
        return _Page(items, encode_cursor(positions), more)

    @staticmethod
    def _entry(
        session: Session,
        kind: RecordKind,
        me: str,
        peer: FedPeer,
        row: Any,
        record: FedRecord | None,
        allowed: bool,
    ) -> FedEntry:
        org = session.get(Organisation, row.originator_org_id)
        assert org is not None
        if record is None:
            origin, origin_org, origin_id = me, org.name, row.id
            version = _aware(row.updated_at)
            reach = sorted({me, peer.name, *peer.forward_to.split()})
        else:
            origin, origin_org, origin_id = (
                record.origin_instance,
                record.origin_org,
                record.origin_id,
            )
            version = _aware(record.origin_version)
            reach = sorted(
                session.scalars(
                    select(FedReach.instance).where(
                        FedReach.kind == kind.name, FedReach.local_id == row.id
                    )
                )
            )
        if not allowed:
            return FedEntry(
                kind=kind.name,
                origin_instance=origin,
                origin_org=origin_org,
                origin_country=org.country,
                origin_id=origin_id,
                version=version,
                withdrawn=True,
            )
        return FedEntry(
            kind=kind.name,
            origin_instance=origin,
            origin_org=origin_org,
            origin_country=org.country,
            origin_id=origin_id,
            version=version,
            marking=Marking(row.marking),
            reach=reach,
            content=kind.content(row),
        )

    def _record_sent(
        self,
        session: Session,
        peer: FedPeer,
        items: Sequence[_Sent],
        via: str,
        outcomes: Sequence[Outcome] | None = None,
    ) -> None:
        now = _now()
        for i, item in enumerate(items):
            entry = item.entry
            sent = session.get(FedSent, (peer.id, entry.kind, item.local_id))
            if sent is None:
                sent = FedSent(peer_id=peer.id, kind=entry.kind, local_id=item.local_id)
                session.add(sent)
            sent.version = entry.version
            sent.withdrawn = int(entry.withdrawn)
            sent.sent_at = now
            detail: dict[str, Any] = {
                "peer": peer.name,
                "via": via,
                "kind": entry.kind,
                "origin": f"{entry.origin_instance}/{entry.origin_id}",
                "version": entry.version.isoformat(),
                "marking": entry.marking.value if entry.marking else None,
                "withdrawn": entry.withdrawn,
            }
            if outcomes is not None and i < len(outcomes):
                detail["peer_outcome"] = outcomes[i].outcome
            audit.append(
                session,
                action="federation.send",
                outcome="ok",
                org_id=peer.org_id,
                user_id=peer.user_id,
                record_id=item.local_id,
                detail=detail,
            )

    def serve_feed(self, peer_name: str, since: str | None, limit: int = 500) -> FeedPage:
        """The page of records ``peer_name`` may receive after ``since`` (it pulls)."""
        with self.exchange._write() as session:
            peer = self._peer(session, peer_name)
            page = self._feed(session, peer, since, limit)
            self._record_sent(session, peer, page.items, "pull")
            return FeedPage(
                instance=self._require_instance(session),
                entries=[i.entry for i in page.items],
                next_cursor=page.next_cursor,
                more=page.more,
            )

    # -- the inbox --------------------------------------------------------------------

    def receive(self, peer_name: str, batch: InboxBatch) -> InboxResult:
        """Apply a batch pushed by ``peer_name`` (one transaction)."""
        if batch.sender != peer_name:
            message = f"sender: the token is peer {peer_name!r}'s, not {batch.sender!r}'s"
            self.exchange.audit_refusal(None, "federation.inbox", message)
            raise ExchangeError(403, message)
        with self.exchange._write() as session:
            peer = self._peer(session, peer_name)
            me = self._require_instance(session)
            outcomes = self._apply_all(session, me, peer, batch.entries, "push")
            return InboxResult(instance=me, outcomes=outcomes)

    def _apply_all(
        self, session: Session, me: str, peer: FedPeer, entries: Sequence[FedEntry], via: str
    ) -> list[Outcome]:
        outcomes = []
        for entry in entries:
            outcome, reason, local_id = self._apply(session, me, peer, entry)
            outcomes.append(
                Outcome(
                    kind=entry.kind,
                    origin_instance=entry.origin_instance,
                    origin_id=entry.origin_id,
                    outcome=outcome,
                    reason=reason,
                )
            )
            audit.append(
                session,
                action="federation.receive",
                outcome="refused" if outcome == "refused" else "ok",
                org_id=peer.org_id,
                user_id=peer.user_id,
                record_id=local_id,
                detail={
                    "peer": peer.name,
                    "via": via,
                    "kind": entry.kind,
                    "origin": f"{entry.origin_instance}/{entry.origin_id}",
                    "version": entry.version.isoformat(),
                    "marking": entry.marking.value if entry.marking else None,
                    "withdrawn": entry.withdrawn,
                    "result": outcome,
                    "reason": reason,
                },
            )
        return outcomes

    def _stand_in(self, session: Session, entry: FedEntry) -> FedOrigin | None:
        """The local stand-in organisation and user of the record's origin organisation
        (None if its name, ``<org>@<instance>``, is taken by a local one)."""
        origin = session.scalars(
            select(FedOrigin).where(
                FedOrigin.instance == entry.origin_instance,
                FedOrigin.org_name == entry.origin_org,
            )
        ).first()
        if origin is not None:
            return origin
        label = f"{entry.origin_org}@{entry.origin_instance}"
        if session.scalar(select(Organisation.id).where(Organisation.name == label)) or (
            session.scalar(select(User.id).where(User.name == label))
        ):
            return None
        org = Organisation(name=label, country=entry.origin_country)
        session.add(org)
        session.flush()
        user = User(org_id=org.id, name=label, role=Role.ANALYST.value)
        session.add(user)
        session.flush()
        origin = FedOrigin(
            instance=entry.origin_instance,
            org_name=entry.origin_org,
            org_id=org.id,
            user_id=user.id,
        )
        session.add(origin)
        session.flush()
        return origin

    def _hide(
        self, session: Session, kind: RecordKind, record: FedRecord, version: dt.datetime
    ) -> None:
        """Withdraw a received record: AMBER+STRICT of its stand-in origin, seen by no one."""
        row = session.get(kind.table, record.local_id)
        assert row is not None
        kind.set_audience(
            row,
            Placement(Marking.AMBER_STRICT, None, row.originator_org_id, row.author_user_id),
        )
        record.withdrawn = 1
        record.origin_version = max(_aware(record.origin_version), version)

    def _apply(
        self, session: Session, me: str, peer: FedPeer, entry: FedEntry
    ) -> tuple[str, str, str | None]:
        """(outcome, reason, local id) of one received entry."""
        kind = KINDS.get(entry.kind)
        if kind is None:
            return "refused", f"kind: unknown record kind {entry.kind!r}", None
        if entry.origin_instance == me:
            return "ignored", "origin_instance: the record is this instance's own", None
        from_origin = entry.origin_instance == peer.name
        record = session.scalars(
            select(FedRecord).where(
                FedRecord.kind == kind.name,
                FedRecord.origin_instance == entry.origin_instance,
                FedRecord.origin_id == entry.origin_id,
            )
        ).first()
        local_id = record.local_id if record is not None else None
        if record is not None and record.via_peer_id != peer.id and not from_origin:
            return "ignored", "via: the record came through another peer", local_id
        stored = _aware(record.origin_version) if record is not None else None
        if entry.withdrawn:
            if record is None:
                return "ignored", "origin_id: no such record was received", None
            assert stored is not None
            if entry.version < stored or record.withdrawn:
                return "unchanged", "", local_id
            self._hide(session, kind, record, entry.version)
            return "withdrawn", "", local_id
        if stored is not None and entry.version <= stored:
            return "unchanged", "", local_id
        refusal = self._refusal(me, peer, entry)
        content: BaseModel | None = None
        if refusal is None:
            try:
                content = kind.validate(entry.content or {})
            except ValidationError as exc:
                refusal = _first_error(exc, "content")
            except ContentError as exc:
                refusal = f"content.{exc.where}: {exc.why}"
        marking = entry.marking or Marking.RED
        floor = Marking(record.received_marking) if record is not None else marking
        if not from_origin and record is not None and marking.rank < floor.rank:
            marking = floor  # only the origin may lower a marking
        # accepted updates come from the peer the record came through (or its
        # origin, which then becomes that peer): AMBER lands in its receiving group
        group = peer.receive_group_id if marking is Marking.AMBER else None
        if refusal is None and marking is Marking.AMBER and group is None:
            refusal = (
                "agreement: AMBER lands only in a receiving sharing group "
                f"(none set for peer {peer.name!r})"
            )
        if refusal is not None or content is None:
            if record is not None and not record.withdrawn:
                # what may no longer be shared here stops being visible here
                self._hide(session, kind, record, entry.version)
            return "refused", refusal or "content: missing", local_id
        stand_in = self._stand_in(session, entry)
        if stand_in is None:
            return (
                "refused",
                (
                    f"origin_org: {entry.origin_org}@{entry.origin_instance} is the name of "
                    "a local organisation or user"
                ),
                local_id,
            )
        row = session.get(kind.table, local_id) if local_id is not None else None
        row = kind.write(session, row, content)
        kind.set_audience(
            row,
            Placement(
                marking,
                group,
                stand_in.org_id,
                stand_in.user_id,
            ),
        )
        session.flush()
        reach = set(entry.reach)
        if record is None:
            record = FedRecord(
                kind=kind.name,
                local_id=row.id,
                origin_instance=entry.origin_instance,
                origin_org=entry.origin_org,
                origin_id=entry.origin_id,
                origin_version=entry.version,
                received_marking=marking.value,
                via_peer_id=peer.id,
                withdrawn=0,
            )
            session.add(record)
            outcome = "created"
        else:
            held = set(
                session.scalars(
                    select(FedReach.instance).where(
                        FedReach.kind == kind.name, FedReach.local_id == row.id
                    )
                )
            )
            if not from_origin:
                reach &= held  # a copy from a non-origin instance never widens the reach
            for gone in held - reach:
                reached = session.get(FedReach, (kind.name, row.id, gone))
                if reached is not None:
                    session.delete(reached)
            reach -= held
            record.origin_version = entry.version
            record.received_marking = (
                marking.value if from_origin else max(marking, floor, key=lambda m: m.rank).value
            )
            if from_origin:
                record.via_peer_id = peer.id
            record.withdrawn = 0
            outcome = "updated"
        session.add_all(FedReach(kind=kind.name, local_id=row.id, instance=i) for i in reach)
        session.flush()
        return outcome, "", row.id

    @staticmethod
    def _refusal(me: str, peer: FedPeer, entry: FedEntry) -> str | None:
        """Why an entry may not be held here at all, or None."""
        if entry.marking is None:
            return "marking: missing"
        if entry.marking not in FEDERABLE:
            return f"marking: {entry.marking.value} never crosses instances"
        if me not in entry.reach:
            return f"reach: this instance ({me}) is not in the record's reach"
        if entry.origin_instance not in entry.reach:
            return "reach: the origin instance is missing from the record's reach"
        if entry.origin_instance != peer.name and not peer.forward_received:
            # symmetric: received-and-forwarded records are accepted only from a
            # peer this side has agreed to exchange forwarded records with
            return f"via: records of {entry.origin_instance} are not accepted from {peer.name}"
        return None

    # -- push and pull ----------------------------------------------------------------

    def _client(self, peer: FedPeer | PeerInfo, client: httpx.Client | None) -> httpx.Client:
        return client or httpx.Client(base_url=peer.base_url, timeout=30.0)

    @staticmethod
    def _headers(token: str | None, name: str) -> dict[str, str]:
        if not token:
            raise ExchangeError(
                409, f"token: no token for calling peer {name!r} (econsec exchange peer set)"
            )
        return {"authorization": f"Bearer {token}"}

    @staticmethod
    def _answer(response: httpx.Response, peer: str, what: str) -> Any:
        if response.status_code != 200:
            try:
                detail = response.json().get("detail", response.text)
            except ValueError:
                detail = response.text
            raise ExchangeError(
                502, f"peer {peer!r}: {what} answered {response.status_code}: {detail}"
            )
        try:
            return response.json()
        except ValueError as exc:
            raise ExchangeError(502, f"peer {peer!r}: {what} answered malformed JSON") from exc

    def pull(
        self, peer_name: str, client: httpx.Client | None = None, limit: int = 500
    ) -> SyncResult:
        """Fetch the peer's feed from the stored cursor and apply it, page by page.

        Each page is applied and the cursor advanced in one transaction, so an
        interrupted pull resumes where it stopped and a repeated one changes nothing.
        """
        with self.exchange._read() as session:
            peer = self._peer(session, peer_name)
            token, base = peer.token, peer.base_url
        headers = self._headers(token, peer_name)
        result = SyncResult(peer_name, "pull")
        http = self._client(peer, client)
        try:
            while True:
                with self.exchange._read() as session:
                    cursor = self._peer(session, peer_name).pull_cursor
                params: dict[str, str | int] = {"limit": limit}
                if cursor:
                    params["since"] = cursor
                response = http.get("/v1/federation/feed", params=params, headers=headers)
                try:
                    page = FeedPage.model_validate(self._answer(response, peer_name, "feed"))
                except ValidationError as exc:
                    first = exc.errors()[0]
                    where = ".".join(str(p) for p in first["loc"])
                    raise ExchangeError(
                        502, f"peer {peer_name!r}: feed {where}: {first['msg']}"
                    ) from exc
                if page.instance != peer_name:
                    raise ExchangeError(
                        502, f"instance: {base} answers as {page.instance!r}, not {peer_name!r}"
                    )
                with self.exchange._write() as session:
                    me = self._require_instance(session)
                    peer = self._peer(session, peer_name)
                    result.add(self._apply_all(session, me, peer, page.entries, "pull"))
                    peer.pull_cursor = page.next_cursor
                result.batches += 1
                if not page.more:
                    return result
        finally:
            if client is None:
                http.close()

    def push(
        self, peer_name: str, client: httpx.Client | None = None, limit: int = 500
    ) -> SyncResult:
        """Send the peer what changed since the push cursor, page by page.

        The cursor advances (and the sent records are audited) only once the
        peer has answered; sending a page again is harmless (idempotent).
        """
        with self.exchange._read() as session:
            peer = self._peer(session, peer_name)
            token = peer.token
        headers = self._headers(token, peer_name)
        result = SyncResult(peer_name, "push")
        http = self._client(peer, client)
        try:
            while True:
                with self.exchange._read() as session:
                    me = self._require_instance(session)
                    peer = self._peer(session, peer_name)
                    page = self._feed(session, peer, peer.push_cursor, limit)
                if not page.items:
                    return result
                batch = InboxBatch(sender=me, entries=[i.entry for i in page.items])
                response = http.post(
                    "/v1/federation/inbox",
                    content=batch.model_dump_json(),
                    headers={**headers, "content-type": "application/json"},
                )
                try:
                    answer = InboxResult.model_validate(self._answer(response, peer_name, "inbox"))
                except ValidationError as exc:
                    raise ExchangeError(
                        502, f"peer {peer_name!r}: inbox answer: {exc.errors()[0]['msg']}"
                    ) from exc
                with self.exchange._write() as session:
                    peer = self._peer(session, peer_name)
                    self._record_sent(session, peer, page.items, "push", answer.outcomes)
                    peer.push_cursor = page.next_cursor
                result.add(answer.outcomes)
                result.batches += 1
                if not page.more:
                    return result
        finally:
            if client is None:
                http.close()
