"""Dependency metrics on a flows relation (reporter, partner, product, flow, value).

* Supplier concentration: ``HHI = Σ_i s_i²``, s_i = supplier i's share of the
  group's imports from outside the group (Herfindahl 1950; Hirschman 1945).
* Import reliance (European Commission CRM methodology 2017, §3.2.2):
  ``IR = (imports − exports) / (production + imports − exports)`` when the
  production is given; otherwise only ``imports / (imports + exports)`` is
  reported, labelled as such.
* EU strategic-dependency screen (SWD(2021) 352): a product is dependent when
  HHI of extra-group imports > 0.4, extra-group imports > 50 % of the group's
  total imports, and extra-group imports ÷ extra-group exports > 1.
* CRM criticality: critical when supply risk ≥ 1.0 and economic importance ≥ 2.8.

Thresholds are dated data in ``data/scenario_rules.yaml``, with citations.

Flows come from a CSV, from the workspace's ``trade_flows`` (the trade module)
or from a multi-regional input-output table (:func:`flows_from_io`), where a
country's imports of a sector's products are what its industries and final
users buy from that sector abroad.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from econsec.scenario.engine import _rules

if TYPE_CHECKING:
    from econsec.scenario.io import IOTable


class DependencyError(ValueError):
    """Bad flows or inputs; names the source, the record and the field."""


@dataclass(frozen=True, slots=True)
class Flow:
    reporter: str
    partner: str
    product: str
    #: "import" or "export", as reported by ``reporter``.
    flow: str
    value: float


@dataclass(frozen=True, slots=True)
class DependencyResult:
    product: str
    group: tuple[str, ...]
    total_imports: float
    extra_imports: float
    extra_exports: float
    #: Supplier -> share of extra-group imports, largest first.
    suppliers: tuple[tuple[str, float], ...]
    hhi: float | None
    extra_import_share: float | None
    imports_to_exports: float | None
    #: (imports − exports) / (production + imports − exports), with production given.
    import_reliance: float | None
    dependent: bool
    #: Criterion -> (value, threshold, met).
    criteria: tuple[tuple[str, float | None, float, bool], ...]
    explanation: str


@dataclass(frozen=True, slots=True)
class Criticality:
    material: str
    supply_risk: float
    economic_importance: float
    critical: bool
    explanation: str


def _rule(name: str, on: date) -> dict[str, Any]:
    for version in _rules()[name]:
        start, end = version["effective_from"], version["effective_to"]
        if start <= on and (end is None or on <= end):
            rule: dict[str, Any] = version
            return rule
    raise DependencyError(f"scenario_rules.yaml: rule {name!r}: no version in force on {on}")


def check_flows(flows: Iterable[Flow], source: str) -> list[Flow]:
    out = []
    for i, f in enumerate(flows, start=1):
        if f.flow not in {"import", "export"}:
            raise DependencyError(
                f"{source}: record {i}: field 'flow': {f.flow!r} not import/export"
            )
        if not math.isfinite(f.value) or f.value < 0:
            raise DependencyError(f"{source}: record {i}: field 'value': {f.value!r} not ≥ 0")
        for field in ("reporter", "partner", "product"):
            if not getattr(f, field):
                raise DependencyError(f"{source}: record {i}: field {field!r}: empty")
        out.append(f)
    return out


def hhi(values: Iterable[float]) -> float | None:
    """Herfindahl-Hirschman index of shares (0..1]; None for no trade."""
    vals = [v for v in values if v > 0]
    total = sum(vals)
    return sum((v / total) ** 2 for v in vals) if total > 0 else None


def dependency(
    flows: Sequence[Flow],
    product: str,
    group: Sequence[str],
    on: date,
    production: float | None = None,
    source: str = "flows",
) -> DependencyResult:
    """Concentration, reliance and the EU strategic-dependency screen for one product."""
    members = set(group)
    by_supplier: dict[str, float] = defaultdict(float)
    total_imp = extra_exp = 0.0
    seen = False
    for f in flows:
        if f.product != product or f.reporter not in members:
            continue
        seen = True
        outside = f.partner not in members
        if f.flow == "import":
            total_imp += f.value
            if outside:
                by_supplier[f.partner] += f.value
        elif outside:
            extra_exp += f.value
    if not seen:
        raise DependencyError(f"{source}: field 'product': no flows of {product!r} for the group")
    extra_imp = sum(by_supplier.values())
    h = hhi(by_supplier.values())
    share = extra_imp / total_imp if total_imp > 0 else None
    ratio = extra_imp / extra_exp if extra_exp > 0 else (math.inf if extra_imp > 0 else None)
    reliance = None
    if production is not None:
        if production < 0 or not math.isfinite(production):
            raise DependencyError(f"{source}: field 'production': {production!r} not ≥ 0")
        apparent = production + extra_imp - extra_exp
        reliance = (extra_imp - extra_exp) / apparent if apparent > 0 else None
    rule = _rule("strategic_dependency", on)
    criteria = (
        ("hhi", h, float(rule["hhi_above"]), h is not None and h > rule["hhi_above"]),
        ("extra_import_share", share, float(rule["extra_import_share_above"]),
         share is not None and share > rule["extra_import_share_above"]),
        ("imports_to_exports", ratio, float(rule["imports_to_exports_above"]),
         ratio is not None and ratio > rule["imports_to_exports_above"]),
    )  # fmt: skip
    suppliers = tuple(sorted(((s, v / extra_imp) for s, v in by_supplier.items()),
                             key=lambda p: -p[1]))  # fmt: skip
    return DependencyResult(
        product=product,
        group=tuple(sorted(members)),
        total_imports=total_imp,
        extra_imports=extra_imp,
        extra_exports=extra_exp,
        suppliers=suppliers,
        hhi=h,
        extra_import_share=share,
        imports_to_exports=ratio,
        import_reliance=reliance,
        dependent=all(c[3] for c in criteria),
        criteria=criteria,
        explanation=(
            "HHI = Σ s_i² over suppliers' shares of extra-group imports; extra_import_share = "
            "extra-group ÷ total group imports; imports_to_exports = extra-group imports ÷ "
            "extra-group exports; dependent when all three exceed their thresholds. "
            "import_reliance = (imports − exports) ÷ (production + imports − exports), only "
            "with production given. Values as reported by the group's members. Source: "
            + " ".join(str(rule["citation"]).split())
        ),
    )


def criticality(
    material: str, supply_risk: float, economic_importance: float, on: date
) -> Criticality:
    for field, v in (("supply_risk", supply_risk), ("economic_importance", economic_importance)):
        if not math.isfinite(v) or v < 0:
            raise DependencyError(f"{material}: field {field!r}: {v!r} not a number ≥ 0")
    rule = _rule("crm_criticality", on)
    sr_min, ei_min = (
        float(rule["supply_risk_at_least"]),
        float(rule["economic_importance_at_least"]),
    )
    critical = supply_risk >= sr_min and economic_importance >= ei_min
    return Criticality(
        material,
        supply_risk,
        economic_importance,
        critical,
        f"critical when SR ≥ {sr_min:g} and EI ≥ {ei_min:g}: SR {supply_risk:g}, "
        f"EI {economic_importance:g}. Source: " + " ".join(str(rule["citation"]).split()),
    )


def flows_from_workspace(con: Any, product: str, period: str) -> list[Flow]:
    """The ``trade_flows`` rows of one product and period (econsec.store.trade)."""
    rows = con.execute(
        "SELECT reporter, partner, product, flow, value FROM trade_flows "
        "WHERE product = ? AND period = ? AND value IS NOT NULL",
        [product, period],
    ).fetchall()
    return check_flows((Flow(*r) for r in rows), f"trade_flows {product} {period}")


@dataclass(frozen=True, slots=True)
class IOFlows:
    """One sector's bilateral trade read off an input-output table."""

    flows: list[Flow]
    #: Each country's gross output of the sector (for import reliance).
    output: dict[str, float]
    #: Country pairs whose net delivery was negative (drawn from inventories), counted as 0.
    clipped: tuple[tuple[str, str, float], ...]
    note: str


