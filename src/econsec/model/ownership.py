"""Ownership: who holds how much of whom, from when to when, according to whom.

An ownership graph is a set of :class:`OwnershipEntity` nodes and
:class:`Holding` edges (owner → owned). A node may *be* a list entry
(``list_refs``: econsec party ids such as ``us_csl:…``, or ``LIST:entry id``
references resolved against the loaded lists); that is how the 50 % rules find
their seeds. Percentages may be unknown (None): an unknown stake is a red
flag for review, never a silent pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from econsec.model.party import SourceRef


@dataclass(frozen=True, slots=True)
class OwnershipEntity:
    """A company, person or other holder in the ownership graph."""

    #: Id in the loaded file (FtM entity id, or the CSV's ``owner_id``/``owned_id``).
    entity_id: str
    name: str
    #: FollowTheMoney schema name (``Company``, ``Person``, ``LegalEntity`` …).
    schema: str = "LegalEntity"
    #: ISO 3166-1 alpha-2, upper case.
    countries: tuple[str, ...] = ()
    #: List entries this node is: econsec party ids (``us_csl:…``) or
    #: ``LIST:entry id`` references (``SDN:20157``, ``EL:…``).
    list_refs: tuple[str, ...] = ()
    source_ref: SourceRef | None = None


@dataclass(frozen=True, slots=True)
class Holding:
    """One stake: ``owner_id`` holds ``percent`` of ``owned_id``."""

    owner_id: str
    owned_id: str
    #: 0–100; None when the source does not say (needs review).
    percent: float | None
    #: Share class as given (``ordinary``, ``class B`` …), if known.
    share_class: str | None = None
    #: Whether the shares carry votes, if known.
    voting: bool | None = None
    #: First and last day (inclusive) the holding applies; None = open.
    valid_from: date | None = None
    valid_to: date | None = None
    #: Who says so (register, filing, data provider), as given in the file.
    source: str | None = None
    #: The file and record the holding was read from.
    source_ref: SourceRef | None = None

    def valid_on(self, on: date) -> bool:
        return (self.valid_from is None or self.valid_from <= on) and (
            self.valid_to is None or on <= self.valid_to
        )


@dataclass(frozen=True, slots=True)
class LoadWarning:
    """A problem in an ownership file that was accepted, and why it was."""

    file: str
    record: str
    field: str | None
    message: str

    def __str__(self) -> str:
        field = f", field {self.field!r}" if self.field else ""
        return f"{self.file}, {self.record}{field}: {self.message}"


@dataclass(frozen=True, slots=True)
class OwnershipGraph:
    """Parsed ownership data (what a loader returns and the workspace stores)."""

    entities: tuple[OwnershipEntity, ...]
    holdings: tuple[Holding, ...]
    warnings: tuple[LoadWarning, ...] = ()


@dataclass(frozen=True, slots=True)
class OwnershipVersion:
    """One loaded ownership file (like :class:`~econsec.model.lists.ListVersion`)."""

    version_id: str
    #: Name under which the file was loaded; a new file of the same source replaces it.
    source: str
    content_hash: str
    #: ``csv`` or ``ftm``.
    format: str
    entity_count: int
    holding_count: int
    warning_count: int
    #: ISO timestamp (UTC).
    loaded_at: str
    origin: str
    parser: str
    active: bool


@dataclass(frozen=True, slots=True)
class NameLink:
    """A graph node linked to a list entry by screening its name (``--link-names``)."""

    entity_id: str
    party_id: str
    score: float
    #: The name-match evidence (matched name and features), in one line.
    evidence: str
