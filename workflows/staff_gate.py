"""The staff directory's check on every task submitted, as a worker interceptor.

Who may act is data the worker loads (dvds/staff/directory.py), not workflow state. It is
consulted only in update *validators*: a validator runs when an update arrives and
never on replay (the server marks replayed updates `run_validator=False`), so reading
worker-side data there cannot make a replay diverge. Handlers never consult it.

The directory reaches the sandboxed workflow through `unsafe_extern_functions`, the
SDK's channel for worker-side callables; CaseWorkflow's code does not change.

Order: unknown or inactive staff ids are refused first (nothing about the case is told
to them); then the case's own rules (state, task role, segregation of duties); then
whether the staff member holds the role they act in.
"""

from __future__ import annotations

from typing import Protocol

from temporalio import workflow
from temporalio.exceptions import ApplicationError
from temporalio.worker import (
    HandleUpdateInput,
    Interceptor,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
)

with workflow.unsafe.imports_passed_through():
    from pydantic import ValidationError

    from states.messages import TaskInput
    from states.record import Actor
    from states.roles import Role, Task

IDENTITY = "dvds_staff_identity_refusal"
ROLE = "dvds_staff_role_refusal"


class StaffLookup(Protocol):
    """A StaffDirectory, or a StaffFile that re-reads it."""

    def identity_refusal(self, staff_id: str) -> str | None: ...

    def refusal(self, staff_id: str, role: Role) -> str | None: ...


class StaffGate(Interceptor):
    def __init__(self, staff: StaffLookup) -> None:
        self.staff = staff

    def workflow_interceptor_class(self, input: WorkflowInterceptorClassInput) -> type[WorkflowInboundInterceptor]:
        input.unsafe_extern_functions[IDENTITY] = self.staff.identity_refusal
        input.unsafe_extern_functions[ROLE] = self.staff.refusal
        return _StaffGateInbound


def _refuse(reason: str | None) -> None:
    if reason is not None:
        raise ApplicationError(reason, type="TaskRefused", non_retryable=True)


def _actor(update: str, args: object) -> Actor | None:
    """Who submits a task update. The case's updates take plain data (and parse it in
    their validator); a malformed actor is left for that validator to refuse by field."""
    if update not in Task.__members__ or not isinstance(args, (list, tuple)) or len(args) != 1:
        return None
    submitted = args[0]
    if isinstance(submitted, TaskInput):
        return submitted.actor
    if isinstance(submitted, dict):
        try:
            return Actor.model_validate(submitted.get("actor"))
        except ValidationError:
            return None
    return None


class _StaffGateInbound(WorkflowInboundInterceptor):
    def handle_update_validator(self, input: HandleUpdateInput) -> None:
        actor = _actor(input.update, input.args)
        if actor is None:
            self.next.handle_update_validator(input)
            return
        lookups = workflow.extern_functions()
        _refuse(lookups[IDENTITY](actor.id))
        self.next.handle_update_validator(input)
        _refuse(lookups[ROLE](actor.id, actor.role))
