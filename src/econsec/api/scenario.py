"""Scenario endpoints: GET /v1/scenarios, POST /v1/scenarios/run, POST /v1/scenarios/compare."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, ConfigDict, Field, model_validator

from econsec.model.scenario import ScenarioRun
from econsec.scenario.engine import (
    ScenarioError,
    compare,
    library_names,
    library_path,
    load_scenario,
    parse_scenario,
    run_spec,
)
from econsec.scenario.io import IOModelError

router = APIRouter(prefix="/v1/scenarios", tags=["scenarios"])


class RunRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, description="A library scenario (GET /v1/scenarios).")
    scenario: dict[str, Any] | None = Field(
        default=None, description="A scenario document, same fields as the YAML files."
    )
    timeline: bool = Field(default=True, description="Include the week-by-week timeline.")

    @model_validator(mode="after")
    def _one(self) -> RunRequest:
        if (self.name is None) == (self.scenario is None):
            raise ValueError("give exactly one of 'name' and 'scenario'")
        return self


class ScenarioCompareRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    a: RunRequest
    b: RunRequest


def _run(req: RunRequest, where: str) -> ScenarioRun:
    try:
        if req.name is not None:
            path = library_path(req.name)
            return run_spec(load_scenario(path), str(path))
        return run_spec(parse_scenario(req.scenario, where), where)
    except (ScenarioError, IOModelError) as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc


@router.get("")
def scenarios() -> list[str]:
    """The scenarios shipped with econsec."""
    return library_names()


@router.post("/run")
def run(req: RunRequest) -> dict[str, Any]:
    """Run a scenario: moves, counter-moves and weekly output loss by country and sector."""
    doc = asdict(_run(req, "request body 'scenario'"))
    if not req.timeline:
        doc.pop("timeline")
    return doc


@router.post("/compare")
def compare_runs(req: ScenarioCompareRequest) -> dict[str, Any]:
    """Two runs side by side by country."""
    a = _run(req.a, "request body 'a.scenario'")
    b = _run(req.b, "request body 'b.scenario'")
    return asdict(compare(a, b))
