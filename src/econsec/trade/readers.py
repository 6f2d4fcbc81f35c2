"""Readers: one function per published layout, each giving :class:`FlowColumns`.

* :func:`read_comext_xlsx` — Eurostat Comext data-browser XLSX export: a
  ``Summary`` sheet listing one data sheet per product, each data sheet with a
  header block (PRODUCT, FLOW, INDICATORS), a ``TIME`` row of periods, then one
  row per (REPORTER, PARTNER) and a ``Special value`` footer; ``:`` = not
  available.
* :func:`read_relational_csv` — Comext "Relational View" CSV
  (``REPORTER,PARTNER,PRODUCT,FLOW,STAT_PROCEDURE,PERIOD,VALUE_IN_EUR``) in its
  label, code-label and French variants, and the partner-reported national
  files converted to the same header (``PERIOD`` = ``Y2021``).
* :func:`read_baci_csv` — CEPII BACI bulk CSV (``t,i,j,k,v,q``): numeric
  country codes from BACI's ``country_codes_*.csv``, ``v`` in thousand USD,
  ``q`` in metric tonnes, ``k`` an HS6 code.
* :func:`read_comtrade_csv` — UN Comtrade+ bulk/API CSV (``typeCode, freqCode,
  refPeriodId, refYear, refMonth, period, reporterCode, reporterISO, …``): USD,
  CIF for imports and FOB for exports, quantities with their units.

Readers return Arrow columns (:class:`FlowColumns`), built per sheet or file
from a few Python lists, never one Python object per flow and column.

A layout that does not match raises :class:`TradeLoadError` naming the file,
sheet, row and field; legitimately odd data gives a :class:`LoadWarning`.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np
import pyarrow as pa

from econsec.lists._common import LoadError
from econsec.model.trade import LoadWarning
from econsec.store.trade import SCHEMA as STORE_SCHEMA
from econsec.trade.countries import SKIP, resolve
from econsec.trade.nomenclature import Nomenclature

COLUMNS = (
    "reporter",
    "partner",
    "product",
    "nomenclature",
    "level",
    "hs6",
    "chpl_tier",
    "flow",
    "period",
    "year",
    "month",
    "value",
    "currency",
    "quantity",
    "unit",
    "ref_sheet",
    "ref_row",
)


class TradeLoadError(LoadError):
    """A trade file that cannot be loaded; names file, sheet, row and field."""

    def __init__(
        self,
        file: str | Path,
        sheet: str | None,
        row: int | None,
        field: str | None,
        message: str,
    ) -> None:
        record = ", ".join(
            part
            for part in (f"sheet {sheet!r}" if sheet else "", f"row {row}" if row else "")
            if part
        )
        super().__init__(file, record or None, field, message)
        self.sheet = sheet
        self.row = row


def parsed_schema(index: pa.DataType | None = None) -> pa.Schema:
    """In-memory column types of parsed flows: strings as dictionaries with ``index``
    indices (a workbook repeats a few reporters, partners and periods millions of
    times); the workspace table stores them as plain VARCHAR
    (:data:`econsec.store.trade.SCHEMA`)."""
    index = index or pa.int32()
    return pa.schema(
        [
            (f.name, pa.dictionary(index, pa.string()) if f.type == pa.string() else f.type)
            for f in STORE_SCHEMA
        ]
    )


#: Default parsed schema (int32 dictionary indices: any number of distinct values).
PARSED_SCHEMA = parsed_schema()
#: Workbook sheets: at most a few hundred distinct values per column and sheet.
PARSED_SCHEMA_SMALL = parsed_schema(pa.int16())


@dataclass
class FlowColumns:
    """Parsed flows as Arrow blocks (one per sheet or file) plus the recorded warnings."""

    blocks: list[pa.Table] = field(default_factory=list)
    warnings: list[LoadWarning] = field(default_factory=list)
    schema: pa.Schema = PARSED_SCHEMA

    def __len__(self) -> int:
        return sum(b.num_rows for b in self.blocks)

    def add_block(
        self, constant: Mapping[str, object], varying: Mapping[str, Sequence[object] | pa.Array]
    ) -> None:
        """One block: columns in ``varying`` (lists or Arrow arrays), the rest constant."""
        n = len(next(iter(varying.values())))
        arrays: list[pa.Array] = []
        for name in COLUMNS:
            typ = self.schema.field(name).type
            if name in varying:
                arrays.append(_as_array(varying[name], typ))
            else:
                arrays.append(_constant(constant.get(name), typ, n))
        self.blocks.append(pa.Table.from_arrays(arrays, schema=self.schema))

    def table(self) -> pa.Table:
        """All blocks as one table of :attr:`schema` (chunks kept, nothing copied)."""
        if not self.blocks:
            return self.schema.empty_table()
        return pa.concat_tables(self.blocks)


def _as_array(values: Sequence[object] | pa.Array, typ: pa.DataType) -> pa.Array:
    if isinstance(values, pa.Array):
        return values if values.type == typ else values.cast(typ)
    if pa.types.is_dictionary(typ):
        return pa.array(values, pa.string()).dictionary_encode().cast(typ)
    return pa.array(values, typ)


def _constant(value: object, typ: pa.DataType, n: int) -> pa.Array:
    if value is None:
        return pa.nulls(n, typ)
    if pa.types.is_dictionary(typ):
        index = np.int16 if typ.index_type == pa.int16() else np.int32
        return pa.DictionaryArray.from_arrays(
            pa.array(np.zeros(n, index)), pa.array([value], pa.string())
        )
    return pa.repeat(pa.scalar(value, typ), n)


def _dictionary(
    labels: Sequence[str], indices: np.ndarray, index: type = np.int16
) -> pa.DictionaryArray:
    """Labels (possibly repeated) taken at ``indices``, as a dictionary array."""
    unique: dict[str, int] = {}
    codes: np.ndarray = np.array([unique.setdefault(x, len(unique)) for x in labels], index)
    return pa.DictionaryArray.from_arrays(pa.array(codes[indices]), pa.array(list(unique)))


Progress = Callable[[int], None]

_CODE_IN_LABEL = re.compile(r"\[(\w+)\]\s*$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
    )
}
_CURRENCY_INDICATOR = {"VALUE_IN_EUROS": "EUR", "VALUE_IN_EUR": "EUR", "VALUE_IN_USD": "USD"}
_FLOWS = {"EXPORT": "export", "EXPORTATION": "export", "IMPORT": "import", "IMPORTATION": "import"}


def _product(
    nomenclature: Nomenclature,
    code: str,
    file: str,
    sheet: str | None,
    row: int,
    fld: str,
    warnings: list[LoadWarning],
) -> dict[str, object]:
    if code.upper() in ("TOTAL", "TOTAL-TOTAL"):
        return {"product": "TOTAL", "nomenclature": "TOTAL", "level": 0}
    try:
        level, problem = nomenclature.check(code)
    except ValueError as exc:
        raise TradeLoadError(file, sheet, row, fld, str(exc)) from None
    if problem:
        warnings.append(LoadWarning(file, sheet, row, fld, f"{code}: {problem}; no HS6/CHPL"))
    return {
        "product": code,
        "nomenclature": "CN" if level == 8 else "HS",
        "level": level,
        "hs6": nomenclature.hs6(code),
        "chpl_tier": nomenclature.tier(code),
    }


def _country(
    label: str,
    file: str,
    sheet: str | None,
    row: int,
    fld: str,
    warnings: list[LoadWarning],
    lang: str = "en",
) -> str | None:
    code = resolve(label, lang)
    if code is None:
        warnings.append(
            LoadWarning(file, sheet, row, fld, f"unknown country or area {label!r}: row not loaded")
        )
        return None
    if code == SKIP:
        warnings.append(LoadWarning(file, sheet, row, fld, f"aggregate {label!r} not loaded"))
        return None
    return code


# -- Comext data-browser XLSX ---------------------------------------------------------


def _find_row(rows: Sequence[Sequence[object]], label: str, file: str, sheet: str) -> int:
    for i, row in enumerate(rows[:30]):
        if row and str(row[0]).strip() == label:
            return i
    raise TradeLoadError(
        file, sheet, None, label, f"header row {label!r} not found: workbook layout changed"
    )


def read_comext_xlsx(
    path: Path, nomenclature: Nomenclature, ref: str, progress: Progress | None = None
) -> FlowColumns:
    from python_calamine import CalamineWorkbook  # noqa: PLC0415  (optional speed-up import)

    out = FlowColumns(schema=PARSED_SCHEMA_SMALL)
    try:
        book = CalamineWorkbook.from_path(str(path))
    except Exception as exc:
        raise TradeLoadError(
            ref, None, None, None, f"not a readable XLSX workbook: {exc}"
        ) from None
    if "Summary" not in book.sheet_names:
        raise TradeLoadError(ref, "Summary", None, None, "no 'Summary' sheet: layout changed")
    summary = book.get_sheet_by_name("Summary").to_python()
    listed = {
        str(r[1]).strip(): i + 1
        for i, r in enumerate(summary)
        if len(r) > 2 and str(r[1]).startswith("Sheet ")
    }
    sheets = [s for s in book.sheet_names if s not in ("Summary", "Structure")]
    if not sheets:
        raise TradeLoadError(ref, None, None, None, "no data sheets")
    products: dict[tuple[object, object], str] = {}
    for n, sheet in enumerate(sheets, start=1):
        if sheet not in listed:
            raise TradeLoadError(ref, "Summary", None, "Contents", f"{sheet!r} not listed")
        key = _read_sheet(book.get_sheet_by_name(sheet).to_python(), ref, sheet, nomenclature, out)
        if key is not None:
            if key in products:
                raise TradeLoadError(
                    ref, sheet, None, "PRODUCT", f"{key[0]} {key[1]} also in {products[key]!r}"
                )
            products[key] = sheet
        if progress is not None:
            progress(n)
    return out


def _read_sheet(
    rows: Sequence[Sequence[object]],
    ref: str,
    sheet: str,
    nomenclature: Nomenclature,
    out: FlowColumns,
) -> tuple[object, object] | None:
    """Add the sheet's flows to ``out``; returns its (product, flow), None if it had none."""
    r_prod = _find_row(rows, "PRODUCT [PRODUCT]", ref, sheet)
    r_flow = _find_row(rows, "FLOW", ref, sheet)
    r_ind = _find_row(rows, "INDICATORS", ref, sheet)
    r_time = _find_row(rows, "TIME", ref, sheet)
    r_head = _find_row(rows, "REPORTER (Labels)", ref, sheet)
    if len(rows[r_head]) < 2 or str(rows[r_head][1]).strip() != "PARTNER (Labels)":
        raise TradeLoadError(ref, sheet, r_head + 1, "PARTNER (Labels)", "expected in column B")
    label = str(rows[r_prod][2])
    match = _CODE_IN_LABEL.search(label)
    if not match:
        raise TradeLoadError(ref, sheet, r_prod + 1, "PRODUCT", f"no [code] in {label!r}")
    flow = _FLOWS.get(str(rows[r_flow][2]).strip().upper())
    if flow is None:
        raise TradeLoadError(ref, sheet, r_flow + 1, "FLOW", f"unknown flow {rows[r_flow][2]!r}")
    indicator = str(rows[r_ind][2]).strip()
    currency = _CURRENCY_INDICATOR.get(indicator)
    if currency is None:
        raise TradeLoadError(
            ref, sheet, r_ind + 1, "INDICATORS", f"{indicator!r}: expected a value in EUR"
        )
    constant: dict[str, object] = {"flow": flow, "currency": currency, "ref_sheet": sheet}
    constant |= _product(
        nomenclature, match.group(1), ref, sheet, r_prod + 1, "PRODUCT", out.warnings
    )
    periods: list[tuple[str, int, int]] = []
    for col, cell in enumerate(rows[r_time][2:], start=3):
        text = str(cell).strip()
        if not text:
            break
        m = _MONTH.match(text)
        if not m:
            raise TradeLoadError(ref, sheet, r_time + 1, f"TIME column {col}", f"{text!r}")
        periods.append((text, int(m.group(1)), int(m.group(2))))
    if len({p[0] for p in periods}) != len(periods):
        raise TradeLoadError(ref, sheet, r_time + 1, "TIME", "duplicated periods")
    width = len(periods)
    seen: dict[tuple[str, str], int] = {}
    reporters: list[str] = []
    partners: list[str] = []
    cells: list[object] = []
    for i in range(r_head + 1, len(rows)):
        row = rows[i]
        first = str(row[0]).strip() if row else ""
        if not first:
            break
        reporter = _country(first, ref, sheet, i + 1, "REPORTER", out.warnings)
        partner = _country(str(row[1]).strip(), ref, sheet, i + 1, "PARTNER", out.warnings)
        if reporter is None or partner is None:
            continue
        if (reporter, partner) in seen:
            raise TradeLoadError(
                ref,
                sheet,
                i + 1,
                "REPORTER/PARTNER",
                f"{reporter}→{partner} duplicates row {seen[reporter, partner]}",
            )
        seen[reporter, partner] = i + 1
        reporters.append(reporter)
        partners.append(partner)
        cells.extend(row[2 : 2 + width])
        if len(cells) != len(reporters) * width:
            _cell_values(list(row[2 : 2 + width]), [i + 1], periods, ref, sheet)  # bad cell?
            raise TradeLoadError(ref, sheet, i + 1, "TIME", "row shorter than the TIME header")
    if not seen and not out.warnings:
        raise TradeLoadError(ref, sheet, r_head + 2, "REPORTER", "no data rows")
    if not reporters:
        return None
    ref_rows = list(seen.values())
    n = len(reporters)
    by_row = np.repeat(np.arange(n), width)  # row-major: each row's months in turn
    by_col = np.tile(np.arange(width), n)
    varying: dict[str, Sequence[object] | pa.Array] = {
        "reporter": _dictionary(reporters, by_row),
        "partner": _dictionary(partners, by_row),
        "ref_row": pa.array(np.asarray(ref_rows, np.int32)[by_row]),
        "period": _dictionary([p[0] for p in periods], by_col),
        "year": pa.array(np.asarray([p[1] for p in periods], np.int16)[by_col]),
        "month": pa.array(np.asarray([p[2] for p in periods], np.int8)[by_col]),
        "value": _cell_values(cells, ref_rows, periods, ref, sheet),
    }
    out.add_block(constant, varying)
    return constant["product"], flow


