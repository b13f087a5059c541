"""The Temporal Schedule that archives closed cases daily (created by `dvds up`)."""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleHandle,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)

from dvds.settings import Settings
from states.archiving import ArchiveInput
from workflows.archive import ArchiveWorkflow

SCHEDULE_ID = "dvds-audit-archive"
DAILY = "30 2 * * *"  # 02:30 UK time, after the day's cases have closed


def archive_schedule(settings: Settings) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(
            ArchiveWorkflow.run, ArchiveInput(), id=SCHEDULE_ID, task_queue=settings.task_queue
        ),
        spec=ScheduleSpec(cron_expressions=[DAILY], time_zone_name="Europe/London"),
        # A missed day (server down) runs once when it is back; never two at a time.
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=timedelta(days=2)),
    )


async def ensure_archive_schedule(client: Client, settings: Settings) -> ScheduleHandle:
    """Create the schedule, or bring an existing one up to date (e.g. a new task queue)."""
    schedule = archive_schedule(settings)
    try:
        return await client.create_schedule(SCHEDULE_ID, schedule)
    except ScheduleAlreadyRunningError:
        handle = client.get_schedule_handle(SCHEDULE_ID)

        def replace(_: ScheduleUpdateInput) -> ScheduleUpdate:
            return ScheduleUpdate(schedule=schedule)

        await handle.update(replace)
        return handle
