"""`dvds case start|show|list`."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from dvds.cli.context import settings
from dvds.cli.signing import PASSPHRASE_STDIN_HELP
from states.machine import CaseState
from states.risk import RiskLevel

if TYPE_CHECKING:
    from states.record import CaseSnapshot, Deadline

app = typer.Typer(rich_markup_mode=None, help="Start, show and find cases.", no_args_is_help=True)


@app.command()
def start(
    ctx: typer.Context,
    file: Path = typer.Option(..., "--file", "-f", help="The application, as JSON (see examples/application.json)"),
    actor: str = typer.Option(..., help="Staff id of the operator recording the application"),
    ref: str | None = typer.Option(None, help="Case reference; a new DVDS-YYYY-NNNNNNNN if omitted"),
    passphrase_stdin: bool = typer.Option(False, "--passphrase-stdin", help=PASSPHRASE_STDIN_HELP),
) -> None:
    """Start a case for a new application, signed with your own credential (`dvds staff enrol`),
    and print its reference."""
    from dvds.cases.client import open_cases
    from dvds.cli.output import errors, read_json_file, run, validated
    from dvds.cli.signing import signer_for
    from states.models import Application

    application = validated(read_json_file(file), Application)
    signer = signer_for(ctx, actor, passphrase_stdin)

    async def go() -> tuple[str, list[str]]:
        started = await (await open_cases(settings(ctx))).start_application(application, actor, ref, signer)
        return started.ref, started.same_subject_as

    started_ref, earlier = run(go())
    if earlier:
        # stderr, so `REF=$(dvds case start ...)` still captures only the reference.
        errors.print(f"[bold yellow]repeat subject:[/] earlier cases about this subject: {', '.join(earlier)}",
                     highlight=False)
    typer.echo(started_ref)


def _print_snapshot(snap: CaseSnapshot) -> None:
    from dvds.cli.output import console, table, when

    console.print(f"[bold]{snap.ref}[/]  state [bold]{snap.state}[/]  route {snap.route}"
                  f"  risk {snap.risk_level or '-'}  {'historical' if snap.historical else 'new'}"
                  f"{'  [red]OVERDUE[/]' if snap.overdue else ''}")
    console.print(f"received {when(snap.received_at)}; pending: {', '.join(snap.pending_tasks) or 'none'};"
                  f" actions: {', '.join(snap.actions) or 'none'}")
    if snap.priority:
        console.print(f"review priority: {snap.priority}")
    if snap.linked_cases:
        console.print(f"[bold yellow]same subject as:[/] {', '.join(snap.linked_cases)}", highlight=False)
    if snap.referral:
        r = snap.referral
        console.print(f"IOPC referral ({r.category}): {r.iopc_reference or 'pending'}"
                      f" referred {when(r.referred_at)} due {when(r.due)}{' LATE' if r.late else ''}"
                      f"{'; IOPC decided ' + r.mode_decided if r.mode_decided else ''}")
    table(
        "Deadlines",
        ["deadline", "started", "due", "status", "rungs fired"],
        [
            (d.name + (" (urgent)" if d.urgent else ""), when(d.started_at), when(d.due),
             ("met " + when(d.met_at) if d.met_at else "open")
             + "".join(f"; BREACHED {when(b)}" for b in _breaches(d)),
             ", ".join(f"{r.notify}@{when(r.fired_at)}" for r in d.rungs if r.fired_at) or "-")
            for d in snap.deadlines
        ],
    )
    story: list[tuple[datetime, tuple[str, str, str, str, str]]] = [
        (t.at, (when(t.at), str(t.source), str(t.dest),
                "imported record" if t.imported else (f"{t.actor.id} ({t.actor.role})" if t.actor else "the case"),
                str(t.task or t.trigger)))
        for t in snap.transitions
    ]
    # Breaches belong in the case's story too, at the moment each deadline passed.
    story += [(b, (when(b), "-", "-", "the case", f"{d.name} deadline breached"))
              for d in snap.deadlines for b in _breaches(d)]
    table("Timeline", ["when", "from", "to", "by", "task"], [row for _, row in sorted(story, key=lambda e: e[0])])


def _breaches(deadline: Deadline) -> list[datetime]:
    return deadline.breaches or ([deadline.breached_at] if deadline.breached_at else [])


@app.command()
def show(ctx: typer.Context, ref: str, json_out: bool = typer.Option(False, "--json", help="Print JSON")) -> None:
    """Show a case: state, pending task, deadlines, timeline. No personal data."""
    from dvds.cases.client import open_cases
    from dvds.cli.output import emit_json, run

    async def go() -> CaseSnapshot:
        return await (await open_cases(settings(ctx))).snapshot(ref)

    snap = run(go())
    emit_json(snap) if json_out else _print_snapshot(snap)


@app.command("list")
def list_cases(
    ctx: typer.Context,
    state: CaseState | None = typer.Option(None, help="Only cases in this state"),
    overdue: bool | None = typer.Option(None, "--overdue/--not-overdue", help="Only (not) overdue cases"),
    historical: bool | None = typer.Option(None, "--historical/--new", help="Historical or new applications"),
    risk: RiskLevel | None = typer.Option(None, help="Only this risk level"),
    pending_task: str | None = typer.Option(None, help="Only cases waiting on this task"),
    received_from: datetime | None = typer.Option(None, formats=["%Y-%m-%d"], help="Received on or after"),
    received_to: datetime | None = typer.Option(None, formats=["%Y-%m-%d"], help="Received on or before"),
    page_size: int = typer.Option(100, "--page-size", "--limit", min=1, max=1000, help="Cases per page"),
    page_token: str | None = typer.Option(None, "--page-token", help="The next page, as the last one said"),
    every: bool = typer.Option(False, "--all", help="Every page, not only the first"),
    json_out: bool = typer.Option(False, "--json", help="Print JSON (the cases of the page or pages)"),
) -> None:
    """Find cases through Temporal visibility queries, a page at a time (newest first)."""
    from dvds.cases.client import open_cases
    from dvds.cases.listing import CaseListing
    from dvds.cases.queries import build_query
    from dvds.cli.output import counted, emit_json, errors, fail, run, table, when

    if pending_task is not None and not pending_task.replace("_", "").isalpha():
        fail("pending-task: must be a task name", 2)
    query = build_query(
        state, overdue, historical, risk, pending_task,
        received_from.date() if received_from else None, received_to.date() if received_to else None,
    )

    async def go() -> None:
        cases = await open_cases(settings(ctx))
        if every:  # no count needed: the list is all of them
            print_cases(await cases.list_cases(query), None)
            return
        page = await cases.page_cases(query, page_size, page_token)
        print_cases(page.cases, page.next_token)
        # The total counts every case the query matches, so it grows with them: after the page.
        await counted(None if json_out else lambda: cases.count_cases(query), page, page_token,
                      "cases match the filters" if query else "cases")

    def print_cases(found: list[CaseListing], next_token: str | None) -> None:
        if next_token:
            errors.print(f"more: --page-token {next_token}", highlight=False, soft_wrap=True)
        if json_out:
            emit_json(found)
            return
        first = "the first " if next_token and not page_token else ""
        table(
            f"Cases: {first}{len(found)}",
            ["ref", "state", "route", "risk", "kind", "pending", "next due", "overdue"],
            [(c.ref, c.state, c.route or "-", c.risk_level or "-", "historical" if c.historical else "new",
              ", ".join(c.pending_tasks) or "-", when(c.next_due), "YES" if c.overdue else "") for c in found],
            styles=lambda row: "red" if row[-1] else None,
        )

    run(go())
