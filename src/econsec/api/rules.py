"""Control-rule endpoints: POST /v1/classify, /v1/determine, /v1/timeline; GET /v1/align."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from econsec.api.state import AppState
from econsec.model.rules import Item
from econsec.rules.classify import classify
from econsec.rules.dated import DatedError
from econsec.rules.determine import determine
from econsec.rules.items import resolve_item
from econsec.rules.render import (
    alignment_json,
    classification_json,
    determination_json,
    timeline_json,
)
from econsec.rules.timeline import align, timeline
from econsec.screening import Screener
from econsec.store import WorkspaceError

router = APIRouter(prefix="/v1", tags=["rules"])


class ItemRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product: str | None = Field(default=None, description="Catalogue product (H100, A800 …).")
    params: dict[str, Any] | None = Field(
        default=None,
        description="Raw parameters instead of a product: kind, performance "
        "[{precision, bit_length, tops, sparse}], die_area_mm2, datacenter, "
        "interconnect_gbps, memory_bandwidth_gbps, package_area_mm2, origin, "
        "us_content_percent, declared, hs_code; for lithography equipment "
        "light_source_wavelength_nm, numerical_aperture, dedicated_chuck_overlay_nm, "
        "minimum_resolvable_feature_nm.",
    )
    date: dt.date | None = Field(default=None, description="As of (default today).")


class DetermineRequest(ItemRequest):
    destination: str = Field(min_length=2, max_length=2, description="ISO 3166-1 alpha-2.")
    end_user: str | None = Field(default=None, description="Screened against the loaded lists.")
    regime: Literal["us", "eu", "both"] = "both"


class TimelineRequest(ItemRequest):
    destination: str = Field(min_length=2, max_length=2)
    start: dt.date = Field(default=dt.date(2022, 10, 7), alias="from")
    end: dt.date | None = Field(default=None, alias="to")
    regime: Literal["us", "eu", "both"] = "both"
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


def _screener(state: AppState) -> Screener | None:
    """The server's screener, or None without loaded lists (the answer then says
    the end user was not screened)."""
    try:
        if not state.workspace.versions(active_only=True):
            return None
        return state.screener()
    except WorkspaceError:
        return None


def _item(body: ItemRequest) -> Item:
    try:
        return resolve_item(body.product, body.params)
    except DatedError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None


@router.post("/classify")
def classify_post(body: ItemRequest) -> dict[str, Any]:
    """Entries matched, TPP, performance density, thresholds compared and reasoning."""
    try:
        return classification_json(classify(_item(body), body.date or dt.date.today()))
    except DatedError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None


@router.post("/determine")
def determine_post(body: DetermineRequest, request: Request) -> dict[str, Any]:
    """Licence required or not per regime, policy, exceptions and citations."""
    item = _item(body)
    screener = _screener(request.app.state.econsec) if body.end_user else None
    try:
        result = determine(
            item,
            body.destination,
            body.date or dt.date.today(),
            body.end_user,
            body.regime,
            screener,
        )
    except DatedError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None
    return determination_json(result, item)


@router.post("/timeline")
def timeline_post(body: TimelineRequest) -> dict[str, Any]:
    """The dated sequence of changed answers between two dates."""
    item = _item(body)
    try:
        steps = timeline(
            item, body.destination, body.start, body.end or dt.date.today(), body.regime
        )
    except DatedError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None
    return timeline_json(steps, item)


@router.get("/align")
def align_get(
    date: Annotated[dt.date | None, Query(description="As of (default today).")] = None,
    destination: Annotated[list[str] | None, Query(description="Only these destinations.")] = None,
) -> dict[str, Any]:
    """Catalogue × destination combinations where the US and EU answers diverge."""
    try:
        return alignment_json(align(date or dt.date.today(), dests=destination or None))
    except DatedError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None
