"""Screening endpoints: POST /v1/screen, POST /v1/compare."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, HTTPException, Request

from econsec.api.schemas import CompareRequest, CompareResponse, ScreenRequest, ScreenResponse
from econsec.api.state import AppState
from econsec.model import Schema
from econsec.screening import ALGORITHM, ScreeningError, build_query, compare
from econsec.screening.ownership import ownership_hit_json, ownership_screener
from econsec.screening.report import match_json, result_json
from econsec.store import WorkspaceError

router = APIRouter(prefix="/v1", tags=["screening"])


def _state(request: Request) -> AppState:
    state: AppState = request.app.state.econsec
    return state


def _schema(value: str | None) -> Schema | None:
    """The schema of a compare request, with the field named as `build_query` does."""
    if not value:
        return None
    try:
        return Schema.parse(value)
    except ValueError as exc:
        raise ScreeningError(f"schema: {exc}") from None


@router.post("/screen", response_model=ScreenResponse)
def screen(body: ScreenRequest, request: Request) -> dict[str, Any]:
    """Screen a name against every loaded list (or those named in `lists`)."""
    try:
        query = build_query(
            body.name, body.schema_, body.country, body.dob, body.lists, body.threshold, body.limit
        )
        state = _state(request)
        result = state.screener().screen(query)
        owned = ownership_screener(state.workspace, body.date or dt.date.today())
        ownership = owned.screen(query).hits if owned is not None else ()
    except ScreeningError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None
    except WorkspaceError as exc:  # no lists loaded yet, or the database is locked
        raise HTTPException(status_code=503, detail=str(exc)) from None
    return {**result_json(result), "ownership": [ownership_hit_json(h) for h in ownership]}


@router.post("/compare", response_model=CompareResponse)
def compare_names(body: CompareRequest) -> dict[str, Any]:
    """Why two names do or do not match."""
    try:
        schema = _schema(body.schema_)
        match = compare(body.name1, body.name2, schema)
    except ScreeningError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None
    return match_json(match, ALGORITHM)
