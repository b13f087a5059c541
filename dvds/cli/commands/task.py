"""`dvds task list|complete`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from dvds.cli.context import settings
from dvds.cli.signing import PASSPHRASE_STDIN_HELP
from states.roles import Role, Task

if TYPE_CHECKING:
    from dvds.cases.listing import CaseListing
    from states.record import CaseSnapshot

app = typer.Typer(rich_markup_mode=None, help="Pending tasks and completing them.", no_args_is_help=True)


@app.command("list")
def list_tasks(
    ctx: typer.Context,
    role: Role | None = typer.Option(None, help="Only tasks for this role"),
    page_size: int = typer.Option(50, "--page-size", "--limit", min=1, max=1000, help="Cases per page"),
    page_token: str | None = typer.Option(None, "--page-token", help="The next page, as the last one said"),
    every: bool = typer.Option(False, "--all", help="Every page, not only the first"),
    json_out: bool = typer.Option(False, "--json", help="Print JSON (the cases of the page or pages)"),
) -> None:
    """Pending tasks across cases, a page at a time: the review queue by priority, then nearest deadline first."""
    from dvds.cases.client import open_cases
    from dvds.cases.paging import Page, WorkQueue
    from dvds.cli.output import counted, emit_json, errors, run, table, when
    from states.roles import TASK_ROLE

    async def go() -> None:
        cases = await open_cases(settings(ctx))
        queue = WorkQueue(cases, cases.work_query([str(role)] if role else None))
        page = await queue.page(page_size, page_token)
        found = list(page.cases)
        while every and page.next_token:
            page = await queue.page(page_size, page.next_token)
            found += page.cases
        if json_out:
            emit_json(found)
        else:
            show(found, page)
        if page.next_token:
            errors.print(f"more: --page-token {page.next_token}", highlight=False, soft_wrap=True)
        # The total: one count of every case the query matches, so it grows with them: after the page.
        what = "cases waiting on a task" if role is None else f"cases waiting on the {role} role"
        await counted(None if json_out or every else queue.total, page, page_token, what)

    def show(found: list[CaseListing], page: Page) -> None:
        rows = [
            (c.ref, task, TASK_ROLE[Task(task)], when(c.next_due), c.priority or "-", "OVERDUE" if c.overdue else "")
            for c in found
            for task in c.pending_tasks
            if role is None or TASK_ROLE[Task(task)] is role
        ]
        first = "the first " if page.next_token and not page_token else ""
        table(f"Pending tasks: {first}{len(found)} cases", ["ref", "task", "role", "due", "priority", ""],
              rows, styles=lambda row: "red" if row[-1] else None)

    run(go())


@app.command()
def complete(
    ctx: typer.Context,
    ref: str = typer.Argument(..., help="Case reference"),
    task: Task = typer.Argument(..., help="The task to complete"),
    actor: str = typer.Option(..., help="Your staff id"),
    role: Role = typer.Option(..., help="The role you act in"),
    file: Path = typer.Option(..., "--file", "-f", help="The submission, as JSON (dvds schema TASK)"),
    json_out: bool = typer.Option(False, "--json", help="Print the case snapshot as JSON"),
    passphrase_stdin: bool = typer.Option(False, "--passphrase-stdin", help=PASSPHRASE_STDIN_HELP),
) -> None:
    """Complete a human task on a case, signed with your own credential (`dvds staff enrol`).
    Refused submissions change nothing."""
    from dvds.cases.client import open_cases
    from dvds.cli.output import console, emit_json, read_json_file, run, validated
    from dvds.cli.signing import signer_for
    from states.record import Actor
    from states.tasks import TASK_MODEL

    submission = read_json_file(file)
    validated(submission, TASK_MODEL[task])  # refused here, before reaching for the server
    signer = signer_for(ctx, actor, passphrase_stdin)

    async def go() -> CaseSnapshot:
        cases = await open_cases(settings(ctx))
        return await cases.complete(ref, task, Actor(id=actor, role=role), submission, signer)

    snap = run(go())
    if json_out:
        emit_json(snap)
        return
    console.print(f"{snap.ref}: {task} done; state [bold]{snap.state}[/]; pending: "
                  f"{', '.join(snap.pending_tasks) or 'none'}")
