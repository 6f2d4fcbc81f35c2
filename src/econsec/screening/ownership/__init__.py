"""Ownership: the graph of holdings and the 50 % rules (OFAC, BIS affiliates).

See ``docs/ownership.md`` for the CSV layout, the algorithm and which bad
input is rejected or accepted with a recorded warning.
"""

from econsec.screening.ownership.explain import Explanation, Status
from econsec.screening.ownership.service import (
    LoadOutcome,
    OwnershipError,
    check,
    explanation_json,
    flagged,
    load_file,
    ownership_hit_json,
    ownership_screener,
)

__all__ = [
    "Explanation",
    "LoadOutcome",
    "OwnershipError",
    "Status",
    "check",
    "explanation_json",
    "flagged",
    "load_file",
    "ownership_hit_json",
    "ownership_screener",
]
