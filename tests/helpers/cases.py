"""Building cases and submissions for tests, from the files under examples/."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import DeleteWorkflowExecutionRequest
from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Worker

from dvds.settings import Settings
from states.messages import TaskInput
from states.models import Application
from states.proof import CASE_START
from states.record import Actor, CaseInput, CaseSnapshot
from states.roles import TASK_ROLE, Role, Task
from states.tasks import TASK_MODEL
from tests.helpers.eventually import eventually
from tests.helpers.paths import EXAMPLES
from tests.helpers.staff import SIGNER
from worker import case_workers
from workflows.case import CaseWorkflow

OPERATOR = Actor(id="OP1", role=Role.operator)


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


def task_input(
    task: Task, actor_id: str, example: str | None = None, role: str | None = None, **changes: Any
) -> TaskInput[Any]:
    """A submission as `actor_id` sends it, unsigned (sign it with `signed`)."""
    actor = Actor(id=actor_id, role=role or TASK_ROLE[task])
    return TaskInput[TASK_MODEL[task]](actor=actor, submission=submission(task, example, **changes))  # type: ignore[index,valid-type]


def signed(ref: str, task: Task, submitted: TaskInput[Any]) -> TaskInput[Any]:
    """The submission with its actor's signature, as `dvds task complete` sends it."""
    return submitted.model_copy(update={"proof": SIGNER.sign(ref, task, submitted.actor, submitted.submission)})


@asynccontextmanager
async def running_worker(client: Client, tmp_path: Path, **settings: Any) -> AsyncIterator[Worker]:
    queue = f"test-{uuid.uuid4()}"
    async with case_workers(client, Settings(home=tmp_path, **settings), task_queue=queue) as worker:
        yield worker


def signed_start(case: CaseInput) -> CaseInput:
    """The start with its operator's signature, as `dvds case start` sends it."""
    if case.started_by is None:
        return case
    return case.model_copy(update={"proof": SIGNER.sign(case.ref, CASE_START, case.started_by, case.application)})


async def start_case(client: Client, worker: Worker, **start: Any) -> WorkflowHandle[CaseWorkflow, CaseSnapshot]:
    """A case started straight on the client, signed: a new application by OP1 unless the
    test names another starter (a historical one names nobody)."""
    start.setdefault("ref", new_ref())
    start.setdefault("application", application())
    if start.get("historical") is None:
        start.setdefault("started_by", OPERATOR)
    case = signed_start(CaseInput(**start))
    return await client.start_workflow(CaseWorkflow.run, case, id=case.ref, task_queue=worker.task_queue)


async def submit(
    handle: WorkflowHandle[Any, Any], task: Task, actor_id: str, example: str | None = None, **changes: Any
) -> CaseSnapshot:
    submitted = signed(handle.id, task, task_input(task, actor_id, example, **changes))
    return await handle.execute_update(str(task), submitted, result_type=CaseSnapshot)


async def settled(handle: WorkflowHandle[Any, Any], within: float = 20.0) -> list[Any]:
    """The case's history once it is quiet: no workflow task or activity pending
    (Temporal has no condition to wait on from outside)."""

    async def quiet() -> list[Any] | None:
        await handle.query("snapshot")  # waits for any outstanding workflow task
        raw = (await handle.describe()).raw_description
        if raw.pending_activities or raw.HasField("pending_workflow_task"):
            return None
        return [e async for e in handle.fetch_history_events()]

    return await eventually(quiet, within, "the case settling")


async def referred(handle: WorkflowHandle[Any, Any], within: float = 60.0) -> CaseSnapshot:
    """The case once it shows its IOPC reference (the referral activity runs on its own)."""

    async def filed() -> CaseSnapshot | None:
        snap = await handle.query("snapshot", result_type=CaseSnapshot)
        return snap if snap.referral and snap.referral.iopc_reference else None

    return await eventually(filed, within, "the IOPC referral filed")


async def eventually_gone(client: Client, ref: str, within: float = 120.0) -> None:
    """Until the server no longer has the case's history (deletion is asynchronous)."""

    async def gone() -> bool:
        try:
            await client.get_workflow_handle(ref).fetch_history()
        except RPCError as err:
            if err.status is RPCStatusCode.NOT_FOUND:
                return True
            raise
        return False

    await eventually(gone, within, "the server forgetting the case")


async def delete_case(client: Client, case_id: str) -> None:
    """Delete the case from the server (terminated first if running), and wait until it is gone."""
    await client.workflow_service.delete_workflow_execution(DeleteWorkflowExecutionRequest(
        namespace=client.namespace, workflow_execution=WorkflowExecution(workflow_id=case_id)))
    await eventually_gone(client, case_id)
