"""The claim board as web hosts use it: claim, release, forget, and read every claim.

The board is a workflow on the server (workflows/claims.py), started by the first claim,
so every web host sees the same claims and none keeps them on its own disk. The engine
does not enforce a claim: the web app refuses a submission on a task someone else holds.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import structlog
from temporalio.client import Client, WithStartWorkflowOperation, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from dvds.errors import ReadableError
from states.claims import Claim, ClaimBoardInput, ClaimRequest
from states.roles import Task
from workflows.claims import CLAIM_TAKEN, claim_board_id

logger = structlog.get_logger()
BOARD_WORKFLOW = "ClaimBoardWorkflow"
# Reading the claims needs a worker to answer the query: an inbox without a worker shows
# its tasks unclaimed after this long rather than hang.
READ_TIMEOUT = timedelta(seconds=10)


class ClaimTaken(ReadableError):
    """The task is claimed by someone else. Names the staff id, nothing personal."""


class ClaimsUnavailable(ReadableError):
    """The board could not be reached; nothing changed."""


class ClaimBoard:
    def __init__(self, client: Client, task_queue: str) -> None:
        self.client = client
        self.task_queue = task_queue
        self.board_id = claim_board_id(task_queue)

    async def all(self) -> dict[tuple[str, str], Claim]:
        """Every claim by (ref, task); none when no claim was ever made or the board cannot answer."""
        try:
            claims = await self.client.get_workflow_handle(self.board_id).query(
                "all_claims", result_type=list[Claim], rpc_timeout=READ_TIMEOUT
            )
        except RPCError as err:
            if err.status is not RPCStatusCode.NOT_FOUND:
                logger.warning("claims unreadable", status=err.status.name)
            return {}
        return {(c.ref, str(c.task)): c for c in claims}

    async def find(self, ref: str, task: str) -> Claim | None:
        return (await self.all()).get((ref, task))

    async def claim(self, ref: str, task: str, staff_id: str) -> Claim:
        request = ClaimRequest(ref=ref, task=Task(task), staff_id=staff_id)
        start: WithStartWorkflowOperation[Any, None] = WithStartWorkflowOperation(
            BOARD_WORKFLOW, ClaimBoardInput(), id=self.board_id, task_queue=self.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )
        try:
            claim: Claim = await self.client.execute_update_with_start_workflow(
                "claim", request, start_workflow_operation=start, result_type=Claim
            )
        except WorkflowUpdateFailedError as err:
            raise _refusal(err) from None
        except RPCError as err:
            raise ClaimsUnavailable(f"claims: the server refused the request ({err.status.name})") from None
        return claim

    async def release(self, ref: str, task: str, staff_id: str, any_holder: bool = False) -> None:
        """Release your own claim; a supervisor (`any_holder`) may release anyone's."""
        await self._update("release", ClaimRequest(ref=ref, task=Task(task), staff_id=staff_id, any_holder=any_holder))

    async def forget(self, ref: str, task: str) -> None:
        """Drop the claim on a task that is done, whoever held it."""
        await self._update("forget", ClaimRequest(ref=ref, task=Task(task), staff_id="engine", any_holder=True))

    async def _update(self, name: str, request: ClaimRequest) -> None:
        try:
            await self.client.get_workflow_handle(self.board_id).execute_update(name, request)
        except WorkflowUpdateFailedError as err:
            raise _refusal(err) from None
        except RPCError as err:
            if err.status is RPCStatusCode.NOT_FOUND:
                return  # no board yet: no claim to release
            raise ClaimsUnavailable(f"claims: the server refused the request ({err.status.name})") from None


def _refusal(err: WorkflowUpdateFailedError) -> ReadableError:
    cause = err.cause
    if isinstance(cause, ApplicationError) and cause.type == CLAIM_TAKEN:
        return ClaimTaken(cause.message)
    return ClaimsUnavailable("claims: the claim board could not apply the change")
