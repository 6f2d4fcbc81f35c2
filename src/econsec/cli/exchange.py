"""`econsec exchange …`: the coordination exchange server and its administration."""

from __future__ import annotations

import dataclasses
import gc
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import httpx
import typer
from sqlalchemy import make_url
from sqlalchemy.exc import OperationalError

from econsec.cli._common import fail
from econsec.exchange.db import URL_VARIABLE, Role, Scope, database_url
from econsec.exchange.federation import Federation
from econsec.exchange.service import Exchange, ExchangeError
from econsec.settings import home_dir

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from fastapi import FastAPI

app = typer.Typer(
    help="The coordination exchange: denials shared between partners, with audit.",
    no_args_is_help=True,
)
audit_app = typer.Typer(help="The exchange's hash-chained audit log.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")

DbOption = Annotated[
    Path | None,
    typer.Option("--db", help="SQLite database (default $ECONSEC_HOME/exchange.sqlite)."),
]


_URL_KEY = "econsec.exchange.db_url"
#: The --db-url of the command being run; every command passes one of the two
#: callbacks below, which set it (``econsec audit verify`` has no --db-url).
_given: dict[str, str | None] = {"url": None}


@app.callback()
def exchange_options(
    ctx: typer.Context,
    db_url: Annotated[
        str | None,
        typer.Option(
            "--db-url",
            envvar=URL_VARIABLE,
            help="Database URL, e.g. postgresql+psycopg://USER@HOST:5432/DB for a shared "
            "server (default: the SQLite file of --db).",
        ),
    ] = None,
) -> None:
    """The coordination exchange: denials shared between partners, with audit."""
    ctx.meta[_URL_KEY] = _given["url"] = db_url


@audit_app.callback()
def audit_options(ctx: typer.Context) -> None:
    """The exchange's hash-chained audit log."""
    _given["url"] = ctx.meta.get(_URL_KEY)  # set when run as `econsec exchange … audit`


def _database(db: Path | None) -> str:
    """The URL to open: --db PATH, else --db-url / $ECONSEC_EXCHANGE_URL, else the workspace."""
    url = _given["url"] or os.environ.get(URL_VARIABLE)
    if db is None and url:
        return url
    return database_url(db or home_dir() / "exchange.sqlite")


def _open(db: Path | None) -> Exchange:
    url = _database(db)
    if url.startswith("sqlite:///"):
        return Exchange.open(Path(url.removeprefix("sqlite:///")))
    try:
        return Exchange.connect(url)
    except (ValueError, OperationalError) as exc:
        fail(f"database {_redacted(url)}: {str(exc).strip().splitlines()[0]}")


