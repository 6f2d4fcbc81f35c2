"""Classify an item on a date: which control-list entries it falls under, and why.

Formulas (15 CFR 774 Supp. 1, Technical Notes to 3A090, eCFR 2026-07-23):

* TPP = 2 × MacTOPS × bit length. A datasheet's peak TOPS/FLOPS already is
  2 × MacTOPS, so each dense figure contributes ``tops × bit_length``; figures
  of several processing units with the same precision are added up
  (Technical Note 1.d) and the highest TPP over precisions counts (Note 2).
  Figures "with sparsity" never count (Note 3).
* Performance density PD = TPP ÷ applicable die area (mm², logic dies on a
  non-planar process; Technical Note 4).
* HBM memory bandwidth density = bandwidth (GB/s) ÷ package or stack area (mm²).

Which thresholds apply on which day is data (``data/entries.yaml``); this
module only evaluates it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date

from econsec.model.rules import (
    Classification,
    EntryMatch,
    Evaluation,
    Item,
    ItemKind,
    Missing,
    Regime,
)
from econsec.rules import criteria
from econsec.rules.dated import DatedError
from econsec.rules.ecfr import RuleSourceError, chpl
from econsec.rules.entries import EntryRule, EntryVersion, load_entries
from econsec.rules.regimes import eu_rules


class ClassifyError(DatedError):
    """A request the rules cannot answer (a date before the first rule …)."""


def first_rule_date(regime: Regime, rules: Iterable[EntryRule] | None = None) -> date:
    rules = load_entries() if rules is None else rules
    return min(v.period.effective_from for r in rules if r.regime is regime for v in r.versions)


def _fmt(x: float) -> str:
    return f"{x:g}" if abs(x - round(x)) < 1e-9 else f"{x:.6g}"


def figures(item: Item) -> tuple[dict[str, criteria.Value], list[str]]:
    """The parameters the tests use, and how each was computed."""
    lines: list[str] = []
    source = item.contains if item.kind is ItemKind.COMPUTER and item.contains else item
    if source is not item:
        lines.append(f"a computer: its figures are those of the IC it contains, {source.name}")
    per_precision: dict[tuple[str, int], float] = defaultdict(float)
    parts: dict[tuple[str, int], list[str]] = defaultdict(list)
    for f in source.performance:
        if f.sparse:
            lines.append(
                f"{f.precision} {_fmt(f.tops)} (with sparsity) ignored: TPP uses dense rates "
                "only (Technical Note 3 to 3A090)"
            )
            continue
        tpp = f.tops * f.bit_length
        per_precision[(f.precision, f.bit_length)] += tpp
        parts[(f.precision, f.bit_length)].append(
            f"{_fmt(f.tops)} × {f.bit_length} = {_fmt(tpp)}"
            + ("" if f.unit == "package" else f" ({f.unit})")
        )
    tpp_value: float | None = None
    if per_precision:
        best = max(per_precision, key=lambda k: per_precision[k])
        tpp_value = per_precision[best]
        for key, total in sorted(per_precision.items(), key=lambda kv: -kv[1]):
            lines.append(
                f"TPP at {key[0]} ({key[1]}-bit): " + " + ".join(parts[key]) + f" → {_fmt(total)}"
            )
        lines.append(
            f"TPP = {_fmt(tpp_value)} (highest over precisions, {best[0]}; TPP = 2 × MacTOPS × "
            "bit length, Technical Notes 1-2 to 3A090)"
        )
    elif source.kind is ItemKind.IC:
        lines.append("no dense peak rate given: TPP unknown")
    pd: float | None = None
    if tpp_value is not None and source.die_area_mm2:
        pd = tpp_value / source.die_area_mm2
        lines.append(
            f"PD = {_fmt(tpp_value)} ÷ {_fmt(source.die_area_mm2)} mm² = {pd:.4g} "
            "(Technical Note 4 to 3A090)"
        )
    mbd: float | None = None
    if source.memory_bandwidth_gbps and source.package_area_mm2:
        mbd = source.memory_bandwidth_gbps / source.package_area_mm2
        lines.append(
            f"memory bandwidth density = {_fmt(source.memory_bandwidth_gbps)} GB/s ÷ "
            f"{_fmt(source.package_area_mm2)} mm² = {mbd:.4g} GB/s/mm² (Technical Note to 3A090.c)"
        )
    dram: float | None = None
    if source.kind is ItemKind.IC and source.memory_bandwidth_gbps is not None:
        dram = source.memory_bandwidth_gbps
        lines.append(
            f"total DRAM bandwidth = {_fmt(dram)} GB/s (memory bandwidth of the IC; "
            "criterion of FR Doc. 2026-00789)"
        )
    mrf, mrf_k035 = _mrf(source, lines)
    values: dict[str, criteria.Value] = {
        "tpp": tpp_value,
        "performance_density": pd,
        "memory_bandwidth_density": mbd,
        "interconnect_gbps": source.interconnect_gbps,
        "datacenter": item.datacenter if item.datacenter is not None else source.datacenter,
        "dram_bandwidth": dram,
        "light_source_wavelength_nm": source.light_source_wavelength_nm,
        "minimum_resolvable_feature_nm": mrf,
        "minimum_resolvable_feature_k035_nm": mrf_k035,
        "dedicated_chuck_overlay_nm": source.dedicated_chuck_overlay_nm,
        "lithography": _lithography(source),
    }
    return values, lines


def _lithography(source: Item) -> bool | None:
    """A wafer exposure tool: equipment given with any lithography parameter.

    Equipment given without one is taken as not a lithography tool (3B001.f.1
    is then not evaluated for it); other kinds are not equipment at all.
    """
    if source.kind is not ItemKind.EQUIPMENT:
        return None
    return any(
        x is not None
        for x in (
            source.light_source_wavelength_nm,
            source.numerical_aperture,
            source.dedicated_chuck_overlay_nm,
            source.minimum_resolvable_feature_nm,
        )
    )


#: K factors of the 'Minimum Resolvable Feature size' formula of 3B001.f.1.b
#: (MRF = wavelength × K ÷ numerical aperture): the current text and the earlier one.
MRF_K = 0.25
MRF_K_EARLIER = 0.35


def _mrf(source: Item, lines: list[str]) -> tuple[float | None, float | None]:
    """MRF (current K factor) and MRF with the earlier K factor, with how each was found."""
    wavelength, aperture = source.light_source_wavelength_nm, source.numerical_aperture
    if wavelength is not None and aperture is not None:
        mrf = wavelength * MRF_K / aperture
        earlier = wavelength * MRF_K_EARLIER / aperture
        lines.append(
            f"MRF = {_fmt(wavelength)} nm × {MRF_K} ÷ NA {_fmt(aperture)} = {mrf:.4g} nm "
            f"(Technical Note to 3B001.f.1.b); with the earlier K factor {MRF_K_EARLIER}: "
            f"{earlier:.4g} nm"
        )
        return mrf, earlier
    if source.minimum_resolvable_feature_nm is not None:
        lines.append(
            f"MRF = {_fmt(source.minimum_resolvable_feature_nm)} nm as stated by the source "
            "(no wavelength and numerical aperture to compute it with the earlier K factor)"
        )
        return source.minimum_resolvable_feature_nm, None
    return None, None


#: Which item field a missing parameter comes from.
_NEEDS = {
    "tpp": "performance (dense peak rates per precision with bit lengths)",
    "performance_density": "die_area_mm2 (applicable die area)",
    "memory_bandwidth_density": "memory_bandwidth_gbps and package_area_mm2",
    "interconnect_gbps": "interconnect_gbps",
    "datacenter": "datacenter (designed or marketed for datacentres: true/false)",
    "dram_bandwidth": "memory_bandwidth_gbps (total DRAM bandwidth of the IC)",
    "light_source_wavelength_nm": "light_source_wavelength_nm",
    "minimum_resolvable_feature_nm": (
        "numerical_aperture and light_source_wavelength_nm (or minimum_resolvable_feature_nm)"
    ),
    "minimum_resolvable_feature_k035_nm": "numerical_aperture and light_source_wavelength_nm",
    "dedicated_chuck_overlay_nm": "dedicated_chuck_overlay_nm",
    "lithography": "a lithography parameter (light_source_wavelength_nm …)",
}


#: Public name of the item field behind each parameter (for "missing" entries).
NEEDS = _NEEDS


def _evaluate(
    rule: EntryRule, version: EntryVersion, item: Item, values: dict[str, criteria.Value]
) -> tuple[bool | None, EntryMatch]:
    matched, when = criteria.evaluate_groups(version.when, values)
    excluded: bool | None
    excluded, unless = criteria.evaluate_groups(version.unless, values)
    outcome = matched
    if version.unless:
        # matched ∧ ¬excluded, three-valued
        if outcome is False or excluded is True:
            outcome = False
        elif outcome is None or excluded is None:
            outcome = None
    comparisons = tuple(c for g in when for c in g.comparisons)
    excl_comparisons = tuple(c for g in unless for c in g.comparisons)
    evaluation = Evaluation(when, matched, unless, excluded, outcome)
    match = EntryMatch(
        regime=rule.regime,
        entry=rule.entry,
        version=version.version,
        title=rule.title,
        citation=version.period.citation,
        comparisons=comparisons + excl_comparisons,
        certain=outcome is True,
        paragraphs=version.paragraphs,
        evaluation=evaluation,
    )
    return outcome, match


def classify(
    item: Item,
    on: date,
    regimes: Iterable[Regime] = (Regime.US, Regime.EU),
    rules: Iterable[EntryRule] | None = None,
) -> Classification:
    """The entries ``item`` falls under on ``on``, with figures and reasoning."""
    all_rules = tuple(load_entries() if rules is None else rules)
    wanted = tuple(regimes)
    for regime in wanted:
        first = first_rule_date(regime, all_rules)
        if on < first:
            raise ClassifyError(
                f"date {on}: before the first {regime} rule encoded ({first}); "
                "earlier dates are not covered"
            )
    values, reasoning = figures(item)
    contained = (
        classify(item.contains, on, wanted, all_rules)
        if item.kind is ItemKind.COMPUTER and item.contains is not None
        else None
    )
    matches: dict[tuple[Regime, str], tuple[bool | None, EntryMatch]] = {}
    missing: dict[str, list[str]] = defaultdict(list)
    verify: list[str] = []
    pending = [r for r in all_rules if r.regime in wanted and item.kind in r.kinds]
    # Direct tests first, then entries derived from others (two passes reach .z of 4A090).
    for _ in range(3):
        for rule in pending:
            version = rule.version_on(on)
            if version is None or (rule.regime, rule.entry) in matches:
                continue
            if version.requires_declared and not all(
                d in item.declared for d in version.requires_declared
            ):
                continue
            if version.derived_from:
                base_pool: dict[str, bool] = {}
                if contained is not None and item.kind is ItemKind.COMPUTER:
                    for m in contained.entries:
                        if m.regime is rule.regime:
                            base_pool[m.entry] = m.certain
                for (regime, entry), (outcome, m) in matches.items():
                    if regime is rule.regime and outcome is not False:
                        base_pool[entry] = m.certain
                bases = [b for b in version.derived_from if b in base_pool]
                if not bases:
                    continue
                certain = any(base_pool[b] for b in bases)
                match = EntryMatch(
                    regime=rule.regime,
                    entry=rule.entry,
                    version=version.version,
                    title=rule.title,
                    citation=version.period.citation,
                    certain=certain,
                    paragraphs=version.paragraphs or (f"derived from {', '.join(bases)}",),
                )
                matches[(rule.regime, rule.entry)] = (True if certain else None, match)
            elif version.when:
                matches[(rule.regime, rule.entry)] = _evaluate(rule, version, item, values)
            else:
                match = EntryMatch(
                    regime=rule.regime,
                    entry=rule.entry,
                    version=version.version,
                    title=rule.title,
                    citation=version.period.citation,
                    paragraphs=tuple(f"declared: {d}" for d in version.requires_declared),
                )
                matches[(rule.regime, rule.entry)] = (True, match)
    if Regime.EU in wanted:
        for national in eu_rules().national_lists:
            period = national.timeline.as_of(on)
            if national.list_id in item.declared and period is not None and period.status.applies:
                matches[(Regime.EU, national.list_id)] = (
                    True,
                    EntryMatch(
                        regime=Regime.EU,
                        entry=national.list_id,
                        version=period.effective_from.isoformat(),
                        title=national.title,
                        citation=national.citation,
                        paragraphs=(f"declared: {national.list_id}",),
                    ),
                )
                if national.verify:
                    verify.append(f"EU {national.list_id}: {national.verify}")
    entries: list[EntryMatch] = []
    for (regime, entry), (outcome, match) in matches.items():
        found = next((r for r in pending if r.regime is regime and r.entry == entry), None)
        version = found.version_on(on) if found is not None else None
        tests = (
            criteria.explain(match.evaluation)
            if match.evaluation is not None
            else "; ".join(c.describe() for c in match.comparisons)
        )
        if outcome is True:
            entries.append(match)
            reasoning.append(
                f"{regime} {entry} ({match.version}): yes"
                + (f" — {tests}" if tests else f" — {', '.join(match.paragraphs)}")
            )
        elif outcome is None:
            entries.append(match)
            unknown = sorted({c.parameter for c in match.comparisons if c.holds is None})
            reasoning.append(
                f"{regime} {entry} ({match.version}): possible, inputs missing — {tests}"
            )
            for parameter in unknown:
                missing[parameter].append(f"{regime} {entry}")
        else:
            reasoning.append(f"{regime} {entry} ({match.version}): no — {tests}")
        if version is not None and version.verify and outcome is not False:
            verify.append(f"{regime} {entry}: {version.verify}")
    if contained is not None:
        reasoning[:0] = [f"contained IC: {line}" for line in contained.reasoning]
        for gap in contained.missing:
            missing[gap.field].append("the contained IC")
    for note in item.notes:
        reasoning.append(f"note: {note}")
    for line in verify:
        reasoning.append(f"to verify: {line}")
    if not entries:
        reasoning.append("no entry matched")
    missing_list = tuple(
        Missing(
            field=_NEEDS.get(parameter, parameter),
            effect="decides whether " + ", ".join(dict.fromkeys(where)) + " applies",
        )
        for parameter, where in sorted(missing.items())
    )
    for parameter, label in criteria.PARAMETERS.items():
        if (
            values.get(parameter) is None
            and parameter not in missing
            and item.kind is ItemKind.IC
            and parameter in ("tpp", "performance_density", "datacenter")
        ):
            reasoning.append(f"{label}: unknown; does not change the answer on {on}")
    tier = None
    if item.hs_code:
        try:
            tier = chpl().get(item.hs_code[:6])
        except RuleSourceError as exc:
            reasoning.append(f"Common High Priority List not consulted: {exc}")
        else:
            reasoning.append(
                f"HS {item.hs_code[:6]}: Common High Priority List tier {tier}"
                if tier
                else f"HS {item.hs_code[:6]}: not on the Common High Priority List"
            )
    return Classification(
        item=item,
        on=on,
        tpp=values["tpp"] if isinstance(values["tpp"], float) else None,
        performance_density=values["performance_density"]
        if isinstance(values["performance_density"], float)
        else None,
        memory_bandwidth_density=values["memory_bandwidth_density"]
        if isinstance(values["memory_bandwidth_density"], float)
        else None,
        entries=tuple(sorted(entries, key=lambda m: (m.regime.value, m.entry))),
        reasoning=tuple(reasoning),
        missing=missing_list,
        chpl_tier=tier,
    )
