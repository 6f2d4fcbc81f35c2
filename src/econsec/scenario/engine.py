"""Scenario files: moves, retaliation policies and a week-step supply-shock timeline.

A scenario (YAML, validated with pydantic) names **moves** by actors — export
ban, licence requirement, quota, tariff — on a WIOD sector (optionally a
product inside it, with its share of the sector's sales) towards partners, with
a magnitude and a start date, and **retaliation policies** (tit-for-tat,
proportional, none) that generate counter-moves after a lag.

Each move becomes a cut of the supplier country-sector's sales to the
partners' industries (``scenario.io``, Ghosh supply-shock model):

* export ban, licence requirement, quota: cut share φ = magnitude × product_share
  (magnitude = share of the flow banned / denied / above the quota);
* tariff at rate t: φ = (1 − (1 + t)^−ε) × product_share, ε the trade
  elasticity in ``data/scenario_rules.yaml`` (with its citation).

**Dynamic variant** (week steps). The buyers of a cut input hold
``inventory_weeks`` weeks of their use of it; other suppliers replace a share
``s`` of the lost supply, ramping up linearly over ``substitution_weeks``. In
week τ after the start the missing share of weekly use is
``gap_τ = φ · (1 − s · min(1, (τ + 1) / T))``; stocks cover the gap while they
last; what they cannot cover is the effective cut ``φ_eff,τ``. The weekly output
loss is the Ghosh loss with every move at its ``φ_eff,τ``, divided by 52 (WIOD
flows are per year). With several moves this is a low-rank update of
``I − B``: ``loss = x_Rᵀ (I + V G U)⁻¹ V G`` (Woodbury identity), where ``R`` are the
cut supplier rows, ``V`` their cut coefficient rows and ``U`` the unit columns
of ``R`` — no new inverse per week. Stocks are not rebuilt within the horizon.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from econsec.model.scenario import (
    ComparisonLine,
    CountryExposure,
    IOLine,
    MoveApplied,
    ScenarioComparison,
    ScenarioRun,
    WeekLine,
)
from econsec.scenario.io import Array, IOModel, IOModelError, load_wiod, make_cut

WEEKS_PER_YEAR = 52  # WIOD flows are annual; a week is 1/52 of a year.
LIBRARY = "library"


class ScenarioError(ValueError):
    """A bad scenario file or question; names the file, the record and the field."""


class MoveKind(StrEnum):
    EXPORT_BAN = "export_ban"
    LICENCE_REQUIREMENT = "licence_requirement"
    QUOTA = "quota"
    TARIFF = "tariff"


class Policy(StrEnum):
    TIT_FOR_TAT = "tit_for_tat"
    PROPORTIONAL = "proportional"
    NONE = "none"


# ------------------------------------------------------------------------ file schema


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MoveSpec(_Strict):
    id: str = Field(min_length=1)
    actor: str = Field(min_length=1, description="Country imposing the move (WIOD code).")
    kind: MoveKind
    sector: str = Field(description="WIOD sector code c1…c35 of the goods restricted.")
    product: str = ""
    #: Share of the sector's sales that the product stands for (1 = whole sector).
    product_share: float = Field(default=1.0, gt=0.0, le=1.0)
    partners: list[str] = Field(min_length=1, description="Countries or @groups targeted.")
    #: Share of the flow stopped (0–1), or the tariff rate for a tariff (0.25 = 25 %).
    magnitude: float = Field(ge=0.0)
    start: date
    end: date | None = None
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> MoveSpec:
        if self.kind is not MoveKind.TARIFF and self.magnitude > 1.0:
            raise ValueError(f"magnitude {self.magnitude} above 1 (100 %) for a {self.kind}")
        if self.end is not None and self.end <= self.start:
            raise ValueError(f"end {self.end} is not after start {self.start}")
        return self


class RetaliationSpec(_Strict):
    actor: str = Field(min_length=1)
    policy: Policy
    #: Ids of declared moves answered; empty = every declared move that targets the actor.
    answers: list[str] = Field(default_factory=list)
    lag_weeks: int = Field(default=0, ge=0)
    kind: MoveKind | None = None
    sector: str | None = None
    product: str = ""
    product_share: float = Field(default=1.0, gt=0.0, le=1.0)
    #: Proportional policy: counter-move's direct export loss ÷ the answered move's.
    scale: float = Field(default=1.0, gt=0.0)
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> RetaliationSpec:
        if self.policy is not Policy.NONE and (self.sector is None or self.kind is None):
            raise ValueError(f"policy {self.policy} needs 'kind' and 'sector'")
        return self


class DynamicSpec(_Strict):
    #: Weeks of use held in stock: "default" and per-sector overrides (c1…c35).
    inventory_weeks: dict[str, float] = Field(default_factory=lambda: {"default": 0.0})
    substitution_share: float = Field(default=0.0, ge=0.0, le=1.0)
    substitution_weeks: int = Field(default=1, ge=1)
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> DynamicSpec:
        if "default" not in self.inventory_weeks:
            raise ValueError("inventory_weeks needs a 'default' entry")
        for key, weeks in self.inventory_weeks.items():
            if weeks < 0:
                raise ValueError(f"inventory_weeks[{key!r}] = {weeks} is negative")
        return self


class ScenarioSpec(_Strict):
    name: str = Field(min_length=1)
    title: str = Field(min_length=1)
    description: str = ""
    year: int = Field(default=2011, ge=1995, le=2011, description="WIOD table year.")
    start: date | None = None
    horizon_weeks: int = Field(default=52, ge=1, le=520)
    sector_mapping: str = Field(min_length=1, description="How products map to WIOD sectors.")
    moves: list[MoveSpec] = Field(min_length=1)
    retaliation: list[RetaliationSpec] = Field(default_factory=list)
    dynamic: DynamicSpec

    @model_validator(mode="after")
    def _ids(self) -> ScenarioSpec:
        ids = [m.id for m in self.moves]
        dup = {i for i in ids if ids.count(i) > 1}
        if dup:
            raise ValueError(f"duplicate move ids {sorted(dup)}")
        for k, r in enumerate(self.retaliation):
            for a in r.answers:
                if a not in ids:
                    raise ValueError(f"retaliation[{k}].answers: unknown move id {a!r}")
        return self


def load_scenario(path: Path) -> ScenarioSpec:
    """Read and validate a scenario file; errors name the file and the field."""
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ScenarioError(f"{path}: file not found") from exc
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{path}: not valid YAML: {exc}") from exc
    return parse_scenario(doc, str(path))


def parse_scenario(doc: object, where: str) -> ScenarioSpec:
    """Validate a scenario document (parsed YAML or JSON); ``where`` names its origin."""
    if not isinstance(doc, dict):
        raise ScenarioError(f"{where}: expected a mapping at the top level")
    try:
        return ScenarioSpec.model_validate(doc)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = _loc(err["loc"])
        more = f" (and {len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
        raise ScenarioError(f"{where}: field {loc!r}: {err['msg']}{more}") from exc


def _loc(parts: Sequence[int | str]) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "(top level)"


def library_path(name: str) -> Path:
    """A scenario of the shipped library by name (file stem)."""
    ref = resources.files("econsec.scenario").joinpath(f"{LIBRARY}/{name}.yaml")
    path = Path(str(ref))
    if not path.exists():
        raise ScenarioError(f"{name}: no such scenario in the library; known: {library_names()}")
    return path


def library_names() -> list[str]:
    folder = Path(str(resources.files("econsec.scenario").joinpath(LIBRARY)))
    return sorted(p.stem for p in folder.glob("*.yaml"))


def resolve(file_or_name: str) -> Path:
    path = Path(file_or_name)
    return path if path.suffix in {".yaml", ".yml"} or path.exists() else library_path(path.name)


# ------------------------------------------------------------------------ rules


@functools.lru_cache(maxsize=1)
def _rules() -> dict[str, Any]:
    ref = resources.files("econsec.scenario").joinpath("data/scenario_rules.yaml")
    rules: dict[str, Any] = yaml.safe_load(ref.read_text(encoding="utf-8"))
    return rules


def rule_value(name: str, on: date) -> tuple[float, str]:
    """The value of a dated rule on a day, with its citation."""
    for version in _rules()[name]:
        start, end = version["effective_from"], version["effective_to"]
        if start <= on and (end is None or on <= end):
            return float(version["value"]), str(version["citation"]).strip()
    raise ScenarioError(f"scenario_rules.yaml: rule {name!r}: no version in force on {on}")


def partner_groups() -> Mapping[str, Any]:
    groups: Mapping[str, Any] = _rules()["partner_groups"]
    return groups


@functools.lru_cache(maxsize=2)
def wiod_model(year: int) -> IOModel:
    return IOModel(load_wiod(year))


# ------------------------------------------------------------------------ engine


@dataclass(frozen=True)
class _Cut:
    row: int
    buyer_mask: np.ndarray[Any, np.dtype[np.bool_]]


@dataclass(frozen=True)
class _Move:
    id: str
    actor: str
    kind: MoveKind
    sector: str
    partners: tuple[str, ...]
    magnitude: float
    cut_share: float
    start: date
    end: date | None
    answers: str | None
    explanation: str
    cuts: tuple[_Cut, ...]
    direct: float
    #: Share of the sector's sales the product stands for (stocks are counted in it).
    product_share: float


def cut_share(kind: MoveKind, magnitude: float, product_share: float, on: date) -> float:
    """Share of the supplier's sales to the partners that stops (see module docstring)."""
    if kind is MoveKind.TARIFF:
        eps, _ = rule_value("tariff_trade_elasticity", on)
        return float((1.0 - (1.0 + magnitude) ** -eps) * product_share)
    return magnitude * product_share


