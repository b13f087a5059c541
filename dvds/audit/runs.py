"""Every run of a case. A case that continues as new (a long history) is one workflow id
with a chain of runs: each run's first event names the run it continued
(`continued_execution_run_id`). The auditor's timeline and the archive read the whole
chain, not only the latest run, so who did which task stays in view for as long as the case lives."""

from __future__ import annotations

from temporalio.client import Client, WorkflowHistory
from temporalio.service import RPCError, RPCStatusCode

# A guard against a chain that never ends (it cannot, but a loop here would hang an auditor).
MAX_RUNS = 100_000


async def case_runs(client: Client, ref: str, run_id: str | None = None) -> list[WorkflowHistory]:
    """The histories of the case's runs, oldest first, ending with `run_id` (default: the
    latest run). Raises the server's RPCError (NOT_FOUND) when the server has no such case.
    Earlier runs past the server's retention are gone: the chain starts at the oldest it
    still holds, whose start carries the record of what came before (the timeline shows it)."""
    runs = [await client.get_workflow_handle(ref, run_id=run_id).fetch_history()]
    while len(runs) < MAX_RUNS:
        previous = _continued_from(runs[0])
        if not previous:
            break
        try:
            runs.insert(0, await client.get_workflow_handle(ref, run_id=previous).fetch_history())
        except RPCError as err:
            if err.status is not RPCStatusCode.NOT_FOUND:
                raise
            break
    return runs


def _continued_from(history: WorkflowHistory) -> str:
    if not history.events:
        return ""
    return history.events[0].workflow_execution_started_event_attributes.continued_execution_run_id
