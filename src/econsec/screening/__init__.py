"""Restricted-party screening: names, candidate index, versioned scoring, results."""

from econsec.screening.screen import ALGORITHM, Screener, ScreeningError, build_query, compare

__all__ = ["ALGORITHM", "Screener", "ScreeningError", "build_query", "compare"]
