"""Compliance record endpoints: POST/GET /v1/decisions, GET /v1/record/export."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from econsec.api.state import AppState
from econsec.screening.record import (
    DecisionError,
    NotInRecordError,
    ProofFormat,
    RecordError,
    decide,
    decision_json,
    export_proof,
    hit_status_json,
    parse_decision_kind,
    proof_html,
    proof_json,
    review,
    select_runs,
)
from econsec.store import Workspace, WorkspaceError
from econsec.store.decisions import all_decisions, verify_chain

router = APIRouter(prefix="/v1", tags=["record"])


class DecisionRequest(BaseModel):
    """The same fields as `econsec record decide`."""

    model_config = ConfigDict(extra="forbid")

    run_id: str = Field(min_length=1, description="The run in which the hit was reported.")
    reference: str = Field(min_length=1, description="The counterparty's own reference.")
    entity_id: str = Field(min_length=1, examples=["ofac_sdn:20157"])
    decision: str = Field(description="cleared, confirmed or escalated.", examples=["cleared"])
    reviewer: str = Field(description="Who decided (required).")
    reason: str = Field(default="", description="Required when clearing a false positive.")


class HitKeyOut(BaseModel):
    counterparty_reference: str
    counterparty_hash: str
    entity_id: str
    party_hash: str


class DecisionOut(BaseModel):
    decision_id: str
    decision: str
    reviewer: str
    reason: str
    decided_at: str
    run_id: str | None
    key: HitKeyOut
    previous_hash: str
    entry_hash: str


class HitStatusOut(BaseModel):
    counterparty_reference: str
    counterparty_hash: str
    entity_id: str
    party_hash: str
    kind: str
    score: float
    matched_name: str
    list_: str = Field(alias="list")
    list_version_id: str
    explanation: str
    status: str = Field(description="open, or the standing decision.")
    decisions: list[DecisionOut]


class LogOut(BaseModel):
    ok: bool
    entries: int
    last_entry_hash: str
    broken_seq: int | None
    broken_decision_id: str | None
    problem: str | None
    summary: str


class DecisionsResponse(BaseModel):
    decisions: list[DecisionOut] = Field(
        description="The log in order, or with run_id every decision on that run's hits."
    )
    hits: list[HitStatusOut] | None = Field(
        default=None, description="With run_id: the run's hits with their status."
    )
    log: LogOut


def _workspace(request: Request) -> Workspace:
    state: AppState = request.app.state.econsec
    return state.workspace


def _log(workspace: Workspace) -> dict[str, Any]:
    result = verify_chain(workspace)
    return {
        "ok": result.ok,
        "entries": result.entries,
        "last_entry_hash": result.last_entry_hash,
        "broken_seq": result.broken_seq,
        "broken_decision_id": result.broken_decision_id,
        "problem": result.problem,
        "summary": result.describe(),
    }


@router.post("/decisions", response_model=DecisionOut, status_code=201)
def post_decision(body: DecisionRequest, request: Request) -> dict[str, Any]:
    """Record a reviewer's decision on a hit reported in a run (appended, never edited)."""
    try:
        stored = decide(
            _workspace(request),
            body.run_id,
            body.reference,
            body.entity_id,
            parse_decision_kind(body.decision),
            body.reviewer,
            body.reason,
        )
    except DecisionError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None
    except NotInRecordError as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from None
    except WorkspaceError as exc:
        raise HTTPException(status_code=503, detail=str(exc)) from None
    return decision_json(stored)


@router.get("/decisions", response_model=DecisionsResponse)
def get_decisions(
    request: Request,
    run_id: str | None = None,
    open_only: Annotated[bool, Query(alias="open")] = False,
) -> dict[str, Any]:
    """The decision log, or a run's hits with their decisions (`open=true`: undecided only)."""
    workspace = _workspace(request)
    try:
        if run_id is None:
            return {
                "decisions": [decision_json(d) for d in all_decisions(workspace)],
                "log": _log(workspace),
            }
        [(_, statuses)] = review(workspace, select_runs(workspace, [run_id]), open_only)
        decisions = sorted(
            {d.decision_id: d for s in statuses for d in s.history}.values(),
            key=lambda d: (d.decided_at, d.decision_id),
        )
        return {
            "decisions": [decision_json(d) for d in decisions],
            "hits": [hit_status_json(s) for s in statuses],
            "log": _log(workspace),
        }
    except NotInRecordError as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from None
    except WorkspaceError as exc:
        raise HTTPException(status_code=503, detail=str(exc)) from None


@router.get(
    "/record/export",
    responses={200: {"content": {"application/json": {}, "text/html": {}}}},
)
def export(
    request: Request,
    fmt: Annotated[ProofFormat, Query(alias="format")] = ProofFormat.json,
    run_id: Annotated[list[str] | None, Query()] = None,
    since: str | None = None,
    until: str | None = None,
) -> Response:
    """The proof of screening for some runs (`run_id`, repeatable) or all, as JSON or HTML."""
    try:
        proof = export_proof(_workspace(request), run_id or (), since, until)
    except NotInRecordError as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from None
    except RecordError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None
    except WorkspaceError as exc:
        raise HTTPException(status_code=503, detail=str(exc)) from None
    if fmt is ProofFormat.html:
        return HTMLResponse(proof_html(proof))
    return JSONResponse(proof_json(proof))
