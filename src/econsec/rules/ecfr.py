"""Loaders of the regulation text the rules rest on.

* ``ecfr_<date>/country-groups.json`` (15 CFR 740 Supp. 1) and
  ``country-chart.json`` (738 Supp. 1): every destination the EAR names, keyed
  here by ISO 3166-1 alpha-2, with its country groups. Names the territory
  database does not know and rows another destination inherits (Hong Kong →
  China) come from ``data/us/country_names.yaml``.
* ``ccl.json`` (774 Supp. 1): the paragraph ids of an ECCN, so tests can check
  that the rule data quotes paragraphs that exist.
* ``chpl_<date>.csv``: the Common High Priority List, HS-6 code → tier.

The files live in ``$ECONSEC_DATA/rules`` (default ``../shared/data/rules``);
they are never copied into the package. Every problem names the file, the
record and the field.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from econsec.lists._common import country_code
from econsec.rules.dated import DatedError
from econsec.settings import data_dir

ECFR_FOLDER = "ecfr_2026-07-23"
CHPL_FILE = "chpl_2024-02-23.csv"


class RuleSourceError(DatedError):
    """A regulation source file is missing or malformed (names file, record, field)."""


@dataclass(frozen=True, slots=True)
class Destinations:
    """Every destination of the EAR country tables, by ISO alpha-2 code."""

    #: code → eCFR name of its row (or of the row it inherits).
    names: Mapping[str, str]
    #: code → country groups (``D:1``, ``A:5`` …) it is in.
    groups: Mapping[str, frozenset[str]]
    #: code → why it takes another destination's row (Hong Kong …).
    inherited: Mapping[str, str]
    citation: str
    source: str

    def codes(self) -> tuple[str, ...]:
        return tuple(sorted(self.names))

    def require(self, code: str) -> str:
        """The upper-case code, or an error naming the unknown code."""
        value = code.strip().upper()
        if value not in self.names:
            raise RuleSourceError(
                f"destination {code!r}: not an ISO 3166-1 alpha-2 code of a destination in "
                f"{self.source} (the EAR country tables)"
            )
        return value


def rules_dir() -> Path:
    folder = data_dir()
    if folder is None or not (folder / "rules").is_dir():
        raise RuleSourceError(
            "rules data folder missing: set ECONSEC_DATA to the folder holding rules/ "
            f"({ECFR_FOLDER}/, {CHPL_FILE})"
        )
    return folder / "rules"


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RuleSourceError(f"{path}: file missing") from None
    except json.JSONDecodeError as exc:
        raise RuleSourceError(f"{path}, line {exc.lineno}: not valid JSON: {exc.msg}") from None
    if not isinstance(data, dict):
        raise RuleSourceError(f"{path}: expected a JSON object at the top")
    return data


def _names_config() -> dict[str, Any]:
    text = resources.files("econsec.rules").joinpath("data/us/country_names.yaml").read_text()
    data = yaml.safe_load(text)
    assert isinstance(data, dict)
    return data


def load_destinations(folder: Path | None = None) -> Destinations:
    """Destinations and their country groups from the eCFR JSON files."""
    base = folder or rules_dir() / ECFR_FOLDER
    groups_path = base / "country-groups.json"
    chart_path = base / "country-chart.json"
    groups_doc = _read_json(groups_path)
    chart_doc = _read_json(chart_path)
    config = _names_config()
    overrides: dict[str, str] = config.get("names") or {}

    def code_of(name: str, where: str) -> str:
        code = overrides.get(name) or country_code(name)
        if code is None:
            raise RuleSourceError(f"{where}: country {name!r} has no ISO alpha-2 code")
        return code

    names: dict[str, str] = {}
    groups: dict[str, set[str]] = {}
    table = groups_doc.get("groups")
    if not isinstance(table, dict) or not table:
        raise RuleSourceError(f"{groups_path}, field 'groups': missing or empty")
    for group, members in table.items():
        if not isinstance(members, list):
            raise RuleSourceError(f"{groups_path}, groups[{group!r}]: expected a list of names")
        for name in members:
            code = code_of(str(name), f"{groups_path}, groups[{group!r}]")
            names.setdefault(code, str(name))
            groups.setdefault(code, set()).add(str(group))
    for field in ("countries", "embargoed"):
        rows = chart_doc.get(field)
        if not isinstance(rows, dict):
            raise RuleSourceError(f"{chart_path}, field {field!r}: missing")
        for name in rows:
            code = code_of(str(name), f"{chart_path}, {field}[{name!r}]")
            names.setdefault(code, str(name))
            groups.setdefault(code, set())
    inherited: dict[str, str] = {}
    for code, spec in (config.get("inherit") or {}).items():
        row = spec["row"]
        if row not in names:
            raise RuleSourceError(f"country_names.yaml, inherit[{code}]: row {row} unknown")
        names[code] = names[row]
        groups[code] = set(groups[row])
        inherited[code] = str(spec["basis"])
    return Destinations(
        names=dict(names),
        groups={c: frozenset(g) for c, g in groups.items()},
        inherited=inherited,
        citation=f"{groups_doc.get('citation')} (eCFR {groups_doc.get('ecfrIssueDate')})",
        source=str(groups_path),
    )


@lru_cache(maxsize=1)
def destinations() -> Destinations:
    """The destinations of the shared data folder (read once per process)."""
    return load_destinations()


def ccl_paragraphs(eccn: str, folder: Path | None = None) -> tuple[str, ...]:
    """The paragraph ids of an ECCN in ccl.json (``a``, ``a.1``, ``c`` …)."""
    path = (folder or rules_dir() / ECFR_FOLDER) / "ccl.json"
    doc = _read_json(path)
    for i, entry in enumerate(doc.get("entries") or []):
        if isinstance(entry, dict) and entry.get("eccn") == eccn:
            items = entry.get("items") or []
            return tuple(str(x["paragraph"]) for x in items if x.get("paragraph"))
        if not isinstance(entry, dict):
            raise RuleSourceError(f"{path}, entries[{i}]: expected an object")
    raise RuleSourceError(f"{path}: ECCN {eccn!r} not found")


def ccl_text(eccn: str, folder: Path | None = None) -> str:
    """All paragraph text of an ECCN, joined (for checks against the rule data)."""
    path = (folder or rules_dir() / ECFR_FOLDER) / "ccl.json"
    doc = _read_json(path)
    for entry in doc.get("entries") or []:
        if entry.get("eccn") == eccn:
            parts = [str(entry.get("heading") or "")]
            parts += [str(x.get("text") or "") for x in entry.get("items") or []]
            parts += [str(c.get("countryChart") or "") for c in entry.get("countryChart") or []]
            return "\n".join(parts)
    raise RuleSourceError(f"{path}: ECCN {eccn!r} not found")


def load_chpl(path: Path | None = None) -> dict[str, str]:
    """Common High Priority List: HS-6 code → tier (``1``, ``2``, ``3.A`` …)."""
    file = path or rules_dir() / CHPL_FILE
    try:
        handle = file.open(encoding="utf-8", newline="")
    except FileNotFoundError:
        raise RuleSourceError(f"{file}: file missing") from None
    out: dict[str, str] = {}
    with handle:
        reader = csv.DictReader(handle)
        for field in ("tier", "hs6"):
            if field not in (reader.fieldnames or []):
                raise RuleSourceError(f"{file}, line 1: column {field!r} missing")
        for row in reader:
            hs6 = (row.get("hs6") or "").strip()
            tier = (row.get("tier") or "").strip()
            if len(hs6) != 6 or not hs6.isdigit():
                raise RuleSourceError(
                    f"{file}, line {reader.line_num}, field 'hs6': {hs6!r} is not 6 digits"
                )
            if not tier:
                raise RuleSourceError(f"{file}, line {reader.line_num}, field 'tier': empty")
            out[hs6] = tier
    return out


@lru_cache(maxsize=1)
def chpl() -> dict[str, str]:
    return load_chpl()
