"""`dvds task list|complete`."""

from __future__ import annotations

from pathlib import Path

import typer

from dvds.case_client import CaseClient, CaseListing
from dvds.connection import connect
from dvds.output import console, emit_json, read_json_file, run, table, validated, when
from dvds.settings import Settings
from states.record import Actor, CaseSnapshot
from states.roles import TASK_ROLE, Role, Task
from states.tasks import TASK_MODEL

app = typer.Typer(help="Pending tasks and completing them.", no_args_is_help=True)


@app.command("list")
def list_tasks(
    role: Role | None = typer.Option(None, help="Only tasks for this role"),
    limit: int = typer.Option(5000, min=1, help="At most this many cases"),
    json_out: bool = typer.Option(False, "--json", help="Print JSON"),
) -> None:
    """Pending tasks across cases: the review queue by priority, then nearest deadline first."""

    async def go() -> list[CaseListing]:
        return await CaseClient(await connect(), Settings()).pending_tasks(role and str(role), limit)

    cases = run(go())
    if json_out:
        emit_json(cases)
        return
    rows = [
        (c.ref, task, TASK_ROLE[Task(task)], when(c.next_due), c.priority or "-", "OVERDUE" if c.overdue else "")
        for c in cases
        for task in c.pending_tasks
        if role is None or TASK_ROLE[Task(task)] is role
    ]
    table(f"Pending tasks ({len(rows)})", ["ref", "task", "role", "due", "priority", ""], rows,
          styles=lambda row: "red" if row[-1] else None)


@app.command()
def complete(
    ref: str = typer.Argument(..., help="Case reference"),
    task: Task = typer.Argument(..., help="The task to complete"),
    actor: str = typer.Option(..., help="Your staff id"),
    role: Role = typer.Option(..., help="The role you act in"),
    file: Path = typer.Option(..., "--file", "-f", help="The submission, as JSON (dvds schema TASK)"),
    json_out: bool = typer.Option(False, "--json", help="Print the case snapshot as JSON"),
) -> None:
    """Complete a human task on a case. Refused submissions change nothing."""
    submission = read_json_file(file)
    validated(submission, TASK_MODEL[task])  # refused here, before reaching for the server

    async def go() -> CaseSnapshot:
        cases = CaseClient(await connect(), Settings())
        return await cases.complete(ref, task, Actor(id=actor, role=role), submission)

    snap = run(go())
    if json_out:
        emit_json(snap)
        return
    console.print(f"{snap.ref}: {task} done; state [bold]{snap.state}[/]; pending: "
                  f"{', '.join(snap.pending_tasks) or 'none'}")
