"""List endpoints: GET /v1/lists."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from econsec.api.schemas import ListVersion
from econsec.api.state import AppState
from econsec.screening.report import version_json

router = APIRouter(prefix="/v1", tags=["lists"])


@router.get("/lists", response_model=list[ListVersion])
def list_versions(request: Request, all: bool = False) -> list[dict[str, Any]]:
    """The loaded list versions (the active ones, or all with `?all=true`)."""
    state: AppState = request.app.state.econsec
    return [version_json(v) for v in state.workspace.versions(active_only=not all)]
