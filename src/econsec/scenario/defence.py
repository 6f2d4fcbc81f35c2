"""Defence-industrial dependence from the SIPRI Arms Transfers register.

The register export (``sipri_trade_register_1995-2025.csv``) has a preamble of
notes, then one header row, then one row per deal and delivery year; every row
ends with a stray ``;``. ``?`` marks an uncertain figure; the ``… is estimate``
columns say the same thing in words. Both set :attr:`ArmsDelivery.estimate`.

Share of a supplier S in a recipient group G's imports over years Y1..Y2::

    share = Σ TIV(S → g, y)  /  Σ TIV(any → g, y)     for g ∈ G, Y1 ≤ y ≤ Y2

TIV = SIPRI trend-indicator value of the deliveries (``TIV delivery values``).
Transfers between members of G count as imports (SIPRI's convention). Groups
and their membership dates are data (``data/defence_groups.yaml``).
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from rigour.territories import lookup_territory

from econsec.model.scenario import (
    ArmsDelivery,
    DefenceShares,
    MembershipRule,
    PeriodShare,
    SupplierTotal,
    SystemLine,
)
from econsec.settings import data_dir

REGISTER_FILE = "defence/sipri_trade_register_1995-2025.csv"
SOURCE = "SIPRI Arms Transfers Database (c) SIPRI, register export"

HEADER = (
    "SIPRI AT Database ID",
    "Supplier",
    "Recipient",
    "Designation",
    "Description",
    "Armament category",
    "Order date",
    "Order date is estimate",
    "Numbers delivered",
    "Numbers delivered is estimate",
    "Delivery year",
    "Delivery year is estimate",
    "Status",
    "SIPRI estimate",
    "TIV deal unit",
    "TIV delivery values",
    "Local production",
)
# An empty flag occurs in recent rows (e.g. 2024 deliveries): not stated, read as No.
_YES_NO = {"Yes": True, "No": False, "": False}


class DefenceDataError(ValueError):
    """Bad register or group data, or a bad query; names the file, the record and the field."""


# --------------------------------------------------------------------------- groups


@dataclass(frozen=True, slots=True)
class Membership:
    member_from: date | None
    member_to: date | None

    def covers(self, day: date) -> bool:
        return (self.member_from is None or self.member_from <= day) and (
            self.member_to is None or day <= self.member_to
        )


@dataclass(frozen=True, slots=True)
class RecipientGroup:
    key: str
    name: str
    citation: str
    #: ISO-2 -> membership periods (a country may enter through several includes).
    members: Mapping[str, tuple[Membership, ...]]

    def members_on(self, day: date) -> frozenset[str]:
        return frozenset(
            c for c, spans in self.members.items() if any(s.covers(day) for s in spans)
        )


def _groups_text() -> tuple[str, str]:
    ref = resources.files("econsec.scenario").joinpath("data/defence_groups.yaml")
    return str(ref), ref.read_text(encoding="utf-8")


def _date(value: Any, where: str) -> date | None:
    if value is None:
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise DefenceDataError(f"{where}: not an ISO date: {value!r}") from exc


@lru_cache(maxsize=1)
def load_groups() -> tuple[dict[str, RecipientGroup], dict[str, str | None]]:
    """Recipient groups and the register-name overrides, from the shipped YAML."""
    path, text = _groups_text()
    doc = yaml.safe_load(text)
    raw_groups: dict[str, Any] = doc["groups"]
    groups: dict[str, RecipientGroup] = {}

    def members_of(key: str, seen: tuple[str, ...]) -> dict[str, list[Membership]]:
        if key not in raw_groups:
            raise DefenceDataError(f"{path}: group {seen[-1]!r}, field 'include': unknown {key!r}")
        if key in seen:
            raise DefenceDataError(f"{path}: group {key!r}, field 'include': cycle {seen}")
        raw = raw_groups[key]
        out: dict[str, list[Membership]] = defaultdict(list)
        for inc in raw.get("include", []):
            for code, spans in members_of(inc, (*seen, key)).items():
                out[code].extend(spans)
        for code, given in (raw.get("members") or {}).items():
            where = f"{path}: group {key!r}, member {code!r}"
            if not (isinstance(code, str) and len(code) == 2 and code.isupper()):
                raise DefenceDataError(f"{where}: not an ISO-2 code")
            spec = given or {}
            out[code].append(
                Membership(
                    _date(spec.get("member_from"), f"{where}, field 'member_from'"),
                    _date(spec.get("member_to"), f"{where}, field 'member_to'"),
                )
            )
        return out

    for key, raw in raw_groups.items():
        for fld in ("name", "citation"):
            if not raw.get(fld):
                raise DefenceDataError(f"{path}: group {key!r}, field {fld!r}: missing")
        members = members_of(key, ())
        groups[key] = RecipientGroup(
            key,
            raw["name"],
            " ".join(str(raw["citation"]).split()),
            {c: tuple(s) for c, s in members.items()},
        )
    return groups, dict(doc.get("sipri_names") or {})


def group(key: str) -> RecipientGroup:
    groups, _ = load_groups()
    if key not in groups:
        raise DefenceDataError(
            f"unknown recipient group {key!r}; known: {', '.join(sorted(groups))}"
        )
    return groups[key]


@lru_cache(maxsize=2048)
def country_code(name: str) -> str | None:
    """ISO-2 code of a register party name; None for non-state and multinational parties.

    SIPRI marks non-state actors with ``*`` and organisations with ``**``.
    """
    if name.endswith("*") or name.startswith("unknown"):
        return None
    _, overrides = load_groups()
    if name in overrides:
        code = overrides[name]
        return None if code is None else str(code)
    territory = lookup_territory(name)
    if territory is None or len(territory.code) != 2:
        return None
    return territory.code.upper()


# --------------------------------------------------------------------------- register


def default_register() -> Path:
    folder = data_dir()
    if folder is None:
        raise DefenceDataError(f"no data folder: set ECONSEC_DATA (looking for {REGISTER_FILE})")
    return folder / REGISTER_FILE


def _clean(value: str) -> tuple[str, bool]:
    """Strip a ``?`` uncertainty mark: (value, was uncertain)."""
    value = value.strip()
    if "?" in value:
        return value.replace("?", "").strip(), True
    return value, False


def _int(value: str, where: str, *, required: bool) -> int | None:
    if value == "":
        if required:
            raise DefenceDataError(f"{where}: empty")
        return None
    try:
        return int(value)
    except ValueError as exc:
        raise DefenceDataError(f"{where}: not a whole number: {value!r}") from exc


def parse_register(text: str, path: str) -> list[ArmsDelivery]:
    """Rows of a register export; any malformed row raises, naming file, line and field."""
    lines = text.splitlines()
    header_at = next(
        (i for i, line in enumerate(lines) if line.startswith(HEADER[0] + ",")),
        None,
    )
    if header_at is None:
        raise DefenceDataError(f"{path}: no header row starting with {HEADER[0]!r}")
    header = next(csv.reader([lines[header_at].rstrip(";")]))
    if tuple(header) != HEADER:
        missing = [h for h in HEADER if h not in header]
        raise DefenceDataError(
            f"{path}, line {header_at + 1}: unexpected header "
            f"(missing or reordered: {missing or header})"
        )
    out: list[ArmsDelivery] = []
    reader = csv.reader(io.StringIO("\n".join(lines[header_at + 1 :])))
    for offset, row in enumerate(reader):
        lineno = header_at + 2 + offset
        if not row or all(not c.strip() for c in row):
            continue
        if row[-1].endswith(";"):
            row[-1] = row[-1][:-1]
        if len(row) != len(HEADER):
            raise DefenceDataError(
                f"{path}, line {lineno}: {len(row)} fields, expected {len(HEADER)}"
            )
        cells: dict[str, str] = {}
        uncertain = False
        for name, raw in zip(HEADER, row, strict=True):
            cells[name], flag = _clean(raw)
            uncertain = uncertain or flag

        def where(field: str, lineno: int = lineno) -> str:
            return f"{path}, line {lineno}, field {field!r}"

        flags: dict[str, bool] = {}
        for name in (
            "Order date is estimate",
            "Numbers delivered is estimate",
            "Delivery year is estimate",
            "Local production",
        ):
            if cells[name] not in _YES_NO:
                raise DefenceDataError(
                    f"{where(name)}: expected Yes, No or empty, got {cells[name]!r}"
                )
            flags[name] = _YES_NO[cells[name]]
        for name in ("SIPRI AT Database ID", "Supplier", "Recipient", "Armament category"):
            if not cells[name]:
                raise DefenceDataError(f"{where(name)}: empty")
        year = _int(cells["Delivery year"], where("Delivery year"), required=True)
        assert year is not None
        if not 1900 <= year <= 2100:
            raise DefenceDataError(f"{where('Delivery year')}: implausible year {year}")
        tiv_text = cells["TIV delivery values"]
        try:
            # Empty = "no deliveries identified" (preamble), i.e. nothing delivered.
            tiv = float(tiv_text) if tiv_text else 0.0
        except ValueError as exc:
            raise DefenceDataError(
                f"{where('TIV delivery values')}: not a number: {tiv_text!r}"
            ) from exc
        if tiv < 0:
            raise DefenceDataError(f"{where('TIV delivery values')}: negative value {tiv}")
        out.append(
            ArmsDelivery(
                deal_id=cells["SIPRI AT Database ID"],
                supplier=cells["Supplier"],
                supplier_iso2=country_code(cells["Supplier"]),
                recipient=cells["Recipient"],
                recipient_iso2=country_code(cells["Recipient"]),
                designation=cells["Designation"],
                description=cells["Description"],
                category=cells["Armament category"],
                order_year=_int(cells["Order date"], where("Order date"), required=False),
                delivery_year=year,
                number_delivered=_int(
                    cells["Numbers delivered"], where("Numbers delivered"), required=False
                ),
                tiv_delivered=tiv,
                status=cells["Status"],
                local_production=flags["Local production"],
                estimate=uncertain
                or flags["Numbers delivered is estimate"]
                or flags["Delivery year is estimate"],
                line=lineno,
            )
        )
    if not out:
        raise DefenceDataError(f"{path}: no delivery rows after the header")
    return out


_CACHE: dict[tuple[str, int, int], list[ArmsDelivery]] = {}


def read_register(path: Path | None = None) -> list[ArmsDelivery]:
    """Parse a register file (cached by path, size and modification time)."""
    path = path or default_register()
    if not path.exists():
        raise DefenceDataError(f"{path}: register file not found")
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _CACHE:
        _CACHE[key] = parse_register(path.read_text(encoding="utf-8-sig"), str(path))
    return _CACHE[key]


# --------------------------------------------------------------------------- shares


def parse_periods(text: str) -> list[tuple[int, int]]:
    """``"2015-2019,2020-2024"`` -> [(2015, 2019), (2020, 2024)]; a single year is allowed."""
    out: list[tuple[int, int]] = []
    for part in (p.strip() for p in text.split(",") if p.strip()):
        first, _, last = part.partition("-")
        try:
            a, b = int(first), int(last or first)
        except ValueError as exc:
            raise DefenceDataError(f"period {part!r}: expected YYYY-YYYY") from exc
        if a > b:
            raise DefenceDataError(f"period {part!r}: first year after last year")
        out.append((a, b))
    if not out:
        raise DefenceDataError("no periods given (e.g. 2015-2019,2020-2024)")
    return out


def _systems(rows: Iterable[ArmsDelivery]) -> tuple[SystemLine, ...]:
    acc: dict[tuple[str, str], list[ArmsDelivery]] = defaultdict(list)
    for r in rows:
        acc[(r.recipient, r.designation)].append(r)
    lines = []
    for (recipient, designation), rs in acc.items():
        numbers = [r.number_delivered for r in rs]
        lines.append(
            SystemLine(
                recipient=recipient,
                designation=designation,
                description=rs[0].description,
                category=rs[0].category,
                tiv=round(sum(r.tiv_delivered for r in rs), 6),
                number_delivered=None if None in numbers else sum(n or 0 for n in numbers),
                years=tuple(sorted({r.delivery_year for r in rs})),
                estimate=any(r.estimate for r in rs),
                deal_ids=tuple(sorted({r.deal_id for r in rs})),
            )
        )
    return tuple(sorted(lines, key=lambda s: (-s.tiv, s.recipient, s.designation)))


def _ratio(num: float, den: float) -> float | None:
    return num / den if den > 0 else None


def supplier_shares(
    recipients: str,
    supplier: str,
    periods: Sequence[tuple[int, int]],
    *,
    categories: Sequence[str] = (),
    membership: MembershipRule = MembershipRule.AS_OF,
    as_of: date | None = None,
    register: Sequence[ArmsDelivery] | None = None,
    register_path: Path | None = None,
    top: int = 5,
) -> DefenceShares:
    """Share of ``supplier`` (ISO-2) in the arms imports of group ``recipients`` by period."""
    grp = group(recipients)
    supplier = supplier.strip().upper()
    if len(supplier) != 2 or not supplier.isalpha():
        raise DefenceDataError(f"supplier {supplier!r}: expected an ISO 3166-1 alpha-2 code")
    rows = register if register is not None else read_register(register_path)
    known_categories = sorted({r.category for r in rows})
    wanted: set[str] = set()
    lower = {c.lower(): c for c in known_categories}
    for c in categories:
        if c.strip().lower() not in lower:
            raise DefenceDataError(
                f"unknown armament category {c!r}; known: {', '.join(known_categories)}"
            )
        wanted.add(lower[c.strip().lower()])
    if not any(r.supplier_iso2 == supplier for r in rows):
        raise DefenceDataError(
            f"supplier {supplier!r}: no deliveries by that country in the register"
        )
    if membership is MembershipRule.AS_OF:
        as_of = as_of or date(max(b for _, b in periods), 12, 31)
    else:
        as_of = None
    fixed = grp.members_on(as_of) if as_of else None

    results = []
    for first, last in periods:
        in_period = []
        for r in rows:
            if not first <= r.delivery_year <= last or r.recipient_iso2 is None:
                continue
            if wanted and r.category not in wanted:
                continue
            members = fixed if fixed is not None else grp.members_on(date(r.delivery_year, 12, 31))
            if r.recipient_iso2 in members:
                in_period.append(r)
        total = sum(r.tiv_delivered for r in in_period)
        mine = [r for r in in_period if r.supplier_iso2 == supplier]
        mine_tiv = sum(r.tiv_delivered for r in mine)
        by_cat = []
        for cat in sorted({r.category for r in in_period}):
            t = sum(r.tiv_delivered for r in in_period if r.category == cat)
            s = sum(r.tiv_delivered for r in mine if r.category == cat)
            by_cat.append((cat, round(s, 6), round(t, 6), _ratio(s, t)))
        by_supplier: dict[str, float] = defaultdict(float)
        for r in in_period:
            by_supplier[r.supplier] += r.tiv_delivered
        tops = sorted(by_supplier.items(), key=lambda kv: -kv[1])[:top]
        counted = (
            fixed
            if fixed is not None
            else frozenset(
                c for y in range(first, last + 1) for c in grp.members_on(date(y, 12, 31))
            )
        )
        results.append(
            PeriodShare(
                first_year=first,
                last_year=last,
                members=tuple(sorted(counted)),
                total_tiv=round(total, 6),
                supplier_tiv=round(mine_tiv, 6),
                share=_ratio(mine_tiv, total),
                by_category=tuple(by_cat),
                top_suppliers=tuple(
                    SupplierTotal(name, country_code(name), round(v, 6), v / total)
                    for name, v in tops
                ),
                systems=_systems(mine),
            )
        )
    rule = (
        f"members as of {as_of.isoformat()} for every period"
        if as_of
        else "members on 31 Dec of each delivery year"
    )
    explanation = (
        f"share = Σ TIV of deliveries from {supplier} to {grp.name} / Σ TIV of deliveries "
        f"from all suppliers to {grp.name}, by delivery year within each period; "
        f"membership rule: {rule} ({grp.citation}); transfers between members count as "
        f"imports; categories: {', '.join(sorted(wanted)) or 'all'}; "
        "TIV = SIPRI trend-indicator value (millions), not a financial value."
    )
    return DefenceShares(
        group=grp.key,
        group_name=grp.name,
        supplier=supplier,
        categories=tuple(sorted(wanted)),
        membership=membership,
        as_of=as_of.isoformat() if as_of else None,
        periods=tuple(results),
        source=SOURCE,
        explanation=explanation,
    )
