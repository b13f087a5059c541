"""Starting the cases of an import plan, a bounded number at a time.

Idempotent: a case reference is a workflow id that can never be reused, so a row
imported before comes back ALREADY_EXISTS, and the digest in the existing case's start
input says whether it came from the same row. Running the same import again after an
interruption starts only what was not started.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from temporalio.client import Client

from dvds.cases.client import CaseClient, CaseError
from dvds.importer.export import Plan
from dvds.importer.rows import ImportRow, RowReject
from states.record import Actor, CaseInput


class Outcome(StrEnum):
    started = "started"
    already_imported = "already_imported"
    rejected = "rejected"


@dataclass
class Tally:
    """What happened to each row read; the counts always add up to `rows_read`."""

    rows_read: int
    started: list[str] = field(default_factory=list)
    already_imported: list[str] = field(default_factory=list)
    rejects: list[RowReject] = field(default_factory=list)

    @property
    def done(self) -> int:
        return len(self.started) + len(self.already_imported) + len(self.rejects)

    def counts(self) -> dict[str, int]:
        return {
            "rows_read": self.rows_read,
            "started": len(self.started),
            "already_imported": len(self.already_imported),
            "rejected": len(self.rejects),
        }


def tally_for(plan: Plan) -> Tally:
    """The rows settled before anything is started: file repeats and bad rows."""
    return Tally(
        rows_read=plan.rows_read,
        already_imported=[r.case_ref for r in plan.repeats],
        rejects=list(plan.rejects),
    )


async def started_digest(client: Client, ref: str) -> str | None:
    """The row digest the existing case was started with; None for a case not imported.
    Read from the start event, so it works whether or not the case is still open."""
    handle = client.get_workflow_handle(ref)
    async for event in handle.fetch_history_events():
        payloads = event.workflow_execution_started_event_attributes.input.payloads
        [start] = await client.data_converter.decode(payloads, [CaseInput])
        return start.historical.source_digest if start.historical else None
    return None


async def import_row(cases: CaseClient, row: ImportRow, actor: Actor | None) -> Outcome | RowReject:
    case = row.case if actor is None else row.case.model_copy(update={"started_by": actor})
    try:
        await cases.start(case)
        return Outcome.started
    except CaseError:
        pass  # the reference is taken: by this row before, or by something else
    digest = await started_digest(cases.client, row.case_ref)
    if digest == row.digest:
        return Outcome.already_imported
    why = "a case not imported from an export" if digest is None else "a case imported from a different row"
    return RowReject(row.line, (f"case_ref: already used on this server by {why}",), row.case_ref)


async def run_import(
    cases: CaseClient,
    plan: Plan,
    tally: Tally,
    concurrency: int = 16,
    actor: Actor | None = None,
    on_row: Callable[[Outcome], None] = lambda _: None,
) -> Tally:
    """Start every row of the plan, `concurrency` at a time, recording each outcome in
    `tally` as it happens (so an interrupted run still reports what it did)."""
    pending = iter(plan.to_start)

    async def starter() -> None:
        for row in pending:  # one shared iterator: each row is taken by exactly one starter
            outcome = await import_row(cases, row, actor)
            if isinstance(outcome, RowReject):
                tally.rejects.append(outcome)
                on_row(Outcome.rejected)
                continue
            (tally.started if outcome is Outcome.started else tally.already_imported).append(row.case_ref)
            on_row(outcome)

    async with asyncio.TaskGroup() as group:
        for _ in range(max(1, min(concurrency, len(plan.to_start)))):
            group.create_task(starter())
    tally.rejects.sort(key=lambda r: r.line)
    return tally
