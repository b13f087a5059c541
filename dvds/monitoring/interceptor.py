"""Counting what the worker sees, as a worker interceptor, never from workflow code:

- refused tasks: a task update's validator (the staff gate's, then the case's own) raised.
  Validators run when an update arrives and never on replay, so each refusal is counted
  once, by the worker that refused it. The count reaches the worker's registry through
  `unsafe_extern_functions`, the SDK's channel from the sandbox to worker-side callables.
- escalations: an `escalate` activity completed.
- incidents: an activity refused for good (IopcRefused, NoticeRefused), by kind.

Put it first among the worker's interceptors, so it sees the staff gate's refusals too.
"""

from __future__ import annotations

from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    HandleUpdateInput,
    Interceptor,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
)

from activities.iopc_http import IOPC_REFUSED
from activities.smtp import NOTICE_REFUSED
from dvds.monitoring.metrics import DomainMetrics
from dvds.monitoring.refusals import refusal_rule
from states.messages import Escalation
from states.roles import Task

REFUSED = "dvds_metrics_task_refused"
INCIDENTS = {IOPC_REFUSED: "iopc_refused", NOTICE_REFUSED: "notice_refused"}


class MonitoringInterceptor(Interceptor):
    def __init__(self, metrics: DomainMetrics) -> None:
        self.metrics = metrics

    def _refused(self, task: str, error_type: str | None, message: str) -> None:
        self.metrics.refused_task(task, refusal_rule(error_type, message))

    def workflow_interceptor_class(self, input: WorkflowInterceptorClassInput) -> type[WorkflowInboundInterceptor]:
        input.unsafe_extern_functions[REFUSED] = self._refused
        return _RefusalCounter

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _EscalationCounter(next, self.metrics)


class _RefusalCounter(WorkflowInboundInterceptor):
    def handle_update_validator(self, input: HandleUpdateInput) -> None:
        try:
            self.next.handle_update_validator(input)
        except ApplicationError as refused:
            if input.update in Task.__members__:
                workflow.extern_functions()[REFUSED](input.update, refused.type, refused.message)
            raise


class _EscalationCounter(ActivityInboundInterceptor):
    def __init__(self, next: ActivityInboundInterceptor, metrics: DomainMetrics) -> None:
        super().__init__(next)
        self.metrics = metrics

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        try:
            result = await self.next.execute_activity(input)
        except ApplicationError as failed:
            if failed.non_retryable and failed.type in INCIDENTS:
                self.metrics.incident(INCIDENTS[failed.type])
            raise
        escalation = input.args[0] if input.args else None
        if isinstance(escalation, Escalation):
            self.metrics.escalated(escalation.deadline, str(escalation.notify), escalation.breach)
        return result
