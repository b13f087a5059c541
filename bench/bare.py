"""The baseline: bare Temporal, no domain logic. Per case, what the case engine does
per historical case: a start that runs one activity (the engine's "review waiting"
notice), then one update that closes it. A case with a failure takes two updates: the
first runs one activity (the confirmation notice), the second two (the referral and
the remedial-disclosure notice), as the engine's do. Activities run in the background
of the workflow, as the engine's do, so an update answers without waiting for them.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from temporalio import activity, workflow

TIMEOUT = timedelta(seconds=30)


@activity.defn
async def bare_activity(step: int) -> int:
    return step


@workflow.defn
class BareWorkflow:
    """Updates: step(activities, last). No queries, no timers."""

    def __init__(self) -> None:
        self._background: list[asyncio.Task[Any]] = []
        self._last = False

    @workflow.run
    async def run(self) -> None:
        self._run_activities(1)
        await workflow.wait_condition(lambda: self._last and workflow.all_handlers_finished())
        await asyncio.gather(*self._background)

    @workflow.update
    def step(self, activities: int, last: bool) -> int:
        self._run_activities(activities)
        self._last = last
        return len(self._background)

    def _run_activities(self, count: int) -> None:
        for _ in range(count):
            call = workflow.execute_activity(bare_activity, len(self._background), start_to_close_timeout=TIMEOUT)
            self._background.append(asyncio.ensure_future(call))
