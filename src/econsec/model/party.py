"""The restricted party: one entry on one list, whatever format it came from.

Every list loader produces :class:`Party` objects. The model is deliberately
flat and immutable: a party is a record of what a publisher said on a given
list version, not a resolved real-world entity. Facts that only some formats
carry (licence requirement on the Entity List, vessel flag on the SDN list)
are optional fields rather than subclasses, so every consumer can handle every
party the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Schema(StrEnum):
    """What kind of thing a list entry describes (FollowTheMoney schema names)."""

    PERSON = "Person"
    ORGANIZATION = "Organization"
    VESSEL = "Vessel"
    AIRCRAFT = "Airplane"
    #: The publisher did not say whether the entry is a person or an organisation
    #: (the Entity List, for example, has no type column).
    LEGAL_ENTITY = "LegalEntity"

    @classmethod
    def parse(cls, value: str) -> Schema:
        """Accept FollowTheMoney names and the usual list spellings."""
        key = value.strip().lower()
        try:
            return _SCHEMA_ALIASES[key]
        except KeyError:
            raise ValueError(
                f"unknown schema {value!r}; expected one of "
                + ", ".join(sorted({s.value for s in cls}))
            ) from None

    def compatible_with(self, other: Schema) -> bool:
        """Whether an entry of this schema can describe the same thing as ``other``."""
        if self is other:
            return True
        return Schema.LEGAL_ENTITY in (self, other) and not (
            {self, other} & {Schema.VESSEL, Schema.AIRCRAFT}
        )


_SCHEMA_ALIASES: dict[str, Schema] = {
    "person": Schema.PERSON,
    "individual": Schema.PERSON,
    "organization": Schema.ORGANIZATION,
    "organisation": Schema.ORGANIZATION,
    "company": Schema.ORGANIZATION,
    "entity": Schema.ORGANIZATION,
    "vessel": Schema.VESSEL,
    "aircraft": Schema.AIRCRAFT,
    "airplane": Schema.AIRCRAFT,
    "legalentity": Schema.LEGAL_ENTITY,
    "legal_entity": Schema.LEGAL_ENTITY,
}


@dataclass(frozen=True, slots=True)
class Alias:
    """Another name under which the party is listed."""

    name: str
    #: ``aka``, ``fka`` (formerly known as), ``nka`` (now known as),
    #: ``original_script`` …, as the publisher qualifies it.
    kind: str = "aka"
    #: Publishers flag some aliases as weak or of low quality (OFAC "weak aka",
    #: UN "Low"). They are still screened, with a lower weight.
    weak: bool = False


@dataclass(frozen=True, slots=True)
class Address:
    street: str | None = None
    city: str | None = None
    region: str | None = None
    postal_code: str | None = None
    #: ISO 3166-1 alpha-2 code, upper case, when the publisher's country could be resolved.
    country: str | None = None
    #: The address as one line, as published (or assembled from the parts).
    full: str | None = None


@dataclass(frozen=True, slots=True)
class Identifier:
    #: e.g. ``Passport``, ``Tax ID No.``, ``IMO``, ``Registration Number``.
    type: str
    value: str
    country: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class SourceRef:
    """Where exactly the record came from, so a reviewer can open it."""

    file: str
    #: Line number (CSV/text) or element path/id (XML/JSON) inside ``file``.
    record: str
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Party:
    """One entry on one restricted-party list."""

    #: Globally unique: ``{source}:{list_entry_id}``.
    entity_id: str
    #: The dataset the entry was loaded from (``us_csl``, ``ofac_sdn``, ``un_sc`` …).
    source: str
    #: The list inside the dataset (``SDN``, ``EL``, ``DPL``, ``UN`` …).
    list: str
    #: The publisher's own identifier of the entry, when it has one.
    list_entry_id: str
    schema: Schema
    name: str
    #: Where exactly the record came from.
    source_ref: SourceRef
    aliases: tuple[Alias, ...] = ()
    #: Every country the entry is tied to (addresses, nationality, citizenship,
    #: registration), ISO 3166-1 alpha-2, upper case.
    countries: tuple[str, ...] = ()
    nationalities: tuple[str, ...] = ()
    programs: tuple[str, ...] = ()
    #: Partial ISO dates: ``1962``, ``1962-03`` or ``1962-03-14``.
    dates_of_birth: tuple[str, ...] = ()
    places_of_birth: tuple[str, ...] = ()
    addresses: tuple[Address, ...] = ()
    identifiers: tuple[Identifier, ...] = ()
    titles: tuple[str, ...] = ()
    gender: str | None = None
    #: Licence requirement and review policy, where the list states them
    #: (Entity List, MEU List).
    license_requirement: str | None = None
    license_policy: str | None = None
    #: Legal basis of the listing (Federal Register notice, UN reference, regulation).
    legal_basis: tuple[str, ...] = ()
    listed_on: str | None = None
    end_date: str | None = None
    remarks: str | None = None

    @property
    def all_names(self) -> tuple[str, ...]:
        """The primary name followed by every alias, duplicates removed."""
        seen: dict[str, None] = {self.name: None}
        for alias in self.aliases:
            seen.setdefault(alias.name, None)
        return tuple(seen)
