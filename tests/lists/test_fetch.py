"""Downloading the official files (econsec.lists.fetch), replayed from recordings.

``tests/data/recorded/<source>/<file>`` holds small excerpts cut from the real
official files (see the README there), served through ``httpx.MockTransport``
at the sources' real URLs. Nothing here touches the network.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from conftest import TESTS_DATA
from econsec import __version__
from econsec.cli.lists import app as lists_app
from econsec.lists import LoadStatus, fetch, load, resolve
from econsec.lists.registry import SOURCES
from econsec.store import Workspace

RECORDED = TESTS_DATA / "recorded"
DAY = date(2026, 7, 31)
#: Parties in each recorded excerpt.
EXPECTED = {
    "us_csl": 20,
    "ofac_sdn": 14,
    "ofac_cons": 12,
    "un_sc": 5,
    "bis_dpl": 12,
    "os_us_congress": 5,
}
SAVED_AS = {
    "us_csl": "us_csl_2026-07-31.csv",
    "ofac_sdn": "ofac_sdn_2026-07-31",
    "ofac_cons": "ofac_nonsdn_2026-07-31",
    "un_sc": "un_consolidated_2026-07-31.xml",
    "bis_dpl": "bis_dpl_2026-07-31.txt",
    "os_us_congress": "opensanctions_us_congress_senzing_2026-07-31.json",
}
UN_URL = SOURCES["un_sc"].remote[0].url

Handler = Callable[[httpx.Request], httpx.Response]


def _recordings() -> dict[str, Path]:
    return {
        remote.url: RECORDED / source_id / remote.name
        for source_id in EXPECTED
        for remote in SOURCES[source_id].remote
    }


class Replay:
    """Serves the recordings at the official URLs; records every request."""

    def __init__(self, overrides: dict[str, Handler] | None = None) -> None:
        self.routes = _recordings()
        self.overrides = overrides or {}
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        url = str(request.url)
        if url in self.overrides:
            return self.overrides[url](request)
        path = self.routes.get(url)
        if path is None:
            return httpx.Response(404, text="not found")
        return httpx.Response(200, content=path.read_bytes())

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self))


def _listing(folder: Path) -> list[str]:
    """Every path under ``folder``, hidden ones included."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def test_recordings_are_small_real_excerpts() -> None:
    for path in _recordings().values():
        assert 0 < path.stat().st_size < 50_000, path


def test_fetch_then_load_every_source(workspace_home: Path) -> None:
    replay = Replay()
    with replay.client() as client:
        fetched = fetch.fetch(list(EXPECTED), client, workspace_home, DAY)
    lists = workspace_home / "downloads" / "lists"
    assert [f.target.path for f in fetched] == [lists / SAVED_AS[s] for s in EXPECTED]
    for item in fetched:
        # Saved byte for byte (the OFAC files keep their trailing 0x1A).
        for remote, path in zip(item.source.remote, item.files, strict=True):
            assert path.read_bytes() == (RECORDED / item.source.id / remote.name).read_bytes()
        assert item.size == sum(p.stat().st_size for p in item.files)
    assert (lists / "ofac_sdn_2026-07-31" / "sdn.csv").read_bytes().endswith(b"\x1a")
    assert not [p for p in lists.iterdir() if p.name.startswith(".")]

    # Every request identifies econsec.
    assert len(replay.requests) == sum(len(SOURCES[s].remote) for s in EXPECTED)
    assert {r.headers["user-agent"] for r in replay.requests} == {fetch.USER_AGENT}
    assert fetch.USER_AGENT.startswith(f"econsec/{__version__}")

    # The downloads folder is a data folder: the source ids resolve to the
    # downloaded files, and load() reads them like the shared files.
    workspace = Workspace()
    for item in fetched:
        assert resolve(item.source.id, fetch.downloads_dir(workspace_home)) == item.target
        result = load(item.target, workspace)
        assert result.status is LoadStatus.LOADED
        assert result.version.source == item.source.id
        assert result.version.entry_count == EXPECTED[item.source.id]
    versions = {v.source: v for v in workspace.versions(active_only=True)}
    assert set(versions) == set(EXPECTED)
    assert versions["us_csl"].published == "2026-07-31"  # from the file name
    assert versions["un_sc"].published == "2026-02-27"  # from the file itself


def test_fetch_follows_redirects(workspace_home: Path) -> None:
    mirror = "https://mirror.example.org/consolidated.xml"
    body = (RECORDED / "un_sc" / "consolidated.xml").read_bytes()
    replay = Replay(
        {
            UN_URL: lambda r: httpx.Response(302, headers={"Location": mirror}),
            mirror: lambda r: httpx.Response(200, content=body),
        }
    )
    with replay.client() as client:
        (item,) = fetch.fetch(["un_sc"], client, workspace_home, DAY)
    assert item.target.path.read_bytes() == body
    assert [str(r.url) for r in replay.requests] == [UN_URL, mirror]


def _fetch_and_load_un(home: Path, day: date) -> str:
    with Replay().client() as client:
        (item,) = fetch.fetch(["un_sc"], client, home, day)
    return load(item.target, Workspace()).version.version_id


@pytest.mark.parametrize("status", [404, 500, 503])
def test_http_error_keeps_previous_edition(workspace_home: Path, status: int) -> None:
    before = _fetch_and_load_un(workspace_home, date(2026, 7, 30))
    lists = workspace_home / "downloads" / "lists"
    files_before = _listing(lists)

    replay = Replay({UN_URL: lambda r: httpx.Response(status, text="<html>error</html>")})
    with replay.client() as client, pytest.raises(fetch.FetchError) as info:
        fetch.fetch(["un_sc"], client, workspace_home, DAY)
    message = str(info.value)
    assert UN_URL in message
    assert f"HTTP {status}" in message
    # No partial file, no staging folder; the earlier download and the active
    # version are untouched.
    assert _listing(lists) == files_before == ["un_consolidated_2026-07-30.xml"]
    assert [v.version_id for v in Workspace().versions(active_only=True)] == [before]


