"""Starting the cases of an import plan, a bounded number at a time, paced on the worker.

Idempotent: a case reference is a workflow id that can never be reused, so a row
imported before comes back ALREADY_EXISTS, and the facts in the existing case's start
input say whether it came from the same row or one changed since (named by field).
Running the same import again after an interruption starts only what was not started.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from temporalio.client import Client

from dvds.cases.client import CaseClient, CaseError
from dvds.importer.changes import Changed, compare_with_started
from dvds.importer.export import Plan
from dvds.importer.pacing import BacklogGate
from dvds.importer.rows import ImportRow, RowReject
from states.case_ref import workflow_id
from states.record import Actor, CaseInput, HistoricalFacts


class Outcome(StrEnum):
    started = "started"
    already_imported = "already_imported"
    changed = "changed"
    rejected = "rejected"


@dataclass
class Tally:
    """What happened to each row read; the counts always add up to `rows_read`."""

    rows_read: int
    started: list[str] = field(default_factory=list)
    already_imported: list[str] = field(default_factory=list)
    changed: list[Changed] = field(default_factory=list)
    rejects: list[RowReject] = field(default_factory=list)

    @property
    def done(self) -> int:
        return len(self.started) + len(self.already_imported) + len(self.changed) + len(self.rejects)

    def counts(self) -> dict[str, int]:
        return {
            "rows_read": self.rows_read,
            "started": len(self.started),
            "already_imported": len(self.already_imported),
            "changed": len(self.changed),
            "rejected": len(self.rejects),
        }

    def not_started(self) -> list[RowReject]:
        """The rows a person must look at, by line: rejects, and rows changed since import
        (their reason names the fields that changed, never a value)."""
        changed = [RowReject(c.line, (c.reason,), c.case_ref) for c in self.changed]
        return sorted([*self.rejects, *changed], key=lambda r: r.line)


def tally_for(plan: Plan) -> Tally:
    """The rows settled before anything is started: file repeats and bad rows."""
    return Tally(
        rows_read=plan.rows_read,
        already_imported=[r.case_ref for r in plan.repeats],
        rejects=list(plan.rejects),
    )


async def started_facts(client: Client, ref: str) -> HistoricalFacts | None:
    """The imported facts the existing case was started with; None for a case not imported.
    Read from the start event, so it works whether or not the case is still open."""
    handle = client.get_workflow_handle(workflow_id(ref))
    async for event in handle.fetch_history_events():
        payloads = event.workflow_execution_started_event_attributes.input.payloads
        [start] = await client.data_converter.decode(payloads, [CaseInput])
        return start.historical
    return None


async def import_row(cases: CaseClient, row: ImportRow, actor: Actor | None) -> Outcome | Changed | RowReject:
    case = row.case if actor is None else row.case.model_copy(update={"started_by": actor})
    try:
        await cases.start(case)
        return Outcome.started
    except CaseError:
        pass  # the reference is taken: by this row before, or by something else
    verdict = compare_with_started(row, await started_facts(cases.client, row.case_ref))
    return Outcome.already_imported if verdict is None else verdict


async def run_import(
    cases: CaseClient,
    plan: Plan,
    tally: Tally,
    concurrency: int = 16,
    actor: Actor | None = None,
    on_row: Callable[[Outcome], None] = lambda _: None,
    backlog: int | None = None,
) -> Tally:
    """Start every row of the plan, `concurrency` at a time, recording each outcome in
    `tally` as it happens (so an interrupted run still reports what it did). With
    `backlog`, starts wait while more workflow tasks than that wait for the worker."""
    pending = iter(plan.to_start)
    gate = None if backlog is None else BacklogGate(cases.client, cases.settings.task_queue, backlog)

    async def starter() -> None:
        for row in pending:  # one shared iterator: each row is taken by exactly one starter
            if gate is not None:
                await gate.wait()
            outcome = await import_row(cases, row, actor)
            if isinstance(outcome, RowReject):
                tally.rejects.append(outcome)
                on_row(Outcome.rejected)
            elif isinstance(outcome, Changed):
                tally.changed.append(outcome)
                on_row(Outcome.changed)
            else:
                (tally.started if outcome is Outcome.started else tally.already_imported).append(row.case_ref)
                on_row(outcome)

    async with asyncio.TaskGroup() as group:
        starters = [group.create_task(starter()) for _ in range(max(1, min(concurrency, len(plan.to_start))))]
        if gate is not None and plan.to_start:
            # In the group, so a failure of the gate's own loop is raised, never a silent hold;
            # cancelled once every starter is done.
            pacing = group.create_task(gate.run())
            await asyncio.gather(*starters, return_exceptions=True)
            pacing.cancel()
    tally.rejects.sort(key=lambda r: r.line)
    tally.changed.sort(key=lambda c: c.line)
    return tally
