"""Country labels of trade files → ISO 3166-1 alpha-2 (or an aggregate code).

Eurostat labels carry history in parentheses ("Germany (incl. German
Democratic Republic 'DD' from 1991)"), some exports come in French, national
files mix countries with regional groups. Resolution order: the explicit
labels and prefixes of ``data/countries.yaml``, then rigour's territory
database on the label, then on the label without its parenthesised note.
Groups listed under ``aggregates_not_loaded`` resolve to :data:`SKIP`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

from econsec.lists._common import country_code

#: A label that is a known aggregate we deliberately do not load.
SKIP = "-"

_NOTE = re.compile(r"\s*\((?:incl\.|depuis|since|from|partie)[^)]*(?:\([^)]*\)[^)]*)*\)\s*$")
_PAREN = re.compile(r"\s*\([^()]*\)\s*$")


@dataclass(frozen=True, slots=True)
class _Table:
    labels: dict[str, str]
    labels_fr: dict[str, str]
    prefixes: tuple[tuple[str, str], ...]
    skip: frozenset[str]


@cache
def _table() -> _Table:
    text = resources.files("econsec.trade").joinpath("data/countries.yaml").read_text("utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return _Table(
        labels={str(k): (str(v) if v else SKIP) for k, v in data["labels"].items()},
        labels_fr={str(k): str(v) for k, v in data["labels_fr"].items()},
        prefixes=tuple((str(k), str(v)) for k, v in data["prefixes"].items()),
        skip=frozenset(str(v) for v in data["aggregates_not_loaded"]),
    )


@cache
def resolve(label: str, lang: str = "en") -> str | None:
    """ISO-2 code or aggregate code for ``label``; :data:`SKIP`; None = unknown.

    ``lang="fr"`` for French-language exports, whose labels differ.
    """
    label = label.strip()
    table = _table()
    if lang == "fr" and label in table.labels_fr:
        return table.labels_fr[label]
    if label in table.skip:
        return SKIP
    if label in table.labels:
        return table.labels[label]
    for prefix, code in table.prefixes:
        if label.startswith(prefix):
            return code
    if len(label) == 2 and label.isalpha() and label.isupper():
        return label
    stripped = _PAREN.sub("", _NOTE.sub("", label))
    for candidate in (stripped, label):
        found = country_code(candidate)
        if found is not None:
            return found
    return None
