"""Counterparty files: customer or supplier lists to batch-screen (CSV or Parquet).

A file needs a name column; it may also have an own reference, a type
(Person, Organization …), countries, dates of birth and identifiers. Columns
are found by their usual headers (``full_name``, ``nationality``,
``date_of_birth`` … as in the yente matching files) or named explicitly
(``name=Customer Name``). Several values in one cell (countries, dates,
identifiers) are separated by ``;``.

Every row is validated the way a single query is (``build_query``): a country
that is not a country, a date that is not a date, an empty name or an unknown
type is an error naming the file, the row and the field. With ``skip_bad`` the
problem is recorded (for an errors file) instead, never silently: a row whose
name is unusable is set aside; a row with an unusable optional field (type,
country, date of birth) is still screened, by its name and its other fields,
because leaving a party unscreened over a typo in its birth date is the worse
failure for a compliance team. Rows without a reference are numbered (row 1 is the first data row);
two rows with one reference are an error.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from econsec.model.record import Counterparty
from econsec.model.screening import ScreenQuery
from econsec.screening.screen import ScreeningError, build_query

#: The fields of a counterparty and the headers recognised for each, in order
#: of preference (compared without case, spaces, dashes or underscores).
FIELDS: dict[str, tuple[str, ...]] = {
    "reference": (
        "reference",
        "ref",
        "own_reference",
        "customer_id",
        "customer_number",
        "supplier_id",
        "account",
        "record_id",
        "id",
    ),
    "name": (
        "name",
        "full_name",
        "company_name",
        "legal_name",
        "entity_name",
        "party_name",
        "counterparty",
        "customer_name",
        "supplier_name",
    ),
    "schema": ("schema", "type", "entity_type", "party_type"),
    "countries": (
        "countries",
        "country",
        "nationality",
        "nationalities",
        "country_code",
        "jurisdiction",
    ),
    "dates_of_birth": ("dates_of_birth", "date_of_birth", "dob", "birth_date", "birthdate"),
    "identifiers": ("identifiers", "identifier", "id_numbers", "id_number", "lei", "passport"),
}
SEPARATOR = ";"


class CounterpartyError(ValueError):
    """A counterparty file that cannot be read, naming the file, row and field."""

    def __init__(self, file: str | Path, row: int | None, field: str | None, message: str) -> None:
        self.file = str(file)
        self.row = row
        self.field = field
        self.message = message
        where = self.file
        if row is not None:
            where += f", row {row}"
        if field:
            where += f", field {field!r}"
        super().__init__(f"{where}: {message}")


#: Fields a row can be screened without.
OPTIONAL_FIELDS = ("schema", "countries", "dates_of_birth")


@dataclass(frozen=True, slots=True)
class RowError:
    row: int
    field: str | None
    value: str
    message: str
    #: True when the row was still screened, without this field.
    screened: bool = False


@dataclass(frozen=True, slots=True)
class CounterpartyFile:
    path: Path
    #: SHA-256 of the file's bytes.
    sha256: str
    #: Field → the column it was read from.
    columns: dict[str, str]
    counterparties: tuple[Counterparty, ...]
    #: 1-based data-row number of each counterparty.
    rows: tuple[int, ...]
    #: Problems recorded (only with ``skip_bad``): rows set aside, and fields
    #: left out of rows that were screened without them.
    errors: tuple[RowError, ...] = ()


def _key(header: str) -> str:
    return re.sub(r"[\s_\-]+", "", header.strip().lower())


def parse_mapping(items: Sequence[str]) -> dict[str, str]:
    """``field=column`` options (``name=Customer Name``) as a mapping."""
    mapping: dict[str, str] = {}
    for item in items:
        field, sep, column = item.partition("=")
        field = field.strip()
        if not sep or not column.strip():
            raise CounterpartyError("--column", None, None, f"{item!r}: expected FIELD=COLUMN")
        if field not in FIELDS:
            raise CounterpartyError(
                "--column", None, None, f"unknown field {field!r}; fields: {', '.join(FIELDS)}"
            )
        mapping[field] = column.strip()
    return mapping


def resolve_columns(
    path: Path, headers: Sequence[str], mapping: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Which column holds each field: explicit mapping first, then known headers."""
    given = dict(mapping or {})
    by_key: dict[str, str] = {}
    for header in headers:
        by_key.setdefault(_key(header), header)
    columns: dict[str, str] = {}
    for field, column in given.items():
        if column not in headers:
            raise CounterpartyError(
                path,
                None,
                field,
                f"no column {column!r}; the file has: {', '.join(headers)}",
            )
        columns[field] = column
    taken = set(columns.values())
    for field, candidates in FIELDS.items():
        if field in columns:
            continue
        for candidate in candidates:
            found = by_key.get(_key(candidate))
            if found is not None and found not in taken:
                columns[field] = found
                taken.add(found)
                break
    if "name" not in columns:
        raise CounterpartyError(
            path,
            None,
            "name",
            "no name column found (looked for "
            + ", ".join(FIELDS["name"])
            + f"); the file has: {', '.join(headers)}; name it with --column name=HEADER",
        )
    return columns


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _split(value: str) -> list[str]:
    return [v.strip() for v in value.split(SEPARATOR) if v.strip()]


def _text(value: object) -> str:
    if value is None:
        return ""
    return str(value).strip()


