"""Scenario planning records: defence-industrial dependence and input-output results.

Every result carries the formula and the source it rests on (``explanation``),
so a figure can be checked by hand against the register or the table.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class MembershipRule(StrEnum):
    #: The group as it stood on one date, applied to every period (SIPRI's comparisons).
    AS_OF = "as_of"
    #: A delivery counts only if the recipient was a member on 31 Dec of the delivery year.
    BY_YEAR = "by_year"


@dataclass(frozen=True, slots=True)
class ArmsDelivery:
    """One row of the SIPRI register: deliveries of one deal in one year."""

    #: ``SIPRI AT Database ID``.
    deal_id: str
    supplier: str
    #: ISO 3166-1 alpha-2, or None for non-state and multinational parties.
    supplier_iso2: str | None
    recipient: str
    recipient_iso2: str | None
    designation: str
    description: str
    category: str
    order_year: int | None
    delivery_year: int
    number_delivered: int | None
    #: SIPRI trend-indicator value of the deliveries, millions (0 = between 0 and 0.5).
    tiv_delivered: float
    status: str
    local_production: bool
    #: True when SIPRI marks the row or any of its figures as an estimate or with ``?``.
    estimate: bool
    #: Line in the register file (1-based), for tracing a figure back.
    line: int


@dataclass(frozen=True, slots=True)
class SystemLine:
    """The systems behind a share: one designation to one recipient in a period."""

    recipient: str
    designation: str
    description: str
    category: str
    tiv: float
    number_delivered: int | None
    years: tuple[int, ...]
    estimate: bool
    deal_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SupplierTotal:
    supplier: str
    supplier_iso2: str | None
    tiv: float
    share: float


@dataclass(frozen=True, slots=True)
class PeriodShare:
    """A supplier's share of a recipient group's arms imports in one period."""

    first_year: int
    last_year: int
    #: Members of the group counted (ISO-2), after the membership rule.
    members: tuple[str, ...]
    total_tiv: float
    supplier_tiv: float
    #: supplier_tiv / total_tiv (0..1); None when the group imported nothing.
    share: float | None
    #: Share by armament category: category -> (supplier TIV, total TIV, share).
    by_category: tuple[tuple[str, float, float, float | None], ...]
    top_suppliers: tuple[SupplierTotal, ...]
    systems: tuple[SystemLine, ...]


@dataclass(frozen=True, slots=True)
class DefenceShares:
    group: str
    group_name: str
    supplier: str
    categories: tuple[str, ...]
    membership: MembershipRule
    #: The date the group is taken as of (AS_OF rule), ISO format; None for BY_YEAR.
    as_of: str | None
    periods: tuple[PeriodShare, ...]
    source: str
    explanation: str


# --------------------------------------------------------------------------- input-output


@dataclass(frozen=True, slots=True)
class IOLine:
    """One country-sector's output loss in an input-output calculation."""

    country: str
    sector: str
    sector_name: str
    baseline_output: float
    loss: float
    #: loss / baseline_output (0 when the sector has no output).
    loss_share: float


@dataclass(frozen=True, slots=True)
class MultiplierLine:
    country: str
    sector: str
    #: Column sum of the Leontief inverse L (output per unit of final demand).
    output_multiplier: float
    #: Row sum of the Ghosh inverse G (output per unit of primary input).
    supply_multiplier: float


@dataclass(frozen=True, slots=True)
class ExtractionResult:
    table: str
    extracted: str
    total_output: float
    total_loss: float
    own_output: float
    linkage_loss: float
    #: (country, loss, loss / country output), largest first.
    by_country: tuple[tuple[str, float, float], ...]
    top_sectors: tuple[IOLine, ...]
    explanation: str


@dataclass(frozen=True, slots=True)
class ShockResult:
    table: str
    cuts: tuple[str, ...]
    direct_export_loss: float
    total_loss: float
    by_country: tuple[tuple[str, float, float], ...]
    top_sectors: tuple[IOLine, ...]
    #: Loss for every country-sector in table order (country-major).
    loss: tuple[float, ...]
    explanation: str
