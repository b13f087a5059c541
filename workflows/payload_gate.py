"""The worker's refusal of anything not encrypted under the key ring, as an interceptor.

The worker's codec (dvds/connection/worker_codec.py) turns such a payload into a
`RefusedPayload`; this gate acts on it before any workflow code sees it:
- an update is refused by its validator: no history event, the case unchanged;
- a signal is dropped (the server has recorded it already; nothing of it reaches a case);
- a workflow start ends the run at once as refused, unlisted from every case list, and
  queries on it are answered with the same refusal.
Each is a security log line naming the rule, never the payload.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NoReturn

from temporalio import workflow
from temporalio.exceptions import ApplicationError
from temporalio.worker import (
    ExecuteWorkflowInput,
    HandleQueryInput,
    HandleSignalInput,
    HandleUpdateInput,
    Interceptor,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
)

with workflow.unsafe.imports_passed_through():
    from states.payloads import RefusedPayload
    from workflows import search


class PayloadGate(Interceptor):
    def workflow_interceptor_class(self, input: WorkflowInterceptorClassInput) -> type[WorkflowInboundInterceptor]:
        return _PayloadGateInbound


def refused_argument(args: Sequence[Any]) -> RefusedPayload | None:
    return next((a for a in args if isinstance(a, RefusedPayload)), None)


def security_event(what: str, rule: str, **fields: str) -> None:
    """One structured security line (workflow.logger: not repeated on replay)."""
    extra = {"security": what, "rule": rule, "workflow_id": workflow.info().workflow_id, **fields}
    workflow.logger.warning(f"security: {what}", extra=extra)


def end_refused(message: str, error_type: str) -> NoReturn:
    """End this run as refused: every case attribute a starter may have set is taken away (so
    no list shows it as a case), the state is `refused`, and the run fails with the reason."""
    current = workflow.info().typed_search_attributes
    updates = [key.value_unset() for key in search.ALL if current.get(key) is not None and key is not search.STATE]
    workflow.upsert_search_attributes([*updates, search.STATE.value_set(search.REFUSED)])
    raise ApplicationError(message, type=error_type, non_retryable=True)


class _PayloadGateInbound(WorkflowInboundInterceptor):
    _refused_start: RefusedPayload | None = None

    async def execute_workflow(self, input: ExecuteWorkflowInput) -> Any:
        refused = refused_argument(input.args)
        if refused is None:
            return await self.next.execute_workflow(input)
        self._refused_start = refused
        security_event("workflow start refused", refused.rule, workflow_type=workflow.info().workflow_type)
        end_refused(refused.message, "PayloadRefused")

    def handle_update_validator(self, input: HandleUpdateInput) -> None:
        refused = refused_argument(input.args)
        if refused is not None:
            security_event("update refused", refused.rule, update=input.update)
            raise ApplicationError(refused.message, type="PayloadRefused", non_retryable=True)
        self.next.handle_update_validator(input)

    async def handle_update_handler(self, input: HandleUpdateInput) -> Any:
        # Only reached without a validator (every case update has one): refused all the same.
        refused = refused_argument(input.args)
        if refused is not None:
            raise ApplicationError(refused.message, type="PayloadRefused", non_retryable=True)
        return await self.next.handle_update_handler(input)

    async def handle_signal(self, input: HandleSignalInput) -> None:
        refused = refused_argument(input.args)
        if refused is not None:
            security_event("signal dropped", refused.rule, signal=input.signal)
            return
        await self.next.handle_signal(input)

    async def handle_query(self, input: HandleQueryInput) -> Any:
        refused = self._refused_start or refused_argument(input.args)
        if refused is not None:
            raise ApplicationError(refused.message, type="PayloadRefused", non_retryable=True)
        return await self.next.handle_query(input)
