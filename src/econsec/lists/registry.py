"""The list formats econsec reads and the official sources it knows.

A *format* is a parser for one publisher's file layout. A *source* is a list
that econsec knows where to find: a file-name pattern in the shared data
folder and the official download address(es). ``econsec lists load us_csl``
loads a known source; ``econsec lists load path/to/file`` recognises the
format of any file.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from econsec.lists import csl, dpl, eu_fsf, ftm, ofac, senzing, un
from econsec.lists._common import LoadError, ParsedList


@dataclass(frozen=True, slots=True)
class Format:
    id: str
    #: Parser id and version, recorded with every list version it reads.
    parser: str
    parse: Callable[[Path], ParsedList]
    #: The files that make up one edition (hashed together to identify it).
    files: Callable[[Path], list[Path]]
    #: Whether a path looks like this format (cheap check on names and first bytes).
    sniff: Callable[[Path], bool]


@dataclass(frozen=True, slots=True)
class RemoteFile:
    url: str
    #: File name to save the download under, inside the source's folder.
    name: str


@dataclass(frozen=True, slots=True)
class Source:
    id: str
    label: str
    format: Format
    #: Glob, relative to the data folder's ``lists/``; the last match by name wins.
    pattern: str
    remote: tuple[RemoteFile, ...] = ()


def _single(path: Path) -> list[Path]:
    return [path]


def _head(path: Path, size: int = 2048) -> bytes:
    if not path.is_file():
        return b""
    with path.open("rb") as fh:
        return fh.read(size).lstrip(b"\xef\xbb\xbf")


def _sniff_csl(path: Path) -> bool:
    head = _head(path)
    first = head.split(b"\n", 1)[0].replace(b'"', b"")
    return path.suffix.lower() == ".csv" and (
        first.startswith(b"_id,source,entity_number") or first.startswith(b"source,entity_number")
    )


def _sniff_ofac(path: Path) -> bool:
    try:
        ofac.files_in(path)
    except LoadError:
        return False
    return True


def _sniff_un(path: Path) -> bool:
    return b"<CONSOLIDATED_LIST" in _head(path, 4096)


def _sniff_eu_fsf(path: Path) -> bool:
    head = _head(path, 4096)
    return eu_fsf.NAMESPACE.encode() in head or b"<sanctionEntity" in head


def _sniff_dpl(path: Path) -> bool:
    return _head(path).replace(b'"', b"").startswith(b"Name\tStreet_Address")


def _sniff_senzing(path: Path) -> bool:
    head = _head(path)
    return head.startswith(b"{") and b'"DATA_SOURCE"' in head and b'"RECORD_ID"' in head


def _sniff_ftm(path: Path) -> bool:
    """FollowTheMoney JSON lines: the first line is an object with schema and properties."""
    if not path.is_file():
        return False
    with path.open("rb") as fh:
        first = fh.readline(1 << 20).lstrip(b"\xef\xbb\xbf")
    if not first.lstrip().startswith(b"{"):
        return False
    if not first.endswith(b"\n") and len(first) >= 1 << 20:  # a very long first entity
        return b'"schema"' in first and b'"properties"' in first
    try:
        record = json.loads(first)
    except ValueError:
        return False
    return isinstance(record, dict) and "schema" in record and "properties" in record


FORMATS: dict[str, Format] = {
    f.id: f
    for f in (
        Format("us_csl", csl.PARSER, csl.parse, _single, _sniff_csl),
        Format("ofac_legacy", ofac.PARSER, ofac.parse, ofac.set_files, _sniff_ofac),
        Format("un_xml", un.PARSER, un.parse, _single, _sniff_un),
        Format("eu_fsf", eu_fsf.PARSER, eu_fsf.parse, _single, _sniff_eu_fsf),
        Format("bis_dpl", dpl.PARSER, dpl.parse, _single, _sniff_dpl),
        Format("senzing", senzing.PARSER, senzing.parse, _single, _sniff_senzing),
        Format("ftm", ftm.PARSER, ftm.parse, _single, _sniff_ftm),
    )
}

_OFAC = "https://www.treasury.gov/ofac/downloads"

SOURCES: dict[str, Source] = {
    s.id: s
    for s in (
        Source(
            "us_csl",
            "US Consolidated Screening List (trade.gov)",
            FORMATS["us_csl"],
            "us_csl_*.csv",
            (
                RemoteFile(
                    "https://data.trade.gov/downloadable_consolidated_screening_list/v1/consolidated.csv",
                    "consolidated.csv",
                ),
            ),
        ),
        Source(
            "ofac_sdn",
            "OFAC Specially Designated Nationals (legacy CSV)",
            FORMATS["ofac_legacy"],
            "ofac_sdn_*",
            tuple(RemoteFile(f"{_OFAC}/{n}", n) for n in ofac.SDN_FILES),
        ),
        Source(
            "ofac_cons",
            "OFAC consolidated non-SDN lists (legacy CSV)",
            FORMATS["ofac_legacy"],
            "ofac_nonsdn_*",
            tuple(RemoteFile(f"{_OFAC}/consolidated/{n}", n) for n in ofac.CONS_FILES),
        ),
        Source(
            "un_sc",
            "UN Security Council consolidated list",
            FORMATS["un_xml"],
            "un_consolidated_*.xml",
            (
                RemoteFile(
                    "https://scsanctions.un.org/resources/xml/en/consolidated.xml",
                    "consolidated.xml",
                ),
            ),
        ),
        Source(
            "eu_fsf",
            "EU Financial Sanctions Files (consolidated)",
            FORMATS["eu_fsf"],
            "eu_fsf*.xml",
            (
                RemoteFile(
                    "https://webgate.ec.europa.eu/fsd/fsf/public/files/xmlFullSanctionsList_1_1/content?token=dG9rZW4tMjAxNw",
                    "eu_fsf.xml",
                ),
            ),
        ),
        Source(
            "bis_dpl",
            "BIS Denied Persons List",
            FORMATS["bis_dpl"],
            "bis_dpl_*.txt",
            (RemoteFile("https://www.bis.doc.gov/dpl/dpl.txt", "dpl.txt"),),
        ),
        Source(
            "os_us_congress",
            "US Congress members, PEPs (OpenSanctions, Senzing JSON)",
            FORMATS["senzing"],
            # The shared copy has no date; `econsec lists fetch` adds one.
            "opensanctions_us_congress_senzing*.json",
            (
                RemoteFile(
                    "https://data.opensanctions.org/datasets/latest/us_congress/senzing.json",
                    "senzing.json",
                ),
            ),
        ),
    )
}


def detect_format(path: Path) -> Format:
    """The format of a file or directory, recognised from its name and first bytes."""
    if not path.exists():
        raise LoadError(path, None, None, "no such file or directory")
    for fmt in FORMATS.values():
        if fmt.sniff(path):
            return fmt
    raise LoadError(
        path,
        None,
        None,
        "format not recognised; known formats: " + ", ".join(sorted(FORMATS)),
    )


def find_in_data_dir(source: Source, lists_dir: Path) -> Path | None:
    """The newest edition of a known source in a data folder, or None."""
    matches = sorted(lists_dir.glob(source.pattern))
    return matches[-1] if matches else None
