"""The FastAPI application: one router per core module, OpenAPI at /docs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from econsec import __version__
from econsec.api import lists, screening
from econsec.api.batch import router as batch_router
from econsec.api.ownership import router as ownership_router
from econsec.api.record import router as record_router
from econsec.api.rules import router as rules_router
from econsec.api.scenario import router as scenario_router
from econsec.api.state import AppState
from econsec.api.trade import router as trade_router
from econsec.screening import Screener
from econsec.screening.names import warm_up
from econsec.store import Workspace


def create_app(
    workspace: Workspace | None = None,
    preload: bool = True,
    screener: Screener | None = None,
) -> FastAPI:
    """Build the app. With ``preload`` the screener is built before serving.

    A ``screener`` already built over the workspace's current lists (an
    embedding process, the tests) is served as it is instead.
    """
    state = AppState(workspace or Workspace())
    if screener is not None:
        state.use(screener)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if preload and screener is None:
            state.load()
            warm_up()  # so the first query in a rare script does not pay for it
        yield

    app = FastAPI(
        title="econsec",
        version=__version__,
        description="Allied economic-security coordination: restricted-party screening "
        "against the real lists, with explanations.",
        lifespan=lifespan,
    )
    app.state.econsec = state
    app.include_router(screening.router)
    app.include_router(lists.router)
    app.include_router(batch_router)
    app.include_router(record_router)
    app.include_router(ownership_router)
    app.include_router(rules_router)
    app.include_router(scenario_router)
    app.include_router(trade_router)

    @app.get("/healthz", tags=["meta"])
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    return app
