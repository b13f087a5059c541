"""The staff directory's check on every task submitted, as a worker interceptor.

Who may act is data the worker loads (dvds/staff/directory.py), not workflow state. It is
consulted only in update *validators*: a validator runs when an update arrives and
never on replay (the server marks replayed updates `run_validator=False`), so reading
worker-side data there cannot make a replay diverge. Handlers never consult it, so the
tasks of cases recorded before proofs existed replay as they ran.

The directory (and the signature check the worker injects with it) reaches the sandboxed
workflow through `unsafe_extern_functions`, the SDK's channel for worker-side callables.

Order: the submission's proof first (states/proof.py: signed by the actor's own key or the
web inbox's, for this case, this task and exactly this submission, with a nonce the case
has not seen; nothing else is looked at without one); then unknown or inactive staff ids
(nothing about the case is told to them); then the case's own rules (state, task role,
segregation of duties); then whether the staff member holds the role they act in.
"""

from __future__ import annotations

from collections.abc import Container
from datetime import datetime
from typing import Any, Protocol

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

    from states.admission import seen_nonces
    from states.case import Case
    from states.messages import TaskInput
    from states.proof import Claim, Envelope, ProofRefusal, Verifier, admission_refusal
    from states.record import Actor
    from states.roles import Role, Task
    from states.staff import StaffDirectory
    from states.tasks import TASK_MODEL

IDENTITY = "dvds_staff_identity_refusal"
ROLE = "dvds_staff_role_refusal"
PROOF = "dvds_staff_proof_refusal"


class StaffSource(Protocol):
    """A StaffFile: the directory as its file says now."""

    @property
    def directory(self) -> StaffDirectory: ...

    def identity_refusal(self, staff_id: str) -> str | None: ...

    def refusal(self, staff_id: str, role: Role) -> str | None: ...


StaffLookup = StaffDirectory | StaffSource


class StaffGate(Interceptor):
    def __init__(self, staff: StaffLookup, verifier: Verifier) -> None:
        self.staff = staff
        self.verifier = verifier

    def workflow_interceptor_class(self, input: WorkflowInterceptorClassInput) -> type[WorkflowInboundInterceptor]:
        input.unsafe_extern_functions[IDENTITY] = self.staff.identity_refusal
        input.unsafe_extern_functions[ROLE] = self.staff.refusal
        input.unsafe_extern_functions[PROOF] = self.proof_refusal
        return _StaffGateInbound

    def proof_refusal(
        self, envelope: Envelope | None, claim: Claim, seen: Container[str], now: datetime
    ) -> ProofRefusal | None:
        """May a case take this proof now, by the directory as it is now? Also the start's check."""
        directory = self.staff if isinstance(self.staff, StaffDirectory) else self.staff.directory
        return admission_refusal(envelope, claim, directory, self.verifier, seen_nonces=seen, now=now)


def _refuse(reason: str | None) -> None:
    if reason is not None:
        raise ApplicationError(reason, type="TaskRefused", non_retryable=True)


def _submitted(update: str, args: object) -> TaskInput[Any] | None:
    """The task submitted, parsed as the case will parse it; None for anything else. A
    malformed one is left for the case's own validator to refuse by field."""
    if update not in Task.__members__ or not isinstance(args, (list, tuple)) or len(args) != 1:
        return None
    model = TaskInput[TASK_MODEL[Task(update)]]  # type: ignore[misc,valid-type]
    try:
        return model.model_validate(args[0])
    except ValidationError:
        return None


def _case() -> Case | None:
    case = getattr(workflow.instance(), "case", None)
    return case if isinstance(case, Case) else None


class _StaffGateInbound(WorkflowInboundInterceptor):
    def handle_update_validator(self, input: HandleUpdateInput) -> None:
        submitted = _submitted(input.update, input.args)
        case = _case()
        if submitted is None or case is None:
            self.next.handle_update_validator(input)
            return
        lookups = workflow.extern_functions()
        actor: Actor = submitted.actor
        claim = Claim.of(case.start.ref, Task(input.update), actor, submitted.submission)
        refused = lookups[PROOF](submitted.proof, claim, seen_nonces(case.start, case.tasks), workflow.now())
        if refused is not None:
            workflow.logger.warning(
                "security: task proof refused",
                extra={"security": "task proof refused", "rule": str(refused.rule), "case_ref": case.start.ref,
                       "task": input.update, "actor": actor.id},
            )
            raise ApplicationError(refused.message, type="ProofRefused", non_retryable=True)
        _refuse(lookups[IDENTITY](actor.id))
        self.next.handle_update_validator(input)
        _refuse(lookups[ROLE](actor.id, actor.role))
