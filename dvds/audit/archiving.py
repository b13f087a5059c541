"""Exporting closed cases from Temporal into the archive: the timeline (decoded, without
submissions) and the raw history as the server holds it (payloads stay as the client's
codec encoded them). A case continued as new is archived once, when its last run closes,
with the histories of all its runs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from temporalio.client import Client

from activities.archive_store import Archive
from dvds.audit.runs import case_runs
from dvds.audit.timeline import build_timeline

# A run that continued as new is not a closed case: the case lives on in its next run. A run
# the worker refused (workflows/payload_gate.py) is not a case at all: it is not archived.
CLOSED_CASES = (
    "WorkflowType = 'CaseWorkflow' AND ExecutionStatus != 'Running' AND ExecutionStatus != 'ContinuedAsNew'"
    " AND DvdsState != 'refused'"
)


async def archive_closed_cases(
    client: Client, archive: Archive, progress: Callable[[str], None] | None = None
) -> list[str]:
    """Append every closed case not yet archived, oldest close first. Returns the refs
    archived by this run; a second run archives nothing twice."""
    done = archive.archived_runs()
    closed = [e async for e in client.list_workflows(CLOSED_CASES, page_size=1000)]
    closed.sort(key=lambda e: (e.close_time or e.start_time, e.id))
    archived = []
    for execution in closed:
        if (execution.id, execution.run_id) in done:
            continue
        runs = await case_runs(client, execution.id, execution.run_id)
        timeline = await build_timeline(runs, client.data_converter, client.namespace)
        record = archive.append(
            ref=execution.id,
            run_id=execution.run_id,
            status=timeline.status,
            closed_at=execution.close_time,
            archived_at=datetime.now(UTC),
            timeline=timeline.model_dump(mode="json"),
            history=runs[-1].to_json_dict(),
            earlier_runs=[run.to_json_dict() for run in runs[:-1]],
        )
        if record is not None:
            archived.append(execution.id)
        if progress is not None:
            progress(execution.id)
    return archived
