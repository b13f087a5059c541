"""Where an auditor's timeline comes from: the server's event histories (every run of the
case), or the archive once the server no longer has the case (past retention, or deleted)."""

from __future__ import annotations

from pathlib import Path

from temporalio.client import Client, WorkflowHistory
from temporalio.service import RPCError, RPCStatusCode

from activities.archive_store import Archive, ArchiveRecord
from dvds.audit.runs import case_runs
from dvds.audit.timeline import Timeline, build_timeline
from dvds.cases.client import CaseError, case_workflow_id


async def case_timeline(client: Client, ref: str, archive_dir: Path, include_submissions: bool = False) -> Timeline:
    """The timeline of the case with this reference, from the server; from its archived raw
    history when the server has none. Both are decoded the same way, so they read the same."""
    case_id = case_workflow_id(ref)
    try:
        runs = await case_runs(client, case_id)
    except RPCError as err:
        if err.status is not RPCStatusCode.NOT_FOUND:
            raise CaseError(f"the server refused the request ({err.status.name})") from None
    else:
        return await build_timeline(runs, client.data_converter, client.namespace, include_submissions)
    record = Archive(archive_dir).find(case_id)  # archived under the workflow id
    if record is None:
        raise CaseError(f"ref: no case {ref} on this server or in the archive at {archive_dir}")
    return await archived_timeline(client, record, include_submissions)


async def archived_timeline(client: Client, record: ArchiveRecord, include_submissions: bool = False) -> Timeline:
    """The timeline rebuilt from an archive record's raw histories (every run it holds)."""
    runs = [WorkflowHistory.from_json(record.ref, run) for run in [*record.earlier_runs, record.history]]
    return await build_timeline(
        runs, client.data_converter, client.namespace, include_submissions, source=f"archive record {record.seq}"
    )
