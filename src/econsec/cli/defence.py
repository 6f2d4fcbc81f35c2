"""`econsec defence shares | groups`: defence-industrial dependence (SIPRI register)."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from econsec.cli._common import OutputFormat, fail
from econsec.model.scenario import MembershipRule
from econsec.scenario.defence import DefenceDataError, load_groups, parse_periods, supplier_shares

app = typer.Typer(
    help="Defence-industrial dependence from the SIPRI register.", no_args_is_help=True
)
console = Console()


@app.command("shares")
def shares_cmd(
    recipients: Annotated[
        str, typer.Option(help="Recipient group (see `econsec defence groups`).")
    ],
    supplier: Annotated[str, typer.Option(help="Supplier country, ISO-2 (e.g. US).")],
    periods: Annotated[str, typer.Option(help="Periods, e.g. 2015-2019,2020-2024.")],
    category: Annotated[
        list[str] | None, typer.Option(help="Armament category (repeatable), e.g. Aircraft.")
    ] = None,
    membership: Annotated[
        MembershipRule, typer.Option(help="as_of: group on one date; by_year: per delivery year.")
    ] = MembershipRule.AS_OF,
    as_of: Annotated[
        str | None, typer.Option(help="Membership date for as_of (default 31 Dec of last year).")
    ] = None,
    register: Annotated[
        Path | None, typer.Option(help="Register CSV (default ../shared/data/defence/…).")
    ] = None,
    systems: Annotated[int, typer.Option(help="Systems listed per period in text output.")] = 10,
    chart: Annotated[
        Path | None, typer.Option(help="Also write supplier-share bars to this PNG file.")
    ] = None,
    format: Annotated[OutputFormat, typer.Option("--format", help="text or json.")] = (
        OutputFormat.text
    ),
) -> None:
    """A supplier's share of a group's arms imports, by period, with the systems behind it."""
    try:
        day = date.fromisoformat(as_of) if as_of else None
        result = supplier_shares(
            recipients,
            supplier,
            parse_periods(periods),
            categories=category or (),
            membership=membership,
            as_of=day,
            register_path=register,
        )
    except (DefenceDataError, ValueError) as exc:
        fail(str(exc))
    if chart is not None:
        from econsec.scenario.charts import supplier_bars  # noqa: PLC0415 (matplotlib is slow)

        chart.write_bytes(supplier_bars(result))
    if format is OutputFormat.json:
        typer.echo(json.dumps(asdict(result), ensure_ascii=False, indent=2))
        return
    table = Table(title=f"{result.supplier} share of {result.group_name} arms imports (TIV)")
    for col in ("period", "supplier TIV", "total TIV", "share", "top suppliers"):
        table.add_column(col)
    for p in result.periods:
        tops = ", ".join(f"{t.supplier} {t.share:.0%}" for t in p.top_suppliers[:3])
        share = "—" if p.share is None else f"{p.share:.1%}"
        table.add_row(
            f"{p.first_year}–{p.last_year}",
            f"{p.supplier_tiv:,.0f}",
            f"{p.total_tiv:,.0f}",
            share,
            tops,
        )
    console.print(table)
    for p in result.periods:
        console.print(
            f"[bold]{p.first_year}–{p.last_year}[/bold]: largest systems from {result.supplier}"
        )
        for s in p.systems[:systems]:
            mark = " (estimate)" if s.estimate else ""
            console.print(
                f"  {s.tiv:8,.0f}  {s.designation} ({s.description}) → {s.recipient}{mark}",
                highlight=False,
            )
    console.print(result.explanation, style="dim", highlight=False)


@app.command("groups")
def groups_cmd() -> None:
    """Recipient groups, their members and the sources of the definitions."""
    groups, _ = load_groups()
    for g in groups.values():
        console.print(f"[bold]{g.key}[/bold]: {g.name} — {len(g.members)} members", highlight=False)
        console.print(f"  {', '.join(sorted(g.members))}", highlight=False)
        console.print(f"  source: {g.citation}", style="dim", highlight=False)
