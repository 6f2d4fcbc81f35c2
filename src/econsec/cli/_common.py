"""Bits every command group shares."""

from __future__ import annotations

from enum import StrEnum
from typing import NoReturn

import typer
from rich.console import Console

_err = Console(stderr=True)


class OutputFormat(StrEnum):
    text = "text"
    json = "json"


def fail(message: str, code: int = 1) -> NoReturn:
    _err.print(f"[red]error:[/red] {message}", highlight=False)
    raise typer.Exit(code)
