"""Trade statistics: one flow record shape for every source, and the answers built on it.

Every loader (Eurostat Comext data-browser XLSX, Comext relational-view CSV,
partner-reported national files, UN Comtrade / CEPII BACI bulk CSV) turns its
rows into :class:`TradeFlow` records held in one ``trade_flows`` table. A value
of None means "not available" (Eurostat's ``:``), which is never the same as a
zero. Indicators and alerts carry the contributions that make up their score.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class FlowDirection(StrEnum):
    EXPORT = "export"
    IMPORT = "import"


class Nomenclature(StrEnum):
    #: Combined Nomenclature of the EU (8 digits; 2/4/6-digit levels are HS).
    CN = "CN"
    #: Harmonized System (2, 4 or 6 digits).
    HS = "HS"
    #: All products (``TOTAL``).
    TOTAL = "TOTAL"


@dataclass(frozen=True, slots=True)
class TradeFlow:
    """One reported value: reporter → partner, one product, one period."""

    #: ISO 3166-1 alpha-2 country, or an aggregate code (``EU27_2020``, ``WORLD`` …).
    reporter: str
    partner: str
    #: Product code as published (``85423111``, ``8542``, ``TOTAL``).
    product: str
    nomenclature: Nomenclature
    #: Digits in the code (2, 4, 6, 8); 0 for ``TOTAL``.
    level: int
    flow: FlowDirection
    #: ``YYYY-MM`` for a month, ``YYYY`` for a year.
    period: str
    year: int
    #: 1–12, or None for an annual figure.
    month: int | None
    #: None = not available (``:``), distinct from 0.
    value: float | None
    #: ISO 4217 (``EUR``, ``USD``).
    currency: str
    quantity: float | None = None
    unit: str | None = None
    #: Where it was read: file, sheet (or None) and 1-based row.
    ref_file: str = ""
    ref_sheet: str | None = None
    ref_row: int = 0


@dataclass(frozen=True, slots=True)
class LoadWarning:
    """Data that is legitimately odd: loaded (or set aside) and recorded, never silent."""

    file: str
    sheet: str | None
    row: int | None
    field: str | None
    message: str

    def describe(self) -> str:
        where = self.file
        if self.sheet:
            where += f", sheet {self.sheet!r}"
        if self.row is not None:
            where += f", row {self.row}"
        if self.field:
            where += f", field {self.field!r}"
        return f"{where}: {self.message}"


@dataclass(frozen=True, slots=True)
class TradeSource:
    """One loaded file: what it was, its content hash and what came of it."""

    source_id: str
    path: str
    kind: str
    sha256: str
    rows: int
    warnings: int
    loaded_at: str


@dataclass(frozen=True, slots=True)
class LoadOutcome:
    source: TradeSource
    #: False when the file was already loaded unchanged (nothing written).
    changed: bool
    warnings: tuple[LoadWarning, ...] = ()


@dataclass(frozen=True, slots=True)
class Contribution:
    """One indicator's part in a risk score, with its explanation."""

    indicator: str
    #: The indicator's raw value (growth ratio, z-score …); None = not computable.
    value: float | None
    #: Weight from the dated rule data.
    weight: float
    #: weight × the indicator's normalised signal in [0, 1].
    points: float
    detail: str


@dataclass(frozen=True, slots=True)
class Alert:
    """A ranked suspicious flow: reporter → intermediary for one product group."""

    reporter: str
    intermediary: str
    target: str
    product: str
    score: float
    contributions: tuple[Contribution, ...] = field(default_factory=tuple)
    baseline_value: float | None = None
    period_value: float | None = None
    currency: str = "EUR"
