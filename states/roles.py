"""Staff roles, the human tasks, and who may do which: declared as tables.

Segregation of duties is one table (`SEPARATIONS`), read top to bottom, not ifs
scattered through the workflow.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    operator = "operator"
    researcher = "researcher"
    risk_assessor = "risk_assessor"
    decision_maker = "decision_maker"
    disclosing_officer = "disclosing_officer"
    reviewer = "reviewer"
    supervisor = "supervisor"
    professional_standards = "professional_standards"
    auditor = "auditor"


class Task(StrEnum):
    research = "research"
    risk_assessment = "risk_assessment"
    decision = "decision"
    disclosure = "disclosure"
    withdrawal = "withdrawal"
    review = "review"
    failure_confirmation = "failure_confirmation"
    remedial_disclosure = "remedial_disclosure"
    iopc_decision = "iopc_decision"
    deadline_extension = "deadline_extension"
    countersignature = "countersignature"
    risk_update = "risk_update"
    safeguarding_contact = "safeguarding_contact"
    referral_resolution = "referral_resolution"


# The role a task needs. Auditors appear nowhere here: they only read.
TASK_ROLE: dict[Task, Role] = {
    Task.research: Role.researcher,
    Task.risk_assessment: Role.risk_assessor,
    Task.decision: Role.decision_maker,
    Task.disclosure: Role.disclosing_officer,
    Task.withdrawal: Role.operator,
    Task.review: Role.reviewer,
    Task.failure_confirmation: Role.professional_standards,
    Task.remedial_disclosure: Role.disclosing_officer,
    Task.iopc_decision: Role.professional_standards,
    Task.deadline_extension: Role.supervisor,
    Task.countersignature: Role.decision_maker,
    Task.risk_update: Role.risk_assessor,
    Task.safeguarding_contact: Role.disclosing_officer,
    Task.referral_resolution: Role.professional_standards,
}

# Tasks another role may do too, beside the one TASK_ROLE names (which the inbox offers).
ALSO_BY: dict[Task, frozenset[Role]] = {
    Task.risk_update: frozenset({Role.supervisor}),
}


def may_do(task: Task, role: Role) -> bool:
    return role is TASK_ROLE[task] or role in ALSO_BY.get(task, frozenset())


def roles_for(task: Task) -> list[Role]:
    return [TASK_ROLE[task], *sorted(ALSO_BY.get(task, frozenset()))]

# Tasks that are actions available while a case is open, not steps it waits for.
ACTIONS: frozenset[Task] = frozenset(
    {Task.withdrawal, Task.deadline_extension, Task.iopc_decision, Task.risk_update}
)


@dataclass(frozen=True)
class Separation:
    """`task` must not be done by anyone who did one of `not_by_actor_of` on the case."""

    name: str
    task: Task
    not_by_actor_of: frozenset[Task]
    message: str
    # "Their own case" also covers the case they started, not only tasks they did on it.
    nor_case_starter: bool = False


SEPARATIONS: tuple[Separation, ...] = (
    Separation(
        "reviewer_is_not_decision_maker",
        Task.review,
        frozenset({Task.decision, Task.countersignature}),
        "the reviewer must not be the decision maker (or the countersigner) on the case",
    ),
    Separation(
        "confirmer_is_independent",
        Task.failure_confirmation,
        frozenset({Task.review, Task.decision, Task.countersignature}),
        "a failure must be confirmed by a second person: neither the reviewer nor the decision maker",
    ),
    Separation(
        "countersigner_is_a_second_decision_maker",
        Task.countersignature,
        frozenset({Task.decision, Task.research}),
        "a decline must be countersigned by a second decision maker: neither a decision maker nor the researcher "
        "on the case",
    ),
    Separation(
        "supervisor_not_on_own_case",
        Task.deadline_extension,
        frozenset(t for t in Task if t is not Task.deadline_extension),
        "a supervisor cannot extend a deadline on their own case (one they started or worked on)",
        nor_case_starter=True,
    ),
)

# Roles that only read. No task in TASK_ROLE needs one, and a staff member who holds
# one submits nothing at all, whatever other role they also hold: an auditor must not
# audit their own work.
READ_ONLY_ROLES: frozenset[Role] = frozenset({Role.auditor})
READ_ONLY_RULE = "auditors_only_read"
assert not READ_ONLY_ROLES.intersection(TASK_ROLE.values()), "a read-only role must need no task"


def separation_broken(
    task: Task, actor_id: str, actors_by_task: dict[Task, set[str]], started_by: str | None = None
) -> Separation | None:
    """The first separation rule the actor would break by doing `task`, if any."""
    for rule in SEPARATIONS:
        if rule.task is not task:
            continue
        if any(actor_id in actors_by_task.get(t, set()) for t in rule.not_by_actor_of):
            return rule
        if rule.nor_case_starter and started_by is not None and actor_id == started_by:
            return rule
    return None