def _redacted(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def worker_app() -> FastAPI:
    """The app of one server worker process (``uvicorn --factory``): its own pool.

    The parent process migrated the database and put its URL in the environment.
    """
    from contextlib import asynccontextmanager  # noqa: PLC0415

    import anyio.to_thread  # noqa: PLC0415

    from econsec.exchange.app import create_exchange_app  # noqa: PLC0415

    pool = int(os.environ.get("ECONSEC_EXCHANGE_POOL", "10"))
    threads = int(os.environ.get("ECONSEC_EXCHANGE_THREADS", "0"))
    app = create_exchange_app(
        Exchange.connect(os.environ[URL_VARIABLE], pool_size=pool, upgrade=False)
    )
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(application: Any) -> AsyncIterator[Any]:
        if threads:
            # Fewer request threads than anyio's 40: they queue for the GIL and
            # the pool anyway, and switching between many of them costs CPU.
            anyio.to_thread.current_default_thread_limiter().total_tokens = threads
        # Everything built so far (modules, the app, SQLAlchemy's metadata) lives
        # as long as the worker: moved out of the collector's generations, it is
        # not traversed again by each full collection (shorter pauses).
        gc.collect()
        gc.freeze()
        async with inner(application) as state:
            yield state

    app.router.lifespan_context = lifespan
    return app


@app.command("init")
def init_cmd(db: DbOption = None) -> None:
    """Create or upgrade the exchange database (Alembic migrations)."""
    _open(db)
    url = _database(db)
    where = url.removeprefix("sqlite:///") if url.startswith("sqlite:///") else _redacted(url)
    typer.echo(f"exchange database ready: {where}")


@app.command("add-org")
def add_org_cmd(
    name: Annotated[str, typer.Argument(help="Organisation name.")],
    country: Annotated[str, typer.Option(help="ISO 3166 alpha-2 code (EU for the Commission).")],
    db: DbOption = None,
) -> None:
    """Register a partner organisation; prints its id."""
    try:
        typer.echo(_open(db).add_organisation(name, country))
    except ExchangeError as exc:
        fail(exc.message)


@app.command("add-user")
def add_user_cmd(
    org_id: Annotated[int, typer.Argument(help="The user's organisation.")],
    name: Annotated[str, typer.Argument(help="User name (unique).")],
    role: Annotated[Role, typer.Option(help="officer, analyst, auditor or admin.")],
    db: DbOption = None,
) -> None:
    """Register a user of an organisation; prints its id."""
    try:
        typer.echo(_open(db).add_user(org_id, name, role))
    except ExchangeError as exc:
        fail(exc.message)


@app.command("add-group")
def add_group_cmd(
    name: Annotated[str, typer.Argument(help="Sharing group name.")],
    org_ids: Annotated[list[int], typer.Argument(help="Member organisations.")],
    db: DbOption = None,
) -> None:
    """Create a sharing group of organisations; prints its id."""
    try:
        typer.echo(_open(db).add_group(name, org_ids))
    except ExchangeError as exc:
        fail(exc.message)


@app.command("token")
def token_cmd(
    user_id: Annotated[int, typer.Argument(help="The user the token acts for.")],
    scope: Annotated[
        list[Scope] | None, typer.Option(help="Scopes (default: all the role allows).")
    ] = None,
    days: Annotated[int, typer.Option(help="Validity in days.")] = 90,
    db: DbOption = None,
) -> None:
    """Issue an API token (shown once; only its sha256 is stored)."""
    try:
        typer.echo(_open(db).issue_token(user_id, scope or None, days))
    except ExchangeError as exc:
        fail(exc.message)


@app.command("serve")
def serve_cmd(
    db: DbOption = None,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8100,
    workers: Annotated[
        int, typer.Option(min=1, help="Server processes (PostgreSQL: one per core).")
    ] = 1,
    pool_size: Annotated[
        int, typer.Option(min=1, help="Database connections per worker (PostgreSQL).")
    ] = 10,
    access_log: Annotated[
        bool, typer.Option(help="Log every request (off for load tests).")
    ] = True,
    threads: Annotated[
        int, typer.Option(min=0, help="Request threads per worker (0: anyio's default, 40).")
    ] = 0,
) -> None:
    """Serve the exchange API (OpenAPI documentation at /docs)."""
    import uvicorn  # noqa: PLC0415

    exchange = _open(db)  # creates or migrates the database once, before any worker starts
    exchange.engine.dispose()
    os.environ[URL_VARIABLE] = _database(db)
    os.environ["ECONSEC_EXCHANGE_POOL"] = str(pool_size)
    os.environ["ECONSEC_EXCHANGE_THREADS"] = str(threads)
    typer.echo(f"econsec exchange on http://{host}:{port} (docs at /docs)")
    uvicorn.run(
        "econsec.cli.exchange:worker_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        access_log=access_log,
    )


@audit_app.command("verify")
def verify_cmd(db: DbOption = None) -> None:
    """Recompute the audit log's hash chain; exit 1 at the first altered entry."""
    result = _open(db).verify_audit()
    if not result.ok:
        fail(f"audit_log entry {result.bad_id}: {result.reason}")
    typer.echo(json.dumps({"entries": result.entries, "ok": True}))


# -- federation (issue #7, item 7) --------------------------------------------------------

peer_app = typer.Typer(help="Peer instances this exchange federates with.", no_args_is_help=True)
federate_app = typer.Typer(help="Push records to a peer, or pull its feed.", no_args_is_help=True)
app.add_typer(peer_app, name="peer")
app.add_typer(federate_app, name="federate")


def _federation(db: Path | None) -> Federation:
    return Federation(_open(db))


@app.command("instance")
def instance_cmd(
    name: Annotated[str | None, typer.Argument(help="Name this instance (once), e.g. eu.")] = None,
    db: DbOption = None,
) -> None:
    """Show or set this instance's federation name."""
    try:
        federation = _federation(db)
        typer.echo(federation.set_instance(name) if name else federation.instance_name() or "")
    except ExchangeError as exc:
        fail(exc.message)


SendOption = Annotated[
    list[str] | None,
    typer.Option("--send", help="A marking to send (repeat; default CLEAR and GREEN)."),
]
SendGroupOption = Annotated[
    int | None, typer.Option(help="Local sharing group whose AMBER records may be sent.")
]
ReceiveGroupOption = Annotated[
    int | None, typer.Option(help="Local sharing group received AMBER records land in.")
]
ForwardToOption = Annotated[
    list[str] | None,
    typer.Option("--forward-to", help="Instance our records sent to the peer may go on to."),
]


@peer_app.command("add")
def peer_add_cmd(
    name: Annotated[str, typer.Argument(help="The peer instance's name, e.g. us.")],
    url: Annotated[str, typer.Option(help="The peer's base URL, e.g. https://x.example:8100.")],
    country: Annotated[str, typer.Option(help="ISO alpha-2 of its stand-in (EU allowed).")],
    token: Annotated[str | None, typer.Option(help="Token the peer issued to us.")] = None,
    send: SendOption = None,
    send_group: SendGroupOption = None,
    receive_group: ReceiveGroupOption = None,
    forward_received: Annotated[
        bool, typer.Option(help="Records received from third instances flow on this link.")
    ] = False,
    forward_to: ForwardToOption = None,
    db: DbOption = None,
) -> None:
    """Register a peer; prints its id and the token to give the peer (shown once)."""
    try:
        peer_id, inbound = _federation(db).add_peer(
            name,
            url,
            country,
            token=token,
            send_markings=send or ("CLEAR", "GREEN"),
            send_group=send_group,
            receive_group=receive_group,
            forward_received=forward_received,
            forward_to=forward_to or (),
        )
    except ExchangeError as exc:
        fail(exc.message)
    typer.echo(json.dumps({"id": peer_id, "token_for_peer": inbound}))


@peer_app.command("set")
def peer_set_cmd(
    name: Annotated[str, typer.Argument(help="The peer's name.")],
    url: Annotated[str | None, typer.Option(help="New base URL.")] = None,
    token: Annotated[str | None, typer.Option(help="Token the peer issued to us.")] = None,
    send: SendOption = None,
    send_group: SendGroupOption = None,
    receive_group: ReceiveGroupOption = None,
    forward_received: Annotated[
        bool | None, typer.Option(help="Records from third instances flow on this link.")
    ] = None,
    forward_to: ForwardToOption = None,
    db: DbOption = None,
) -> None:
    """Change a peer's token, address or agreement (options given only)."""
    try:
        info = _federation(db).update_peer(
            name,
            token=token,
            base_url=url,
            send_markings=send,
            send_group=send_group,
            receive_group=receive_group,
            forward_received=forward_received,
            forward_to=forward_to,
        )
    except ExchangeError as exc:
        fail(exc.message)
    typer.echo(json.dumps(dataclasses.asdict(info)))


@peer_app.command("list")
def peer_list_cmd(db: DbOption = None) -> None:
    """The peers and their agreements, as JSON lines (tokens are never shown)."""
    for info in _federation(db).peers():
        typer.echo(json.dumps(dataclasses.asdict(info)))


def _sync(direction: str, name: str, db: Path | None) -> None:
    federation = _federation(db)
    try:
        result = federation.push(name) if direction == "push" else federation.pull(name)
    except ExchangeError as exc:
        fail(exc.message)
    except httpx.HTTPError as exc:
        fail(f"peer {name!r}: {exc.__class__.__name__}: {exc}")
    typer.echo(json.dumps(dataclasses.asdict(result)))


@federate_app.command("push")
def push_cmd(
    name: Annotated[str, typer.Argument(help="The peer to push to.")], db: DbOption = None
) -> None:
    """Send the peer what changed since the last push (idempotent)."""
    _sync("push", name, db)


@federate_app.command("pull")
def pull_cmd(
    name: Annotated[str, typer.Argument(help="The peer to pull from.")], db: DbOption = None
) -> None:
    """Fetch and apply the peer's feed since the last pull (idempotent)."""
    _sync("pull", name, db)


# Consultations, licence decisions and alerts register their commands on `app`.
from econsec.cli import exchange_records as _exchange_records  # noqa: E402, F401
