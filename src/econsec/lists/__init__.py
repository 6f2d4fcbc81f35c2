"""Restricted-party lists: one parser per official format, versions and loading."""

from econsec.lists._common import LoadError, ParsedList
from econsec.lists.load import LoadResult, LoadStatus, Target, default_targets, load, resolve
from econsec.lists.registry import FORMATS, SOURCES, Format, Source, detect_format

__all__ = [
    "FORMATS",
    "SOURCES",
    "Format",
    "LoadError",
    "LoadResult",
    "LoadStatus",
    "ParsedList",
    "Source",
    "Target",
    "default_targets",
    "detect_format",
    "load",
    "resolve",
]
