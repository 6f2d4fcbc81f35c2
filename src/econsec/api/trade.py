"""Trade diversion endpoints: GET /v1/trade/indicators, /v1/trade/mirror, /v1/trade/alerts.

Thin: parameters are parsed here, every figure comes from
:mod:`econsec.trade.indicators` over the workspace's ``trade_flows`` table.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

import duckdb
from fastapi import APIRouter, HTTPException, Query, Request

from econsec.api.state import AppState
from econsec.store import WorkspaceError
from econsec.trade.indicators import (
    alerts,
    mirror_gap,
    parse_baseline,
    partner_totals,
    unit_values,
    yearly,
)

router = APIRouter(prefix="/v1/trade", tags=["trade"])
FLOWS = "trade_flows"


def _codes(text: str | None) -> list[str]:
    if not text:
        return []
    return [c.strip() if ":" in c else c.strip().upper() for c in text.split(",") if c.strip()]


def _state(request: Request) -> AppState:
    state: AppState = request.app.state.econsec
    return state


def _no_data(exc: Exception) -> HTTPException:
    return HTTPException(status_code=503, detail=f"{exc} (run `econsec trade load`)")


@router.get("/indicators")
def indicators_get(
    request: Request,
    products: Annotated[str, Query(description="chpl:1,chpl:2 | HS/CN codes | TOTAL")] = "chpl:1",
    partners: Annotated[str, Query(description="ISO-2 list.")] = "RU,AM,GE,KG,KZ,UZ",
) -> dict[str, Any]:
    """Yearly values by partner, summed over reporters from monthly rows."""
    try:
        with _state(request).workspace.connect(read_only=True) as con:
            rows = partner_totals(yearly(con, FLOWS, _codes(products), _codes(partners)))
    except ValueError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None
    except (WorkspaceError, duckdb.CatalogException) as exc:
        raise _no_data(exc) from None
    return {
        "products": _codes(products),
        "rows": rows,
        "explanation": "sum of monthly values (EUR) per partner and year over all reporters; "
        "months marked ':' (not available) add nothing",
    }


@router.get("/mirror")
def mirror_get(
    request: Request,
    exporter: Annotated[str, Query(description="Reporter of the exports, e.g. EU27_2020.")],
    importer: Annotated[str, Query(description="Reporter of the imports (ISO-2).")],
    margin: Annotated[float | None, Query(ge=0, le=1, description="CIF/FOB margin.")] = None,
) -> dict[str, Any]:
    """Mirror gap per year: exports × (1 + margin) − partner-reported imports."""
    try:
        with _state(request).workspace.connect(read_only=True) as con:
            rows = mirror_gap(con, FLOWS, exporter.upper(), importer.upper(), margin)
    except (WorkspaceError, duckdb.CatalogException) as exc:
        raise _no_data(exc) from None
    return {
        "exporter": exporter.upper(),
        "importer": importer.upper(),
        "rows": rows,
        "explanation": "gap = X_exp·(1+m) − M_imp; ratio = X_exp·(1+m) ÷ M_imp (annual totals)",
    }


@router.get("/unit-values")
def unit_values_get(
    request: Request,
    products: Annotated[str, Query(description="chpl:1,chpl:2 | HS/CN codes")] = "chpl:1",
    partners: Annotated[str, Query(description="ISO-2 list.")] = "RU,AM,GE,KG,KZ,UZ",
    baseline: Annotated[str, Query(description="2021 or 2019-2021")] = "2021",
    period: Annotated[int, Query(ge=1988, le=2100)] = 2022,
    flow: Annotated[str, Query(pattern="^(export|import)$")] = "export",
) -> dict[str, Any]:
    """Unit values (value ÷ quantity) where the data carries quantities."""
    try:
        years = parse_baseline(baseline)
        with _state(request).workspace.connect(read_only=True) as con:
            rows = unit_values(con, FLOWS, _codes(products), _codes(partners), years, period, flow)
    except ValueError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None
    except (WorkspaceError, duckdb.CatalogException) as exc:
        raise _no_data(exc) from None
    return {
        "rows": rows,
        "explanation": "unit value = Σ value ÷ Σ quantity of rows carrying both, per unit; "
        "ratio = period ÷ baseline",
    }


@router.get("/alerts")
def alerts_get(
    request: Request,
    target: Annotated[str, Query(min_length=2, max_length=2)] = "RU",
    intermediaries: Annotated[str, Query(description="ISO-2 list.")] = "AM,GE,KG,KZ,UZ",
    products: Annotated[str, Query(description="chpl:1,chpl:2 | HS/CN codes")] = "chpl:1",
    baseline: Annotated[str, Query(description="2021 or 2019-2021")] = "2021",
    period: Annotated[int, Query(ge=1988, le=2100)] = 2022,
    controls: Annotated[str | None, Query(description="Control destinations.")] = None,
    control_products: Annotated[str | None, Query(description="Control products.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 20,
) -> list[dict[str, Any]]:
    """Ranked reporter → intermediary flows, each with the contributions to its score."""
    try:
        years = parse_baseline(baseline)
        with _state(request).workspace.connect(read_only=True) as con:
            found = alerts(
                con,
                FLOWS,
                target.upper(),
                _codes(intermediaries),
                _codes(products),
                years,
                period,
                controls=_codes(controls) or None,
                control_products=_codes(control_products) or None,
            )
    except ValueError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None
    except (WorkspaceError, duckdb.CatalogException) as exc:
        raise _no_data(exc) from None
    return [asdict(a) for a in found[:limit]]
