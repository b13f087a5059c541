"""The inbox's three lists, from the open cases' listings, the claims and the directory:
- my tasks: open tasks for the roles I hold, not claimed by someone else, nearest deadline first;
- my team's queue: open tasks for any role my team holds, with who claimed each;
- the historical review queue, in its priority order (then nearest deadline).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from dvds.cases.client import CaseListing
from states.claims import Claim
from states.roles import TASK_ROLE, Role, Task
from states.staff import StaffDirectory, StaffMember

FAR = datetime.max.replace(tzinfo=UTC)


@dataclass(frozen=True)
class InboxRow:
    ref: str
    task: Task
    role: Role
    due: datetime | None
    overdue: bool
    historical: bool
    priority: str | None
    claimed_by: str | None
    mine_to_do: bool  # the viewer holds the role


@dataclass(frozen=True)
class Inbox:
    mine: list[InboxRow]
    team: list[InboxRow]
    review_queue: list[InboxRow]
    team_name: str


def _team_roles(member: StaffMember, directory: StaffDirectory) -> set[Role]:
    return {r for m in directory.staff if m.active and m.team == member.team for r in m.roles}


def _in_review_queue(row: InboxRow) -> bool:
    return row.historical and row.task is Task.review


def build_inbox(
    member: StaffMember, directory: StaffDirectory, open_cases: list[CaseListing], claims: dict[tuple[str, str], Claim]
) -> Inbox:
    """`open_cases` come in the review queue's order (CaseClient.pending_tasks)."""
    rows = []
    for case in open_cases:
        for name in case.pending_tasks:
            task = Task(name)
            claim = claims.get((case.ref, name))
            rows.append(InboxRow(
                ref=case.ref, task=task, role=TASK_ROLE[task], due=case.next_due, overdue=case.overdue,
                historical=case.historical, priority=case.priority,
                claimed_by=claim.staff_id if claim else None, mine_to_do=TASK_ROLE[task] in member.roles,
            ))
    by_due = sorted((r for r in rows if not _in_review_queue(r)), key=lambda r: (r.due or FAR, r.ref))
    mine = [r for r in by_due if r.mine_to_do and r.claimed_by in (None, member.id)]
    team_roles = _team_roles(member, directory)
    team = [r for r in by_due if r.role in team_roles]
    reviewers = Role.reviewer in member.roles or Role.reviewer in team_roles
    reviews = [r for r in rows if _in_review_queue(r)] if reviewers else []
    return Inbox(mine=mine, team=team, review_queue=reviews, team_name=member.team)
