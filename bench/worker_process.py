"""A worker in its own process, so the bench reads its peak memory from /proc:
`python -m bench.worker_process case|bare QUEUE STATUS_FILE`.

`case` is the real worker (worker.build_worker, settings from DVDS_*); `bare` runs
BareWorkflow with the SDK's defaults, plus the case worker's cache size and its workflow
module passed through the sandbox as the case worker's is. Both count finished
activities and the workflows in their cache, and write them to STATUS_FILE a few times
a second: the bench waits on those counts to know a phase's work is done.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

from temporalio.client import Client
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
    Worker,
)
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from bench.bare import BareWorkflow, bare_activity
from dvds import logs
from dvds.connection.client import connect
from dvds.settings import Settings
from worker import build_worker


class ActivityCount(Interceptor):
    def __init__(self) -> None:
        self.finished = 0

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _Counting(next, self)


class _Counting(ActivityInboundInterceptor):
    def __init__(self, next: ActivityInboundInterceptor, count: ActivityCount) -> None:
        super().__init__(next)
        self.count = count

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        result = await self.next.execute_activity(input)
        self.count.finished += 1
        return result


class GcClock:
    """Time the process spent in Python's cyclic garbage collector, and its full collections."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.full = 0
        self._began = 0.0
        gc.callbacks.append(self._on_gc)

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._began = time.perf_counter()
            return
        self.seconds += time.perf_counter() - self._began
        self.full += info["generation"] == 2


def cached_workflows(worker: Worker) -> int:
    # The SDK keeps no public count of its cache; its running-workflow table is the cache.
    inner = worker._workflow_worker  # noqa: SLF001
    return len(inner._running_workflows) if inner else 0  # noqa: SLF001


def write_status(path: Path, status: dict[str, int]) -> None:
    partial = path.with_suffix(".tmp")
    partial.write_text(json.dumps(status))
    os.replace(partial, path)


async def build(kind: str, queue: str, count: ActivityCount) -> Worker:
    settings = Settings()
    if kind == "bare":
        address = os.environ["TEMPORAL_ADDRESS"]
        client = await Client.connect(address)
        # The SDK's defaults, with the case worker's cache size and, like the case worker,
        # its workflow module passed through the sandbox (worker.py: sandbox).
        runner = SandboxedWorkflowRunner(restrictions=SandboxRestrictions.default.with_passthrough_modules("bench"))
        return Worker(client, task_queue=queue, workflows=[BareWorkflow], activities=[bare_activity],
                      interceptors=[count], max_cached_workflows=settings.max_cached_cases, workflow_runner=runner)
    return build_worker(await connect(settings), settings, task_queue=queue, interceptors=[count])


async def main(kind: str, queue: str, status_path: Path) -> None:
    count = ActivityCount()
    gc_clock = GcClock()
    worker = await build(kind, queue, count)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    peak_cached = 0
    async with worker:
        while not stop.is_set():
            cached = cached_workflows(worker)
            peak_cached = max(peak_cached, cached)
            write_status(status_path, {"activities": count.finished, "cached": cached, "peak_cached": peak_cached,
                                       "max_cached": worker.config().get("max_cached_workflows") or 0,
                                       "gc_ms": round(gc_clock.seconds * 1000), "gc_full": gc_clock.full})
            try:
                await asyncio.wait_for(stop.wait(), 0.2)
            except TimeoutError:
                pass


if __name__ == "__main__":
    logs.configure()
    asyncio.run(main(sys.argv[1], sys.argv[2], Path(sys.argv[3])))
