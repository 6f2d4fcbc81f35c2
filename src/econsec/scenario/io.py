"""Input-output models: Leontief, Ghosh, hypothetical extraction and supply shocks.

Notation (Miller & Blair, *Input-Output Analysis*, 2nd ed., 2009, ch. 2, 12):
``Z`` inter-industry flows (row = seller, column = buyer), ``y`` final demand
(row sums of ``Y``), ``x`` gross output, ``v = x − Σ_i Z_ij`` primary inputs.

* Leontief: ``A = Z x̂⁻¹``, ``L = (I − A)⁻¹``, ``x = L y``; output multipliers
  are the column sums of ``L``.
* Ghosh: ``B = x̂⁻¹ Z``, ``G = (I − B)⁻¹ = x̂⁻¹ L x̂``, ``xᵀ = vᵀ G``; forward
  (supply) multipliers are the row sums of ``G``.
* Hypothetical extraction (Dietzenbacher & Lahr 2013, *Economic Systems
  Research* 25:2, 289–303; Miller & Blair §12.2): delete the rows and columns
  of the extracted set S from ``A`` and ``y``; ``x̄_R = (I − A_RR)⁻¹ y_R``;
  loss = ``Σ x − Σ x̄``. Computed from ``L`` without a new inverse:
  ``(I − A_RR)⁻¹ = L_RR − L_RS L_SS⁻¹ L_SR``.
* Supply shock (partial extraction in the Ghosh model): the supplier
  country-sector ``s`` cuts its sales to the partners' industries by a share
  φ: ``B̄_sj = (1 − φ) B_sj`` for buyers j in the partners; ``x̄ᵀ = vᵀ (I − B̄)⁻¹``;
  output loss = ``x − x̄`` by country and sector. Its sales to the partners'
  final demand fall by the same share (reported as the direct loss of
  exports). Caveat: the Ghosh model assumes fixed output coefficients, no
  substitution (Oosterhaven 1988, *J. Regional Science* 28:2) — an upper
  bound of the forward effect; the dynamic variant adds inventories and
  substitution.

WIOD 2013 release (Timmer et al. 2015) values are millions of US dollars,
published as whole numbers; the balance check allows for that rounding.
"""

# Matrix names follow the input-output literature (Z, A, L, B, G), hence upper case.
# ruff: noqa: N802, N803, N806

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from numpy.typing import NDArray

from econsec.model.scenario import (
    ExtractionResult,
    IOLine,
    MultiplierLine,
    ShockResult,
)
from econsec.settings import data_dir

Array = NDArray[np.float64]

WIOD_FOLDER = "io/wiod_2013_release"
WIOD_SOURCE = "World Input-Output Database, 2013 release (Timmer et al. 2015)"


class IOModelError(ValueError):
    """Bad table or bad question; names the table, the record and the field."""


@lru_cache(maxsize=1)
def wiod_meta() -> dict[str, Any]:
    ref = resources.files("econsec.scenario").joinpath("data/wiod_2013_sectors.yaml")
    meta: dict[str, Any] = yaml.safe_load(ref.read_text(encoding="utf-8"))
    return meta