def _rows(path: Path) -> tuple[list[str], Iterator[tuple[int, dict[str, object]]]]:
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        try:
            table: pa.Table = pq.read_table(path)
        except (OSError, pa.ArrowException) as exc:
            raise CounterpartyError(
                path, None, None, f"not a readable Parquet file: {exc}"
            ) from None
        headers = [str(n) for n in table.column_names]
        data = table.to_pylist()
        return headers, ((i, r) for i, r in enumerate(data, start=1))
    if suffix not in (".csv", ".tsv", ".txt"):
        raise CounterpartyError(
            path, None, None, "unknown file type: expected .csv, .tsv or .parquet"
        )
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise CounterpartyError(
            path, None, None, f"line {line}: not UTF-8 (byte {exc.object[exc.start]:#x})"
        ) from None
    lines = text.splitlines(keepends=True)
    if not lines:
        raise CounterpartyError(path, None, None, "empty file (no header row)")
    delimiter = "\t" if suffix == ".tsv" else ","
    reader = csv.reader(lines, delimiter=delimiter)
    try:
        headers = [h.strip() for h in next(reader)]
    except csv.Error as exc:
        raise CounterpartyError(path, None, None, f"header: {exc}") from None

    def records() -> Iterator[tuple[int, dict[str, object]]]:
        row = 0
        while True:
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise CounterpartyError(path, row + 1, None, str(exc)) from None
            if not any(v.strip() for v in values):
                continue
            row += 1
            if len(values) > len(headers):
                raise CounterpartyError(
                    path,
                    row,
                    None,
                    f"{len(values)} values for {len(headers)} columns (line {reader.line_num})",
                )
            yield row, dict(zip(headers, values, strict=False))

    return headers, records()


def counterparty_from_fields(
    reference: str,
    name: str,
    schema: str | None = None,
    countries: Sequence[str] = (),
    dates_of_birth: Sequence[str] = (),
    identifiers: Sequence[str] = (),
) -> Counterparty:
    """A counterparty with its fields validated and normalised (ISO country codes,
    ISO dates, canonical type) as a query would have them; ScreeningError naming
    the field otherwise."""
    query = build_query(name, schema, countries, dates_of_birth)
    return Counterparty(
        reference=reference,
        name=query.name,
        schema=query.schema.value if query.schema else None,
        countries=query.countries,
        dates_of_birth=query.dates_of_birth,
        identifiers=tuple(dict.fromkeys(i.strip() for i in identifiers if i.strip())),
    )


def to_query(
    counterparty: Counterparty,
    threshold: float | None = None,
    lists: Sequence[str] = (),
    limit: int = 10,
) -> ScreenQuery:
    return build_query(
        counterparty.name,
        counterparty.schema,
        counterparty.countries,
        counterparty.dates_of_birth,
        lists,
        threshold,
        limit,
    )


def read_counterparties(
    path: Path, mapping: Mapping[str, str] | None = None, skip_bad: bool = False
) -> CounterpartyFile:
    """Read and validate a counterparty file (see the module documentation)."""
    if not path.is_file():
        raise CounterpartyError(path, None, None, "no such file")
    headers, records = _rows(path)
    columns = resolve_columns(path, headers, mapping)
    sha = file_sha256(path)
    out: list[Counterparty] = []
    rows: list[int] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    for row, record in records:
        ref_column = columns.get("reference")
        reference = _text(record.get(ref_column)) if ref_column else ""
        reference = reference or str(row)
        values = {f: _text(record.get(c)) for f, c in columns.items()}
        used = dict(values)
        counterparty: Counterparty | None = None
        while counterparty is None:
            try:
                counterparty = counterparty_from_fields(
                    reference,
                    used["name"],
                    used.get("schema") or None,
                    _split(used.get("countries", "")),
                    _split(used.get("dates_of_birth", "")),
                    _split(used.get("identifiers", "")),
                )
            except ScreeningError as exc:
                field, _, message = str(exc).partition(": ")
                field = {"country": "countries", "dob": "dates_of_birth"}.get(field, field)
                column = columns.get(field, field)
                if not skip_bad:
                    raise CounterpartyError(path, row, column, message) from None
                optional = field in OPTIONAL_FIELDS and bool(used.get(field))
                errors.append(RowError(row, column, values.get(field, ""), message, optional))
                if not optional:
                    break
                used[field] = ""
        if counterparty is None:
            continue
        first = seen.get(reference)
        if first is not None:
            raise CounterpartyError(
                path,
                row,
                columns.get("reference", "reference"),
                f"duplicate reference {reference!r}, already used in row {first}",
            )
        seen[reference] = row
        out.append(counterparty)
        rows.append(row)
    return CounterpartyFile(
        path=path,
        sha256=sha,
        columns=columns,
        counterparties=tuple(out),
        rows=tuple(rows),
        errors=tuple(errors),
    )


def write_errors(errors: Sequence[RowError], path: Path, source: Path) -> None:
    """The problems recorded, one per line: file, row, field, value, message and
    what was done (row set aside, or screened without the field)."""
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["file", "row", "field", "value", "error", "action"])
        for e in errors:
            action = "screened without this field" if e.screened else "row set aside"
            writer.writerow([str(source), e.row, e.field or "", e.value, e.message, action])
    tmp.replace(path)