def flows_from_io(table: IOTable, sector: str) -> IOFlows:
    """Bilateral trade in one sector's products read off an input-output table.

    For countries ``r ≠ c``, r's imports from c of sector s are everything r's
    industries and final users buy from (c, s):
    ``M[r ← c] = Σ_j Z[(c,s), (r,j)] + Y[(c,s), r]``; the same figure is c's
    export to r. Domestic deliveries (``c = r``) are not trade. Final demand
    includes changes in inventories, so a pair can come out negative (a
    drawdown larger than the deliveries): such a pair is counted as 0 and
    named in ``clipped``, never passed on as negative trade.
    """
    s = table.sector_index(sector, "product")
    k = len(table.sectors)
    countries = table.countries
    rows = [c * k + s for c in range(len(countries))]
    # deliveries[c, r]: what country r buys from (c, s), intermediate plus final use.
    z = table.Z[rows].reshape(len(countries), len(countries), k).sum(axis=2)
    deliveries = z + table.Y[rows]
    flows: list[Flow] = []
    clipped: list[tuple[str, str, float]] = []
    for c, supplier in enumerate(countries):
        for r, buyer in enumerate(countries):
            value = float(deliveries[c, r])
            if c == r or value == 0.0:
                continue
            if value < 0:
                clipped.append((supplier, buyer, value))
                continue
            flows.append(Flow(buyer, supplier, sector, "import", value))
            flows.append(Flow(supplier, buyer, sector, "export", value))
    output = {country: float(table.x[c * k + s]) for c, country in enumerate(countries)}
    note = (
        f"flows of sector {sector} ({table.sector_names.get(sector, sector)}) read off "
        f"{table.name}: imports = intermediate plus final use of the partner's output, "
        "in the table's currency. 'RoW' (rest of the world) is one aggregate supplier, "
        "so supplier concentration is measured over the table's countries, not over "
        "every country of the world."
    )
    if clipped:
        note += f" {len(clipped)} pair(s) with negative net deliveries counted as 0."
    return IOFlows(
        flows=check_flows(flows, f"{table.name} sector {sector}"),
        output=output,
        clipped=tuple(clipped),
        note=note,
    )
