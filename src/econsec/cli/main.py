"""The `econsec` command: one command group per core module."""

from __future__ import annotations

import typer

from econsec import __version__
from econsec.cli import lists

app = typer.Typer(
    name="econsec",
    help="Allied economic-security coordination: screening, control rules, trade, scenarios.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(lists.app, name="lists")


@app.command("version")
def version() -> None:
    """Print the econsec version."""
    typer.echo(__version__)
