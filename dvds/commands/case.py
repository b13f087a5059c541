"""`dvds case start|show|list`."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import typer

from dvds.case_client import CaseClient, new_ref
from dvds.connection import connect
from dvds.output import console, emit_json, errors, fail, read_json_file, run, table, validated, when
from dvds.settings import Settings
from dvds.subject_index import client_keys, subject_keys
from states.machine import CaseState
from states.models import Application
from states.record import Actor, CaseInput, CaseSnapshot, Deadline
from states.roles import Role
from states.submissions import RiskLevel

app = typer.Typer(help="Start, show and find cases.", no_args_is_help=True)


async def _client() -> CaseClient:
    return CaseClient(await connect(), Settings())


@app.command()
def start(
    file: Path = typer.Option(..., "--file", "-f", help="The application, as JSON (see examples/application.json)"),
    actor: str = typer.Option(..., help="Staff id of the operator recording the application"),
    ref: str | None = typer.Option(None, help="Case reference; a new DVDS-YYYY-NNNNNNNN if omitted"),
) -> None:
    """Start a case for a new application and print its reference."""
    application = validated(read_json_file(file), Application)

    async def go() -> str:
        cases = await _client()
        case = CaseInput(
            ref=ref or new_ref(datetime.now(UTC)),
            application=application,
            started_by=Actor(id=actor, role=Role.operator),
        )
        await cases.start(case)
        ring = client_keys(cases.client)
        earlier = await cases.linked_cases(case.ref, subject_keys(application.subject, ring)) if ring else []
        if earlier:
            # stderr, so `REF=$(dvds case start ...)` still captures only the reference.
            errors.print(f"[bold yellow]repeat subject:[/] earlier cases about this subject: {', '.join(earlier)}",
                         highlight=False)
        return case.ref

    typer.echo(run(go()))


def _print_snapshot(snap: CaseSnapshot) -> None:
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
    story = [
        (t.at, (when(t.at), t.source, t.dest,
                "imported record" if t.imported else (f"{t.actor.id} ({t.actor.role})" if t.actor else "the case"),
                t.task or t.trigger))
        for t in snap.transitions
    ]
    # Breaches belong in the case's story too, at the moment each deadline passed.
    story += [(b, (when(b), "-", "-", "the case", f"{d.name} deadline breached"))
              for d in snap.deadlines for b in _breaches(d)]
    table("Timeline", ["when", "from", "to", "by", "task"], [row for _, row in sorted(story, key=lambda e: e[0])])


def _breaches(deadline: Deadline) -> list[datetime]:
    return deadline.breaches or ([deadline.breached_at] if deadline.breached_at else [])


@app.command()
def show(ref: str, json_out: bool = typer.Option(False, "--json", help="Print JSON")) -> None:
    """Show a case: state, pending task, deadlines, timeline. No personal data."""

    async def go() -> CaseSnapshot:
        return await (await _client()).snapshot(ref)

    snap = run(go())
    emit_json(snap) if json_out else _print_snapshot(snap)


def build_query(
    state: CaseState | None = None,
    overdue: bool | None = None,
    historical: bool | None = None,
    risk: RiskLevel | None = None,
    pending_task: str | None = None,
    received_from: date | None = None,
    received_to: date | None = None,
) -> str:
    """A visibility query from the filters (all values are enums, bools or dates)."""
    clauses = []
    if state:
        clauses.append(f"DvdsState = '{state}'")
    if overdue is not None:
        clauses.append(f"DvdsOverdue = {str(overdue).lower()}")
    if historical is not None:
        clauses.append(f"DvdsHistorical = {str(historical).lower()}")
    if risk:
        clauses.append(f"DvdsRiskLevel = '{risk}'")
    if pending_task:
        clauses.append(f"DvdsPendingTasks = '{pending_task}'")
    if received_from:
        clauses.append(f"DvdsReceived >= '{received_from.isoformat()}T00:00:00Z'")
    if received_to:
        clauses.append(f"DvdsReceived <= '{received_to.isoformat()}T23:59:59Z'")
    return " AND ".join(clauses)


@app.command("list")
def list_cases(
    state: CaseState | None = typer.Option(None, help="Only cases in this state"),
    overdue: bool | None = typer.Option(None, "--overdue/--not-overdue", help="Only (not) overdue cases"),
    historical: bool | None = typer.Option(None, "--historical/--new", help="Historical or new applications"),
    risk: RiskLevel | None = typer.Option(None, help="Only this risk level"),
    pending_task: str | None = typer.Option(None, help="Only cases waiting on this task"),
    received_from: datetime | None = typer.Option(None, formats=["%Y-%m-%d"], help="Received on or after"),
    received_to: datetime | None = typer.Option(None, formats=["%Y-%m-%d"], help="Received on or before"),
    limit: int = typer.Option(1000, min=1, help="At most this many"),
    json_out: bool = typer.Option(False, "--json", help="Print JSON"),
) -> None:
    """Find cases through Temporal visibility queries."""
    if pending_task is not None and not pending_task.replace("_", "").isalpha():
        fail("pending-task: must be a task name", 2)
    query = build_query(
        state, overdue, historical, risk, pending_task,
        received_from.date() if received_from else None, received_to.date() if received_to else None,
    )

    async def go() -> list:
        return await (await _client()).list_cases(query, limit)

    cases = run(go())
    if json_out:
        emit_json(cases)
        return
    table(
        f"Cases ({len(cases)})",
        ["ref", "state", "route", "risk", "kind", "pending", "next due", "overdue"],
        [(c.ref, c.state, c.route or "-", c.risk_level or "-", "historical" if c.historical else "new",
          ", ".join(c.pending_tasks) or "-", when(c.next_due), "YES" if c.overdue else "") for c in cases],
        styles=lambda row: "red" if row[-1] else None,
    )
