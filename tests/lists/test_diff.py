"""List diff on real CSL editions: added, removed and changed entries, field by field."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from conftest import shared_file
from econsec.lists import csl
from econsec.lists.diff import diff_json, diff_versions


def _rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), list(reader)


@pytest.fixture(scope="module")
def csl_rows() -> tuple[list[str], list[dict[str, str]]]:
    return _rows(shared_file("lists/us_csl_2026-07-31.csv"))


def test_modified_copy_of_the_csl(
    tmp_path: Path, csl_rows: tuple[list[str], list[dict[str, str]]]
) -> None:
    header, rows = csl_rows
    rows = [dict(r) for r in rows]
    dropped = [rows[5]["_id"], rows[6]["_id"]]
    edited = rows[10]
    old_name = edited["name"]
    edited_id = edited["_id"]
    edited["name"] = old_name + " HOLDINGS"
    edited["addresses"] = "IR"
    added = dict(rows[20], _id="f" * 56, name="NEWLY LISTED TRADING FZE", entity_number="999999")
    new_rows = [r for r in rows if r["_id"] not in dropped] + [added]
    # Moving an entry to another line changes nothing about it.
    new_rows.insert(0, new_rows.pop(100))
    path = tmp_path / "us_csl_modified.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=header, quoting=csv.QUOTE_ALL)
        writer.writeheader()
        writer.writerows(new_rows)
    old = csl.parse(shared_file("lists/us_csl_2026-07-31.csv")).parties
    new = csl.parse(path).parties
    diff = diff_versions(old, new)
    assert sorted(p.entity_id for p in diff.removed) == sorted(f"us_csl:{i}" for i in dropped)
    assert [p.entity_id for p in diff.added] == ["us_csl:" + "f" * 56]
    assert [c.entity_id for c in diff.changed] == [f"us_csl:{edited_id}"]
    changes = {f.field: f for f in diff.changed[0].changes}
    assert changes["name"].added == (old_name + " HOLDINGS",)
    assert changes["name"].removed == (old_name,)
    assert "countries" in changes
    assert changes["countries"].added == ("IR",)
    assert diff.unchanged == len(old) - 3
    assert not diff.empty
    data = diff_json(diff, "old", "new")
    assert data["counts"] == {
        "added": 1,
        "removed": 2,
        "changed": 1,
        "unchanged": len(old) - 3,
    }
    assert data["changed"][0]["changes"][0]["field"] == "name"


def test_same_edition_has_no_changes() -> None:
    parties = csl.parse(
        shared_file("lists/us_csl_format_samples/consolidated_2025_sample.csv")
    ).parties
    diff = diff_versions(parties, parties)
    assert diff.empty
    assert diff.unchanged == len(parties)


def test_the_two_format_samples() -> None:
    old = csl.parse(shared_file("lists/us_csl_format_samples/csl_2019_sample.csv")).parties
    new = csl.parse(shared_file("lists/us_csl_format_samples/consolidated_2025_sample.csv")).parties
    diff = diff_versions(old, new)
    # The 2019 layout has no entry id column: its ids are derived, so no entry carries over.
    assert len(diff.added) + len(diff.changed) + diff.unchanged == len(new)
    assert len(diff.removed) + len(diff.changed) + diff.unchanged == len(old)
    assert {p.entity_id for p in diff.added} == {p.entity_id for p in new} - {
        p.entity_id for p in old
    }
