"""`econsec exchange …`: the coordination exchange server and its administration."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from econsec.cli._common import fail
from econsec.exchange.db import Role, Scope
from econsec.exchange.service import Exchange, ExchangeError
from econsec.settings import home_dir

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


def _open(db: Path | None) -> Exchange:
    return Exchange.open(db or home_dir() / "exchange.sqlite")


@app.command("init")
def init_cmd(db: DbOption = None) -> None:
    """Create or upgrade the exchange database (Alembic migrations)."""
    path = db or home_dir() / "exchange.sqlite"
    _open(path)
    typer.echo(f"exchange database ready: {path}")


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
) -> None:
    """Serve the exchange API (OpenAPI documentation at /docs)."""
    import uvicorn  # noqa: PLC0415

    from econsec.exchange.app import create_exchange_app  # noqa: PLC0415

    typer.echo(f"econsec exchange on http://{host}:{port} (docs at /docs)")
    uvicorn.run(create_exchange_app(_open(db)), host=host, port=port, log_level="info")


@audit_app.command("verify")
def verify_cmd(db: DbOption = None) -> None:
    """Recompute the audit log's hash chain; exit 1 at the first altered entry."""
    result = _open(db).verify_audit()
    if not result.ok:
        fail(f"audit_log entry {result.bad_id}: {result.reason}")
    typer.echo(json.dumps({"entries": result.entries, "ok": True}))