def _tariff_for(share: float, product_share: float, on: date) -> float:
    eps, _ = rule_value("tariff_trade_elasticity", on)
    inner = min(share / product_share, 1.0 - 1e-12)
    return float((1.0 - inner) ** (-1.0 / eps) - 1.0)


class _Builder:
    def __init__(self, spec: ScenarioSpec, file: str, model: IOModel) -> None:
        self.spec, self.file, self.model = spec, file, model
        self.table = model.table

    def fail(self, field: str, message: str) -> ScenarioError:
        return ScenarioError(f"{self.file}: field {field!r}: {message}")

    def country(self, code: str, field: str) -> str:
        if code not in self.table.countries:
            raise self.fail(
                field, f"unknown country {code!r}; known: {', '.join(self.table.countries)}"
            )
        return code

    def sector(self, code: str, field: str) -> str:
        if code not in self.table.sectors:
            raise self.fail(field, f"unknown sector {code!r}; known: c1…c{len(self.table.sectors)}")
        return code

    def members(self, name: str, field: str) -> tuple[str, ...]:
        """A country code or an ``@group`` of partner_groups, as WIOD country codes."""
        groups = partner_groups()
        if name.startswith("@"):
            if name[1:] not in groups:
                known = ", ".join("@" + g for g in groups)
                raise self.fail(field, f"unknown group {name!r}; known: {known}")
            members = tuple(str(m) for m in groups[name[1:]]["members"])
            for m in members:
                self.country(m, f"{field} (scenario_rules.yaml partner_groups.{name[1:]})")
            return members
        return (self.country(name, field),)

    def partners(self, names: Sequence[str], actor: str, field: str) -> tuple[str, ...]:
        own = self.members(actor, field.rsplit(".", 1)[0] + ".actor")
        out: list[str] = []
        for k, name in enumerate(names):
            out += [m for m in self.members(name, f"{field}[{k}]") if m not in out]
        both = sorted(set(out) & set(own))
        if both:
            raise self.fail(field, f"{both} are both actor ({actor}) and partner")
        return tuple(out)

    def flows(
        self, kind: MoveKind, actor: str, sector: str, partners: tuple[str, ...], field: str
    ) -> tuple[tuple[_Cut, ...], float]:
        """The cut rows and the annual sales they hit at a 100 % cut.

        Export ban, licence requirement, quota: the actor's sales to the partners.
        Tariff: an import measure, the partners' sales to the actor.
        """
        own = self.members(actor, field + ".actor")
        sellers, buyers = (partners, own) if kind is MoveKind.TARIFF else (own, partners)
        t = self.table
        cuts, sales = [], 0.0
        for seller in sellers:
            try:
                cut = make_cut(t, seller, sector, 0.0, buyers, where=self.file)
            except IOModelError as exc:
                raise self.fail(field, str(exc)) from exc
            cuts.append(_Cut(cut.row, cut.buyer_mask))
            sales += float(t.Z[cut.row, cut.buyer_mask].sum() + t.Y[cut.row, cut.final_mask].sum())
        return tuple(cuts), sales

    def declared(self) -> list[_Move]:
        out = []
        for k, m in enumerate(self.spec.moves):
            f = f"moves[{k}]"
            self.members(m.actor, f + ".actor")
            self.sector(m.sector, f + ".sector")
            partners = self.partners(m.partners, m.actor, f + ".partners")
            share = cut_share(m.kind, m.magnitude, m.product_share, m.start)
            cuts, sales = self.flows(m.kind, m.actor, m.sector, partners, f)
            what = m.sector
            if m.product:
                what = f"{m.product} ({m.product_share:.1%} of {m.sector} sales)"
            expl = (
                f"{m.actor} {m.kind.value} on {what}, {len(partners)} partner(s), magnitude "
                f"{m.magnitude:g} → cut share {share:.4f} of {sales:,.0f} annual sales. "
                f"Source: {m.source.strip()}"
            )
            out.append(_Move(m.id, m.actor, m.kind, m.sector, partners, m.magnitude, share,
                             m.start, m.end, None, expl, cuts, share * sales,
                             m.product_share))  # fmt: skip
        return out

    def counter_moves(self, declared: list[_Move]) -> list[_Move]:
        out = []
        for k, r in enumerate(self.spec.retaliation):
            f = f"retaliation[{k}]"
            own = self.members(r.actor, f + ".actor")
            if r.policy is Policy.NONE:
                continue
            assert r.kind is not None
            assert r.sector is not None
            sector = self.sector(r.sector, f + ".sector")
            if r.answers:
                targets = [m for m in declared if m.id in r.answers]
            else:
                targets = [m for m in declared if set(own) & set(m.partners)]
            for m in targets:
                if set(own) & set(self.members(m.actor, f + ".actor")):
                    raise self.fail(
                        f + ".answers", f"{r.actor} cannot answer its own move {m.id!r}"
                    )
                start = m.start + timedelta(weeks=r.lag_weeks)
                partners = self.members(m.actor, f + ".actor")
                cuts, sales = self.flows(r.kind, r.actor, sector, partners, f)
                if sales <= 0:
                    raise self.fail(
                        f + ".sector", f"no {sector} trade between {r.actor} and {m.actor}"
                    )
                if r.policy is Policy.TIT_FOR_TAT:
                    kind, magnitude = m.kind, m.magnitude
                    cuts, sales = self.flows(kind, r.actor, sector, partners, f)
                    share = cut_share(kind, magnitude, r.product_share, start)
                    how = (
                        f"tit-for-tat: same kind ({kind.value}) and magnitude {magnitude:g} "
                        f"as {m.id!r}"
                    )
                else:
                    kind = r.kind
                    share = min(r.scale * m.direct / sales, r.product_share)
                    if kind is MoveKind.TARIFF:
                        magnitude = _tariff_for(share, r.product_share, start)
                    else:
                        magnitude = share / r.product_share
                    how = (
                        f"proportional: {r.scale:g} × the {m.direct:,.0f} of sales hit by {m.id!r} "
                        f"= cut share {share:.4f} of {sales:,.0f} annual sales"
                        f"{' (capped at the product share)' if share >= r.product_share else ''}"
                    )
                expl = (
                    f"{r.actor} answers {m.id!r} after {r.lag_weeks} week(s) with a {kind.value} "
                    f"on {r.product or sector} ({sector}); {how}. Source: {r.source.strip()}"
                )
                out.append(_Move(f"{m.id}/answer-{r.actor}", r.actor, kind, sector, partners,
                                 magnitude, share, start, m.end, m.id, expl, cuts,
                                 share * sales, r.product_share))  # fmt: skip
        return out


