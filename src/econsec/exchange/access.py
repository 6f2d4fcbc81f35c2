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

:func:`visible_filter` is the only implementation used by the server: lists,
counts and single reads all put it in the WHERE clause, so nothing outside it
is ever loaded, counted, or distinguished from a record that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, exists, or_, select
from sqlalchemy.orm import aliased

from econsec.exchange.db import Denial, GroupMember, Marking, RecordExclusion, RecordRecipient


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller: a user of an organisation, with token scopes."""

    user_id: int
    org_id: int
    role: str
    scopes: frozenset[str]


def visible_filter(principal: Principal) -> ColumnElement[bool]:
    """The WHERE clause selecting the denials ``principal`` may see."""
    uid, org = principal.user_id, principal.org_id
    excluded = exists(
        select(RecordExclusion.record_id).where(
            RecordExclusion.record_id == Denial.id, RecordExclusion.org_id == org
        )
    )
    named = exists(
        select(RecordRecipient.record_id).where(
            RecordRecipient.record_id == Denial.id, RecordRecipient.user_id == uid
        )
    )
    in_group = exists(
        select(GroupMember.org_id).where(
            GroupMember.group_id == Denial.sharing_group_id, GroupMember.org_id == org
        )
    )
    mine, theirs = aliased(GroupMember), aliased(GroupMember)
    partner_of_originator = exists(
        select(mine.org_id)
        .join(theirs, theirs.group_id == mine.group_id)
        .where(mine.org_id == org, theirs.org_id == Denial.originator_org_id)
    )
    amber = and_(
        Denial.marking == Marking.AMBER.value,
        or_(
            and_(Denial.sharing_group_id.is_not(None), in_group),
            and_(Denial.sharing_group_id.is_(None), partner_of_originator),
        ),
    )
    return or_(
        Denial.author_user_id == uid,
        and_(Denial.marking == Marking.RED.value, named, ~excluded),
        and_(Denial.marking != Marking.RED.value, Denial.originator_org_id == org),
        and_(
            Denial.originator_org_id != org,
            ~excluded,
            or_(Denial.marking.in_((Marking.CLEAR.value, Marking.GREEN.value)), amber),
        ),
    )
