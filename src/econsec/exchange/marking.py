"""Changing a record's TLP marking: the one rule every record kind follows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from econsec.exchange.access import Principal
from econsec.exchange.db import AudienceRecipient, Marking, RecordRecipient


class Marked(Protocol):
    originator_org_id: int
    marking: str
    updated_at: dt.datetime


def marking_problem(
    session: Session,
    principal: Principal,
    record: Marked | None,
    record_id: str,
    label: str,
    marking: Marking,
    recipients: type[RecordRecipient] | type[AudienceRecipient],
    forbidden: Mapping[Marking, str] | None = None,
) -> tuple[int, str] | None:
    """Why ``principal`` may not give the record ``marking``, as (status, message); None if it may.

    Only the originator organisation changes a marking, so lowering it always
    has the originator's consent; a record it cannot see is a 404 like a
    missing one; RED needs named recipients.
    """
    if record is None:
        return 404, f"id: no {label} {record_id}"
    if record.originator_org_id != principal.org_id:
        return (
            403,
            "marking: only the originator organisation may change the "
            "marking (lowering it needs the originator's consent)",
        )
    if forbidden and marking in forbidden:
        return 422, f"marking: {forbidden[marking]}"
    if marking is Marking.RED and not session.scalar(
        select(func.count()).select_from(recipients).where(recipients.record_id == record_id)
    ):
        return (
            422,
            "marking: RED needs named recipients; create a RED record with recipients instead",
        )
    return None


def apply_marking(record: Marked, marking: Marking, now: dt.datetime) -> dict[str, Any]:
    """Set the marking; returns the audit detail (from, to, lowered/raised/unchanged)."""
    before = record.marking
    record.marking = marking.value
    record.updated_at = now
    direction = "lowered" if marking.rank < Marking(before).rank else "raised"
    return {
        "from": before,
        "to": marking.value,
        "change": direction if before != marking.value else "unchanged",
    }
