"""Bits every command group shares."""

from __future__ import annotations

from enum import StrEnum
from typing import NoReturn

import typer
from rich.console import Console
from rich.text import Text

_err = Console(stderr=True)


class OutputFormat(StrEnum):
    text = "text"
    json = "json"


def fail(message: str, code: int = 1) -> NoReturn:
    # Never wrapped (a path or field name split across lines cannot be searched
    # or copied) and never read as markup (messages quote user input).
    _err.print(Text.assemble(("error:", "red"), " ", message), soft_wrap=True, highlight=False)
    raise typer.Exit(code)
