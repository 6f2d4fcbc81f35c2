"""Ownership endpoints: GET/POST /v1/ownership/check."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from econsec.api.state import AppState
from econsec.rules.ownership import RuleDataError
from econsec.screening.ownership import OwnershipError, check, explanation_json
from econsec.store import WorkspaceError

router = APIRouter(prefix="/v1/ownership", tags=["ownership"])


class OwnershipCheckRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    entity: str = Field(min_length=1, description="Graph id or name of the entity.")
    date: dt.date | None = Field(default=None, description="As of this date (default today).")
    rules: list[str] = Field(
        default_factory=list, description="ofac-50, bis-affiliates (default: both)."
    )


class OwnershipCheckResponse(BaseModel):
    entity: str
    date: str
    answers: list[dict[str, Any]]


def _answer(request: Request, body: OwnershipCheckRequest) -> dict[str, Any]:
    state: AppState = request.app.state.econsec
    on = body.date or dt.date.today()
    try:
        answers = check(state.workspace, body.entity, on, body.rules or None)
    except (OwnershipError, RuleDataError) as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None
    except WorkspaceError as exc:
        raise HTTPException(status_code=503, detail=str(exc)) from None
    return {
        "entity": body.entity,
        "date": on.isoformat(),
        "answers": [explanation_json(a) for a in answers],
    }


@router.post("/check", response_model=OwnershipCheckResponse)
def check_post(body: OwnershipCheckRequest, request: Request) -> dict[str, Any]:
    """Is the entity covered by the 50 % rules on the date, and why (chains, citations)."""
    return _answer(request, body)


@router.get("/check", response_model=OwnershipCheckResponse)
def check_get(
    request: Request,
    entity: Annotated[str, Query(min_length=1)],
    on: Annotated[dt.date | None, Query(alias="date")] = None,
    rules: Annotated[list[str] | None, Query(alias="rule")] = None,
) -> dict[str, Any]:
    """The same as POST, with query parameters (``?entity=…&date=…&rule=…``)."""
    return _answer(request, OwnershipCheckRequest(entity=entity, date=on, rules=rules or []))
