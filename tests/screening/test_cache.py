"""The screener cache: same answers after a round trip, rebuilt whenever it is stale."""

from __future__ import annotations

import logging
import pickle
from pathlib import Path

import pytest

from conftest import TESTS_DATA
from econsec.lists import load, resolve
from econsec.model import Schema
from econsec.screening import cache
from econsec.screening.screen import Screener, build_query
from econsec.store import Workspace

QUERIES = [
    ("Kim Jong Un", "Person"),
    ("김정은", None),  # symbols pair across scripts: needs rigour's analysis of the entry
    ("Рособоронэкспорт", None),
    ("Osama bin Laden", "Person"),
    ("Huawei Technologies", None),
    ("PMC Wagner", None),
]


def _answers(screener: Screener) -> list[list[tuple[str, float, str]]]:
    out = []
    for name, schema in QUERIES:
        result = screener.screen(build_query(name, schema=schema, limit=20))
        hits = result.hits
        out.append([(h.party.entity_id, h.match.score, repr(h.match.features)) for h in hits])
    return out


def test_a_cached_screener_gives_the_same_answers(screener: Screener, tmp_path: Path) -> None:
    path = tmp_path / "screener.pickle"
    cache.save(screener, path)
    with path.open("rb") as fh:
        restored = pickle.load(fh)
    assert isinstance(restored, Screener)
    assert restored.versions == screener.versions
    assert restored.form_count == screener.form_count
    # The restored forms carry no rigour analysis; it is redone on demand.
    assert all(f.name is None for f in restored._forms[:100])
    answers = _answers(restored)
    assert answers == _answers(screener)
    assert any(answers)


@pytest.fixture
def small(tmp_path: Path) -> Workspace:
    workspace = Workspace(tmp_path / "workspace")
    load(resolve(str(TESTS_DATA / "eu_fsf_sample.xml"), None), workspace)
    return workspace


def _cache_files(workspace: Workspace) -> list[Path]:
    return sorted((workspace.home / "cache").glob("screener-*.pickle"))


def test_built_once_then_read(small: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    first = cache.cached_screener(small)
    assert len(_cache_files(small)) == 1

    def no_build(workspace: Workspace) -> Screener:
        raise AssertionError("rebuilt although the cache is current")

    monkeypatch.setattr(Screener, "from_workspace", staticmethod(no_build))
    second = cache.cached_screener(small)
    assert second is not first
    assert [p.entity_id for p in second.parties] == [p.entity_id for p in first.parties]


def test_a_new_list_version_makes_a_new_cache(small: Workspace) -> None:
    cache.cached_screener(small)
    before = _cache_files(small)
    load(resolve(str(TESTS_DATA / "recorded" / "bis_dpl" / "dpl.txt"), None), small)
    rebuilt = cache.cached_screener(small)
    after = _cache_files(small)
    assert len(after) == 1
    assert after != before  # the old key's file is gone
    assert {v.source for v in rebuilt.versions} == {"eu_fsf", "bis_dpl"}


def test_the_key_follows_versions_and_algorithm(small: Workspace) -> None:
    versions = small.versions(active_only=True)
    assert cache.cache_key(versions) == cache.cache_key(list(reversed(versions)))
    assert cache.cache_key(versions) != cache.cache_key([])


def test_a_damaged_cache_is_rebuilt(small: Workspace, caplog: pytest.LogCaptureFixture) -> None:
    cache.cached_screener(small)
    (path,) = _cache_files(small)
    path.write_bytes(b"not a pickle")
    with caplog.at_level(logging.WARNING):
        screener = cache.cached_screener(small)
    assert "unreadable screener cache" in caplog.text
    hits = screener.screen(build_query("Dmitry Volkovskiy", schema=Schema.PERSON.value)).hits
    assert [h.party.entity_id for h in hits] == ["eu_fsf:EU.9102.22"]
    assert _cache_files(small)[0].read_bytes()[:1] == b"\x80"  # a pickle again
