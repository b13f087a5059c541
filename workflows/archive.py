"""ArchiveWorkflow: started daily by the `dvds-audit-archive` schedule.

Activities: archive_closed_cases (appends every closed case not yet archived).
No updates, queries or timers.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.archive import ArchiveActivities
    from states.archiving import ArchiveInput, ArchiveResult


@workflow.defn
class ArchiveWorkflow:
    @workflow.run
    async def run(self, request: ArchiveInput) -> ArchiveResult:
        return await workflow.execute_activity_method(
            ArchiveActivities.archive_closed_cases,
            request,
            start_to_close_timeout=timedelta(hours=4),
            heartbeat_timeout=timedelta(minutes=5),
            retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=10), maximum_attempts=10),
        )