def _effective_shares(spec: ScenarioSpec, moves: Sequence[_Move], start: date) -> Array:
    """φ_eff per week (rows) and move (columns): inventories, then substitution."""
    dyn = spec.dynamic
    out = np.zeros((spec.horizon_weeks, len(moves)))
    for j, m in enumerate(moves):
        stock = dyn.inventory_weeks.get(m.sector, dyn.inventory_weeks["default"])
        for w in range(spec.horizon_weeks):
            day = start + timedelta(weeks=w)
            if day < m.start or (m.end is not None and day >= m.end):
                continue
            tau = (day - m.start).days // 7
            ramp = min(1.0, (tau + 1) / dyn.substitution_weeks)
            # In weeks of use of the product: stocks cover the missing share while they last.
            gap = m.cut_share / m.product_share * (1.0 - dyn.substitution_share * ramp)
            used = min(stock, gap)
            stock -= used
            out[w, j] = (gap - used) * m.product_share
    return out


def ghosh_loss(model: IOModel, moves: Sequence[_Move], shares: Array) -> Array:
    """Annual output loss with each move at ``shares[j]`` (Woodbury update of G)."""
    t = model.table
    rows = sorted({c.row for m in moves for c in m.cuts})
    keep = np.ones((len(rows), t.n))  # remaining factor of each coefficient
    for m, phi in zip(moves, shares, strict=True):
        for c in m.cuts:
            keep[rows.index(c.row), c.buyer_mask] *= 1.0 - phi
    v = model.B[rows, :] * (1.0 - keep)  # V: the removed coefficients, (m × n)
    vg = v @ model.G
    k = vg[:, rows]
    loss: Array = t.x[rows] @ np.linalg.solve(np.eye(len(rows)) + k, vg)
    return loss


