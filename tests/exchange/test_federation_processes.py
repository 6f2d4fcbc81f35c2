"""Federation between two real server processes on loopback (``econsec exchange serve``).

Each instance has its own SQLite database and server on a free port; push and
pull run as ``econsec exchange federate …`` commands over real HTTP.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from econsec.exchange.db import URL_VARIABLE, Role
from econsec.exchange.federation import Federation
from econsec.exchange.service import Exchange

ECONSEC = str(Path(sys.executable).parent / "econsec")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != URL_VARIABLE}
    env["COLUMNS"] = "160"
    return env


@dataclass
class Server:
    name: str
    db: Path
    url: str
    tokens: dict[str, str]

    def get(self, user: str, path: str) -> Any:
        response = httpx.get(
            self.url + path, headers={"authorization": f"Bearer {self.tokens[user]}"}
        )
        assert response.status_code == 200, response.text
        return response.json()

    def post(self, user: str, path: str, body: dict[str, Any]) -> Any:
        response = httpx.post(
            self.url + path, json=body, headers={"authorization": f"Bearer {self.tokens[user]}"}
        )
        assert response.status_code in (200, 201), response.text
        return response.json()

    def federate(self, direction: str, peer: str) -> dict[str, int]:
        done = subprocess.run(
            [ECONSEC, "exchange", "federate", direction, peer, "--db", str(self.db)],
            capture_output=True,
            text=True,
            env=_env(),
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        outcomes: dict[str, int] = json.loads(done.stdout)["outcomes"]
        return outcomes

    def seen(self, user: str) -> dict[str, dict[str, Any]]:
        return {i["reference"]: i for i in self.get(user, "/v1/denials")["items"]}


def _wait(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server for {url} exited with {process.returncode}")
        try:
            if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"server {url} did not start")


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[tuple[Server, Server]]:
    ports = {"eu": _free_port(), "us": _free_port()}
    urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    eu_x, us_x = Exchange.open(tmp_path / "eu.sqlite"), Exchange.open(tmp_path / "us.sqlite")
    eu_f, us_f = Federation(eu_x), Federation(us_x)
    eu_f.set_instance("eu")
    us_f.set_instance("us")
    bafa = eu_x.add_organisation("BAFA", "DE")
    eu_group = eu_x.add_group("to-US", [bafa])
    bis = us_x.add_organisation("BIS", "US")
    ddtc = us_x.add_organisation("DDTC", "US")
    us_group = us_x.add_group("from-EU", [bis])
    eu = Server(
        "eu",
        tmp_path / "eu.sqlite",
        urls["eu"],
        {"de": eu_x.issue_token(eu_x.add_user(bafa, "de-officer", Role.OFFICER))},
    )
    us = Server(
        "us",
        tmp_path / "us.sqlite",
        urls["us"],
        {
            "bis": us_x.issue_token(us_x.add_user(bis, "bis-officer", Role.OFFICER)),
            "ddtc": us_x.issue_token(us_x.add_user(ddtc, "ddtc-officer", Role.OFFICER)),
        },
    )
    _, for_us = eu_f.add_peer(
        "us", urls["us"], "US", send_markings=["GREEN", "AMBER"], send_group=eu_group
    )
    _, for_eu = us_f.add_peer("eu", urls["eu"], "EU", token=for_us, receive_group=us_group)
    eu_f.update_peer("us", token=for_eu)
    eu_x.engine.dispose()
    us_x.engine.dispose()
    processes = [
        subprocess.Popen(
            [ECONSEC, "exchange", "serve", "--db", str(s.db), "--port", str(ports[s.name])],
            env=_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for s in (eu, us)
    ]
    try:
        for server, process in zip((eu, us), processes, strict=True):
            _wait(server.url, process)
        yield eu, us
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _denial(reference: str, marking: str, **extra: Any) -> dict[str, Any]:
    return {
        "reference": reference,
        "decision_date": "2025-03-14",
        "control_entries": ["3A090.a"],
        "item": "Data-centre GPU accelerator boards",
        "consignee": "Shenzhen Example Trading Co., Ltd",
        "end_user": "Example Supercomputing Centre",
        "destination": "CN",
        "reason": "Art. 4(1)(a) catch-all",
        "marking": marking,
        **extra,
    }


def _alert(name: str, marking: str, **extra: Any) -> dict[str, Any]:
    return {
        "kind": "proposed_listing",
        "name": name,
        "country": "AE",
        "list": "EU Annex IV",
        "reason": "Procures 3A090 items for a listed end user",
        "marking": marking,
        **extra,
    }


def test_two_server_processes_push_and_pull(servers: tuple[Server, Server]) -> None:
    eu, us = servers
    eu.post("de", "/v1/denials", _denial("G", "GREEN"))
    amber = eu.post("de", "/v1/denials", _denial("A", "AMBER", sharing_group=1))
    eu.post("de", "/v1/denials", _denial("AS", "AMBER+STRICT"))
    # alerts travel beside the denials, under the same rules
    eu.post("de", "/v1/alerts", _alert("Listing G", "GREEN"))
    listing = eu.post("de", "/v1/alerts", _alert("Listing A", "AMBER", sharing_group=1))
    eu.post("de", "/v1/alerts", _alert("Listing AS", "AMBER+STRICT"))
    # pull: the US fetches the EU feed over HTTP
    assert us.federate("pull", "eu") == {"created": 4}
    assert us.federate("pull", "eu") == {}
    seen = us.seen("bis")
    assert sorted(seen) == ["A", "G"]
    assert seen["A"]["marking"] == "AMBER"
    assert sorted(us.seen("ddtc")) == ["G"]
    alerts = {a["payload"]["name"]: a for a in us.get("bis", "/v1/alerts")["items"]}
    assert sorted(alerts) == ["Listing A", "Listing G"]
    assert (alerts["Listing A"]["marking"], alerts["Listing A"]["subject"]) == (
        "AMBER",
        "Listing A (EU Annex IV)",
    )
    assert [a["payload"]["name"] for a in us.get("ddtc", "/v1/alerts")["items"]] == ["Listing G"]
    # push: the EU renews the AMBER denial, lowers the AMBER alert to GREEN, pushes
    eu.post("de", f"/v1/denials/{amber['id']}/renew", {"on": "2027-01-10"})
    lowered = httpx.patch(
        f"{eu.url}/v1/alerts/{listing['id']}/marking",
        json={"marking": "GREEN"},
        headers={"authorization": f"Bearer {eu.tokens['de']}"},
    )
    assert lowered.status_code == 200, lowered.text
    assert eu.federate("push", "us") == {"unchanged": 2, "updated": 2}
    assert eu.federate("push", "us") == {}
    assert us.seen("bis")["A"]["expires_on"] == "2030-01-10"
    ddtc_alerts = us.get("ddtc", "/v1/alerts")["items"]
    assert sorted((a["payload"]["name"], a["marking"]) for a in ddtc_alerts) == [
        ("Listing A", "GREEN"),
        ("Listing G", "GREEN"),
    ]
    assert us.federate("pull", "eu") == {"unchanged": 2}
