"""Names as US agencies write them in the name field, split into name, aliases and scope.

The Entity List, the Denied Persons List and the CSL copies of them put more
than a name in the name column:

* a scope clause: ``PMC Wagner; and any successor, sub-unit, or subsidiary
  thereof``;
* aliases inline: ``KOW SENG LIM -AKA- ERIC LIM``, ``Cho Yan Nathan; a.k.a
  Nathan Man Man``, ``PEARL (A.K.A. NEI-CHIEN CHU) LI``, ``Russian Aerospace
  Forces (aka VKS)``, ``COREZING INTERNATIONAL -AKAS- CORE ZING, …``.

Screened as written, ``PMC Wagner`` would be compared with a nine-word name and
missed. :func:`split_listed_name` returns the name proper, the inline aliases
and the qualifiers cut from it (kept, so the record still says what it covers).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SPACES = re.compile(r"\s+")

#: "; and any successor, sub-unit, or subsidiary thereof", ", and its
#: sub-units and successors".
_SCOPE = re.compile(
    r"[;,]?\s*\band\s+(?:any\s+successors?\s*,?\s*sub-?units?\s*,?\s*(?:or|and)\s+"
    r"subsidiar(?:y|ies)\s+thereof|its\s+sub-?units\s+and\s+successors)\b\.?",
    re.IGNORECASE,
)
#: "(PRC entity)", "(DPRK individual)", "(Russian national)".
_DESCRIPTOR = re.compile(
    r"\(\s*[\w .'-]{0,30}?\b(?:national|entity|individual|citizen|resident)s?\s*\)",
    re.IGNORECASE,
)
_AKA = r"(?:a\.?\s?k\.?\s?a\.?s?|f\.?\s?k\.?\s?a\.?)"
#: "(A.K.A. X)", "(aka X)", "(AKA: X)", "[aka X, aka Y]" anywhere in the name.
_PAREN_AKA = re.compile(rf"[(\[]\s*{_AKA}\s*[:.,]?\s*([^()\[\]]+?)\s*[)\]]", re.IGNORECASE)
_LIST_AKA = re.compile(rf"\s*,\s*{_AKA}\s*[:.,]?\s+", re.IGNORECASE)
#: "X -AKA- Y" and "X -AKAS- Y, Z" (DPL style).
_DASH_AKA = re.compile(r"\s+-\s?AKA(S?)\s?-\s+", re.IGNORECASE)
#: "X; a.k.a. Y; a.k.a. Z" and "X, a.k.a. Y".
_SEP_AKA = re.compile(rf"\s*[;,]\s*{_AKA}\s*[:.]?\s+", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class ListedName:
    name: str
    aliases: tuple[str, ...] = ()
    #: What was cut from the name besides aliases: scope clauses (``and any
    #: successor, sub-unit, or subsidiary thereof``) and descriptors (``PRC entity``).
    qualifiers: tuple[str, ...] = ()


def _tidy(text: str) -> str:
    return _SPACES.sub(" ", text).strip(" ;,")


def split_listed_name(raw: str) -> ListedName:
    """The name proper, its inline aliases and the qualifiers cut from it.

    A name without any of these patterns comes back unchanged (tidied of
    doubled spaces). Splitting never produces an empty name: if nothing would
    be left, the raw name is kept as it is.
    """
    text = _tidy(raw)
    qualifiers: list[str] = []
    aliases: list[str] = []

    for pattern in (_SCOPE, _DESCRIPTOR):
        for found in pattern.finditer(text):
            qualifiers.append(_tidy(found.group(0)).strip("()").strip())
        text = _tidy(pattern.sub(" ", text))

    for found in _PAREN_AKA.finditer(text):
        aliases.extend(_tidy(a) for a in _LIST_AKA.split(found.group(1)))
    text = _tidy(_PAREN_AKA.sub(" ", text))

    dash = _DASH_AKA.split(text, maxsplit=1)
    if len(dash) == 3:
        text, plural, rest = dash
        aliases.extend(_tidy(a) for a in (rest.split(",") if plural else [rest]))

    parts = _SEP_AKA.split(text)
    if len(parts) > 1:
        text = parts[0]
        aliases.extend(_tidy(p) for p in parts[1:])

    text = _tidy(text)
    if not text:
        return ListedName(_tidy(raw))
    seen: dict[str, None] = {}
    for alias in aliases:
        if alias and alias != text:
            seen.setdefault(alias, None)
    return ListedName(text, tuple(seen), tuple(qualifiers))


def listed_remarks(remarks: str | None, raw: str, listed: ListedName) -> str | None:
    """A list's remarks, plus the name as published when something was cut
    from it (so the record still says what it covers)."""
    if listed.name == raw:
        return remarks
    note = f"Listed as: {raw}"
    return f"{remarks} | {note}" if remarks else note
