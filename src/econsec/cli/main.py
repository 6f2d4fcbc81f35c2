"""The `econsec` command: one command group per core module."""

from __future__ import annotations

from typing import Annotated

import typer

from econsec import __version__
from econsec.cli import lists, screening
from econsec.cli.batch import app as batch_app
from econsec.cli.defence import app as defence_app
from econsec.cli.dependency import app as dependency_app
from econsec.cli.exchange import app as exchange_app
from econsec.cli.exchange import audit_app as exchange_audit_app
from econsec.cli.ownership import app as ownership_app
from econsec.cli.record import app as record_app
from econsec.cli.rules import align_cmd, classify_cmd, determine_cmd, diff_cmd, timeline_cmd
from econsec.cli.scenario import app as scenario_app
from econsec.cli.trade import app as trade_app

app = typer.Typer(
    name="econsec",
    help="Allied economic-security coordination: screening, control rules, trade, scenarios.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(lists.app, name="lists")
app.add_typer(record_app, name="record")
app.add_typer(ownership_app, name="ownership")
app.add_typer(batch_app, name="batch")
app.add_typer(trade_app, name="trade")
app.add_typer(defence_app, name="defence")
app.add_typer(scenario_app, name="scenario")
app.add_typer(dependency_app, name="dependency")
app.add_typer(exchange_app, name="exchange")
app.add_typer(exchange_audit_app, name="audit")  # econsec audit verify


@app.command("version")
def version() -> None:
    """Print the econsec version."""
    typer.echo(__version__)


app.command("screen")(screening.screen_cmd)
app.command("compare")(screening.compare_cmd)
app.command("classify")(classify_cmd)
app.command("determine")(determine_cmd)
app.command("timeline")(timeline_cmd)
app.command("rules-diff")(diff_cmd)
app.command("align")(align_cmd)


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Serve the HTTP API (OpenAPI documentation at /docs)."""
    # Imported here so that other commands do not pay for the web stack.
    import uvicorn  # noqa: PLC0415

    from econsec.api.app import create_app  # noqa: PLC0415

    typer.echo(f"econsec API on http://{host}:{port} (docs at /docs); building the index…")
    uvicorn.run(create_app(), host=host, port=port, log_level="info")
