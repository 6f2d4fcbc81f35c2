"""SIGKILL in the middle of a write burst: no acknowledged write lost, nothing partial.

A real server process (``econsec exchange serve``) takes denials from a few
client threads; every 201 answer is recorded; the server's whole process group
is killed with SIGKILL mid-burst; a new server on the same database must hold
every acknowledged denial exactly as sent, no denial without its recipients,
exclusions and audit entry, an audit chain that verifies, and serve again.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from econsec.exchange import tempdb
from econsec.exchange.db import (
    URL_VARIABLE,
    AuditEntry,
    Denial,
    RecordExclusion,
    RecordRecipient,
    Role,
    database_url,
)
from econsec.exchange.service import Exchange

CLIENTS = 4
MARKINGS = ("GREEN", "AMBER", "RED", "CLEAR")


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield database_url(tmp_path / "exchange.sqlite")
        return
    server: tempdb.TempPostgres = request.getfixturevalue("postgres")
    name = server.create_database("kill")
    yield server.url(name)
    server.drop_database(name)


@dataclass
class Seed:
    token: str
    us_officer: int
    jp: int


def _seed(url: str) -> Seed:
    exchange = Exchange.connect(url)
    de = exchange.add_organisation("BAFA", "DE")
    us = exchange.add_organisation("BIS", "US")
    jp = exchange.add_organisation("METI", "JP")
    exchange.add_group("EU-US", [de, us])
    officer = exchange.add_user(de, "de-officer", Role.OFFICER)
    us_officer = exchange.add_user(us, "us-officer", Role.OFFICER)
    seed = Seed(exchange.issue_token(officer), us_officer, jp)
    exchange.engine.dispose()
    return seed


class Server:
    """``econsec exchange serve`` in its own process group, on a free port."""

    def __init__(self, url: str, log: Path) -> None:
        self.port = tempdb.free_port()
        econsec = Path(sys.executable).parent / "econsec"
        command = (
            [str(econsec)]
            if econsec.exists()
            else [sys.executable, "-c", "from econsec.cli.main import app; app()"]
        )
        self._log = log.open("ab")
        self.process = subprocess.Popen(
            [*command, "exchange", "serve", "--port", str(self.port), "--no-access-log"],
            env={**os.environ, URL_VARIABLE: url},
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.base = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"server exited: {log.read_text(errors='replace')[-2000:]}")
            try:
                if httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        self.kill()
        raise AssertionError("server did not answer /healthz within 60 s")

    def kill(self) -> None:
        """SIGKILL to the whole process group: no shutdown handler runs."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        self._log.close()


def _body(reference: str, n: int, seed: Seed) -> dict[str, Any]:
    marking = MARKINGS[n % len(MARKINGS)]
    return {
        "reference": reference,
        "decision_date": "2025-03-14",
        "control_entries": ["3A090.a", "4A090.a"],
        "item": "Data-centre GPU accelerator boards",
        "consignee": "Example Trading Co., Ltd",
        "end_user": "Example Supercomputing Centre",
        "destination": "CN",
        "reason": "Art. 4(1)(a) catch-all",
        "marking": marking,
        "recipients": [seed.us_officer] if marking == "RED" else [],
        "excluded_orgs": [seed.jp] if marking in ("AMBER", "CLEAR") else [],
    }


@dataclass
class Burst:
    acknowledged: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> body
    sent: dict[str, dict[str, Any]] = field(default_factory=dict)  # reference -> body
    lock: threading.Lock = field(default_factory=threading.Lock)
    unexpected: list[str] = field(default_factory=list)


def _client(server: Server, seed: Seed, burst: Burst, c: int, stop: threading.Event) -> None:
    headers = {"authorization": f"Bearer {seed.token}"}
    with httpx.Client(base_url=server.base, headers=headers, timeout=10) as client:
        n = 0
        while not stop.is_set():
            reference = f"C{c}-{n}"
            body = _body(reference, n, seed)
            with burst.lock:
                burst.sent[reference] = body
            try:
                answer = client.post("/v1/denials", json=body)
            except httpx.TransportError:
                return  # the server is gone: this write was never acknowledged
            if answer.status_code != 201:
                with burst.lock:
                    burst.unexpected.append(f"{answer.status_code} {answer.text}")
                return
            with burst.lock:
                burst.acknowledged[answer.json()["id"]] = body
            n += 1


def test_sigkill_mid_burst_loses_no_acknowledged_write(url: str, tmp_path: Path) -> None:
    seed = _seed(url)
    log = tmp_path / "server.log"
    server = Server(url, log)
    burst, stop = Burst(), threading.Event()
    clients = [
        threading.Thread(target=_client, args=(server, seed, burst, c, stop))
        for c in range(CLIENTS)
    ]
    for thread in clients:
        thread.start()
    deadline = time.monotonic() + 60
    while len(burst.acknowledged) < 40 and time.monotonic() < deadline:
        time.sleep(0.02)
    server.kill()  # mid-burst: the clients are still writing
    stop.set()
    for thread in clients:
        thread.join(timeout=30)
    assert not burst.unexpected, burst.unexpected
    assert len(burst.acknowledged) >= 40, "the burst did not get going"

    exchange = Exchange.connect(url)
    try:
        with exchange._sessions() as session:
            stored = {d.id: d for d in session.scalars(select(Denial))}
            recipients: dict[str, set[int]] = {}
            for r in session.scalars(select(RecordRecipient)):
                recipients.setdefault(r.record_id, set()).add(r.user_id)
            exclusions: dict[str, set[int]] = {}
            for e in session.scalars(select(RecordExclusion)):
                exclusions.setdefault(e.record_id, set()).add(e.org_id)
            created = {
                e.record_id
                for e in session.scalars(
                    select(AuditEntry).where(AuditEntry.action == "denial.create")
                )
            }
        # every acknowledged write is there, exactly as sent
        assert set(burst.acknowledged) <= set(stored)
        for denial_id, body in burst.acknowledged.items():
            denial = stored[denial_id]
            assert (denial.reference, denial.marking) == (body["reference"], body["marking"])
            assert denial.control_entries.split() == body["control_entries"]
        # nothing partial: every stored denial (acknowledged or caught by the kill
        # after its commit) is whole: recipients, exclusions and its audit entry
        assert len(stored) >= len(burst.acknowledged)
        for denial_id, denial in stored.items():
            body = burst.sent[denial.reference]
            assert recipients.get(denial_id, set()) == set(body["recipients"]), denial.reference
            assert exclusions.get(denial_id, set()) == set(body["excluded_orgs"]), denial.reference
            assert denial_id in created, denial.reference
        assert set(recipients) <= set(stored)
        assert set(exclusions) <= set(stored)
        verification = exchange.verify_audit()
        assert verification.ok, verification
    finally:
        exchange.engine.dispose()

    # and the server serves again, on the same database
    again = Server(url, log)
    try:
        headers = {"authorization": f"Bearer {seed.token}"}
        one = next(iter(burst.acknowledged))
        assert httpx.get(f"{again.base}/v1/denials/{one}", headers=headers).status_code == 200
        new = httpx.post(
            f"{again.base}/v1/denials", headers=headers, json=_body("after-restart", 0, seed)
        )
        assert new.status_code == 201, new.text
        listing = httpx.get(f"{again.base}/v1/denials?limit=1", headers=headers).json()
        assert listing["total"] == len(stored) + 1
    finally:
        again.kill()
