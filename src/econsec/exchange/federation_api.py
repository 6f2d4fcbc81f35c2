"""Federation routes: a peer pulls its feed and pushes to the inbox (thin layer).

Both need a token with the ``federation`` scope that belongs to a registered
peer's stand-in user (``econsec exchange peer add`` prints it).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from econsec.exchange.db import Scope
from econsec.exchange.federation import Federation, FeedPage, InboxBatch, InboxResult
from econsec.exchange.http_auth import authenticated
from econsec.exchange.service import Exchange


def _peer(action: str) -> Any:
    """Dependency: the name of the peer whose federation token the request carries."""

    def dependency(request: Request) -> str:
        principal = authenticated(request, Scope.FEDERATION, action)
        return Federation(request.app.state.exchange).peer_of(principal, action)

    return Depends(dependency)


FeedPeer = Annotated[str, _peer("federation.feed")]
InboxPeer = Annotated[str, _peer("federation.inbox")]


def federation_router(exchange: Exchange) -> APIRouter:
    """The ``/v1/federation`` routes of ``exchange``."""
    federation = Federation(exchange)
    router = APIRouter(prefix="/v1/federation", tags=["federation"])

    @router.get("/feed", response_model=FeedPage)
    def feed(
        peer: FeedPeer,
        since: Annotated[str | None, Query(max_length=4000)] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 500,
    ) -> FeedPage:
        """The records the agreement gives the calling peer, changed after ``since``
        (the previous page's ``next_cursor``), in commit order per record kind."""
        return federation.serve_feed(peer, since, limit)

    @router.post("/inbox", response_model=InboxResult)
    def inbox(batch: InboxBatch, peer: InboxPeer) -> InboxResult:
        """Apply records pushed by the calling peer (idempotent; one transaction)."""
        return federation.receive(peer, batch)

    return router
