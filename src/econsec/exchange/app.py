"""The exchange's HTTP API (``econsec exchange serve``): thin FastAPI routes.

Bearer-token authentication; every error is ``{"detail": "<field>: <why>"}``
with a precise 4xx status, and every refused attempt is in the audit log.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Annotated, Any

from fastapi import FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from econsec import __version__
from econsec.exchange.access import Principal
from econsec.exchange.db import INT32_MAX, DbInt, Marking, Scope
from econsec.exchange.federation_api import federation_router
from econsec.exchange.fields import ISO2, no_nul
from econsec.exchange.http_auth import Caller, auth, caller, pending_principal
from econsec.exchange.records_api import records_router
from econsec.exchange.service import DenialInput, Exchange, ExchangeError

_ENTRY = r"^[0-9][A-E][0-9]{3}(\.[a-z0-9]+)*$"
#: A denial id in a path (no NUL: PostgreSQL text cannot hold one).
DenialId = Annotated[str, Path(max_length=200, pattern=r"^[^\x00]+$")]
#: An error detail already in the "<field>: <why>" form.
_CLEAR_DETAIL = re.compile(r"^[\w.\[\]\-]+: \S")


class DenialIn(BaseModel):
    """A denial notification to share (unknown fields are refused)."""

    model_config = ConfigDict(extra="forbid")

    _text = field_validator("*")(no_nul)

    reference: str = Field(min_length=1, max_length=200, description="Issuer's own reference.")
    decision_date: dt.date = Field(description="Day the licence was denied (ISO date).")
    control_entries: list[Annotated[str, Field(pattern=_ENTRY)]] = Field(
        min_length=1, description="Control list entries (EU Annex I / CCL ECCN), e.g. 3A090."
    )
    item: str = Field(min_length=1)
    consignee: str = Field(min_length=1)
    end_user: str = Field(min_length=1)
    destination: str = Field(pattern=ISO2, description="ISO 3166 alpha-2.")
    reason: str = Field(min_length=1, description="Reason or criterion for the denial.")
    marking: Marking = Field(description="TLP 2.0 marking.")
    sharing_group: DbInt | None = None
    recipients: list[DbInt] = Field(default_factory=list, description="RED: named user ids.")
    excluded_orgs: list[DbInt] = Field(
        default_factory=list, description="Organisations never to see it (deny beats allow)."
    )


class MarkingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    marking: Marking


class RenewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    on: dt.date = Field(description="Day of the review that renews the denial.")


class DenialOut(BaseModel):
    id: str
    originator_org_id: int
    marking: str
    sharing_group: int | None
    reference: str
    decision_date: dt.date
    control_entries: list[str]
    item: str
    consignee: str
    end_user: str
    destination: str
    reason: str
    expires_on: dt.date
    review_status: str
    in_force: bool
    explanation: str


class DenialPage(BaseModel):
    total: int
    items: list[DenialOut]


# The busiest routes: authenticated in the thread that does their work (http_auth).
Creator = Annotated[Caller, caller(Scope.DENIALS_WRITE, "denial.create")]
Lister = Annotated[Caller, caller(Scope.DENIALS_READ, "denial.list")]
Reader = Annotated[Caller, caller(Scope.DENIALS_READ, "denial.read")]
Marker = Annotated[Principal, auth(Scope.DENIALS_WRITE, "denial.marking")]
Renewer = Annotated[Principal, auth(Scope.DENIALS_WRITE, "denial.renew")]
Auditor = Annotated[Principal, auth(Scope.AUDIT_READ, "audit.read")]


def _location(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path")]
    return ".".join(parts) or "body"


def _action(request: Request) -> str:
    """The audit action of a refused request: method and route (audit_log.action: 40 chars).

    The route's template, not the path the caller sent (which may be anything,
    of any length); the path of an unknown route, cut to fit.
    """
    route = request.scope.get("route")
    path = getattr(route, "path", None) or request.url.path
    return f"{request.method} {path}"[:40]


def json_response(payload: Any, status_code: int = 200) -> Response:
    """``payload`` (already in its response model's shape) as a JSON response.

    The busiest routes return this instead of a dict, so FastAPI does not
    validate the payload against the response model again before serialising
    it; the model still documents the response in the OpenAPI schema, and the
    Schemathesis test checks every response against that schema.
    """
    return Response(
        json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8"),
        status_code=status_code,
        media_type="application/json",
    )


def create_exchange_app(exchange: Exchange) -> FastAPI:
    app = FastAPI(
        title="econsec exchange",
        version=__version__,
        description="Denial notifications shared between partners under TLP 2.0, "
        "with access control in every query and a hash-chained audit log.",
    )
    app.state.exchange = exchange

    @app.exception_handler(ExchangeError)
    async def exchange_error(_request: Request, exc: ExchangeError) -> JSONResponse:
        return JSONResponse({"detail": exc.message}, status_code=exc.status)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        # Starlette's own refusals (a body that cannot be parsed, an unknown path or
        # method) get the same "<field>: <why>" form and audit entry as the others.
        detail = str(exc.detail)
        if not _CLEAR_DETAIL.match(detail):
            where = f"{request.method} {request.url.path}"
            if exc.status_code == 405:
                detail = f"method: {request.method} is not allowed on {request.url.path}"
            else:
                field = "body" if exc.status_code == 400 else "path"
                detail = f"{field}: {detail[:1].lower()}{detail[1:]} ({where})"
            exchange.audit_refusal(
                getattr(request.state, "principal", None), _action(request), detail
            )
        return JSONResponse({"detail": detail}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        first: dict[str, Any] = dict(errors[0]) if errors else {"loc": (), "msg": "invalid"}
        message = f"{_location(first.get('loc', ()))}: {first.get('msg', 'invalid')}"
        if first.get("type") == "json_invalid":
            message = f"body: malformed JSON ({first.get('ctx', {}).get('error', 'invalid')})"
        try:
            principal = await run_in_threadpool(pending_principal, request)
        except ExchangeError as refused:  # the token: refused before the parameters
            return JSONResponse({"detail": refused.message}, status_code=refused.status)
        exchange.audit_refusal(principal, _action(request), message)
        return JSONResponse({"detail": message}, status_code=422)

    @app.post("/v1/denials", response_model=DenialOut, status_code=201, tags=["denials"])
    async def create_denial(body: DenialIn, who: Creator) -> Response:
        """Notify a denial to the partners its marking allows."""
        data = DenialInput(
            reference=body.reference,
            decision_date=body.decision_date,
            control_entries=tuple(body.control_entries),
            item=body.item,
            consignee=body.consignee,
            end_user=body.end_user,
            destination=body.destination,
            reason=body.reason,
            marking=body.marking,
            sharing_group=body.sharing_group,
            recipients=tuple(body.recipients),
            excluded_orgs=tuple(body.excluded_orgs),
        )

        def work() -> Response:
            return json_response(exchange.create_denial(who.principal(), data), 201)

        return await run_in_threadpool(work)

    @app.get("/v1/denials", response_model=DenialPage, tags=["denials"])
    async def list_denials(
        who: Lister,
        destination: Annotated[str | None, Query(pattern=r"^[A-Z]{2}$")] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        offset: Annotated[int, Query(ge=0, le=INT32_MAX)] = 0,
    ) -> Response:
        """The denials the caller may see (the total counts only those)."""

        def work() -> Response:
            total, items = exchange.list_denials(who.principal(), destination, limit, offset)
            return json_response({"total": total, "items": items})

        return await run_in_threadpool(work)

    @app.get("/v1/denials/{denial_id}", response_model=DenialOut, tags=["denials"])
    async def get_denial(denial_id: DenialId, who: Reader) -> Response:
        """One denial; 404 alike for one that does not exist and one not visible."""
        return await run_in_threadpool(
            lambda: json_response(exchange.get_denial(who.principal(), denial_id))
        )

    @app.patch("/v1/denials/{denial_id}/marking", response_model=DenialOut, tags=["denials"])
    def change_marking(
        denial_id: DenialId,
        body: MarkingIn,
        principal: Marker,
    ) -> dict[str, Any]:
        """Raise or lower the marking (originator organisation only)."""
        return exchange.change_marking(principal, denial_id, body.marking)

    @app.post("/v1/denials/{denial_id}/renew", response_model=DenialOut, tags=["denials"])
    def renew(
        denial_id: DenialId,
        body: RenewIn,
        principal: Renewer,
    ) -> dict[str, Any]:
        """Renew a denial on review (originator organisation only)."""
        return exchange.renew(principal, denial_id, body.on)

    @app.get("/v1/audit", tags=["audit"])
    def audit_log(
        principal: Auditor,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        offset: Annotated[int, Query(ge=0, le=INT32_MAX)] = 0,
    ) -> list[dict[str, Any]]:
        """The audit log of the caller's own organisation (auditors and admins)."""
        return exchange.audit_log(principal, limit, offset)

    app.include_router(federation_router(exchange))
    app.include_router(records_router(exchange))

    @app.get("/healthz", tags=["meta"])
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    return app
