"""`econsec screen` and `econsec compare`, run through the real command line app.

The commands find their workspace through ECONSEC_HOME, as a user's would. A
`screen` builds a screener over the whole workspace (seconds), so here it gets
the session's screener, after checking that it asked for the right workspace.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

import econsec.cli.screening as cli_screening
from econsec.cli.main import app
from econsec.model import Schema
from econsec.screening.screen import Screener, ScreeningError, build_query, compare
from econsec.store import Workspace

pytestmark = pytest.mark.slow


class Econsec:
    """Runs `econsec …` and records which workspaces the screen command opened."""

    def __init__(self) -> None:
        self.opened: list[Path] = []

    def __call__(self, *args: str) -> Result:
        result = CliRunner().invoke(app, list(args))
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result


@pytest.fixture
def run(
    loaded_workspace: Workspace, screener: Screener, monkeypatch: pytest.MonkeyPatch
) -> Econsec:
    """`econsec` with ECONSEC_HOME set to the loaded workspace."""
    monkeypatch.setenv("ECONSEC_HOME", str(loaded_workspace.home))
    econsec = Econsec()

    def cached_screener(workspace: Workspace) -> Screener:
        econsec.opened.append(workspace.db_path)
        if workspace.db_path != loaded_workspace.db_path:
            raise AssertionError(f"screened {workspace.db_path}, not ECONSEC_HOME")
        return screener

    monkeypatch.setattr(cli_screening, "cached_screener", cached_screener)
    return econsec


def _flat(text: str) -> str:
    """Output with rich's line wrapping undone."""
    return " ".join(text.split())


def _json(result: Result) -> dict[str, Any]:
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


# -- screen ------------------------------------------------------------------------


def test_screen_json_shape_and_content(run: Econsec, loaded_workspace: Workspace) -> None:
    data = _json(run("screen", "Kim Jong Un", "--format", "json"))
    assert run.opened == [loaded_workspace.db_path]
    assert {"query", "results", "list_versions"} <= set(data)
    assert data["query"]["name"] == "Kim Jong Un"
    top = data["results"][0]
    assert {"entity_id", "list", "name", "matched_name", "score", "explanation"} <= set(top)
    assert top["entity_id"] == "ofac_sdn:20157"
    assert top["list"] == "SDN"
    assert top["name"] == top["matched_name"] == "KIM, Jong Un"
    assert top["score"] == 1.0
    feature = top["explanation"][0]
    assert set(feature) == {"feature", "score", "effect", "detail"}
    assert feature["feature"] == "name"
    assert "kim jong un" in feature["detail"]
    active = loaded_workspace.versions(active_only=True)
    assert [v["version_id"] for v in data["list_versions"]] == [v.version_id for v in active]
    assert all(r["score"] >= data["threshold"] for r in data["results"])


def test_screen_options_reach_the_query_and_the_explanation(run: Econsec) -> None:
    data = _json(
        run(
            "screen",
            "Kim Jong Un",
            "--schema",
            "Person",
            "--country",
            "North Korea",
            "--dob",
            "1984-01-08",
            "--lists",
            "SDN",
            "--threshold",
            "0.9",
            "--limit",
            "1",
            "--format",
            "json",
        )
    )
    assert data["query"] == {
        "name": "Kim Jong Un",
        "schema": "Person",
        "countries": ["KP"],
        "dates_of_birth": ["1984-01-08"],
        "lists": ["SDN"],
        "threshold": 0.9,
        "limit": 1,
    }
    assert data["threshold"] == 0.9
    [hit] = data["results"]
    assert hit["entity_id"] == "ofac_sdn:20157"
    features = {f["feature"]: f for f in hit["explanation"]}
    assert set(features) == {"name", "date_of_birth", "country", "schema"}
    assert features["date_of_birth"]["detail"] == "1984-01-08 vs 1984-01-08: same date"
    assert features["country"]["detail"] == "shared: KP"
    assert features["date_of_birth"]["effect"] > 0


def test_screen_lists_option_filters(run: Econsec) -> None:
    data = _json(run("screen", "Al-Qaida", "--lists", "un_sc", "--format", "json"))
    assert data["results"][0]["entity_id"] == "un_sc:QDe.004"
    assert {r["source"] for r in data["results"]} == {"un_sc"}
    data = _json(run("screen", "Kim Jong Un", "--lists", "un_sc", "--format", "json"))
    assert data["results"] == []


