"""ArchiveWorkflow: started daily by the `dvds-audit-archive` schedule.

Activities: archive_closed_cases (appends every closed case not yet archived), on the
    archive's own task queue, served only by the designated archiver (DVDS_ARCHIVER), so
    one writer keeps the chain whatever the number of workers.
No updates, queries or timers.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.archive import ArchiveActivities
    from states.archiving import ArchiveInput, ArchiveResult, archive_task_queue

ARCHIVE_QUEUE = "archive-on-its-own-queue"


@workflow.defn
class ArchiveWorkflow:
    @workflow.run
    async def run(self, request: ArchiveInput) -> ArchiveResult:
        # Retired: a run lasts hours, and none begun before the archive had its own queue is left.
        workflow.deprecate_patch(ARCHIVE_QUEUE)
        queue = archive_task_queue(workflow.info().task_queue)
        return await workflow.execute_activity_method(
            ArchiveActivities.archive_closed_cases,
            request,
            task_queue=queue,
            start_to_close_timeout=timedelta(hours=4),
            heartbeat_timeout=timedelta(minutes=5),
            retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=10), maximum_attempts=10),
        )
