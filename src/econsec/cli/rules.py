"""`econsec classify | determine | timeline | align`: control rules as code."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any

import typer
from rich.console import Console

from econsec.cli._common import OutputFormat, fail
from econsec.rules.dated import DatedError
from econsec.rules.render import (
    alignment_json,
    classification_json,
    determination_json,
    diff_json,
    timeline_json,
)

console = Console()

Product = Annotated[str | None, typer.Argument(help="Catalogue product (H100, A800, HBM3 …).")]
Params = Annotated[
    list[str] | None,
    typer.Option(
        "--param",
        help="Raw parameter instead of a product: perf=FP16:16:989.4[:sparse], "
        "die_area_mm2=814, datacenter=true, interconnect_gbps=900, kind=ic|hbm|computer|"
        "equipment, light_source_wavelength_nm=193, numerical_aperture=1.35, "
        "dedicated_chuck_overlay_nm=1.4, …",
    ),
]
Format = Annotated[OutputFormat, typer.Option("--format", help="text or json.")]


def _day(value: str | None, name: str = "date") -> date:
    if value is None:
        return date.today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{name}: {value!r} is not an ISO date (YYYY-MM-DD)")


def _item(product: str | None, params: list[str] | None) -> Any:
    from econsec.rules.items import parse_param_pairs, resolve_item  # noqa: PLC0415

    return resolve_item(product, parse_param_pairs(params or []) or None)


def _print(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


def classify_cmd(
    product: Product = None,
    param: Params = None,
    on: Annotated[str | None, typer.Option("--date", help="As of (default today).")] = None,
    fmt: Format = OutputFormat.text,
) -> None:
    """Classify an item: entries matched, TPP, performance density, thresholds compared."""
    from econsec.rules.classify import classify  # noqa: PLC0415

    try:
        result = classify(_item(product, param), _day(on))
    except DatedError as exc:
        fail(str(exc))
    data = classification_json(result)
    if fmt is OutputFormat.json:
        _print(data)
        return
    console.print(f"[bold]{result.item.name}[/bold] on {result.on}", highlight=False)
    entries = [
        f"{m['regime']} {m['entry']}" + ("" if m["certain"] else " (possible)")
        for m in data["classification"]
    ]
    console.print("entries: " + (", ".join(entries) or "none"), highlight=False)
    for line in result.reasoning:
        console.print(f"  {line}", highlight=False)
    for m in result.missing:
        console.print(f"[yellow]missing[/yellow] {m.field}: {m.effect}", highlight=False)


def determine_cmd(
    product: Product = None,
    param: Params = None,
    destination: Annotated[str, typer.Option("--destination", help="ISO 3166-1 alpha-2.")] = "",
    on: Annotated[str | None, typer.Option("--date", help="As of (default today).")] = None,
    end_user: Annotated[
        str | None, typer.Option("--end-user", help="Screened against the workspace lists.")
    ] = None,
    regime: Annotated[str, typer.Option("--regime", help="us, eu or both.")] = "both",
    fmt: Format = OutputFormat.text,
) -> None:
    """Is a licence needed to send the item to DESTINATION on DATE (US EAR, EU dual-use)?"""
    from econsec.rules.determine import determine  # noqa: PLC0415

    if not destination:
        fail("--destination: required (ISO 3166-1 alpha-2 code)")
    try:
        item = _item(product, param)
        screener = _screener() if end_user else None
        result = determine(item, destination, _day(on), end_user, regime, screener)
    except DatedError as exc:
        fail(str(exc))
    data = determination_json(result, item)
    if fmt is OutputFormat.json:
        _print(data)
        return
    console.print(
        f"[bold]{item.name}[/bold] → {result.destination} on {result.on}", highlight=False
    )
    for name, a in data["regimes"].items():
        required = {True: "licence required", False: "no licence required", None: "undetermined"}[
            a["licence_required"]
        ]
        console.print(
            f"[bold]{name}[/bold]: {required} — {a['policy']}; "
            f"entries {a['classification'] or 'none'}",
            highlight=False,
        )
        for e in a["exceptions"]:
            console.print(
                f"  {'✓' if e['available'] else '✗'} {e['symbol']}: {e['reason']}", highlight=False
            )
        for c in a["conditions"]:
            console.print(f"  condition: {c}", highlight=False)
        for line in a["reasoning"]:
            console.print(f"  {line}", highlight=False)
        for m in a["missing"]:
            console.print(
                f"  [yellow]missing[/yellow] {m['field']}: {m['effect']}", highlight=False
            )
        for c in a["citations"]:
            console.print(f"  cites: {c}", highlight=False)


def _screener() -> Any:
    """The workspace screener, or None when no list is loaded (the answer says so)."""
    from econsec.screening.cache import cached_screener  # noqa: PLC0415
    from econsec.store import Workspace, WorkspaceError  # noqa: PLC0415

    try:
        workspace = Workspace()
        if not workspace.versions(active_only=True):
            return None
        return cached_screener(workspace)
    except WorkspaceError:
        return None


def timeline_cmd(
    product: Product = None,
    param: Params = None,
    destination: Annotated[str, typer.Option("--destination", help="ISO 3166-1 alpha-2.")] = "",
    start: Annotated[str, typer.Option("--from", help="First day.")] = "2022-10-07",
    end: Annotated[str | None, typer.Option("--to", help="Last day (default today).")] = None,
    regime: Annotated[str, typer.Option("--regime", help="us, eu or both.")] = "both",
    fmt: Format = OutputFormat.text,
) -> None:
    """The dated sequence of changed answers for an item and destination."""
    from econsec.rules.timeline import timeline  # noqa: PLC0415

    if not destination:
        fail("--destination: required (ISO 3166-1 alpha-2 code)")
    try:
        item = _item(product, param)
        steps = timeline(item, destination, _day(start, "--from"), _day(end, "--to"), regime)
    except DatedError as exc:
        fail(str(exc))
    if fmt is OutputFormat.json:
        _print(timeline_json(steps, item))
        return
    for step in steps:
        console.print(f"[bold]{step.on}[/bold]", highlight=False)
        for change in step.changes:
            console.print(f"  {change}", highlight=False)


def diff_cmd(
    date_a: Annotated[str, typer.Argument(help="First date.")],
    date_b: Annotated[str, typer.Argument(help="Second date.")],
    fmt: Format = OutputFormat.text,
) -> None:
    """Which rules changed between two dates."""
    from econsec.rules.timeline import diff  # noqa: PLC0415

    changes = diff(_day(date_a), _day(date_b))
    if fmt is OutputFormat.json:
        _print(diff_json(changes))
        return
    for c in changes:
        console.print(
            f"{c.kind} {c.rule_id}: {c.before} → {c.after} ({c.citation})", highlight=False
        )


def align_cmd(
    on: Annotated[str | None, typer.Option("--date", help="As of (default today).")] = None,
    destination: Annotated[
        list[str] | None, typer.Option("--destination", help="Only these (repeatable).")
    ] = None,
    fmt: Format = OutputFormat.text,
) -> None:
    """Catalogue × destination combinations where the US and EU answers diverge."""
    from econsec.rules.timeline import align  # noqa: PLC0415

    try:
        result = align(_day(on), dests=destination or None)
    except DatedError as exc:
        fail(str(exc))
    if fmt is OutputFormat.json:
        _print(alignment_json(result))
        return
    console.print(
        f"{result.on}: {len(result.divergent)} of {result.combinations} combinations diverge; "
        f"{len(result.undetermined)} undetermined on one side",
        highlight=False,
    )
    for d in result.divergent:
        console.print(f"  {d.describe()}", highlight=False)