def run_scenario(path: Path, model: IOModel | None = None, top: int = 15) -> ScenarioRun:
    """Run a scenario file (see the module docstring for the model)."""
    return run_spec(load_scenario(path), str(path), model, top)


def run_spec(
    spec: ScenarioSpec, where: str, model: IOModel | None = None, top: int = 15
) -> ScenarioRun:
    """Run a validated scenario; ``where`` (file or request) names it in errors."""
    model = model or wiod_model(spec.year)
    t = model.table
    b = _Builder(spec, where, model)
    declared = b.declared()
    moves = declared + b.counter_moves(declared)
    start = spec.start or min(m.start for m in moves)
    shares = _effective_shares(spec, moves, start)
    weekly = np.zeros((spec.horizon_weeks, t.n))
    cache: dict[bytes, Array] = {}
    for w in range(spec.horizon_weeks):
        key = np.round(shares[w], 12).tobytes()
        if key not in cache:
            cache[key] = ghosh_loss(model, moves, shares[w]) / WEEKS_PER_YEAR
        weekly[w] = cache[key]
    static = ghosh_loss(model, moves, np.array([m.cut_share for m in moves]))
    k = len(t.sectors)
    by_c = weekly.reshape(spec.horizon_weeks, len(t.countries), k).sum(axis=2)
    static_c = static.reshape(len(t.countries), k).sum(axis=1)
    out_c = t.x.reshape(len(t.countries), k).sum(axis=1) * spec.horizon_weeks / WEEKS_PER_YEAR
    threshold, _ = rule_value("recovery_threshold", start)
    exposures = []
    for c, country in enumerate(t.countries):
        series = by_c[:, c]
        peak = int(np.argmax(series)) if series.max() > 0 else None
        recovery = None
        if peak is not None:
            below = np.flatnonzero(series[peak:] < threshold * series[peak])
            recovery = int(peak + below[0]) if below.size else None
        exposures.append(CountryExposure(
            country, float(series.sum()), float(series.sum() / out_c[c]) if out_c[c] else 0.0,
            float(series.max()), peak, recovery, float(static_c[c])))  # fmt: skip
    exposures.sort(key=lambda e: -e.cumulative_loss)
    cum = weekly.sum(axis=0)
    base = t.x * spec.horizon_weeks / WEEKS_PER_YEAR
    order = np.argsort(-cum)[:top]
    lines = tuple(
        IOLine(
            *t.label(int(i)),
            t.sector_names.get(t.label(int(i))[1], ""),
            float(base[i]),
            float(cum[i]),
            float(cum[i] / base[i]) if base[i] else 0.0,
        )
        for i in order
    )
    timeline = tuple(
        WeekLine(
            w,
            (start + timedelta(weeks=w)).isoformat(),
            float(by_c[w].sum()),
            tuple((t.countries[c], float(by_c[w, c])) for c in np.flatnonzero(by_c[w])),
        )
        for w in range(spec.horizon_weeks)
    )
    eps, eps_cite = rule_value("tariff_trade_elasticity", start)
    _, rec_cite = rule_value("recovery_threshold", start)
    applied = tuple(
        MoveApplied(
            m.id,
            m.actor,
            m.kind.value,
            m.sector,
            m.partners,
            m.magnitude,
            m.cut_share,
            m.start.isoformat(),
            m.end.isoformat() if m.end else None,
            m.answers,
            m.direct,
            m.explanation,
        )
        for m in moves
    )
    dyn = spec.dynamic
    return ScenarioRun(
        name=spec.name,
        title=spec.title,
        file=where,
        table=t.name,
        start=start.isoformat(),
        horizon_weeks=spec.horizon_weeks,
        moves=applied,
        total_cumulative_loss=float(weekly.sum()),
        static_annual_loss=float(static.sum()),
        by_country=tuple(exposures),
        top_sectors=lines,
        timeline=timeline,
        sources=(spec.sector_mapping.strip(), dyn.source.strip(), eps_cite, rec_cite),
        explanation=(
            "Each move cuts the supplier country-sector's sales to the partners' industries "
            "(Ghosh supply-shock model on WIOD, fixed output coefficients). Dynamic variant: "
            f"buyers hold {dict(dyn.inventory_weeks)} weeks of use in stock; other suppliers "
            f"replace {dyn.substitution_share:.0%} of the lost supply, ramping up over "
            f"{dyn.substitution_weeks} week(s); stocks are not rebuilt. Weekly loss = annual "
            f"Ghosh loss at the effective cut shares ÷ {WEEKS_PER_YEAR}. static_annual_loss: all "
            f"moves at full strength for a year, no stocks or substitution (upper bound). "
            f"Tariffs: cut = 1 − (1 + t)^−{eps:g}. Recovery week: first week after the peak "
            f"below {threshold:.0%} of the peak. Units: million USD (WIOD {spec.year} prices)."
        ),
    )


def compare(a: ScenarioRun, b: ScenarioRun) -> ScenarioComparison:
    ea = {e.country: e for e in a.by_country}
    eb = {e.country: e for e in b.by_country}
    lines = [
        ComparisonLine(
            c,
            ea[c].cumulative_loss,
            eb[c].cumulative_loss,
            eb[c].cumulative_loss - ea[c].cumulative_loss,
            ea[c].peak_week,
            eb[c].peak_week,
            ea[c].recovery_week,
            eb[c].recovery_week,
        )
        for c in ea
        if c in eb
    ]
    lines.sort(key=lambda x: -max(x.a_cumulative_loss, x.b_cumulative_loss))
    return ScenarioComparison(
        a=a.name,
        b=b.name,
        a_total=a.total_cumulative_loss,
        b_total=b.total_cumulative_loss,
        a_moves=tuple(m.id for m in a.moves),
        b_moves=tuple(m.id for m in b.moves),
        lines=tuple(lines),
        explanation=(
            f"Cumulative output loss by country over each run's horizon ({a.horizon_weeks} and "
            f"{b.horizon_weeks} weeks); difference = {b.name} − {a.name}. Both runs use the "
            "dynamic Ghosh model described in each run's explanation."
        ),
    )
