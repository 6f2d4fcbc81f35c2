"""Items to classify: the product catalogue (``data/catalogue.yaml``) and raw parameters.

Both paths end in :func:`build_item`, which checks the parameters field by
field: a negative or non-numeric figure, an unknown kind or country, or a
figure given both as dense and as sparse with the same rate (a sparse figure
flagged as dense) is an error naming the product or record and the field.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from econsec.lists._common import country_code
from econsec.model.rules import Item, ItemKind, Performance
from econsec.rules.classify import MRF_K
from econsec.rules.dated import DatedError

CATALOGUE_FILE = "data/catalogue.yaml"
_NUMBERS = (
    "die_area_mm2",
    "interconnect_gbps",
    "memory_bandwidth_gbps",
    "package_area_mm2",
    "app_wt",
    "us_content_percent",
    "light_source_wavelength_nm",
    "numerical_aperture",
    "dedicated_chuck_overlay_nm",
    "minimum_resolvable_feature_nm",
)
#: Parameters of lithography equipment (3B001.f.1): only for kind ``equipment``.
_LITHOGRAPHY = (
    "light_source_wavelength_nm",
    "numerical_aperture",
    "dedicated_chuck_overlay_nm",
    "minimum_resolvable_feature_nm",
)
_FIELDS = {
    *_NUMBERS,
    "id",
    "name",
    "aliases",
    "kind",
    "performance",
    "datacenter",
    "contains",
    "declared",
    "hs_code",
    "origin",
    "notes",
}
_DECLARED = re.compile(r"^(US|EU|[A-Z]{2}):\S+$")


class ItemError(DatedError):
    """Bad or contradictory item parameters (names the product/record and field)."""


def _scalar(value: Any, sources: Mapping[str, str], found: list[str]) -> Any:
    """``{value, source}`` → value (recording the source), or the value itself."""
    if isinstance(value, Mapping) and "value" in value:
        source = value.get("source")
        if source:
            found.append(str(sources.get(str(source), source)))
        return value["value"]
    return value


def _number(value: Any, where: str, field: str, positive: bool = True) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ItemError(f"{where}, field {field!r}: {value!r} is not a number")
    try:
        number = float(value)
    except ValueError:
        raise ItemError(f"{where}, field {field!r}: {value!r} is not a number") from None
    if not math.isfinite(number) or number < 0 or (positive and number == 0):
        raise ItemError(f"{where}, field {field!r}: must be a positive number, got {value!r}")
    return number


def _performance(data: Any, where: str, sources: Mapping[str, str]) -> Performance:
    if not isinstance(data, Mapping):
        raise ItemError(f"{where}: expected a mapping with precision, bit_length, tops")
    for field in ("precision", "bit_length", "tops"):
        if data.get(field) in (None, ""):
            raise ItemError(f"{where}, field {field!r}: missing")
    bits = data["bit_length"]
    if isinstance(bits, bool) or not isinstance(bits, int) or not 1 <= bits <= 64:
        raise ItemError(f"{where}, field 'bit_length': {bits!r} is not a bit length (1-64)")
    sparse = data.get("sparse", False)
    if not isinstance(sparse, bool):
        raise ItemError(f"{where}, field 'sparse': must be true or false")
    source = str(data.get("source") or "")
    source = sources.get(source, source)
    if data.get("derivation"):
        source = f"{source}; {data['derivation']}" if source else str(data["derivation"])
    if data.get("reported"):
        source = f"{source} (reported)"
    return Performance(
        precision=str(data["precision"]).upper(),
        bit_length=bits,
        tops=_number(data["tops"], where, "tops"),
        sparse=sparse,
        unit=str(data.get("unit") or "package"),
        source=source,
    )


def _check_performance(figures: tuple[Performance, ...], where: str) -> None:
    dense: dict[tuple[str, str, int], float] = {}
    for f in figures:
        if f.sparse:
            continue
        key = (f.unit, f.precision, f.bit_length)
        if key in dense and dense[key] != f.tops:
            raise ItemError(
                f"{where}, field 'performance': two different dense {f.precision} rates for "
                f"{f.unit} ({dense[key]:g} and {f.tops:g}); give one dense figure per precision"
            )
        dense[key] = f.tops
    for f in figures:
        if f.sparse and dense.get((f.unit, f.precision, f.bit_length)) == f.tops:
            raise ItemError(
                f"{where}, field 'performance': the dense {f.precision} figure {f.tops:g} "
                "equals the figure with sparsity; a sparse figure was flagged as dense "
                "(the dense rate is usually half the sparse one: check the datasheet)"
            )


def build_item(
    data: Mapping[str, Any],
    where: str,
    sources: Mapping[str, str] | None = None,
    products: Mapping[str, Mapping[str, Any]] | None = None,
) -> Item:
    """An :class:`Item` from a mapping (a catalogue record or raw parameters)."""
    sources = sources or {}
    unknown = sorted(set(data) - _FIELDS)
    if unknown:
        raise ItemError(f"{where}, field {unknown[0]!r}: unknown field")
    found: list[str] = []
    try:
        kind = ItemKind(str(data.get("kind") or "ic"))
    except ValueError:
        raise ItemError(
            f"{where}, field 'kind': {data.get('kind')!r} is not one of "
            + ", ".join(k.value for k in ItemKind)
        ) from None
    numbers: dict[str, float | None] = {}
    for field in _NUMBERS:
        value = _scalar(data.get(field), sources, found)
        numbers[field] = (
            None if value is None else _number(value, where, field, field != "us_content_percent")
        )
    content = numbers["us_content_percent"]
    if content is not None and content > 100:
        raise ItemError(f"{where}, field 'us_content_percent': {content:g} is above 100")
    datacenter = _scalar(data.get("datacenter"), sources, found)
    if datacenter is not None and not isinstance(datacenter, bool):
        raise ItemError(f"{where}, field 'datacenter': must be true or false")
    raw_perf = data.get("performance") or []
    if not isinstance(raw_perf, list):
        raise ItemError(f"{where}, field 'performance': expected a list")
    figures = tuple(
        _performance(p, f"{where}, performance[{i}]", sources) for i, p in enumerate(raw_perf)
    )
    _check_performance(figures, where)
    if kind in (ItemKind.HBM, ItemKind.EQUIPMENT) and figures:
        raise ItemError(
            f"{where}, field 'performance': a {kind.value} item has no processing-unit rates; "
            "is the kind wrong?"
        )
    for field in _LITHOGRAPHY:
        if numbers[field] is not None and kind is not ItemKind.EQUIPMENT:
            raise ItemError(
                f"{where}, field {field!r}: a lithography parameter on a {kind.value} item; "
                "is the kind wrong (equipment)?"
            )
    aperture = numbers["numerical_aperture"]
    if aperture is not None and aperture > 2:
        raise ItemError(
            f"{where}, field 'numerical_aperture': {aperture:g} is not a numerical aperture "
            "(immersion optics reach about 1.35)"
        )
    stated = numbers["minimum_resolvable_feature_nm"]
    wavelength = numbers["light_source_wavelength_nm"]
    if stated is not None and wavelength is not None and aperture is not None:
        computed = wavelength * MRF_K / aperture
        if abs(computed - stated) > 0.5:
            raise ItemError(
                f"{where}, field 'minimum_resolvable_feature_nm': {stated:g} nm contradicts "
                f"wavelength {wavelength:g} nm × {MRF_K} ÷ NA {aperture:g} = {computed:.4g} nm; "
                "give one or the other"
            )
    origin_raw = _scalar(data.get("origin"), sources, found)
    origin = None
    if origin_raw is not None:
        origin = country_code(str(origin_raw))
        if origin is None:
            raise ItemError(f"{where}, field 'origin': {origin_raw!r} is not a known country")
    declared: list[str] = []
    for i, d in enumerate(data.get("declared") or []):
        entry = _scalar(
            d
            if not isinstance(d, Mapping)
            else {"value": d.get("entry"), "source": d.get("source")},
            sources,
            found,
        )
        if not isinstance(entry, str) or not _DECLARED.match(entry):
            raise ItemError(
                f"{where}, declared[{i}]: {entry!r} is not REGIME:ENTRY (US:3B001, EU:3B001, NL:…)"
            )
        declared.append(entry)
    contains: Item | None = None
    if data.get("contains") is not None:
        if kind is not ItemKind.COMPUTER:
            raise ItemError(f"{where}, field 'contains': only a computer contains an IC")
        inner = data["contains"]
        if isinstance(inner, str):
            if products is None or inner not in products:
                raise ItemError(f"{where}, field 'contains': unknown product {inner!r}")
            contains = build_item(
                products[inner], f"catalogue product {inner!r}", sources, products
            )
        elif isinstance(inner, Mapping):
            contains = build_item(inner, f"{where}, contains", sources, products)
        else:
            raise ItemError(f"{where}, field 'contains': expected a product id or parameters")
    notes = data.get("notes") or []
    if not isinstance(notes, list):
        raise ItemError(f"{where}, field 'notes': expected a list")
    hs = data.get("hs_code")
    if hs is not None and not re.fullmatch(r"\d{6,10}", str(hs)):
        raise ItemError(f"{where}, field 'hs_code': {hs!r} is not an HS code (6-10 digits)")
    return Item(
        item_id=str(data.get("id") or "params"),
        name=str(data.get("name") or data.get("id") or "item given by parameters"),
        kind=kind,
        performance=figures,
        die_area_mm2=numbers["die_area_mm2"],
        datacenter=datacenter,
        interconnect_gbps=numbers["interconnect_gbps"],
        memory_bandwidth_gbps=numbers["memory_bandwidth_gbps"],
        package_area_mm2=numbers["package_area_mm2"],
        app_wt=numbers["app_wt"],
        light_source_wavelength_nm=numbers["light_source_wavelength_nm"],
        numerical_aperture=aperture,
        dedicated_chuck_overlay_nm=numbers["dedicated_chuck_overlay_nm"],
        minimum_resolvable_feature_nm=numbers["minimum_resolvable_feature_nm"],
        contains=contains,
        declared=tuple(declared),
        hs_code=None if hs is None else str(hs),
        origin=origin,
        us_content_percent=content,
        sources=tuple(dict.fromkeys([*found, *(f.source for f in figures if f.source)])),
        notes=tuple(str(n) for n in notes),
    )


class Catalogue:
    """Known products by id or alias (case-insensitive)."""

    def __init__(self, text: str, origin: str) -> None:
        try:
            doc = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ItemError(f"{origin}: not valid YAML: {exc}") from None
        if not isinstance(doc, Mapping) or doc.get("format") != 1:
            raise ItemError(f"{origin}, field 'format': expected 1")
        self.sources: dict[str, str] = dict(doc.get("sources") or {})
        raw = doc.get("products") or []
        self._raw: dict[str, Mapping[str, Any]] = {}
        for i, p in enumerate(raw):
            if not isinstance(p, Mapping) or not p.get("id"):
                raise ItemError(f"{origin}, products[{i}], field 'id': missing")
            self._raw[str(p["id"])] = p
        self.items: dict[str, Item] = {}
        self._names: dict[str, str] = {}
        for i, p in enumerate(raw):
            pid = str(p["id"])
            data = {k: v for k, v in p.items()}
            self.items[pid] = build_item(
                data, f"{origin}, products[{i}] ({pid})", self.sources, self._raw
            )
            for name in (pid, *(p.get("aliases") or [])):
                key = _key(str(name))
                if key in self._names and self._names[key] != pid:
                    raise ItemError(f"{origin}, products[{i}], field 'aliases': {name!r} taken")
                self._names[key] = pid

    def get(self, name: str) -> Item:
        pid = self._names.get(_key(name))
        if pid is None:
            known = ", ".join(sorted(self.items))
            raise ItemError(f"product {name!r}: not in the catalogue (known: {known})")
        return self.items[pid]

    def __iter__(self) -> Any:
        return iter(self.items.values())

    def __len__(self) -> int:
        return len(self.items)


def _key(name: str) -> str:
    return re.sub(r"[\s_-]+", " ", name.strip().lower())


def load_catalogue(path: Path | None = None) -> Catalogue:
    if path is not None:
        return Catalogue(path.read_text(encoding="utf-8"), str(path))
    return _packaged()


@lru_cache(maxsize=1)
def _packaged() -> Catalogue:
    text = resources.files("econsec.rules").joinpath(CATALOGUE_FILE).read_text(encoding="utf-8")
    return Catalogue(text, f"econsec/rules/{CATALOGUE_FILE}")


def item_from_params(params: Mapping[str, Any], where: str = "parameters") -> Item:
    """An item from raw parameters (CLI ``--param``, API body)."""
    if "aliases" in params:
        raise ItemError(f"{where}, field 'aliases': unknown field")
    return build_item(params, where, products=_packaged()._raw)


_BOOLS = {"true": True, "yes": True, "false": False, "no": False}


def parse_param_pairs(pairs: list[str]) -> dict[str, Any]:
    """``key=value`` pairs (CLI ``--param``) → raw parameters.

    ``perf=FP16:16:989.4`` (precision, bit length, dense TOPS; add ``:sparse``
    for a figure with sparsity) may be repeated; ``datacenter=true``;
    ``declared=US:5A992.c`` may be repeated; other keys are item fields.
    """
    params: dict[str, Any] = {}
    for i, pair in enumerate(pairs):
        where = f"--param #{i + 1} {pair!r}"
        key, sep, value = pair.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key:
            raise ItemError(f"{where}: expected key=value")
        if key == "perf":
            parts = value.split(":")
            if len(parts) not in (3, 4) or (len(parts) == 4 and parts[3] != "sparse"):
                raise ItemError(f"{where}, field 'perf': expected PRECISION:BITS:TOPS[:sparse]")
            try:
                bits = int(parts[1])
            except ValueError:
                raise ItemError(
                    f"{where}, field 'perf': bit length {parts[1]!r} is not an integer"
                ) from None
            params.setdefault("performance", []).append(
                {
                    "precision": parts[0],
                    "bit_length": bits,
                    "tops": parts[2],
                    "sparse": len(parts) == 4,
                }
            )
        elif key == "declared":
            params.setdefault("declared", []).append(value)
        elif key == "datacenter":
            if value.lower() not in _BOOLS:
                raise ItemError(f"{where}, field 'datacenter': must be true or false")
            params[key] = _BOOLS[value.lower()]
        else:
            params[key] = value
    return params


def resolve_item(product: str | None, params: Mapping[str, Any] | None) -> Item:
    """A catalogue product, or an item from raw parameters (exactly one of them)."""
    if product and params:
        raise ItemError("give a product name or parameters, not both")
    if product:
        return load_catalogue().get(product)
    if params:
        return item_from_params(params)
    raise ItemError("no item: give a product name from the catalogue or parameters")
