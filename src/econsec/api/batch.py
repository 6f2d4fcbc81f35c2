"""Batch endpoints: POST /v1/batch, GET /v1/batch/{id}, GET /v1/batch/{id}/result.

The counterparty file is sent as the request body (``curl --data-binary
@customers.csv``; ``filename`` tells CSV from Parquet), so no multipart parser
is needed. The job runs in a background thread over the server's screener and
is kept under ``<workspace>/batch/<job id>/`` (input, status, results), so its
status and result survive a restart of the server; every job is also recorded
as a screening run in the workspace like a CLI batch.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from datetime import date
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import FileResponse

from econsec.api.state import AppState
from econsec.screening.batch import BatchError, BatchSettings, OutputFormat, batch_screen
from econsec.screening.counterparties import CounterpartyError, read_counterparties
from econsec.screening.screen import Screener, ScreeningError
from econsec.store import WorkspaceError

router = APIRouter(prefix="/v1", tags=["batch"])
#: Largest accepted upload (bytes).
MAX_UPLOAD = 512 * 1024 * 1024
_JOB_ID = re.compile(r"^[0-9a-f]{32}$")
_lock = threading.Lock()


def _state(request: Request) -> AppState:
    state: AppState = request.app.state.econsec
    return state


def _folder(state: AppState, job_id: str) -> Path:
    if not _JOB_ID.match(job_id):
        raise HTTPException(status_code=404, detail=f"no batch job {job_id!r}")
    return state.workspace.home / "batch" / job_id


def _write_status(folder: Path, status: dict[str, Any]) -> None:
    tmp = folder / "status.json.tmp"
    with _lock:
        tmp.write_text(json.dumps(status, indent=2), encoding="utf-8")
        tmp.replace(folder / "status.json")


def _read_status(folder: Path, job_id: str) -> dict[str, Any]:
    path = folder / "status.json"
    if not path.exists():
        raise HTTPException(status_code=404, detail=f"no batch job {job_id!r}")
    with _lock:
        status: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return status


def _run_job(
    state: AppState,
    screener: Screener,
    folder: Path,
    status: dict[str, Any],
    settings: BatchSettings,
) -> None:
    source_path = folder / status["input"]
    out = folder / f"result.{status['format']}"

    def progress(done: int, total: int) -> None:
        status.update(state="running", done=done, total=total)
        _write_status(folder, status)

    try:
        summary = batch_screen(
            state.workspace,
            source_path,
            out,
            settings=settings,
            fmt=OutputFormat(status["format"]),
            skip_bad=status["skip_bad"],
            screener=screener,
            progress=progress,
        )
    except (BatchError, CounterpartyError, ScreeningError, WorkspaceError, OSError) as exc:
        status.update(state="failed", error=str(exc))
        _write_status(folder, status)
        return
    except Exception as exc:  # reported on the job, never lost in a thread
        status.update(state="failed", error=f"internal error: {exc!r}")
        _write_status(folder, status)
        raise
    status.update(
        state="completed",
        run_id=summary.run.run_id,
        results=summary.results,
        hits=summary.hits,
        errors=summary.errors,
        list_versions=[v.version_id for v in summary.run.list_versions],
        algorithm=summary.run.algorithm,
        threshold=summary.run.threshold,
        seconds=round(summary.seconds, 3),
    )
    _write_status(folder, status)


@router.post("/batch", status_code=202)
async def submit(
    request: Request,
    filename: Annotated[str, Query(description="Name of the file sent (.csv or .parquet).")],
    output: Annotated[OutputFormat, Query(alias="format")] = OutputFormat.jsonl,
    threshold: Annotated[float | None, Query(ge=0.0, le=1.0)] = None,
    lists: Annotated[list[str] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
    skip_bad: bool = False,
    on: Annotated[date | None, Query(alias="date")] = None,
) -> dict[str, Any]:
    """Submit a counterparty file (the request body) for batch screening; returns the job id."""
    suffix = Path(filename).suffix.lower()
    if suffix not in (".csv", ".tsv", ".parquet"):
        raise HTTPException(status_code=422, detail="filename: expected .csv, .tsv or .parquet")
    body = await request.body()
    if not body:
        raise HTTPException(status_code=422, detail="body: empty; send the file as the body")
    if len(body) > MAX_UPLOAD:
        raise HTTPException(status_code=413, detail=f"body: larger than {MAX_UPLOAD} bytes")
    state = _state(request)
    try:
        screener = state.screener()
    except WorkspaceError as exc:
        raise HTTPException(status_code=503, detail=str(exc)) from None
    job_id = uuid.uuid4().hex
    folder = _folder(state, job_id)
    folder.mkdir(parents=True)
    source = folder / f"input{suffix}"
    source.write_bytes(body)
    try:
        # Validate now, so a bad file is answered at once and names row and field.
        read_counterparties(source, skip_bad=skip_bad)
    except CounterpartyError as exc:
        detail = str(exc).replace(str(source), filename)
        raise HTTPException(status_code=422, detail=detail) from None
    settings = BatchSettings(
        threshold=threshold,
        lists=tuple(x.strip() for i in lists or () for x in i.split(",") if x.strip()),
        limit=limit,
        workers=1,
        on=on,
    )
    status: dict[str, Any] = {
        "job_id": job_id,
        "state": "queued",
        "filename": filename,
        "input": source.name,
        "format": output.value,
        "skip_bad": skip_bad,
        "done": 0,
        "total": None,
    }
    _write_status(folder, status)
    threading.Thread(
        target=_run_job,
        args=(state, screener, folder, status, settings),
        name=f"batch-{job_id}",
        daemon=True,
    ).start()
    return {
        "job_id": job_id,
        "status": f"/v1/batch/{job_id}",
        "result": f"/v1/batch/{job_id}/result",
    }


@router.get("/batch/{job_id}")
def job_status(job_id: str, request: Request) -> dict[str, Any]:
    """State (queued, running, completed, failed), progress and, when done, the run."""
    return _read_status(_folder(_state(request), job_id), job_id)


@router.get("/batch/{job_id}/result", response_model=None)
def job_result(job_id: str, request: Request) -> FileResponse:
    """The results file (JSON lines, CSV or Parquet, as asked at submission)."""
    folder = _folder(_state(request), job_id)
    status = _read_status(folder, job_id)
    if status["state"] != "completed":
        raise HTTPException(
            status_code=409,
            detail=f"batch job {job_id} is {status['state']}"
            + (f": {status['error']}" if status.get("error") else ""),
        )
    media = {
        "jsonl": "application/x-ndjson",
        "csv": "text/csv",
        "parquet": "application/vnd.apache.parquet",
    }[status["format"]]
    path = folder / f"result.{status['format']}"
    return FileResponse(path, media_type=media, filename=f"{job_id}.{status['format']}")