@dataclass(frozen=True, eq=False)
class IOTable:
    """A multi-regional input-output table: countries × sectors, flows in one currency."""

    name: str
    countries: tuple[str, ...]
    sectors: tuple[str, ...]
    #: Inter-industry flows, (n × n), n = countries × sectors, country-major.
    Z: Array
    #: Final demand by destination country, (n × countries).
    Y: Array
    #: Gross output, (n,).
    x: Array
    sector_names: Mapping[str, str]
    #: Absolute balance tolerance per row (rounding of the published figures).
    tolerance: Array

    @property
    def n(self) -> int:
        return len(self.countries) * len(self.sectors)

    def label(self, i: int) -> tuple[str, str]:
        return self.countries[i // len(self.sectors)], self.sectors[i % len(self.sectors)]

    def country_index(self, country: str, field: str = "country") -> int:
        if country not in self.countries:
            raise IOModelError(
                f"{self.name}: field {field!r}: unknown country {country!r}; "
                f"known: {', '.join(self.countries)}"
            )
        return self.countries.index(country)

    def sector_index(self, sector: str, field: str = "sector") -> int:
        if sector not in self.sectors:
            raise IOModelError(
                f"{self.name}: field {field!r}: unknown sector {sector!r}; "
                f"known: {', '.join(self.sectors)}"
            )
        return self.sectors.index(sector)

    def rows_of(self, country: str, field: str = "country") -> NDArray[np.intp]:
        c = self.country_index(country, field)
        k = len(self.sectors)
        return np.arange(c * k, (c + 1) * k)

    def index(self, country: str, sector: str) -> int:
        return self.country_index(country) * len(self.sectors) + self.sector_index(sector)


def validate(table: IOTable) -> None:
    """Refuse a table that would give plausible-looking wrong answers."""
    n, k = table.n, len(table.countries)
    for field, arr, shape in (
        ("Z", table.Z, (n, n)),
        ("Y", table.Y, (n, k)),
        ("x", table.x, (n,)),
    ):
        if arr.shape != shape:
            raise IOModelError(
                f"{table.name}: field {field!r}: shape {arr.shape}, expected {shape}"
            )
        if not np.all(np.isfinite(arr)):
            i = int(np.argwhere(~np.isfinite(arr))[0][0])
            raise IOModelError(
                f"{table.name}: field {field!r}, row {i} {table.label(i)}: not a finite number"
            )
    for field, arr in (("Z", table.Z), ("x", table.x)):
        if np.any(arr < 0):
            i = int(np.argwhere(arr < 0)[0][0])
            raise IOModelError(f"{table.name}: field {field!r}, row {i} {table.label(i)}: negative")
    gap = table.Z.sum(axis=1) + table.Y.sum(axis=1) - table.x
    bad = np.abs(gap) > table.tolerance
    if np.any(bad):
        i = int(np.argmax(np.abs(gap) - table.tolerance))
        raise IOModelError(
            f"{table.name}: row {i} {table.label(i)}, field 'x': unbalanced — intermediate "
            f"plus final use {table.x[i] + gap[i]:.6g} ≠ output {table.x[i]:.6g} "
            f"(tolerance {table.tolerance[i]:.6g})"
        )
    inputs = table.Z.sum(axis=0)
    over = inputs > table.x + table.tolerance
    if np.any(over):
        j = int(np.argmax(inputs - table.x))
        raise IOModelError(
            f"{table.name}: column {j} {table.label(j)}, field 'Z': intermediate inputs "
            f"{inputs[j]:.6g} exceed output {table.x[j]:.6g} (negative value added; "
            "the Leontief inverse would not exist)"
        )


def wiod_path(year: int, folder: Path | None = None) -> Path:
    base = folder or (data_dir() or Path("../shared/data")) / WIOD_FOLDER
    return base / f"wiot_{year}.RData"


def load_wiod(year: int, folder: Path | None = None) -> IOTable:
    """Read one WIOD 2013-release table (``wiot_YYYY.RData``) with ``rdata``."""
    import rdata  # noqa: PLC0415  (pulls in xarray/pandas: only when a table is read)

    path = wiod_path(year, folder)
    if not path.exists():
        raise IOModelError(f"{path}: WIOD table not found")
    with warnings.catch_warnings():
        # The R class "iot" has no converter; the underlying list is what we want.
        warnings.simplefilter("ignore", UserWarning)
        try:
            doc = rdata.read_rda(path)
        except Exception as exc:  # rdata raises many types on a corrupt file
            raise IOModelError(f"{path}: not a readable R data file: {exc}") from exc
    key = f"wiot_{year}"
    if key not in doc:
        raise IOModelError(f"{path}: no object {key!r} (found {', '.join(doc)})")
    obj = doc[key]
    for field in ("countries", "industries", "inter", "final", "output"):
        if field not in obj:
            raise IOModelError(f"{path}: object {key!r}: field {field!r} missing")
    meta = wiod_meta()
    countries = tuple(str(c) for c in np.asarray(obj["countries"]))
    sectors = tuple(str(s) for s in np.asarray(obj["industries"]))
    unknown = [s for s in sectors if s not in meta["sectors"]]
    if unknown:
        raise IOModelError(f"{path}: field 'industries': unknown codes {unknown}")
    Z = np.asarray(obj["inter"], dtype=np.float64)
    F = np.asarray(obj["final"], dtype=np.float64)
    x = np.asarray(obj["output"], dtype=np.float64).reshape(-1)
    per_country = len(meta["final_demand"])
    if F.ndim != 2 or F.shape[1] != per_country * len(countries):
        raise IOModelError(
            f"{path}: field 'final': {F.shape[1] if F.ndim == 2 else F.shape} columns, "
            f"expected {per_country} per country × {len(countries)}"
        )
    Y = F.reshape(F.shape[0], len(countries), per_country).sum(axis=2)
    # Every published figure is rounded to a whole unit: a row of m entries may be off by m/2.
    entries = Z.shape[1] + F.shape[1] + 1
    table = IOTable(
        name=str(path),
        countries=countries,
        sectors=sectors,
        Z=Z,
        Y=Y,
        x=x,
        sector_names={c: str(v[1]) for c, v in meta["sectors"].items()},
        tolerance=np.full(x.shape, 0.5 * entries),
    )
    validate(table)
    return table


def _check_share(share: float, field: str, where: str) -> None:
    if not 0.0 <= share <= 1.0 or not np.isfinite(share):
        raise IOModelError(f"{where}: field {field!r}: share {share!r} outside 0..1 (0–100 %)")


class IOModel:
    """Dense calculations on one table (Leontief and Ghosh inverses computed once)."""

    def __init__(self, table: IOTable) -> None:
        self.table = table
        x = table.x
        with np.errstate(divide="ignore", invalid="ignore"):
            inv_x = np.where(x > 0, 1.0 / x, 0.0)
        self.A: Array = table.Z * inv_x[np.newaxis, :]
        self.B: Array = table.Z * inv_x[:, np.newaxis]
        # Final demand implied by the table (x − Z·1): equals Y·1 up to the rounding
        # residual checked by validate(), and makes x = L y hold exactly.
        self.y: Array = x - table.Z.sum(axis=1)
        self.v: Array = x - table.Z.sum(axis=0)
        self._inv_x = inv_x

    @cached_property
    def L(self) -> Array:
        try:
            inv: Array = np.asarray(np.linalg.inv(np.eye(self.table.n) - self.A), np.float64)
        except np.linalg.LinAlgError as exc:
            raise IOModelError(f"{self.table.name}: field 'Z': I − A is singular") from exc
        if not np.all(np.isfinite(inv)):
            raise IOModelError(f"{self.table.name}: field 'Z': I − A is singular")
        return inv

    @cached_property
    def G(self) -> Array:
        g: Array = self._inv_x[:, np.newaxis] * self.L * self.table.x[np.newaxis, :]
        # Sectors with zero output: G_ii = 1 (nothing flows through them).
        zero = self.table.x == 0
        if np.any(zero):
            g[np.ix_(zero, zero)] = np.eye(int(zero.sum()))
        return g

    def multipliers(self, top: int = 10) -> tuple[MultiplierLine, ...]:
        """Output (backward, Leontief) and supply (forward, Ghosh) multipliers, largest first."""
        back = self.L.sum(axis=0)
        forward = self.G.sum(axis=1)
        order = np.argsort(-back)[:top] if top else np.argsort(-back)
        return tuple(
            MultiplierLine(*self.table.label(int(i)), float(back[i]), float(forward[i]))
            for i in order
        )

    # ------------------------------------------------------------------ extraction

    def extraction_output(self, rows: NDArray[np.intp]) -> Array:
        """x̄ with the rows/columns ``rows`` deleted (their output set to 0)."""
        n = self.table.n
        keep = np.ones(n, dtype=bool)
        keep[rows] = False
        L = self.L
        y_r = self.y[keep]
        l_rr = L[np.ix_(keep, keep)]
        l_rs = L[np.ix_(keep, ~keep)]
        l_sr = L[np.ix_(~keep, keep)]
        l_ss = L[np.ix_(~keep, ~keep)]
        x_r = l_rr @ y_r - l_rs @ np.linalg.solve(l_ss, l_sr @ y_r)
        out = np.zeros(n)
        out[keep] = x_r
        return out

    def extract(self, country: str, sector: str | None = None, top: int = 10) -> ExtractionResult:
        t = self.table
        if sector is None:
            rows = t.rows_of(country)
            what = country
        else:
            rows = np.array([t.index(country, sector)])
            what = f"{country}:{sector}"
        x_bar = self.extraction_output(rows)
        loss = t.x - x_bar
        by_country = _by_country(t, loss)
        others = np.ones(t.n, dtype=bool)
        others[rows] = False
        return ExtractionResult(
            table=t.name,
            extracted=what,
            total_output=float(t.x.sum()),
            total_loss=float(loss.sum()),
            own_output=float(t.x[rows].sum()),
            linkage_loss=float(loss[others].sum()),
            by_country=by_country,
            top_sectors=_top_lines(t, loss, others, top),
            explanation=(
                f"Hypothetical extraction of {what} (Dietzenbacher & Lahr 2013): rows and "
                "columns deleted from A and y; x̄ = (I − A_RR)⁻¹ y_R; loss = x − x̄. "
                "linkage_loss excludes the extracted output itself."
            ),
        )

    # ------------------------------------------------------------------ supply shock

    def shocked_B(self, cuts: Sequence[Cut]) -> Array:
        b = self.B.copy()
        for cut in cuts:
            b[cut.row, cut.buyer_mask] *= 1.0 - cut.share
        return b

    def supply_shock(self, cuts: Sequence[Cut], top: int = 10) -> ShockResult:
        t = self.table
        b_bar = self.shocked_B(cuts)
        try:
            x_bar = np.asarray(np.linalg.solve((np.eye(t.n) - b_bar).T, self.v), np.float64)
        except np.linalg.LinAlgError as exc:
            raise IOModelError(f"{t.name}: field 'Z': I − B̄ is singular") from exc
        return shock_result(t, cuts, t.x - x_bar)


@dataclass(frozen=True, eq=False)
class Cut:
    """One supplier country-sector cutting its sales to some buyers by a share."""

    supplier: str
    sector: str
    partners: tuple[str, ...]
    share: float
    row: int
    #: Buyer columns (partner industries) affected, (n,) booleans.
    buyer_mask: NDArray[np.bool_]
    #: Partner final-demand columns affected, (countries,) booleans.
    final_mask: NDArray[np.bool_]


def make_cut(
    table: IOTable,
    supplier: str,
    sector: str,
    share: float,
    partners: Iterable[str] | None = None,
    where: str = "",
) -> Cut:
    """A supplier cuts exports of a sector to ``partners`` (None = every other country)."""
    where = where or table.name
    _check_share(share, "share", where)
    row = table.country_index(supplier, "supplier") * len(table.sectors) + table.sector_index(
        sector
    )
    wanted = (
        tuple(c for c in table.countries if c != supplier) if partners is None else tuple(partners)
    )
    for p in wanted:
        table.country_index(p, "partners")
        if p == supplier:
            raise IOModelError(f"{where}: field 'partners': the supplier {p!r} cannot be a partner")
    k = len(table.sectors)
    final_mask = np.array([c in wanted for c in table.countries])
    buyer_mask = np.repeat(final_mask, k)
    return Cut(supplier, sector, wanted, float(share), row, buyer_mask, final_mask)


def _by_country(table: IOTable, loss: Array) -> tuple[tuple[str, float, float], ...]:
    k = len(table.sectors)
    per = loss.reshape(len(table.countries), k).sum(axis=1)
    base = table.x.reshape(len(table.countries), k).sum(axis=1)
    order = np.argsort(-per)
    return tuple(
        (table.countries[i], float(per[i]), float(per[i] / base[i]) if base[i] > 0 else 0.0)
        for i in order
    )


def _top_lines(
    table: IOTable, loss: Array, mask: NDArray[np.bool_], top: int
) -> tuple[IOLine, ...]:
    idx = np.flatnonzero(mask)
    order = idx[np.argsort(-loss[idx])][:top]
    out = []
    for i in order:
        c, s = table.label(int(i))
        base = float(table.x[i])
        out.append(
            IOLine(
                country=c,
                sector=s,
                sector_name=table.sector_names.get(s, s),
                baseline_output=base,
                loss=float(loss[i]),
                loss_share=float(loss[i] / base) if base > 0 else 0.0,
            )
        )
    return tuple(out)


def shock_result(table: IOTable, cuts: Sequence[Cut], loss: Array, top: int = 10) -> ShockResult:
    direct = 0.0
    for cut in cuts:
        direct += cut.share * float(
            table.Z[cut.row, cut.buyer_mask].sum() + table.Y[cut.row, cut.final_mask].sum()
        )
    everyone = np.ones(table.n, dtype=bool)
    return ShockResult(
        table=table.name,
        cuts=tuple(
            f"{c.supplier}:{c.sector} −{c.share:.0%} to {len(c.partners)} partner(s)" for c in cuts
        ),
        direct_export_loss=direct,
        total_loss=float(loss.sum()),
        by_country=_by_country(table, loss),
        top_sectors=_top_lines(table, loss, everyone, top),
        loss=tuple(float(v) for v in loss),
        explanation=(
            "Supply shock in the Ghosh model (partial extraction): B̄_sj = (1 − φ)·B_sj for "
            "each cut supplier sector s and partner buyer j; x̄ᵀ = vᵀ(I − B̄)⁻¹; loss = x − x̄. "
            "direct_export_loss = φ × the supplier's sales to the partners (intermediate and "
            "final). Fixed output coefficients, no substitution: an upper bound of the forward "
            "effect (Oosterhaven 1988). Units: those of the table (WIOD: million USD)."
        ),
    )


# ---------------------------------------------------------------------- sparse systems


class SparseIOModel:
    """Supply shocks on large sparse systems (EXIOBASE size) without a dense inverse.

    ``Z`` is a ``scipy.sparse`` matrix; (I − B̄)ᵀ x̄ = v is solved with GMRES to a
    relative residual of ``rtol``. Memory stays O(nnz).
    """

    def __init__(self, Z: Any, x: Array, name: str = "sparse table", rtol: float = 1e-13) -> None:
        import scipy.sparse as sp  # noqa: PLC0415

        self.name = name
        self.Z = sp.csr_array(Z, dtype=np.float64)
        self.x = np.asarray(x, dtype=np.float64)
        if np.any(self.x < 0) or not np.all(np.isfinite(self.x)):
            raise IOModelError(f"{name}: field 'x': negative or not finite")
        if self.Z.nnz and self.Z.data.min() < 0:
            raise IOModelError(f"{name}: field 'Z': negative entries")
        inputs = np.asarray(self.Z.sum(axis=0)).reshape(-1)
        if np.any(inputs > self.x * (1 + 1e-12)):
            j = int(np.argmax(inputs - self.x))
            raise IOModelError(f"{name}: column {j}, field 'Z': inputs exceed output")
        with np.errstate(divide="ignore"):
            self.inv_x = np.where(self.x > 0, 1.0 / self.x, 0.0)
        self.v = self.x - inputs
        self.rtol = rtol

    def supply_shock(self, row: int, buyer_mask: NDArray[np.bool_], share: float) -> Array:
        import scipy.sparse as sp  # noqa: PLC0415
        from scipy.sparse.linalg import gmres  # noqa: PLC0415

        _check_share(share, "share", self.name)
        n = self.x.shape[0]
        if not 0 <= row < n:
            raise IOModelError(f"{self.name}: field 'row': {row} outside 0..{n - 1}")
        scale = np.ones(n)
        b = sp.diags_array(self.inv_x) @ self.Z
        b = b.tolil()
        cols = np.flatnonzero(buyer_mask)
        b[row, cols] = b[row, cols] * (1.0 - share)
        m = (sp.eye_array(n) - b.tocsr()).T.tocsr()
        x_bar, info = gmres(m, self.v, x0=self.x * scale, rtol=self.rtol, atol=0.0, restart=200)
        if info != 0:
            raise IOModelError(f"{self.name}: field 'Z': solver did not converge (info {info})")
        loss: Array = self.x - x_bar
        return loss
