"""Control rules: items, classifications and licence determinations.

An :class:`Item` is what is exported, given by its technical parameters (a
catalogue entry of public datasheet figures, or raw parameters). A
:class:`Classification` says which control-list entries it falls under on a
date, with the computed figures (TPP, performance density) and every threshold
compared. A :class:`Determination` answers "is a licence needed to send it
there, on that day", per regime (US EAR, EU dual-use), with the review policy,
the licence exceptions or general authorisations and why, and the citations.

Nothing here is ever confidently wrong by omission: an input the rules need but
the item lacks is a :class:`Missing` entry saying what it would change, and an
answer that rests on one is marked incomplete.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum


class ItemKind(StrEnum):
    #: An integrated circuit with digital processing units (GPU, TPU, ASIC …).
    IC = "ic"
    #: High-bandwidth memory (a stack or a packaged device).
    HBM = "hbm"
    #: A computer, electronic assembly or component containing ICs.
    COMPUTER = "computer"
    #: Production or test equipment (classified by declared entries only).
    EQUIPMENT = "equipment"


class Regime(StrEnum):
    US = "US"
    EU = "EU"


@dataclass(frozen=True, slots=True)
class Performance:
    """One peak-performance figure of a datasheet (2 × MacTOPS, in tera-ops/s)."""

    #: ``FP16``, ``FP8``, ``INT8``, ``TF32`` … as quoted.
    precision: str
    #: Largest bit length of the inputs to the multiply (TF32 counts 19 … as quoted, see docs).
    bit_length: int
    #: Peak tera-operations per second (TOPS or TFLOPS) as used for the TPP.
    tops: float
    #: True when the figure is "with sparsity"; such figures never enter a TPP.
    sparse: bool = False
    #: Processing unit the figure covers (``package``, ``die 1`` …); TPPs of
    #: several units with the same precision are added up.
    unit: str = "package"
    source: str = ""


@dataclass(frozen=True, slots=True)
class Item:
    """Something to classify: an IC, HBM, a computer or equipment."""

    item_id: str
    name: str
    kind: ItemKind
    performance: tuple[Performance, ...] = ()
    #: Applicable die area in mm²: all logic dies made on a non-planar process.
    die_area_mm2: float | None = None
    #: Designed or marketed for use in datacentres (Note 2 to 3A090).
    datacenter: bool | None = None
    #: Aggregate bidirectional transfer rate to other ICs, GB/s (Oct-2022 test).
    interconnect_gbps: float | None = None
    #: Memory bandwidth of the device or stack, GB/s.
    memory_bandwidth_gbps: float | None = None
    #: Area of the HBM package or stack, mm² (3A090.c).
    package_area_mm2: float | None = None
    #: Adjusted peak performance, weighted teraflops (EU 4A003.b).
    app_wt: float | None = None
    #: Lithography (3B001.f.1): exposure light-source wavelength in nm.
    light_source_wavelength_nm: float | None = None
    #: Lithography: numerical aperture of the projection optics.
    numerical_aperture: float | None = None
    #: Lithography: maximum 'dedicated chuck overlay' (single machine overlay), nm.
    dedicated_chuck_overlay_nm: float | None = None
    #: Lithography: 'Minimum Resolvable Feature size' stated by the source, nm
    #: (otherwise computed from wavelength and numerical aperture).
    minimum_resolvable_feature_nm: float | None = None
    #: For a computer: the most capable IC it contains.
    contains: Item | None = None
    #: Entries declared by a source rather than computed (``US:3B001.f``,
    #: ``EU:3B001.f``, ``NL:2023-semiconductor`` …).
    declared: tuple[str, ...] = ()
    hs_code: str | None = None
    #: Country of production (ISO 3166-1 alpha-2); None = not stated.
    origin: str | None = None
    #: US-origin controlled content in percent of value (de minimis).
    us_content_percent: float | None = None
    sources: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Comparison:
    """One threshold test: ``parameter op threshold`` and its outcome."""

    parameter: str
    value: float | bool | str | None
    operator: str
    threshold: float | bool | str
    #: None when the value is missing.
    holds: bool | None

    def describe(self) -> str:
        shown = "missing" if self.value is None else _fmt(self.value)
        verdict = {True: "yes", False: "no", None: "unknown"}[self.holds]
        return f"{self.parameter} = {shown} {self.operator} {_fmt(self.threshold)}: {verdict}"


def _fmt(value: float | bool | str) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return value
    return str(int(value)) if value == int(value) else f"{value:.6g}"


@dataclass(frozen=True, slots=True)
class Missing:
    """An input the rules need and the item lacks, and what it would change."""

    field: str
    effect: str


@dataclass(frozen=True, slots=True)
class TestGroup:
    """Tests that must all hold (one alternative of an entry's ``when`` or ``unless``)."""

    comparisons: tuple[Comparison, ...]
    #: Three-valued: None when a test rests on a missing value and none failed.
    holds: bool | None


@dataclass(frozen=True, slots=True)
class Evaluation:
    """How an entry's tests came out, with their any-of / all-of structure.

    The entry applies when one ``when`` group holds and no ``unless`` group does
    (three-valued: an unknown group makes the outcome unknown unless another
    one decides it).
    """

    when: tuple[TestGroup, ...]
    matched: bool | None
    unless: tuple[TestGroup, ...] = ()
    #: None when there is no exclusion or it rests on a missing value.
    excluded: bool | None = False
    outcome: bool | None = None


@dataclass(frozen=True, slots=True)
class EntryMatch:
    """A control-list entry the item falls under (or may fall under)."""

    regime: Regime
    #: ``3A090.a``, ``4A090.b``, ``5A992.z``, ``NL:2023-semiconductor`` …
    entry: str
    #: Version of the entry's text (``2022-10``, ``2023-11`` …).
    version: str
    title: str
    citation: str
    comparisons: tuple[Comparison, ...] = ()
    #: False when the outcome rests on a missing input (``possible`` match).
    certain: bool = True
    #: Paragraphs of the source text this entry was checked against.
    paragraphs: tuple[str, ...] = ()
    #: The tests with their structure (None for declared or derived entries).
    evaluation: Evaluation | None = None


@dataclass(frozen=True, slots=True)
class Classification:
    item: Item
    on: date
    #: Highest dense TPP over precisions (None when no dense figure is known).
    tpp: float | None
    performance_density: float | None
    memory_bandwidth_density: float | None
    entries: tuple[EntryMatch, ...]
    reasoning: tuple[str, ...]
    missing: tuple[Missing, ...] = ()
    #: Common High Priority List tier of the item's HS code, if any.
    chpl_tier: str | None = None

    @property
    def complete(self) -> bool:
        return not self.missing

    def entry_ids(self, regime: Regime | None = None) -> tuple[str, ...]:
        return tuple(e.entry for e in self.entries if regime is None or e.regime is regime)


class Policy(StrEnum):
    """Licence review policies, most restrictive first."""

    POLICY_OF_DENIAL = "policy of denial"
    PRESUMPTION_OF_DENIAL = "presumption of denial"
    CASE_BY_CASE = "case-by-case"
    PRESUMPTION_OF_APPROVAL = "presumption of approval"
    #: A licence is required but the review policy for it is not encoded
    #: (Country Chart requirements: part 742 review policies).
    NOT_ENCODED = "review policy not encoded"
    #: No licence needed: nothing to review.
    NOT_REQUIRED = "no licence required"
    #: The answer could not be reached (missing inputs, see ``missing``).
    UNDETERMINED = "undetermined"

    @property
    def rank(self) -> int:
        return list(Policy).index(self)


@dataclass(frozen=True, slots=True)
class ExceptionOption:
    """A licence exception or general authorisation considered for the case."""

    symbol: str
    available: bool
    reason: str
    citation: str
    conditions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Requirement:
    """One rule that requires an authorisation for the case."""

    rule_id: str
    title: str
    policy: Policy
    citation: str
    #: False where the rule is in the codified text but not enforced on the date.
    enforced: bool = True
    note: str = ""


@dataclass(frozen=True, slots=True)
class RegimeAnswer:
    regime: Regime
    classification: tuple[str, ...]
    #: None when the answer rests on missing inputs (see ``missing``).
    licence_required: bool | None
    policy: Policy
    requirements: tuple[Requirement, ...]
    exceptions: tuple[ExceptionOption, ...]
    #: Fees, notifications and other conditions announced, and flagged
    #: conditions (catch-all clauses) the exporter must check.
    conditions: tuple[str, ...]
    reasoning: tuple[str, ...]
    citations: tuple[str, ...]
    missing: tuple[Missing, ...] = ()

    @property
    def complete(self) -> bool:
        return not self.missing


@dataclass(frozen=True, slots=True)
class Determination:
    item_id: str
    on: date
    #: ISO 3166-1 alpha-2.
    destination: str
    end_user: str | None
    answers: tuple[RegimeAnswer, ...] = field(default_factory=tuple)

    def answer(self, regime: Regime) -> RegimeAnswer | None:
        for a in self.answers:
            if a.regime is regime:
                return a
        return None
