"""Building cases and submissions for tests, from the files under examples/."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from temporalio.client import Client, WorkflowHandle
from temporalio.worker import Worker

from dvds.settings import Settings
from states.messages import TaskInput
from states.models import Application
from states.record import Actor, CaseInput, CaseSnapshot
from states.roles import TASK_ROLE, Task
from states.tasks import TASK_MODEL
from worker import build_worker
from workflows.case import CaseWorkflow

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def new_ref() -> str:
    return f"TEST-2026-{uuid.uuid4().int % 10**8}"


def application(**changes: Any) -> Application:
    data = json.loads((EXAMPLES / "application.json").read_text())
    data.update(changes)
    return Application.model_validate(data)


def submission(task: Task, example: str | None = None, **changes: Any) -> Any:
    data = json.loads((EXAMPLES / "tasks" / f"{example or task}.json").read_text())
    data.update(changes)
    return TASK_MODEL[task].model_validate(data)


def task_input(task: Task, actor_id: str, example: str | None = None, role: str | None = None, **changes: Any) -> TaskInput[Any]:
    actor = Actor(id=actor_id, role=role or TASK_ROLE[task])
    return TaskInput[TASK_MODEL[task]](actor=actor, submission=submission(task, example, **changes))  # type: ignore[index]


@asynccontextmanager
async def running_worker(client: Client, tmp_path: Path, **settings: Any) -> AsyncIterator[Worker]:
    queue = f"test-{uuid.uuid4()}"
    worker = build_worker(client, Settings(home=tmp_path, **settings), task_queue=queue)
    async with worker:
        yield worker


async def start_case(client: Client, worker: Worker, **start: Any) -> WorkflowHandle[CaseWorkflow, CaseSnapshot]:
    start.setdefault("ref", new_ref())
    start.setdefault("application", application())
    case = CaseInput(**start)
    return await client.start_workflow(CaseWorkflow.run, case, id=case.ref, task_queue=worker.task_queue)


async def submit(handle: WorkflowHandle[Any, Any], task: Task, actor_id: str, example: str | None = None, **changes: Any) -> CaseSnapshot:
    return await handle.execute_update(str(task), task_input(task, actor_id, example, **changes), result_type=CaseSnapshot)


async def settled(handle: WorkflowHandle[Any, Any], within: float = 20.0) -> list[Any]:
    """The case's history once it is quiet: no workflow task or activity pending.
    Polls with a deadline; Temporal has no condition to wait on from outside."""
    import asyncio

    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        await handle.query("snapshot")  # waits for any outstanding workflow task
        description = await handle.describe()
        raw = description.raw_description
        if not raw.pending_activities and not raw.HasField("pending_workflow_task"):
            return [e async for e in handle.fetch_history_events()]
        assert loop.time() < deadline, "the case did not settle in time"
        await asyncio.sleep(0.1)
