"""Who may see a case's personal data (names, dates of birth, addresses, safe contact,
free text): need to know, declared here rather than in the pages that show it.

A staff member sees it when they hold a role whose work needs it AND the case needs
that role now (a task or action of that role is open on it) or they worked on it.
Supervisors (they extend deadlines) and auditors (they read what happened, who, when)
never need it: their pages show state, tasks, deadlines and timelines only.
"""

from __future__ import annotations

from states.record import CaseSnapshot
from states.roles import READ_ONLY_ROLES, TASK_ROLE, Role, Task

PERSONAL_DATA_ROLES: frozenset[Role] = frozenset({
    Role.operator,  # records the application and withdraws it with the applicant
    Role.researcher,  # searches every name, alias and date of birth
    Role.risk_assessor,
    Role.decision_maker,
    Role.disclosing_officer,  # meets the person at risk, through the safe contact
    Role.reviewer,  # checks the whole handling
    Role.professional_standards,  # confirms failures from the record
})


def may_see_personal_data(roles: list[Role], staff_id: str, snapshot: CaseSnapshot, worked_on: bool) -> bool:
    if READ_ONLY_ROLES.intersection(roles):
        return False
    needed = {TASK_ROLE[Task(t)] for t in [*snapshot.pending_tasks, *snapshot.actions] if t != Task.deadline_extension}
    mine = PERSONAL_DATA_ROLES.intersection(roles)
    return bool(mine) and (bool(mine & needed) or worked_on)
