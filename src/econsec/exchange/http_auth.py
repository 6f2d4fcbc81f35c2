"""The bearer-token dependency every exchange router uses (one place, one rule)."""

from __future__ import annotations

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
