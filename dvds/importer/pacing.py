"""Pacing an import on the worker: starts wait while the case task queue's backlog (the
workflow tasks no worker has taken yet) is above a limit.

The importer starts cases faster than a worker runs their first tasks. Unpaced, a backlog
of tens of thousands of tasks builds up and the embedded server spills it to SQLite, and
the whole import slows to well under half the rate of the same file in chunks. The
backlog is read from the task queue's own statistics (DescribeTaskQueue with
report_stats), a few times a second by one task, whatever the number of starters.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta

from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client
from temporalio.service import RPCError

DEFAULT_BACKLOG = 400  # about ten seconds of a worker's first tasks: it never waits for work
MAX_HOLD = 60.0  # a start held longer goes ahead: a statistic that never falls must not stop an import


@dataclass
class BacklogGate:
    """Open while the backlog is at most `limit`; `run()` keeps it up to date until cancelled.
    Fails open: a backlog that cannot be read (the server busy or older) holds nothing, and
    no start is held more than `max_hold` seconds, so pacing can slow an import, never stop it."""

    client: Client
    task_queue: str
    limit: int = DEFAULT_BACKLOG
    every: float = 0.2
    max_hold: float = MAX_HOLD

    def __post_init__(self) -> None:
        self._open = asyncio.Event()
        self._open.set()
        self.held = 0  # how many times starts were held, for the bench

    async def backlog(self) -> int:
        request = DescribeTaskQueueRequest(
            namespace=self.client.namespace,
            task_queue=TaskQueue(name=self.task_queue),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
            report_stats=True,
        )
        response = await self.client.workflow_service.describe_task_queue(request, timeout=timedelta(seconds=5))
        return int(response.stats.approximate_backlog_count)

    async def run(self) -> None:
        while True:
            try:
                backlog: int | None = await self.backlog()
            except (RPCError, TimeoutError):
                backlog = None  # unknown: the in-flight bound alone paces the starts until it is read again
            if backlog is not None and backlog > self.limit:
                if self._open.is_set():
                    self.held += 1
                self._open.clear()
            else:
                self._open.set()
            await asyncio.sleep(self.every)

    async def wait(self) -> None:
        try:
            await asyncio.wait_for(self._open.wait(), self.max_hold)
        except TimeoutError:
            pass
