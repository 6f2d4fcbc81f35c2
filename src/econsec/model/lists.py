"""List versions: which edition of which list a result was computed against."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ListVersion:
    """One loaded edition of one source list.

    ``content_hash`` is the SHA-256 of the source file bytes (all files of a
    multi-file set, in name order), so a reload of an unchanged file can be
    recognised and a proof of screening can name exactly what was screened.
    """

    version_id: str
    source: str
    label: str
    #: Publication date (ISO), from the file's own metadata or its name; None if unknown.
    published: str | None
    content_hash: str
    entry_count: int
    #: ISO timestamp (UTC) of the load.
    loaded_at: str
    #: Where the data came from: file or directory path, or URL.
    origin: str
    #: Parser that read it, with its version (``us_csl/1``).
    parser: str
    active: bool