def test_screen_text_output_shows_the_entry_and_why(run: Econsec) -> None:
    result = run("screen", "Kim Jong Un")
    assert result.exit_code == 0, result.output
    out = _flat(result.stdout)
    assert "KIM, Jong Un" in out
    assert "ofac_sdn:20157 1.000" in out
    assert "name +1.000 'kim jong un' vs 'kim jong un'" in out
    assert "name-v1, threshold 0.80" in out
    assert "un_sc@" in out


def test_screen_text_output_without_results(run: Econsec, screener: Screener) -> None:
    result = run("screen", "Annika Lindqvist-Oberholzer")
    assert result.exit_code == 0
    out = _flat(result.stdout)
    assert "no list entry at or above 0.80 for 'Annika Lindqvist-Oberholzer'" in out
    entries = sum(v.entry_count for v in screener.versions)
    assert f"(name-v1, {entries} entries in {len(screener.versions)} lists)" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--schema", "Spaceship"], "schema: unknown schema 'Spaceship'"),
        (["--dob", "yesterday"], "dob: 'yesterday' is not a date"),
        (["--country", "Atlantis"], "country: 'Atlantis' is not a known country name"),
        (["--lists", "nope"], "lists: no loaded list matches nope; known:"),
        (["--threshold", "2"], "threshold: must be between 0 and 1, got 2.0"),
        (["--limit", "0"], "limit: must be at least 1, got 0"),
    ],
)
def test_screen_bad_input_exits_non_zero_with_the_message(
    run: Econsec, args: list[str], message: str
) -> None:
    result = run("screen", "Kim Jong Un", *args)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert f"error: {message}" in _flat(result.stderr)


def test_screen_empty_name(run: Econsec) -> None:
    result = run("screen", "   ")
    assert result.exit_code == 1
    assert "error: name: empty" in _flat(result.stderr)


def test_screen_messages_are_those_of_build_query(run: Econsec) -> None:
    with pytest.raises(ScreeningError) as info:
        build_query("x", dates_of_birth=["yesterday"])
    result = run("screen", "x", "--dob", "yesterday")
    assert _flat(result.stderr) == f"error: {info.value}"


def test_screen_without_a_workspace_says_how_to_load_one(workspace_home: Path) -> None:
    # The real screener: it fails before reading anything.
    result = CliRunner().invoke(app, ["screen", "Kim Jong Un"])
    assert result.exit_code == 1
    err = _flat(result.stderr)
    assert "no workspace at" in err
    assert "econsec lists load" in err
    assert not workspace_home.exists() or not any(workspace_home.iterdir())


# -- compare -----------------------------------------------------------------------


def test_compare_json_shape(run: Econsec) -> None:
    data = _json(run("compare", "Vladimir Putin", "PUTIN, Vladimir", "--format", "json"))
    assert set(data) == {"score", "algorithm", "explanation"}
    assert data["score"] == 1.0
    assert data["algorithm"] == "name-v1"
    [feature] = data["explanation"]
    assert feature["feature"] == "name"
    assert feature["effect"] == data["score"]


def test_compare_al_qaida_with_its_arabic_name(run: Econsec) -> None:
    data = _json(run("compare", "Al-Qaida", "القاعدة", "--format", "json"))
    expected = compare("Al-Qaida", "القاعدة")
    assert data["score"] == expected.score
    assert data["score"] >= 0.8
    detail = data["explanation"][0]["detail"]
    assert "al qaida" in detail
    assert "القاعدة" in detail  # JSON keeps the Arabic as written (no \\u escapes)
    assert "القاعدة" in run("compare", "Al-Qaida", "القاعدة", "--format", "json").stdout


def test_compare_with_a_schema(run: Econsec) -> None:
    org = _json(
        run("compare", "Acme LLC", "Acme GmbH", "--schema", "Organization", "--format", "json")
    )
    assert org["score"] == compare("Acme LLC", "Acme GmbH", Schema.ORGANIZATION).score
    assert org["score"] >= 0.8


def test_compare_text_output(run: Econsec) -> None:
    result = run("compare", "Vladimir Putin", "Vladimr Putin")
    assert result.exit_code == 0
    out = _flat(result.stdout)
    assert out.startswith("score 0.938 (name-v1)")
    assert "vladimir~vladimr" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["!!!", "Acme"], "name1, name2: both names must contain letters or digits"),
        (["Acme", "x", "--schema", "Spaceship"], "schema: unknown schema 'Spaceship'"),
    ],
)
def test_compare_bad_input_exits_non_zero(run: Econsec, args: list[str], message: str) -> None:
    result = run("compare", *args)
    assert result.exit_code == 1
    assert f"error: {message}" in _flat(result.stderr)
