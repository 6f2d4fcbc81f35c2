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

A layout that does not match raises :class:`TradeLoadError` naming the file,
sheet, row and field; legitimately odd data gives a :class:`LoadWarning`.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from econsec.lists._common import LoadError
from econsec.model.trade import LoadWarning
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


@dataclass
class FlowColumns:
    """Column lists ready for a columnar insert (one entry per flow)."""

    data: dict[str, list[object]] = field(default_factory=lambda: {c: [] for c in COLUMNS})
    warnings: list[LoadWarning] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.data["reporter"])

    def add_block(self, constant: dict[str, object], varying: dict[str, list[object]]) -> None:
        n = len(next(iter(varying.values())))
        for name in COLUMNS:
            if name in varying:
                self.data[name].extend(varying[name])
            else:
                self.data[name].extend([constant.get(name)] * n)


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

    out = FlowColumns()
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
    for n, sheet in enumerate(sheets, start=1):
        if sheet not in listed:
            raise TradeLoadError(ref, "Summary", None, "Contents", f"{sheet!r} not listed")
        _read_sheet(book.get_sheet_by_name(sheet).to_python(), ref, sheet, nomenclature, out)
        if progress is not None:
            progress(n)
    return out


def _read_sheet(
    rows: Sequence[Sequence[object]],
    ref: str,
    sheet: str,
    nomenclature: Nomenclature,
    out: FlowColumns,
) -> None:
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
    if reporters:
        ref_rows = list(seen.values())
        n = len(reporters)
        varying: dict[str, list[Any]] = {
            "reporter": [r for r in reporters for _ in range(width)],
            "partner": [p for p in partners for _ in range(width)],
            "ref_row": [r for r in ref_rows for _ in range(width)],
            "period": [p[0] for p in periods] * n,
            "year": [p[1] for p in periods] * n,
            "month": [p[2] for p in periods] * n,
            "value": _cell_values(cells, ref_rows, periods, ref, sheet),
        }
        out.add_block(constant, varying)
    if not seen and not out.warnings:
        raise TradeLoadError(ref, sheet, r_head + 2, "REPORTER", "no data rows")


def _cell_values(
    cells: list[object],
    ref_rows: list[int],
    periods: list[tuple[str, int, int]],
    ref: str,
    sheet: str,
) -> list[object]:
    """Numbers as floats and ``:`` as None, row-major; anything else names its cell.

    Fast path: one columnar conversion; only a failing block is walked cell by
    cell to name the row and the period column of the bad value.
    """
    try:
        fast: list[object] = pa.array(
            [None if c == ":" else c for c in cells], pa.float64()
        ).to_pylist()
        return fast
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        pass
    width = len(periods)
    values: list[object] = []
    for k, cell in enumerate(cells):
        if isinstance(cell, float | int):
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
    return values


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
