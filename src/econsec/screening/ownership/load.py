"""Read ownership files: the econsec CSV layout and FollowTheMoney JSON lines.

Both produce an :class:`~econsec.model.ownership.OwnershipGraph`. Nothing is
returned unless the whole file is good: a problem that makes a holding
meaningless (a percentage outside 0–100, an end before the start, a
reference to an entity the file never defines) raises a
:class:`~econsec.lists._common.LoadError` naming the file, the record and the
field. Problems real registers contain and that do not make the data wrong
are accepted and recorded as :class:`~econsec.model.ownership.LoadWarning`
(see ``docs/ownership.md``):

* stakes into one entity adding up to more than 100 % on some day (registers
  double count: direct and indirect, legal and beneficial, several filings);
* an entity holding its own shares (treasury shares; no effect on coverage);
* the same holding given twice (identical row): kept once;
* the same entity id given different names or schemata: the first is kept.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from followthemoney import model
from followthemoney.exc import InvalidData

from econsec.lists._common import LoadError, country_code, csv_field_at, read_text
from econsec.lists.ftm import json_lines, string_list
from econsec.model.ownership import Holding, LoadWarning, OwnershipEntity, OwnershipGraph
from econsec.model.party import SourceRef

PARSER_CSV = "ownership-csv/1"
PARSER_FTM = "ownership-ftm/1"

#: The CSV layout (docs/ownership.md). The first three columns are required.
REQUIRED_COLUMNS = ("owner_id", "owned_id", "percent")
OPTIONAL_COLUMNS = (
    "owner_name",
    "owned_name",
    "owner_schema",
    "owned_schema",
    "owner_countries",
    "owned_countries",
    "share_class",
    "voting",
    "valid_from",
    "valid_to",
    "source",
    "owner_list_ref",
    "owned_list_ref",
)
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS

#: Percentages above 100 by no more than this are rounding, not double counting.
OVER_100_TOLERANCE = 1e-6
_UNKNOWN = frozenset({"", "unknown", "?", "n/a", "na", "-"})
_TRUE = frozenset({"true", "yes", "y", "1", "voting"})
_FALSE = frozenset({"false", "no", "n", "0", "non-voting", "nonvoting"})
_PARTIAL = re.compile(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?$")
_FTM_NODE_SCHEMATA = ("LegalEntity",)


def parse_percent(value: str, file: str, record: str, field: str) -> float | None:
    """``60``, ``60.5``, ``60 %`` → float; empty or ``unknown`` → None; else LoadError."""
    text = value.strip().rstrip("%").strip()
    if text.lower() in _UNKNOWN:
        return None
    try:
        number = float(text)
    except ValueError:
        raise LoadError(file, record, field, f"not a percentage: {value!r}") from None
    if not math.isfinite(number) or not 0.0 <= number <= 100.0:
        raise LoadError(file, record, field, f"percentage {value!r} is outside 0–100")
    return number


def parse_day(value: str, file: str, record: str, field: str, end: bool) -> date | None:
    """An ISO date; ``YYYY`` and ``YYYY-MM`` mean the first (or, for an end, the
    last) day of that year or month. Empty → None."""
    text = value.strip()
    if not text:
        return None
    m = _PARTIAL.match(text[:10] if len(text) > 10 and text[10] == "T" else text)
    if m:
        year, month, day = int(m.group(1)), m.group(2), m.group(3)
        try:
            if day is not None:
                return date(year, int(month or 1), int(day))
            if month is not None:
                start = date(year, int(month), 1)
                if not end:
                    return start
                nxt = date(year + (start.month == 12), start.month % 12 + 1, 1)
                return date.fromordinal(nxt.toordinal() - 1)
            return date(year, 12, 31) if end else date(year, 1, 1)
        except ValueError as exc:
            raise LoadError(file, record, field, f"not a valid date {value!r}: {exc}") from None
    raise LoadError(file, record, field, f"not a date {value!r} (use YYYY-MM-DD)")


def parse_voting(value: str, file: str, record: str, field: str) -> bool | None:
    text = value.strip().lower()
    if not text:
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise LoadError(file, record, field, f"{value!r}: expected true/false, yes/no or empty")


def _split(value: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(x.strip() for x in value.split(";") if x.strip()))


@dataclass
class _Node:
    record: str
    id_field: str
    name: str = ""
    schema: str = ""
    countries: list[str] = field(default_factory=list)
    list_refs: list[str] = field(default_factory=list)
    source_ref: SourceRef | None = None


@dataclass
class _Builder:
    """Collects nodes and holdings, then checks what only the whole file can show."""

    file: str
    nodes: dict[str, _Node] = field(default_factory=dict)
    holdings: list[Holding] = field(default_factory=list)
    warnings: list[LoadWarning] = field(default_factory=list)
    _seen: set[tuple[object, ...]] = field(default_factory=set)

    def warn(self, record: str, field_name: str | None, message: str) -> None:
        self.warnings.append(LoadWarning(self.file, record, field_name, message))

    def node(
        self,
        entity_id: str,
        record: str,
        id_field: str,
        name: str = "",
        schema: str = "",
        countries: tuple[str, ...] = (),
        list_refs: tuple[str, ...] = (),
        defines: bool = False,
    ) -> None:
        node = self.nodes.get(entity_id)
        if node is None:
            node = self.nodes[entity_id] = _Node(record, id_field)
        if defines and node.source_ref is None:
            node.source_ref = SourceRef(self.file, record)
        if name:
            if not node.name:
                node.name = name
            elif node.name != name:
                self.warn(
                    record,
                    id_field.replace("_id", "_name"),
                    f"entity {entity_id!r} is named {name!r} here and {node.name!r} "
                    f"before ({node.record}); the first name is kept",
                )
        if schema:
            if not node.schema:
                node.schema = schema
            elif node.schema != schema:
                self.warn(
                    record,
                    id_field.replace("_id", "_schema"),
                    f"entity {entity_id!r} has schema {schema!r} here and {node.schema!r} "
                    "before; the first is kept",
                )
        node.countries.extend(c for c in countries if c not in node.countries)
        node.list_refs.extend(r for r in list_refs if r not in node.list_refs)

    def add(self, holding: Holding, record: str, identity: str = "") -> None:
        key = (
            identity,
            holding.owner_id,
            holding.owned_id,
            holding.percent,
            holding.share_class,
            holding.voting,
            holding.valid_from,
            holding.valid_to,
            holding.source,
        )
        if key in self._seen:
            self.warn(record, None, "the same holding is given again; counted once")
            return
        self._seen.add(key)
        if holding.owner_id == holding.owned_id:
            self.warn(
                record,
                "owner_id",
                f"entity {holding.owner_id!r} holds its own shares (treasury shares); "
                "kept, it has no effect on coverage",
            )
        self.holdings.append(holding)

    def finish(self) -> OwnershipGraph:
        for entity_id, node in self.nodes.items():
            if not node.name and not node.list_refs:
                raise LoadError(
                    self.file,
                    node.record,
                    node.id_field,
                    f"dangling reference: entity {entity_id!r} is defined nowhere in the file "
                    "(no name and no list reference on any record)",
                )
        self._check_sums()
        entities = tuple(
            OwnershipEntity(
                entity_id=entity_id,
                name=node.name or entity_id,
                schema=node.schema or "LegalEntity",
                countries=tuple(node.countries),
                list_refs=tuple(node.list_refs),
                source_ref=node.source_ref or SourceRef(self.file, node.record),
            )
            for entity_id, node in self.nodes.items()
        )
        return OwnershipGraph(entities, tuple(self.holdings), tuple(self.warnings))

    def _check_sums(self) -> None:
        """Warn where known stakes into one entity exceed 100 % on some day."""
        into: dict[str, list[Holding]] = defaultdict(list)
        for h in self.holdings:
            if h.percent is not None and h.owner_id != h.owned_id:
                into[h.owned_id].append(h)
        for owned, items in into.items():
            if sum(h.percent or 0.0 for h in items) <= 100.0 + OVER_100_TOLERANCE:
                continue
            # The total can only peak on a day some holding starts.
            days = {h.valid_from or date.min for h in items}
            for day in sorted(days):
                valid = [h for h in items if h.valid_on(day)]
                total = sum(h.percent or 0.0 for h in valid)
                if total > 100.0 + OVER_100_TOLERANCE:
                    records = ", ".join(
                        h.source_ref.record for h in valid if h.source_ref is not None
                    )
                    when = "" if day == date.min else f" on {day}"
                    self.warn(
                        valid[-1].source_ref.record if valid[-1].source_ref else "",
                        "percent",
                        f"stakes into {owned!r} add up to {total:g} %{when} ({records}); "
                        "accepted: registers double count (direct and indirect, legal and "
                        "beneficial); each stake counts as given",
                    )
                    break


def _check_dates(h: Holding, file: str, record: str, to_field: str) -> None:
    if h.valid_from and h.valid_to and h.valid_to < h.valid_from:
        raise LoadError(
            file, record, to_field, f"ends ({h.valid_to}) before it begins ({h.valid_from})"
        )


# -- CSV ------------------------------------------------------------------------


def _countries(value: str, file: str, record: str, field_name: str) -> tuple[str, ...]:
    out: list[str] = []
    for item in _split(value):
        code = country_code(item)
        if code is None:
            raise LoadError(file, record, field_name, f"not a country: {item!r}")
        out.append(code)
    return tuple(out)


def parse_csv(path: Path) -> OwnershipGraph:
    """Read the econsec ownership CSV layout (docs/ownership.md)."""
    file = str(path)
    text = read_text(path, field_at=csv_field_at(","))
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise LoadError(file, "line 1", None, "empty file, expected a header") from None
    except csv.Error as exc:
        raise LoadError(file, "line 1", None, f"bad CSV: {exc}") from None
    unknown = [h for h in header if h not in COLUMNS]
    if unknown:
        raise LoadError(
            file, "line 1", unknown[0], "unknown column; the layout is " + ", ".join(COLUMNS)
        )
    for column in REQUIRED_COLUMNS:
        if column not in header:
            raise LoadError(file, "line 1", column, "missing required column")
    repeated = [h for h in header if header.count(h) > 1]
    if repeated:
        raise LoadError(file, "line 1", repeated[0], "column appears more than once")
    builder = _Builder(file)
    while True:
        line = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise LoadError(file, f"line {line}", None, f"bad CSV: {exc}") from None
        if not row or all(not c.strip() for c in row):
            continue
        record = f"line {line}"
        if len(row) != len(header):
            raise LoadError(
                file, record, None, f"{len(row)} fields where the header has {len(header)}"
            )
        values = dict(zip(header, row, strict=True))

        def get(column: str, values: dict[str, str] = values) -> str:
            return values.get(column, "").strip()

        ids = {}
        for side in ("owner", "owned"):
            entity_id = get(f"{side}_id")
            if not entity_id:
                raise LoadError(file, record, f"{side}_id", "empty id")
            ids[side] = entity_id
            builder.node(
                entity_id,
                record,
                f"{side}_id",
                name=get(f"{side}_name"),
                schema=get(f"{side}_schema"),
                countries=_countries(get(f"{side}_countries"), file, record, f"{side}_countries"),
                list_refs=_split(get(f"{side}_list_ref")),
                defines=bool(get(f"{side}_name")),
            )
        holding = Holding(
            owner_id=ids["owner"],
            owned_id=ids["owned"],
            percent=parse_percent(get("percent"), file, record, "percent"),
            share_class=get("share_class") or None,
            voting=parse_voting(get("voting"), file, record, "voting"),
            valid_from=parse_day(get("valid_from"), file, record, "valid_from", end=False),
            valid_to=parse_day(get("valid_to"), file, record, "valid_to", end=True),
            source=get("source") or None,
            source_ref=SourceRef(file, record),
        )
        _check_dates(holding, file, record, "valid_to")
        builder.add(holding, record)
    return builder.finish()


# -- FollowTheMoney -------------------------------------------------------------------


def parse_ftm(path: Path) -> OwnershipGraph:
    """Read FtM JSON lines: ``Ownership`` entities and the legal entities they join.

    ``owner`` and ``asset`` must point at entities of the file (directly or
    through ``referents``); ``percentage`` → percent (empty = unknown),
    ``sharesType`` → share class, ``ownershipType``/``role`` mentioning voting
    → voting, ``startDate``/``endDate`` → validity, ``publisher``/``sourceUrl``
    → source. A node's list references are its id and referents (econsec's own
    FtM export ids, ``econsec-…``, resolve to the list entry they came from).
    """
    file = str(path)
    builder = _Builder(file)
    referents: dict[str, str] = {}
    ownerships: list[tuple[str, Any, dict[str, list[str]]]] = []
    for number, text in json_lines(path):
        record = f"line {number}"
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise LoadError(file, record, None, f"invalid JSON: {exc.msg}") from None
        if not isinstance(data, dict):
            raise LoadError(file, record, None, "expected a JSON object (one entity per line)")
        ftm_id = data.get("id")
        if not isinstance(ftm_id, str) or not ftm_id.strip():
            raise LoadError(file, record, "id", "missing entity id")
        schema = model.get(str(data.get("schema") or ""))
        if schema is None:
            raise LoadError(file, record, "schema", f"unknown schema {data.get('schema')!r}")
        raw = data.get("properties") or {}
        if not isinstance(raw, dict):
            raise LoadError(file, record, "properties", "expected a JSON object")
        props = {k: string_list(file, record, f"properties.{k}", v) for k, v in raw.items()}
        try:
            entity = model.get_proxy(
                {"id": ftm_id, "schema": schema.name, "properties": props}, cleaned=False
            )
        except InvalidData as exc:
            raise LoadError(file, record, None, f"invalid entity: {exc}") from None
        refs = string_list(file, record, "referents", data.get("referents"))
        for ref in refs:
            referents[ref] = ftm_id
        if schema.is_a("Ownership"):
            ownerships.append((record, entity, props))
        elif any(schema.is_a(s) for s in _FTM_NODE_SCHEMATA):
            names = entity.get("name")
            countries = tuple(
                c for c in (country_code(x) for x in entity.get("country")) if c is not None
            )
            builder.node(
                ftm_id,
                record,
                "id",
                name=names[0] if names else "",
                schema=schema.name,
                countries=countries,
                list_refs=(ftm_id, *refs),
                defines=True,
            )
    for record, entity, raw_props in ownerships:
        ends: dict[str, str] = {}
        for prop in ("owner", "asset"):
            values = entity.get(prop)
            if len(values) != 1:
                raise LoadError(
                    file, record, f"properties.{prop}", f"expected one entity id, got {values}"
                )
            target = referents.get(values[0], values[0])
            if target not in builder.nodes:
                raise LoadError(
                    file,
                    record,
                    f"properties.{prop}",
                    f"dangling reference: no legal entity {values[0]!r} in the file",
                )
            ends[prop] = target
        pct_values = raw_props.get("percentage", [])
        if len(pct_values) > 1:
            raise LoadError(file, record, "properties.percentage", f"several values {pct_values}")
        kinds = " ".join(entity.get("ownershipType") + entity.get("role")).lower()
        voting = False if "non-voting" in kinds else True if "voting" in kinds else None
        sources = entity.get("publisher") + entity.get("sourceUrl")
        holding = Holding(
            owner_id=ends["owner"],
            owned_id=ends["asset"],
            percent=parse_percent(
                pct_values[0] if pct_values else "", file, record, "properties.percentage"
            ),
            share_class="; ".join(entity.get("sharesType")) or None,
            voting=voting,
            valid_from=_ftm_day(raw_props.get("startDate", []), file, record, "startDate", False),
            valid_to=_ftm_day(raw_props.get("endDate", []), file, record, "endDate", True),
            source="; ".join(sources) or None,
            source_ref=SourceRef(file, f"{record} (Ownership {entity.id})"),
        )
        _check_dates(holding, file, record, "properties.endDate")
        # Distinct Ownership entities are distinct statements, never a repeated row.
        builder.add(holding, record, identity=str(entity.id))
    graph = builder.finish()
    # Nodes that own nothing and are owned by nothing are not part of the graph.
    used = {h.owner_id for h in graph.holdings} | {h.owned_id for h in graph.holdings}
    return replace(graph, entities=tuple(e for e in graph.entities if e.entity_id in used))


def _ftm_day(values: list[str], file: str, record: str, prop: str, end: bool) -> date | None:
    if len(values) > 1:
        raise LoadError(file, record, f"properties.{prop}", f"several values {values}")
    return parse_day(values[0], file, record, f"properties.{prop}", end) if values else None


def parse(path: Path, fmt: str | None = None) -> tuple[OwnershipGraph, str]:
    """Parse by explicit format (``csv``/``ftm``) or by file name; returns the graph and parser."""
    name = path.name.lower()
    kind = fmt or ("csv" if name.endswith(".csv") else "ftm")
    if kind == "csv":
        return parse_csv(path), PARSER_CSV
    if kind == "ftm":
        return parse_ftm(path), PARSER_FTM
    raise LoadError(str(path), None, None, f"unknown format {fmt!r}: expected csv or ftm")
