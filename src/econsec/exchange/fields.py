"""Field rules shared by the exchange's request models and the federation's.

One definition each, so a record is checked the same way whether it is
created through the API or received from a peer instance.
"""

from __future__ import annotations

from typing import Any

#: ISO 3166 alpha-2 country code.
ISO2 = r"^[A-Z]{2}$"


def no_nul(value: Any) -> Any:
    """Text may not hold NUL characters (PostgreSQL text cannot store them)."""
    if isinstance(value, str) and "\x00" in value:
        raise ValueError("NUL characters are not allowed")
    return value
