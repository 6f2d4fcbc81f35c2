"""Input-output models: econsec against pymrio's dense calculation, same process.

1. WIOD 2011 (41 countries × 35 sectors, real table): the Leontief inverse and
   output multipliers, the Ghosh inverse and supply multipliers, and the
   hypothetical extraction of each of the 41 countries. Target < 5 s.
   Baseline: pymrio (calc_A, calc_L, calc_B, calc_G by inversion, and calc_L of
   the reduced A for each extraction).
2. A generated sparse system the size of EXIOBASE 3 (49 regions × 200 products
   = 9,800 sectors) with block sparsity: domestic blocks dense at ``--domestic``,
   trade blocks at ``--foreign`` (column sums of A drawn in 0.3–0.8). One supply
   shock solved with :class:`SparseIOModel` (GMRES, no inverse). Target < 60 s
   within 8 GB (peak RSS measured before the baseline runs). Baseline: pymrio
   calc_B and calc_G (dense inverse), x̄ = v G.

Both parts check the results agree to 1e-6 (max absolute difference).

Usage: python benchmarks/io_models.py [--regions 49 --products 200] [--skip-sparse]
"""

# Matrix names follow the input-output literature (Z, A, L, B, G), hence upper case.
# ruff: noqa: N806

from __future__ import annotations

import argparse
import resource
import sys
import time

import numpy as np
import pymrio.tools.iomath as pm
import scipy.sparse as sp

from econsec.scenario.io import IOModel, SparseIOModel, load_wiod

TOL = 1e-6


def wiod_part(year: int) -> bool:
    t0 = time.perf_counter()
    table = load_wiod(year)
    load_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    model = IOModel(table)
    multipliers = model.multipliers(top=0)
    extractions = {c: model.extraction_output(table.rows_of(c)) for c in table.countries}
    ours_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    A = pm.calc_A(table.Z, table.x)
    L = pm.calc_L(A)
    G = pm.calc_G(pm.calc_B(table.Z, table.x))
    ref_ext = {}
    for c in table.countries:
        keep = np.ones(table.n, dtype=bool)
        keep[table.rows_of(c)] = False
        out = np.zeros(table.n)
        out[keep] = pm.calc_L(A[np.ix_(keep, keep)]) @ model.y[keep]
        ref_ext[c] = out
    base_s = time.perf_counter() - t0

    diff = max(
        float(np.max(np.abs(model.L - L))),
        float(np.max(np.abs(model.G - G))),
        *(float(np.max(np.abs(extractions[c] - ref_ext[c]))) for c in table.countries),
    )
    ok = diff < TOL and ours_s < 5.0
    print(f"WIOD {year}: {len(table.countries)} countries × {len(table.sectors)} sectors")
    print(f"  load (rdata, validate)          {load_s:7.2f} s")
    print(
        f"  econsec L+G+multipliers({len(multipliers)})+{len(extractions)} extractions "
        f"{ours_s:7.2f} s  (target < 5 s)"
    )
    print(f"  pymrio dense baseline           {base_s:7.2f} s  ratio {base_s / ours_s:5.1f}×")
    print(
        f"  max |difference|                {diff:.2e}  (must be < {TOL:g})",
        "OK" if ok else "FAIL",
    )
    return ok


def generate(
    regions: int, products: int, domestic: float, foreign: float, seed: int
) -> tuple[sp.csr_array, np.ndarray]:
    rng = np.random.default_rng(seed)
    n = regions * products
    blocks = []
    for r in range(regions):
        row = []
        for s in range(regions):
            density = domestic if r == s else foreign
            row.append(sp.random_array((products, products), density=density, rng=rng))
        blocks.append(row)
    a = sp.csc_array(sp.block_array(blocks, format="csc"))
    colsum = np.asarray(a.sum(axis=0)).reshape(-1)
    target = rng.uniform(0.3, 0.8, n)
    scale = np.where(colsum > 0, target / np.where(colsum > 0, colsum, 1.0), 0.0)
    a = a @ sp.diags_array(scale)
    x = rng.lognormal(mean=7.0, sigma=1.5, size=n)
    z = sp.csr_array(a @ sp.diags_array(x))
    return z, x


def sparse_part(args: argparse.Namespace) -> bool:
    n = args.regions * args.products
    t0 = time.perf_counter()
    z, x = generate(args.regions, args.products, args.domestic, args.foreign, args.seed)
    gen_s = time.perf_counter() - t0
    row = 7 * args.products + 3  # region 7, product 3
    mask = np.ones(n, dtype=bool)
    mask[(row // args.products) * args.products : (row // args.products + 1) * args.products] = (
        False
    )

    t0 = time.perf_counter()
    model = SparseIOModel(z, x, name="generated")
    loss = model.supply_shock(row, mask, 0.5)
    ours_s = time.perf_counter() - t0
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2

    t0 = time.perf_counter()
    zd = z.toarray()
    b = pm.calc_B(zd, x)
    b[row, mask] *= 0.5
    v = x - zd.sum(axis=0)
    ref = x - v @ pm.calc_G(b)
    base_s = time.perf_counter() - t0
    diff = float(np.max(np.abs(loss - ref)))
    ok = diff < TOL and ours_s < 60.0 and peak_gb < 8.0
    print(
        f"Sparse system: {n:,} sectors, {z.nnz:,} non-zeros ({z.nnz / n**2:.2%}), "
        f"generated in {gen_s:.1f} s"
    )
    print(f"  econsec sparse shock (GMRES)    {ours_s:7.2f} s  (target < 60 s)")
    print(f"  peak RSS before baseline        {peak_gb:7.2f} GB (target < 8 GB)")
    print(f"  pymrio dense baseline           {base_s:7.2f} s  ratio {base_s / ours_s:5.1f}×")
    print(
        f"  max |difference|                {diff:.2e}  (must be < {TOL:g}; "
        f"loss total {loss.sum():.4g})",
        "OK" if ok else "FAIL",
    )
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--year", type=int, default=2011)
    parser.add_argument("--regions", type=int, default=49)
    parser.add_argument("--products", type=int, default=200)
    parser.add_argument("--domestic", type=float, default=0.15)
    parser.add_argument("--foreign", type=float, default=0.005)
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--skip-sparse", action="store_true")
    args = parser.parse_args()
    ok = wiod_part(args.year)
    if not args.skip_sparse:
        ok = sparse_part(args) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