def test_failure_in_a_multi_file_set_saves_none_of_it(workspace_home: Path) -> None:
    with Replay().client() as client:
        (previous,) = fetch.fetch(["ofac_sdn"], client, workspace_home, date(2026, 7, 30))
    alt_url = next(r.url for r in SOURCES["ofac_sdn"].remote if r.name == "alt.csv")
    replay = Replay({alt_url: lambda r: httpx.Response(500)})
    with replay.client() as client, pytest.raises(fetch.FetchError, match="HTTP 500"):
        fetch.fetch(["ofac_sdn"], client, workspace_home, DAY)
    lists = workspace_home / "downloads" / "lists"
    assert sorted(p.name for p in lists.iterdir()) == ["ofac_sdn_2026-07-30"]
    assert all(p.read_bytes() for p in previous.files)


def test_network_error_is_reported_with_the_url(workspace_home: Path) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with (
        Replay({UN_URL: refuse}).client() as client,
        pytest.raises(fetch.FetchError) as info,
    ):
        fetch.fetch(["un_sc"], client, workspace_home, DAY)
    assert UN_URL in str(info.value)
    assert "ConnectError" in str(info.value)
    assert _listing(workspace_home / "downloads" / "lists") == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<html><body>Service temporarily unavailable</body></html>", "expected 'un_xml'"),
        (b"", "empty response"),
    ],
)
def test_unexpected_content_is_not_saved(workspace_home: Path, body: bytes, message: str) -> None:
    replay = Replay({UN_URL: lambda r: httpx.Response(200, content=body)})
    with replay.client() as client, pytest.raises(fetch.FetchError, match=message):
        fetch.fetch(["un_sc"], client, workspace_home, DAY)
    assert _listing(workspace_home / "downloads" / "lists") == []


def _serve(body: bytes) -> Handler:
    return lambda request: httpx.Response(200, content=body)


def test_refetch_on_the_same_day_replaces_the_edition(workspace_home: Path) -> None:
    csl_url = SOURCES["us_csl"].remote[0].url
    full = (RECORDED / "us_csl" / "consolidated.csv").read_bytes()
    short = b"\n".join(full.split(b"\n")[:3]) + b"\n"
    for body in (short, full):
        replay = Replay({csl_url: _serve(body)})
        with replay.client() as client:
            fetch.fetch(["us_csl", "ofac_cons"], client, workspace_home, DAY)
    lists = workspace_home / "downloads" / "lists"
    assert (lists / "us_csl_2026-07-31.csv").read_bytes() == full
    ofac_files = sorted(f"ofac_nonsdn_2026-07-31/{r.name}" for r in SOURCES["ofac_cons"].remote)
    assert _listing(lists) == ["ofac_nonsdn_2026-07-31", *ofac_files, "us_csl_2026-07-31.csv"]


def test_unknown_source() -> None:
    with pytest.raises(fetch.FetchError, match=r"unknown source 'nope'; known sources: us_csl"):
        fetch.fetchable_sources(["nope"])
    assert {s.id for s in fetch.fetchable_sources(None)} >= set(EXPECTED)


# -- CLI -----------------------------------------------------------------------------


@pytest.fixture
def replayed_cli(monkeypatch: pytest.MonkeyPatch) -> Replay:
    replay = Replay()
    monkeypatch.setattr(fetch, "make_client", replay.client)
    return replay


def test_cli_fetch_loads(workspace_home: Path, replayed_cli: Replay) -> None:
    result = CliRunner().invoke(lists_app, ["fetch", "un_sc", "bis_dpl"])
    assert result.exit_code == 0, result.output
    versions = {v.source: v.entry_count for v in Workspace().versions(active_only=True)}
    assert versions == {"un_sc": 5, "bis_dpl": 12}
    assert len(replayed_cli.requests) == 2


def test_cli_fetch_no_load_then_load(
    workspace_home: Path, replayed_cli: Replay, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = CliRunner()
    result = runner.invoke(lists_app, ["fetch", "ofac_cons", "--no-load"])
    assert result.exit_code == 0, result.output
    assert Workspace().versions() == []
    # Without a shared data folder, `lists load` reads what was fetched.
    monkeypatch.setattr("econsec.cli.lists.data_dir", lambda: None)
    result = runner.invoke(lists_app, ["load", "ofac_cons"])
    assert result.exit_code == 0, result.output
    (version,) = Workspace().versions(active_only=True)
    assert version.source == "ofac_cons"
    assert version.entry_count == 12
    assert "downloads/lists/ofac_nonsdn_" in version.origin


def test_cli_fetch_failure_exits_nonzero(
    workspace_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    replay = Replay({UN_URL: lambda r: httpx.Response(500)})
    monkeypatch.setattr(fetch, "make_client", replay.client)
    result = CliRunner().invoke(lists_app, ["fetch", "un_sc", "bis_dpl"])
    assert result.exit_code == 1
    assert "HTTP 500" in result.output
    # The other source was still fetched and loaded.
    assert [v.source for v in Workspace().versions(active_only=True)] == ["bis_dpl"]
    result = CliRunner().invoke(lists_app, ["fetch", "nope"])
    assert result.exit_code == 1
    assert "unknown source" in result.output
