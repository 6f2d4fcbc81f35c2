"""The bearer-token dependencies of the exchange's routers (one place, one rule).

:func:`auth` authenticates in a dependency of its own: FastAPI runs a sync
dependency in a worker thread, then a sync route in another. The busiest
routes use :func:`caller` instead: an async dependency that only notes what
the route requires, and an async route that authenticates and does its work
in one worker thread (``Caller.principal`` then the service call) — one hop
instead of two. Refusals are the same either way: when the request's
parameters are invalid, the app's validation handler authenticates first
(:func:`pending_principal`), so a bad token is still a 401 or 403 before any
422, and a 422 is audited under the caller who sent it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Depends, Request

from econsec.exchange.access import Principal
from econsec.exchange.db import Scope
from econsec.exchange.service import Exchange


def bearer(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer …`` header, or None."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def authenticated(request: Request, scope: Scope, action: str) -> Principal:
    """The caller, checked for ``scope``; a refusal is audited under ``action``."""
    exchange: Exchange = request.app.state.exchange
    principal = exchange.authenticate(bearer(request), scope, action)
    request.state.principal = principal
    return principal


def auth(scope: Scope, action: str) -> Any:
    """A FastAPI dependency giving the authenticated :class:`Principal`."""

    def dependency(request: Request) -> Principal:
        return authenticated(request, scope, action)

    return Depends(dependency)


@dataclass(frozen=True, slots=True)
class Caller:
    """A request's bearer token and what its route requires, not yet checked."""

    request: Request
    scope: Scope
    action: str

    def principal(self) -> Principal:
        """Authenticate (blocking: call it in the worker thread doing the route's work)."""
        return authenticated(self.request, self.scope, self.action)


def caller(scope: Scope, action: str) -> Any:
    """A FastAPI dependency giving a :class:`Caller` (no database access on the event loop)."""

    async def dependency(request: Request) -> Caller:
        request.state.requires = (scope, action)
        return Caller(request, scope, action)

    return Depends(dependency)


def pending_principal(request: Request) -> Principal | None:
    """Authenticate a refused request whose route uses :func:`caller` (blocking).

    None when the route authenticated already or needs no token; raises the
    authentication's own refusal (401/403, audited) when the token fails.
    """
    principal: Principal | None = getattr(request.state, "principal", None)
    requires: tuple[Scope, str] | None = getattr(request.state, "requires", None)
    if principal is not None or requires is None:
        return principal
    return authenticated(request, *requires)
