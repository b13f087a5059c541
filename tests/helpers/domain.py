"""Cases of the domain on their own (no Temporal): a new case, a task done on it by the
staff member who usually does it, at a fixed time."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from states.case import Case
from states.policy import default_policy
from states.record import Actor, CaseInput
from states.roles import TASK_ROLE, Task
from tests.helpers.cases import application, new_ref, submission

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
STAFF = {
    Task.research: "R100", Task.risk_assessment: "RA200", Task.decision: "DM300", Task.disclosure: "DO400",
    Task.withdrawal: "OP1", Task.review: "RV500", Task.failure_confirmation: "PS600",
    Task.remedial_disclosure: "DO400", Task.iopc_decision: "PS600", Task.deadline_extension: "SV700",
    Task.countersignature: "DM310", Task.risk_update: "RA200", Task.safeguarding_contact: "DO400",
    Task.referral_resolution: "PS600",
}


def new_case(**start: Any) -> Case:
    start.setdefault("application", application())
    return Case(CaseInput(ref=new_ref(), **start), default_policy(), NOW)


def do(case: Case, task: Task, example: str | None = None, actor: str | None = None, **changes: Any) -> None:
    case.apply(task, Actor(id=actor or STAFF[task], role=TASK_ROLE[task]), submission(task, example, **changes), NOW)
