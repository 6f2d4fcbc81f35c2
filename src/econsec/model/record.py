"""The compliance record: what was screened, what was found, what a reviewer decided.

These types are the contract between batch screening (which records runs and
their hits) and the decision log (which records what reviewers decided about
those hits and exports the proof of screening).

A hit is identified by its :class:`HitKey`: the counterparty (own reference and
a hash of the screened content) and the list entry (entity id and a hash of the
entry's content). A decision applies to exactly that key, so a cleared hit stays
cleared on re-screening until the counterparty record or the list entry changes:
either change gives a new hash and therefore a new, undecided key.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from enum import StrEnum
from functools import cache

from pydantic import TypeAdapter

from econsec.model.lists import ListVersion
from econsec.model.party import Party


def _digest(payload: object) -> str:
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


@cache
def _party_adapter() -> TypeAdapter[Party]:
    return TypeAdapter(Party)


def party_content_hash(party: Party) -> str:
    """SHA-256 over everything the list says about the entry (not where it came from).

    The source reference (file and line) is left out: the same entry moving to
    another line of a new edition has not changed. The JSON is pydantic's, in
    field declaration order (an order fixed by the model; ten times faster than
    going through ``asdict``, which matters when diffing whole list editions).
    """
    return hashlib.sha256(_party_adapter().dump_json(party, exclude={"source_ref"})).hexdigest()


@dataclass(frozen=True, slots=True)
class Counterparty:
    """One row of a customer or supplier file, as screened."""

    #: The caller's own reference (customer number …); unique within a file.
    reference: str
    name: str
    #: ``Person``, ``Organization`` … or None when the file does not say.
    schema: str | None = None
    countries: tuple[str, ...] = ()
    dates_of_birth: tuple[str, ...] = ()
    #: Identifiers as given (``LEI:529900…``, passport numbers …).
    identifiers: tuple[str, ...] = ()

    def content_hash(self) -> str:
        """SHA-256 over the screened fields, so an edited record is screened afresh."""
        # Spelled out rather than asdict(): this runs for every row of a batch.
        return _digest(
            {
                "name": self.name,
                "schema": self.schema,
                "countries": self.countries,
                "dates_of_birth": self.dates_of_birth,
                "identifiers": self.identifiers,
            }
        )


@dataclass(frozen=True, slots=True)
class HitKey:
    counterparty_reference: str
    counterparty_hash: str
    entity_id: str
    party_hash: str


class HitKind(StrEnum):
    #: The counterparty's name matched a list entry.
    NAME = "name"
    #: The counterparty matched an entity covered by an ownership rule (50 % rules).
    OWNERSHIP = "ownership"


@dataclass(frozen=True, slots=True)
class ScreenedHit:
    """One hit of one counterparty in one run, as it was reported."""

    run_id: str
    key: HitKey
    kind: HitKind
    score: float
    matched_name: str
    #: The list entry's source list (``SDN``, ``EL`` …) and version.
    list: str
    list_version_id: str
    #: Human-readable explanation (features, or the ownership chain).
    explanation: str


class RunStatus(StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class ScreeningRun:
    """One batch (or single) screening: enough to say later exactly what was done."""

    run_id: str
    #: ISO timestamps (UTC).
    started_at: str
    finished_at: str | None
    #: The input file's path as given, and the SHA-256 of its bytes.
    input_file: str
    input_sha256: str
    row_count: int
    list_versions: tuple[ListVersion, ...]
    #: Algorithm name and version (``name-v1``) and the threshold used.
    algorithm: str
    threshold: float
    status: RunStatus
    #: Where the results were written.
    output_file: str | None = None
    #: The run this one re-screened from (delta screening), if any.
    based_on_run: str | None = None


class DecisionKind(StrEnum):
    CONFIRMED = "confirmed_match"
    CLEARED = "cleared_false_positive"
    ESCALATED = "escalated"


@dataclass(frozen=True, slots=True)
class Decision:
    """A reviewer's decision on one hit. Decisions are appended, never edited:
    a later decision on the same key supersedes an earlier one."""

    decision_id: str
    key: HitKey
    kind: DecisionKind
    reviewer: str
    #: Required when clearing a hit; free text otherwise.
    reason: str
    #: ISO timestamp (UTC).
    decided_at: str
    #: The run in which the reviewer saw the hit, if known.
    run_id: str | None = None
    #: Hash chain: SHA-256 of the previous decision's ``entry_hash`` and this
    #: decision's content, so any edit or deletion in the log is detectable.
    previous_hash: str = ""
    entry_hash: str = ""
