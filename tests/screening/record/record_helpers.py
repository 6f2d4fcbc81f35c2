"""Shared by the compliance-record tests: screening runs recorded from real screening.

A run is recorded the way batch screening records one (through
``econsec.store.runs``): the counterparty file is written and hashed, every
counterparty is screened with a real :class:`Screener`, and each hit is keyed
by the counterparty's content hash and the real list entry's content hash.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import lxml.html
from lxml.html import HtmlElement

from conftest import TESTS_DATA
from econsec.lists.load import load, resolve
from econsec.model.record import (
    Counterparty,
    HitKey,
    HitKind,
    RunStatus,
    ScreenedHit,
    ScreeningRun,
    party_content_hash,
)
from econsec.screening import ALGORITHM, Screener, build_query
from econsec.store import Workspace
from econsec.store.runs import add_hits, add_screened, save_run

#: Real bytes of the BIS Denied Persons List (header and first 12 rows).
DPL_EXCERPT = TESTS_DATA / "recorded" / "bis_dpl" / "dpl.txt"
#: A real DPL entry of that excerpt, and a counterparty that is the same person.
DPL_NAME = "AARON ABRAHAM VILLA"
DPL_STREET = '"3415 RIVERA AVENUE"'


def load_dpl_edition(
    workspace: Workspace, folder: Path, edit: Callable[[str], str] | None = None
) -> Screener:
    """Load the DPL excerpt (optionally edited, as a later edition would be) and
    return a screener over the workspace's active lists."""
    text = DPL_EXCERPT.read_text(encoding="utf-8")
    if edit is not None:
        edited = edit(text)
        assert edited != text, "the edit changed nothing"
        text = edited
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "bis_dpl_2022-09.txt"
    path.write_text(text, encoding="utf-8")
    load(resolve(str(path), None), workspace)
    return Screener.from_workspace(workspace)


def screened_hits(screener: Screener, run_id: str, cp: Counterparty) -> list[ScreenedHit]:
    query = build_query(cp.name, cp.schema, cp.countries, cp.dates_of_birth)
    result = screener.screen(query)
    versions = {v.source: v.version_id for v in result.list_versions}
    return [
        ScreenedHit(
            run_id=run_id,
            key=HitKey(
                cp.reference, cp.content_hash(), h.party.entity_id, party_content_hash(h.party)
            ),
            kind=HitKind.NAME,
            score=h.match.score,
            matched_name=h.match.matched_name,
            list=h.party.list,
            list_version_id=versions[h.party.source],
            explanation="; ".join(f"{f.feature}: {f.detail}" for f in h.match.features),
        )
        for h in result.hits
    ]


def record_run(
    workspace: Workspace,
    screener: Screener,
    counterparties: Sequence[Counterparty],
    run_id: str,
    folder: Path,
    started_at: str = "2026-08-03T09:00:00+00:00",
) -> tuple[ScreeningRun, list[ScreenedHit]]:
    """Write the counterparty file, screen it and record the run, its rows and its hits."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{run_id}.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["reference", "name", "country", "dob"])
        for cp in counterparties:
            writer.writerow(
                [cp.reference, cp.name, ";".join(cp.countries), ";".join(cp.dates_of_birth)]
            )
    running = ScreeningRun(
        run_id=run_id,
        started_at=started_at,
        finished_at=None,
        input_file=str(path),
        input_sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
        row_count=len(counterparties),
        list_versions=screener.versions,
        algorithm=ALGORITHM,
        threshold=0.8,
        status=RunStatus.RUNNING,
    )
    save_run(workspace, running)
    hits = [h for cp in counterparties for h in screened_hits(screener, run_id, cp)]
    add_screened(workspace, run_id, counterparties)
    add_hits(workspace, hits)
    done = replace(running, status=RunStatus.COMPLETED, finished_at=started_at)
    save_run(workspace, done)
    return done, hits


def parse_html(text: str) -> HtmlElement:
    doc = lxml.html.fromstring(text)
    assert isinstance(doc, HtmlElement)
    return doc


def elements(node: HtmlElement, xpath: str) -> list[HtmlElement]:
    """The elements an XPath selects (it must select elements only)."""
    found = node.xpath(xpath)
    assert isinstance(found, list)
    out = [e for e in found if isinstance(e, HtmlElement)]
    assert len(out) == len(found), f"{xpath} selected non-elements"
    return out