def _cell_values(
    cells: list[object],
    ref_rows: list[int],
    periods: list[tuple[str, int, int]],
    ref: str,
    sheet: str,
) -> pa.Array:
    """Numbers as floats and ``:`` as null, row-major; anything else names its cell.

    Fast path: one columnar conversion; only a failing block is walked cell by
    cell to name the row and the period column of the bad value.
    """
    try:
        return pa.array([None if c == ":" else c for c in cells], pa.float64())
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        pass
    width = len(periods)
    values: list[float | None] = []
    for k, cell in enumerate(cells):
        if isinstance(cell, float | int) and not isinstance(cell, bool):
            values.append(float(cell))
        elif str(cell).strip() == ":":
            values.append(None)
        else:
            col = k % width
            raise TradeLoadError(
                ref,
                sheet,
                ref_rows[k // width],
                f"{periods[col][0]} (column {col + 3})",
                f"{cell!r} is neither a number nor ':'",
            )
    return pa.array(values, pa.float64())


# -- Comext relational view CSV (and national files in that layout) --------------------

_REL_HEADER = ("REPORTER", "PARTNER", "PRODUCT", "FLOW", "STAT_PROCEDURE", "PERIOD")
_P_MONTH = re.compile(r"^(?:\d{6}-)?([A-Za-z]{3})\.?\s+(\d{4})$")
_P_YEAR = re.compile(r"^(?:\d{4}52-)?Jan\.?-Dec\.?\s+(\d{4})$|^Y(\d{4})$")


def _rel_period(text: str) -> tuple[str, int, int | None] | None:
    m = _P_MONTH.match(text)
    if m and m.group(1).lower() in _MONTHS:
        year, month = int(m.group(2)), _MONTHS[m.group(1).lower()]
        return f"{year:04d}-{month:02d}", year, month
    m = _P_YEAR.match(text)
    if m:
        year = int(m.group(1) or m.group(2))
        return f"{year:04d}", year, None
    return None


def _strip_code(text: str) -> str:
    """``2-EXPORT`` → ``EXPORT``; ``TOTAL-Total`` → ``TOTAL``; ``T-Total`` → ``Total``."""
    head, sep, tail = text.partition("-")
    if sep and head.upper() == tail.upper():
        return head
    if sep and (head.isdigit() or len(head) == 1):
        return tail
    return text


def read_relational_csv(path: Path, nomenclature: Nomenclature, ref: str) -> FlowColumns:
    out = FlowColumns()
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            raise TradeLoadError(ref, None, 1, None, "empty file")
        if tuple(h.strip() for h in header[:6]) != _REL_HEADER or len(header) != 7:
            raise TradeLoadError(
                ref,
                None,
                1,
                None,
                f"header {header!r}: expected {', '.join(_REL_HEADER)}, VALUE_IN_<currency>",
            )
        value_col = header[6].strip()
        if not value_col.startswith("VALUE_IN_"):
            raise TradeLoadError(ref, None, 1, value_col, "expected VALUE_IN_<currency>")
        currency = _CURRENCY_INDICATOR.get(value_col, value_col.removeprefix("VALUE_IN_"))
        products: dict[str, dict[str, object]] = {}
        seen: dict[tuple[str, str, str, str, str], int] = {}
        cols: dict[str, list[object]] = {
            c: [] for c in ("reporter", "partner", "period", "year", "month", "value", "ref_row")
        }
        per_row: dict[str, list[object]] = {c: [] for c in ("product", "flow")}
        for line, row in enumerate(reader, start=2):
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != 7:
                raise TradeLoadError(ref, None, line, None, f"{len(row)} fields, expected 7")
            lang = "fr" if row[3].strip().upper().endswith("ATION") else "en"
            reporter = _country(row[0], ref, None, line, "REPORTER", out.warnings, lang)
            partner = _country(row[1], ref, None, line, "PARTNER", out.warnings, lang)
            if reporter is None or partner is None:
                continue
            code = _strip_code(row[2].strip())
            if code not in products:
                products[code] = _product(
                    nomenclature, code, ref, None, line, "PRODUCT", out.warnings
                )
            flow = _FLOWS.get(_strip_code(row[3].strip()).upper())
            if flow is None:
                raise TradeLoadError(ref, None, line, "FLOW", f"unknown flow {row[3]!r}")
            period = _rel_period(row[5].strip())
            if period is None:
                raise TradeLoadError(ref, None, line, "PERIOD", f"unknown period {row[5]!r}")
            key = (reporter, partner, str(products[code]["product"]), flow, period[0])
            if key in seen:
                raise TradeLoadError(
                    ref, None, line, "PERIOD", f"{key} duplicates line {seen[key]}"
                )
            seen[key] = line
            raw = row[6].strip()
            value: float | None
            if raw in (":", ""):
                value = None
            else:
                try:
                    value = float(raw)
                except ValueError:
                    raise TradeLoadError(
                        ref, None, line, value_col, f"{raw!r} is not a number"
                    ) from None
            for name, item in zip(
                cols,
                (reporter, partner, period[0], period[1], period[2], value, line),
                strict=True,
            ):
                cols[name].append(item)
            per_row["product"].append(code)
            per_row["flow"].append(flow)
    if not cols["reporter"]:
        if out.warnings:
            return out
        raise TradeLoadError(ref, None, 2, None, "no data rows")
    varying: dict[str, list[object]] = dict(cols)
    varying["flow"] = per_row["flow"]
    for name in ("product", "nomenclature", "level", "hs6", "chpl_tier"):
        varying[name] = [products[str(c)].get(name) for c in per_row["product"]]
    out.add_block({"currency": currency}, varying)
    return out


# -- CEPII BACI bulk CSV ---------------------------------------------------------------

BACI_HEADER = ("t", "i", "j", "k", "v", "q")
#: BACI publishes v in thousands of current USD and q in metric tonnes.
BACI_VALUE_UNIT = 1000.0


def read_baci_countries(path: Path) -> dict[str, str]:
    """BACI ``country_codes_V*.csv``: numeric code → ISO-2 (``country_iso2``)."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        need = ("country_code", "country_iso2")
        for name in need:
            if name not in (reader.fieldnames or ()):
                raise TradeLoadError(path, None, 1, name, "column missing in BACI country file")
        out: dict[str, str] = {}
        for line, row in enumerate(reader, start=2):
            iso2 = (row["country_iso2"] or "").strip().upper()
            if len(iso2) != 2 or not iso2.isalpha():
                continue  # BACI lists a few areas without ISO-2 ("N/A")
            out[row["country_code"].strip()] = iso2
            del line
        return out


def read_baci_csv(
    path: Path, countries: dict[str, str], nomenclature: Nomenclature, ref: str
) -> FlowColumns:
    out = FlowColumns()
    products: dict[str, dict[str, object]] = {}
    seen: dict[tuple[str, str, str, str], int] = {}
    rows: dict[str, list[object]] = {
        c: [] for c in ("reporter", "partner", "period", "year", "value", "quantity", "ref_row")
    }
    codes: list[str] = []
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        header = tuple(h.strip().strip('"') for h in next(reader, []))
        if header != BACI_HEADER:
            raise TradeLoadError(ref, None, 1, None, f"header {header}: expected t,i,j,k,v,q")
        for line, row in enumerate(reader, start=2):
            if len(row) != 6:
                raise TradeLoadError(ref, None, line, None, f"{len(row)} fields, expected 6")
            t, i, j, k, v, q = (c.strip() for c in row)
            if not (t.isdigit() and len(t) == 4):
                raise TradeLoadError(ref, None, line, "t", f"{t!r} is not a year")
            exporter, importer = countries.get(i), countries.get(j)
            if exporter is None:
                raise TradeLoadError(ref, None, line, "i", f"country code {i!r} not in BACI list")
            if importer is None:
                raise TradeLoadError(ref, None, line, "j", f"country code {j!r} not in BACI list")
            code = k.zfill(6)
            if code not in products:
                products[code] = _product(nomenclature, code, ref, None, line, "k", out.warnings)
            key = (t, exporter, importer, code)
            if key in seen:
                raise TradeLoadError(ref, None, line, "t", f"{key} duplicates line {seen[key]}")
            seen[key] = line
            try:
                value = float(v) * BACI_VALUE_UNIT if v not in ("", "NA") else None
                quantity = float(q) if q not in ("", "NA") else None
            except ValueError:
                raise TradeLoadError(ref, None, line, "v/q", f"{v!r}/{q!r} not numbers") from None
            for name, item in zip(
                rows, (exporter, importer, t, int(t), value, quantity, line), strict=True
            ):
                rows[name].append(item)
            codes.append(code)
    if not codes:
        raise TradeLoadError(ref, None, 2, None, "no data rows")
    varying: dict[str, list[object]] = dict(rows)
    for name in ("product", "nomenclature", "level", "hs6", "chpl_tier"):
        varying[name] = [products[c].get(name) for c in codes]
    out.add_block({"flow": "export", "currency": "USD", "unit": "t", "month": None}, varying)
    return out


# -- UN Comtrade (Comtrade+) bulk / API CSV ------------------------------------------

#: Columns that mark a CSV as Comtrade+ (the reader then names any required one missing).
COMTRADE_SIGNATURE = ("typeCode", "freqCode", "refYear", "reporterCode")
#: Columns a Comtrade+ CSV must have (the published layout has 47; the rest are ignored).
COMTRADE_REQUIRED = (
    "typeCode",
    "freqCode",
    "refYear",
    "refMonth",
    "period",
    "reporterISO",
    "flowCode",
    "partnerCode",
    "partnerISO",
    "cmdCode",
    "primaryValue",
)
#: Columns read when present: breakdowns (second partner, customs procedure, mode of
#: transport and of supply) and the value/quantity fields.
COMTRADE_OPTIONAL = (
    "partner2Code",
    "customsCode",
    "motCode",
    "mosCode",
    "qtyUnitCode",
    "qtyUnitAbbr",
    "qty",
    "netWgt",
    "cifvalue",
    "fobvalue",
)
#: The totals of a breakdown: rows with other codes split a total and are not loaded.
COMTRADE_TOTALS = {"partner2Code": "0", "customsCode": "C00", "motCode": "0", "mosCode": "0"}
_COMTRADE_FLOWS = {"M": "import", "X": "export"}
#: Comtrade's partner code for the world total.
COMTRADE_WORLD = "0"


@cache
def _iso3() -> dict[str, str]:
    """ISO 3166-1 alpha-3 → alpha-2 (rigour's territory database)."""
    from rigour.territories import get_territories  # noqa: PLC0415

    return {
        t.alpha3.upper(): t.code.upper() for t in get_territories() if t.alpha3 and len(t.code) == 2
    }


def _number(raw: str, ref: str, line: int, fld: str) -> float | None:
    text = raw.strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise TradeLoadError(ref, None, line, fld, f"{raw!r} is not a number") from None


def read_comtrade_csv(path: Path, nomenclature: Nomenclature, ref: str) -> FlowColumns:
    """UN Comtrade+ CSV (bulk files and API downloads share the layout).

    Values in USD: ``cifvalue`` for imports and ``fobvalue`` for exports, and
    ``primaryValue`` where that is empty (counted in a warning). Quantity: ``qty``
    in ``qtyUnitAbbr``; where no quantity unit is given (code -1), the net weight
    in kg. Only totals are loaded: rows that break a total down by second partner,
    customs procedure or mode of transport/supply, and flows other than imports
    and exports (re-exports, re-imports …), are counted in warnings. Partner code 0
    (World) is stored as ``WORLD``; other areas without ISO-2 give warnings.
    """
    out = FlowColumns()
    products: dict[str, dict[str, object]] = {}
    seen: dict[tuple[str, str, str, str, str], int] = {}
    cols: dict[str, list[object]] = {
        c: []
        for c in (
            "reporter",
            "partner",
            "flow",
            "period",
            "year",
            "month",
            "value",
            "quantity",
            "unit",
            "ref_row",
        )
    }
    codes: list[str] = []
    skipped: dict[str, list[int]] = {}
    primary_used: list[int] = []
    iso3 = _iso3()
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        header = [h.strip() for h in next(reader, [])]
        index = {name: i for i, name in enumerate(header)}
        for name in COMTRADE_REQUIRED:
            if name not in index:
                raise TradeLoadError(ref, None, 1, name, "column missing: not a Comtrade+ CSV")
        width = len(header)
        for line, row in enumerate(reader, start=2):
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != width:
                raise TradeLoadError(ref, None, line, None, f"{len(row)} fields, expected {width}")

            def get(name: str, row: list[str] = row) -> str:
                i = index.get(name)
                return row[i].strip() if i is not None else ""

            if get("typeCode") != "C":
                raise TradeLoadError(
                    ref, None, line, "typeCode", f"{get('typeCode')!r}: only goods (C) load"
                )
            breakdown = [
                name
                for name, total in COMTRADE_TOTALS.items()
                if name in index and get(name) not in (total, "")
            ]
            if breakdown:
                skipped.setdefault(f"breakdown by {breakdown[0]}", []).append(line)
                continue
            flow = _COMTRADE_FLOWS.get(get("flowCode"))
            if flow is None:
                if not get("flowCode"):
                    raise TradeLoadError(ref, None, line, "flowCode", "empty")
                skipped.setdefault(f"flowCode {get('flowCode')}", []).append(line)
                continue
            reporter = iso3.get(get("reporterISO"))
            if reporter is None:
                raise TradeLoadError(
                    ref, None, line, "reporterISO", f"{get('reporterISO')!r}: no ISO-2 country"
                )
            if get("partnerCode") == COMTRADE_WORLD:
                partner: str | None = "WORLD"
            else:
                partner = iso3.get(get("partnerISO"))
            if partner is None:
                if not get("partnerISO"):
                    raise TradeLoadError(ref, None, line, "partnerISO", "empty")
                skipped.setdefault(f"area {get('partnerISO')} (no ISO-2)", []).append(line)
                continue
            year_text, freq = get("refYear"), get("freqCode")
            if not (year_text.isdigit() and len(year_text) == 4):
                raise TradeLoadError(ref, None, line, "refYear", f"{year_text!r} is not a year")
            year = int(year_text)
            month: int | None
            if freq == "A":
                month, period = None, year_text
            elif freq == "M":
                month_text = get("refMonth")
                if not month_text.isdigit() or not 1 <= int(month_text) <= 12:
                    raise TradeLoadError(
                        ref, None, line, "refMonth", f"{month_text!r} is not a month"
                    )
                month = int(month_text)
                period = f"{year:04d}-{month:02d}"
            else:
                raise TradeLoadError(ref, None, line, "freqCode", f"{freq!r}: expected A or M")
            code = get("cmdCode")
            if code not in products:
                products[code] = _product(
                    nomenclature, code, ref, None, line, "cmdCode", out.warnings
                )
            key = (reporter, partner, str(products[code]["product"]), flow, period)
            if key in seen:
                raise TradeLoadError(
                    ref, None, line, "period", f"{'/'.join(key)} duplicates line {seen[key]}"
                )
            seen[key] = line
            value_field = "cifvalue" if flow == "import" else "fobvalue"
            value = _number(get(value_field), ref, line, value_field)
            if value is None:
                value = _number(get("primaryValue"), ref, line, "primaryValue")
                if value is not None and value_field in index:
                    primary_used.append(line)
            quantity = _number(get("qty"), ref, line, "qty")
            unit: str | None = get("qtyUnitAbbr") or None
            if get("qtyUnitCode") in ("-1", "") or unit in (None, "N/A"):
                weight = _number(get("netWgt"), ref, line, "netWgt")
                quantity, unit = (weight, "kg") if weight is not None else (None, None)
            elif quantity is None:
                unit = None
            for name, item in zip(
                cols,
                (reporter, partner, flow, period, year, month, value, quantity, unit, line),
                strict=True,
            ):
                cols[name].append(item)
            codes.append(code)
    for what, lines in skipped.items():
        out.warnings.append(
            LoadWarning(ref, None, lines[0], None, f"{len(lines)} rows of {what} not loaded")
        )
    if primary_used:
        out.warnings.append(
            LoadWarning(
                ref,
                None,
                primary_used[0],
                "primaryValue",
                f"{len(primary_used)} rows without cifvalue/fobvalue: primaryValue used",
            )
        )
    if not codes:
        if out.warnings:
            return out
        raise TradeLoadError(ref, None, 2, None, "no data rows")
    varying: dict[str, Sequence[object] | pa.Array] = dict(cols)
    for name in ("product", "nomenclature", "level", "hs6", "chpl_tier"):
        varying[name] = [products[c].get(name) for c in codes]
    out.add_block({"currency": "USD"}, varying)
    return out
