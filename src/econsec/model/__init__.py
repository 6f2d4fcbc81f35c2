"""Typed domain objects shared by every econsec module."""

from econsec.model.lists import ListVersion
from econsec.model.party import Address, Alias, Identifier, Party, Schema, SourceRef

__all__ = [
    "Address",
    "Alias",
    "Identifier",
    "ListVersion",
    "Party",
    "Schema",
    "SourceRef",
]
