"""Who may see which record: one SQL filter, used by every read.

Reading of TLP 2.0 (FIRST, 2022) for this community of partner authorities:

* the record's author always sees it;
* **RED**: the named recipient users only (not their whole organisation, not
  even the originator's colleagues): "for the eyes and ears of individual
  recipients only";
* the originator organisation sees its own CLEAR … AMBER+STRICT records;
* **CLEAR** and **GREEN**: every partner organisation of the exchange (the
  exchange is the "community"; CLEAR may also be published by recipients);
* **AMBER**: the organisations in the record's sharing group; with no group,
  the originator's partners, i.e. organisations that share at least one
  sharing group with the originator ("their clients" in TLP terms);
* **AMBER+STRICT**: the originator organisation only;
* deny beats allow: an organisation the originator excluded from a record
  never sees it, whatever its marking or group (except its own author).

Every record kind (denials, consultations, licence decisions, alerts) is
filtered by the same rule, given the kind's columns as an :class:`Audience`.
A consultation has two owners: the consulted organisation (the denial's
originator) sees it exactly as the consulting organisation does.

:func:`visible_filter` is the only implementation used by the server: lists,
counts, single reads and the essentially-identical check all put it in the
WHERE clause, so nothing outside it is ever loaded, counted, or distinguished
from a record that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import ColumnElement, Integer, and_, bindparam, exists, or_, select
from sqlalchemy.orm import aliased

from econsec.exchange.db import (
    AlertRecord,
    AudienceExclusion,
    AudienceRecipient,
    Consultation,
    Denial,
    GroupMember,
    LicenceDecision,
    Marking,
    RecordExclusion,
    RecordRecipient,
)


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller: a user of an organisation, with token scopes."""

    user_id: int
    org_id: int
    role: str
    scopes: frozenset[str]


@dataclass(frozen=True, slots=True)
class Audience:
    """Where a record kind keeps the columns the visibility rule reads.

    ``party`` is a second organisation that sees the record like the
    originator (the consulted organisation of a consultation); None for kinds
    with one owner. Recipients and exclusions are (record id, user/org id) tables.
    """

    id: ColumnElement[str]
    originator: ColumnElement[int]
    author: ColumnElement[int]
    marking: ColumnElement[str]
    group: ColumnElement[int | None]
    recipients: type[RecordRecipient] | type[AudienceRecipient]
    exclusions: type[RecordExclusion] | type[AudienceExclusion]
    party: ColumnElement[int] | None = None


DENIALS = Audience(
    Denial.id.expression,
    Denial.originator_org_id.expression,
    Denial.author_user_id.expression,
    Denial.marking.expression,
    Denial.sharing_group_id.expression,
    RecordRecipient,
    RecordExclusion,
)
CONSULTATIONS = Audience(
    Consultation.id.expression,
    Consultation.originator_org_id.expression,
    Consultation.author_user_id.expression,
    Consultation.marking.expression,
    Consultation.sharing_group_id.expression,
    AudienceRecipient,
    AudienceExclusion,
    party=Consultation.consulted_org_id.expression,
)
LICENCES = Audience(
    LicenceDecision.id.expression,
    LicenceDecision.originator_org_id.expression,
    LicenceDecision.author_user_id.expression,
    LicenceDecision.marking.expression,
    LicenceDecision.sharing_group_id.expression,
    AudienceRecipient,
    AudienceExclusion,
)
ALERTS = Audience(
    AlertRecord.id.expression,
    AlertRecord.originator_org_id.expression,
    AlertRecord.author_user_id.expression,
    AlertRecord.marking.expression,
    AlertRecord.sharing_group_id.expression,
    AudienceRecipient,
    AudienceExclusion,
)


# Building the expression costs about 2 ms of CPU per call (aliases, EXISTS
# subqueries), twice a list request; it depends only on the principal and the
# audience and SQLAlchemy expressions are immutable, so it is built once per
# principal (measured by benchmarks/exchange_load.py).
@lru_cache(maxsize=4096)
def visible_filter(principal: Principal, audience: Audience = DENIALS) -> ColumnElement[bool]:
    """The WHERE clause selecting the records of ``audience`` that ``principal`` may see."""
    return _visibility(audience, principal.user_id, principal.org_id)


#: Bind-parameter names of :func:`visible_clause`: the caller's user and organisation.
VIEWER_USER = "viewer_user"
VIEWER_ORG = "viewer_org"


@lru_cache(maxsize=16)
def visible_clause(audience: Audience = DENIALS) -> ColumnElement[bool]:
    """:func:`visible_filter` with the caller as bind parameters, for prebuilt statements.

    The hot read paths build their statements once and execute them with
    ``{VIEWER_USER: principal.user_id, VIEWER_ORG: principal.org_id}``:
    SQLAlchemy then reuses the statement's memoised cache key and compiled form
    instead of building and hashing a new expression tree per request.
    """
    return _visibility(
        audience, bindparam(VIEWER_USER, type_=Integer), bindparam(VIEWER_ORG, type_=Integer)
    )


def viewer(principal: Principal) -> dict[str, int]:
    """The bind parameters of :func:`visible_clause` for ``principal``."""
    return {VIEWER_USER: principal.user_id, VIEWER_ORG: principal.org_id}


def _visibility(
    audience: Audience, uid: int | ColumnElement[int], org: int | ColumnElement[int]
) -> ColumnElement[bool]:
    """The one visibility rule, for a caller given as values or as bind parameters."""
    a = audience
    # Uncorrelated IN (…) rather than EXISTS (… WHERE record_id = id): PostgreSQL
    # hashes the caller's few exclusions and recipients once, instead of probing
    # the table for every record (record_id is never NULL, so NOT IN is exact).
    excluded = a.id.in_(select(a.exclusions.record_id).where(a.exclusions.org_id == org))
    named = a.id.in_(select(a.recipients.record_id).where(a.recipients.user_id == uid))
    in_group = exists(
        select(GroupMember.org_id).where(GroupMember.group_id == a.group, GroupMember.org_id == org)
    )
    mine, theirs = aliased(GroupMember), aliased(GroupMember)
    partner_of_originator = exists(
        select(mine.org_id)
        .join(theirs, theirs.group_id == mine.group_id)
        .where(mine.org_id == org, theirs.org_id == a.originator)
    )
    amber = and_(
        a.marking == Marking.AMBER.value,
        or_(
            and_(a.group.is_not(None), in_group),
            and_(a.group.is_(None), partner_of_originator),
        ),
    )
    own: ColumnElement[bool] = a.originator == org
    not_own: ColumnElement[bool] = a.originator != org
    if a.party is not None:
        own = or_(own, a.party == org)
        not_own = and_(not_own, a.party != org)
    return or_(
        a.author == uid,
        and_(a.marking == Marking.RED.value, named, ~excluded),
        and_(a.marking != Marking.RED.value, own),
        and_(
            not_own,
            ~excluded,
            # Two comparisons, not IN (…): an IN list is an "expanding" parameter that
            # SQLAlchemy re-renders into the SQL text at every execution.
            or_(a.marking == Marking.CLEAR.value, a.marking == Marking.GREEN.value, amber),
        ),
    )
