"""What changed between two editions of a list: added, removed and changed entries.

Entries are matched by ``entity_id`` (source and the publisher's entry id).
An entry has changed when anything the list says about it changed, the same
test as :func:`econsec.model.record.party_content_hash` (the source file and
line are not part of it: an entry that only moved in the file is unchanged).
For a changed entry every field that differs is listed with the values it
gained and lost (names and aliases, countries, programmes, addresses,
identifiers, dates …).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

from econsec.model.party import Address, Alias, Identifier, Party
from econsec.model.record import party_content_hash

#: Fields compared (everything but where the record was read from).
COMPARED = tuple(f.name for f in fields(Party) if f.name not in ("source_ref", "entity_id"))


@dataclass(frozen=True, slots=True)
class FieldChange:
    field: str
    added: tuple[str, ...]
    removed: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ChangedEntry:
    old: Party
    new: Party
    changes: tuple[FieldChange, ...]

    @property
    def entity_id(self) -> str:
        return self.new.entity_id


@dataclass(frozen=True, slots=True)
class ListDiff:
    added: tuple[Party, ...]
    removed: tuple[Party, ...]
    changed: tuple[ChangedEntry, ...]
    unchanged: int

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)


def _render(value: Any) -> str:
    if isinstance(value, Alias):
        text = value.name
        if value.kind != "aka":
            text += f" ({value.kind})"
        return text + (" [weak]" if value.weak else "")
    if isinstance(value, Identifier):
        text = f"{value.type}: {value.value}"
        return text + (f" ({value.country})" if value.country else "")
    if isinstance(value, Address):
        parts = [value.street, value.city, value.region, value.postal_code, value.country]
        return value.full or ", ".join(p for p in parts if p)
    return str(getattr(value, "value", value))


def field_changes(old: Party, new: Party) -> tuple[FieldChange, ...]:
    out = []
    for name in COMPARED:
        a, b = getattr(old, name), getattr(new, name)
        if a == b:
            continue
        if isinstance(a, tuple) and isinstance(b, tuple):
            before = [_render(x) for x in a]
            after = [_render(x) for x in b]
            gained = tuple(x for x in dict.fromkeys(after) if x not in before)
            lost = tuple(x for x in dict.fromkeys(before) if x not in after)
            if not gained and not lost:  # same values, other order or qualifiers
                gained, lost = tuple(after), tuple(before)
            out.append(FieldChange(name, gained, lost))
        else:
            out.append(
                FieldChange(
                    name,
                    () if b is None else (_render(b),),
                    () if a is None else (_render(a),),
                )
            )
    return tuple(out)


def diff_versions(old: Sequence[Party], new: Sequence[Party]) -> ListDiff:
    """Compare two editions (or any two sets of entries) by entity id."""
    before = {p.entity_id: p for p in old}
    after = {p.entity_id: p for p in new}
    added = tuple(p for eid, p in after.items() if eid not in before)
    removed = tuple(p for eid, p in before.items() if eid not in after)
    changed = []
    unchanged = 0
    for eid, p in after.items():
        q = before.get(eid)
        if q is None:
            continue
        if party_content_hash(p) == party_content_hash(q):
            unchanged += 1
        else:
            changed.append(ChangedEntry(q, p, field_changes(q, p)))
    return ListDiff(added, removed, tuple(changed), unchanged)


def diff_json(diff: ListDiff, old_label: str = "", new_label: str = "") -> dict[str, Any]:
    def entry(p: Party) -> dict[str, Any]:
        return {"entity_id": p.entity_id, "list": p.list, "name": p.name}

    return {
        "old": old_label,
        "new": new_label,
        "counts": {
            "added": len(diff.added),
            "removed": len(diff.removed),
            "changed": len(diff.changed),
            "unchanged": diff.unchanged,
        },
        "added": [entry(p) for p in diff.added],
        "removed": [entry(p) for p in diff.removed],
        "changed": [
            {
                **entry(c.new),
                "changes": [
                    {"field": f.field, "added": list(f.added), "removed": list(f.removed)}
                    for f in c.changes
                ],
            }
            for c in diff.changed
        ],
    }
