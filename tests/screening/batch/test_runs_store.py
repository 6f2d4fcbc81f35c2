"""store/runs.py: runs, screened counterparties and hits in the workspace."""

from __future__ import annotations

from dataclasses import replace

import pytest

from econsec.model import ListVersion
from econsec.model.record import (
    Counterparty,
    HitKey,
    HitKind,
    RunStatus,
    ScreenedHit,
    ScreeningRun,
)
from econsec.store import Workspace, WorkspaceError
from econsec.store.runs import (
    add_hits,
    add_screened,
    get_run,
    hits_for_run,
    list_runs,
    save_run,
    screened_for_run,
)

VERSION = ListVersion(
    version_id="us_csl@abc123",
    source="us_csl",
    label="US Consolidated Screening List",
    published="2026-07-31",
    content_hash="ab" * 32,
    entry_count=3,
    loaded_at="2026-08-01T00:00:00+00:00",
    origin="/data/us_csl.csv",
    parser="us_csl/1",
    active=True,
)


def _run(run_id: str, started: str, **changes: object) -> ScreeningRun:
    fields: dict[str, object] = {
        "run_id": run_id,
        "started_at": started,
        "finished_at": None,
        "input_file": "customers.csv",
        "input_sha256": "cd" * 32,
        "row_count": 2,
        "list_versions": (VERSION,),
        "algorithm": "name-v1",
        "threshold": 0.8,
        "status": RunStatus.RUNNING,
    }
    fields.update(changes)
    return ScreeningRun(**fields)  # type: ignore[arg-type]


def test_run_round_trip_and_update(workspace: Workspace) -> None:
    run = _run("r1", "2026-08-01T10:00:00+00:00")
    save_run(workspace, run)
    assert get_run(workspace, "r1") == run
    done = _run(
        "r1",
        "2026-08-01T10:00:00+00:00",
        status=RunStatus.COMPLETED,
        finished_at="2026-08-01T10:05:00+00:00",
        output_file="out.csv",
    )
    save_run(workspace, done)
    assert get_run(workspace, "r1") == done
    save_run(workspace, _run("r2", "2026-08-02T10:00:00+00:00", based_on_run="r1"))
    assert [r.run_id for r in list_runs(workspace)] == ["r2", "r1"]
    assert get_run(workspace, "r2").based_on_run == "r1"


def test_unknown_run_is_named(workspace: Workspace) -> None:
    with pytest.raises(WorkspaceError, match="'nope'"):
        get_run(workspace, "nope")
    save_run(workspace, _run("r1", "2026-08-01T10:00:00+00:00"))
    with pytest.raises(WorkspaceError, match="'nope'"):
        get_run(workspace, "nope")
    with pytest.raises(WorkspaceError, match="'nope'"):
        hits_for_run(workspace, "nope")
    with pytest.raises(WorkspaceError, match="'ghost'"):
        add_screened(workspace, "ghost", [Counterparty("1", "A")])
    assert list_runs(Workspace(workspace.home.parent / "empty")) == []


def test_screened_and_hits_in_order_across_calls(workspace: Workspace) -> None:
    save_run(workspace, _run("r1", "2026-08-01T10:00:00+00:00"))
    save_run(workspace, _run("r2", "2026-08-01T11:00:00+00:00"))
    first = [
        Counterparty("c2", "Huawei Technologies", "Organization", ("CN",)),
        Counterparty("c1", "Kim Jong Un", "Person", ("KP",), ("1984-01-08",), ("P:123",)),
    ]
    second = [Counterparty("c3", "Acme Ltd")]
    add_screened(workspace, "r1", first)
    add_screened(workspace, "r1", second)
    add_screened(workspace, "r2", second)
    assert screened_for_run(workspace, "r1") == first + second
    assert screened_for_run(workspace, "r2") == second
    with workspace.connect(read_only=True) as con:
        stored = con.execute(
            "SELECT content_hash FROM screened_counterparties WHERE run_id = 'r1' ORDER BY seq"
        ).fetchall()
    assert [r[0] for r in stored] == [c.content_hash() for c in first + second]

    def hit(run_id: str, cp: Counterparty, entity: str, score: float) -> ScreenedHit:
        return ScreenedHit(
            run_id=run_id,
            key=HitKey(cp.reference, cp.content_hash(), entity, "ef" * 32),
            kind=HitKind.NAME,
            score=score,
            matched_name="KIM, Jong Un",
            list="SDN",
            list_version_id=VERSION.version_id,
            explanation="name 1.000: kim, jong, un",
        )

    hits = [hit("r1", first[1], "ofac_sdn:20157", 1.0), hit("r2", second[0], "us_csl:x", 0.9)]
    add_hits(workspace, hits)
    more = [hit("r1", first[0], "us_csl:y", 0.85)]
    add_hits(workspace, more)
    assert hits_for_run(workspace, "r1") == [hits[0], more[0]]
    assert hits_for_run(workspace, "r2") == [hits[1]]


def test_bulk_insert_of_100k_rows(workspace: Workspace) -> None:
    save_run(workspace, _run("big", "2026-08-01T10:00:00+00:00", row_count=100_000))
    rows = [Counterparty(str(i), f"Name {i}", None, ("DE",)) for i in range(100_000)]
    add_screened(workspace, "big", rows)
    back = screened_for_run(workspace, "big")
    assert len(back) == 100_000
    assert back[0] == rows[0]
    assert back[-1] == rows[-1]


def test_failed_insert_leaves_nothing(workspace: Workspace) -> None:
    save_run(workspace, _run("r1", "2026-08-01T10:00:00+00:00"))
    bad = ScreenedHit(
        run_id="missing",
        key=HitKey("c1", "h", "e", "p"),
        kind=HitKind.NAME,
        score=1.0,
        matched_name="x",
        list="SDN",
        list_version_id="v",
        explanation="",
    )
    good = replace(bad, run_id="r1")
    with pytest.raises(WorkspaceError, match="'missing'"):
        add_hits(workspace, [good, bad])
    assert hits_for_run(workspace, "r1") == []
