"""Messages that cross Temporal: task submissions with their actor, activity inputs and
results, the case file. One model per message, so fields can be added later."""

from __future__ import annotations

from datetime import datetime
from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from states.models import Application
from states.policy import Accountable
from states.proof import Envelope
from states.record import Actor, CaseSnapshot, HistoricalFacts, TaskRecord
from states.roles import Role, Task

Submission = TypeVar("Submission", bound=BaseModel)


class TaskInput(BaseModel, Generic[Submission]):
    """A human task's submission, who submits it, and their signature over both (states/proof.py)."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)
    actor: Actor
    submission: Submission
    proof: Envelope | None = None  # required of every submission arriving now; tasks recorded before have none


class TaskWaiting(BaseModel):
    """Tell a team that a task waits on a case. No personal data."""

    ref: str
    task: Task
    role: Role
    due: datetime | None
    urgent: bool


class Escalation(BaseModel):
    """One rung of a ladder: who is accountable for which deadline, due when."""

    ref: str
    deadline: str
    due: datetime
    notify: Accountable
    breach: bool
    idempotency_key: str
    incident: str | None = None  # set when a person must act on a failure (why, no personal data)


class ReferralRequest(BaseModel):
    """What goes to the IOPC gateway. The case reference and the facts of the failure;
    the people's details travel by the force's secure channel, not in this message."""

    ref: str
    category: str
    failure_type: str
    harm_occurred: bool
    still_at_risk: bool
    duty_arose_at: datetime
    idempotency_key: str
    cases: list[str] = Field(default_factory=list, description="An organisational referral's cases")


class ReferralReceipt(BaseModel):
    iopc_reference: str
    accepted_at: datetime


class CaseFile(BaseModel):
    """Everything on a case, personal data included: for staff whose role needs it."""

    snapshot: CaseSnapshot
    application: Application
    historical: HistoricalFacts | None
    tasks: list[TaskRecord]
