"""The inbox's three lists, each a page of its own visibility queries (dvds/cases/paging.py;
two merged by dvds/cases/merging.py), with the claims and the directory:
- my tasks: open tasks for the roles I hold, not claimed by someone else;
- my team's queue: open tasks for any role my team holds, with who claimed each;
- the historical review queue.
Each in work order: review priority, then nearest deadline. How many cases each list holds is
one `count` of its query (`inbox_counts`), which costs the server every case it counts: the page
asks it after it has shown, so the rows never wait for it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from urllib.parse import urlencode

from dvds.cases.client import CaseClient
from dvds.cases.listing import CaseListing
from dvds.cases.merging import work_list
from dvds.cases.paging import Page
from dvds.cases.queries import flag_is
from states.claims import Claim
from states.roles import TASK_ROLE, Role, Task
from states.staff import StaffDirectory, StaffMember

PAGE = 50  # cases per list and page


@dataclass(frozen=True)
class InboxRow:
    ref: str
    task: Task
    role: Role
    due: object
    overdue: bool
    historical: bool
    priority: str | None
    claimed_by: str | None
    mine_to_do: bool  # the viewer holds the role


@dataclass(frozen=True)
class InboxList:
    rows: list[InboxRow]
    shown: bool  # the viewer has this list (reviewers have the review queue)
    next_href: str | None = None  # the inbox with this list's next page, the others' as they are
    first_href: str | None = None  # ... with this list back on its first page


@dataclass(frozen=True)
class Inbox:
    mine: InboxList
    team: InboxList
    review_queue: InboxList
    team_name: str


def _href(tokens: dict[str, str | None], name: str, token: str | None) -> str:
    kept = {k: v for k, v in {**tokens, name: token}.items() if v}
    return "/inbox" + (f"?{urlencode(sorted(kept.items()))}" if kept else "")


def _list(rows: list[InboxRow], page: Page, name: str, tokens: dict[str, str | None], shown: bool) -> InboxList:
    return InboxList(
        rows, shown,
        next_href=_href(tokens, name, page.next_token) if page.next_token else None,
        first_href=_href(tokens, name, None) if tokens.get(name) else None,
    )


def _team_roles(member: StaffMember, directory: StaffDirectory) -> set[Role]:
    return {r for m in directory.staff if m.active and m.team == member.team for r in m.roles}


def _in_review_queue(case: CaseListing, task: Task) -> bool:
    return case.historical and task is Task.review


def _rows(member: StaffMember, cases: list[CaseListing], claims: dict[tuple[str, str], Claim]) -> list[InboxRow]:
    rows = []
    for case in cases:
        for name in case.pending_tasks:
            task = Task(name)
            claim = claims.get((case.ref, name))
            rows.append(InboxRow(
                ref=case.ref, task=task, role=TASK_ROLE[task], due=case.next_due, overdue=case.overdue,
                historical=case.historical, priority=case.priority,
                claimed_by=claim.staff_id if claim else None, mine_to_do=TASK_ROLE[task] in member.roles,
            ))
    return rows


def outside_review_queue(cases: CaseClient, roles: set[Role]) -> list[str]:
    """Cases waiting on `roles`, leaving out those waiting only for a historical review: the
    live cases waiting on any of them, and the campaign's waiting on another of them. Two
    queries that share no case, merged a page at a time (dvds/cases/merging.py): as one, an OR
    across two attributes, SQLite read the whole campaign to find the few it wanted."""
    query = cases.work_query(sorted(str(r) for r in roles))
    if Role.reviewer not in roles:
        return [query]
    others = sorted(str(r) for r in roles - {Role.reviewer})
    # The live cases by an equality, unlike queries.flag_is: "= false" has SQLite read their own
    # index entries (few beside a campaign), where "!= true" read every case of the campaign to
    # find none. The campaign's by flag_is, so that its few waiting on other roles are found
    # from those roles, not by reading the whole campaign. Every case carries the flag from its start.
    live = f"{query} AND DvdsHistorical = false"
    return [live, f"{cases.work_query(others)} AND {flag_is('DvdsHistorical', True)}"] if others else [live]


async def _page(cases: CaseClient, queries: list[str] | None, token: str | None) -> Page:
    if queries is None:
        return Page([], None)
    return await work_list(cases, queries).page(PAGE, token)


def _queries(member: StaffMember, team_roles: set[Role], cases: CaseClient) -> dict[str, list[str] | None]:
    """Each list's queries ("mine", "team", "reviews"); None for a list the member does not have."""
    reviewers = Role.reviewer in member.roles or Role.reviewer in team_roles
    return {
        "mine": outside_review_queue(cases, set(member.roles)) if member.roles else None,
        "team": outside_review_queue(cases, team_roles) if team_roles else None,
        "reviews": [f"{cases.work_query(['reviewer'])} AND {flag_is('DvdsHistorical', True)} "
                    "AND DvdsPendingTasks = 'review'"]
        if reviewers else None,
    }


async def inbox_counts(member: StaffMember, directory: StaffDirectory, cases: CaseClient) -> dict[str, int]:
    """How many cases each of the member's lists holds, by name."""
    queries = {name: q for name, q in _queries(member, _team_roles(member, directory), cases).items()
               if q is not None}
    totals = await asyncio.gather(*(work_list(cases, q).total() for q in queries.values()))
    return dict(zip(queries, totals, strict=True))


async def build_inbox(
    member: StaffMember, directory: StaffDirectory, cases: CaseClient, claims: dict[tuple[str, str], Claim],
    tokens: dict[str, str | None],
) -> Inbox:
    """`tokens`: the page of each list to show ("mine", "team", "reviews"), the first when None."""
    team_roles = _team_roles(member, directory)
    queries = _queries(member, team_roles, cases)
    pages = dict(zip(queries, await asyncio.gather(
        *(_page(cases, query, tokens.get(name)) for name, query in queries.items())), strict=True))
    mine = [r for r in _rows(member, pages["mine"].cases, claims)
            if r.mine_to_do and r.claimed_by in (None, member.id) and not (r.historical and r.task is Task.review)]
    team = [r for r in _rows(member, pages["team"].cases, claims)
            if r.role in team_roles and not (r.historical and r.task is Task.review)]
    reviews = [r for r in _rows(member, pages["reviews"].cases, claims) if r.historical and r.task is Task.review]
    return Inbox(
        mine=_list(mine, pages["mine"], "mine", tokens, queries["mine"] is not None),
        team=_list(team, pages["team"], "team", tokens, queries["team"] is not None),
        review_queue=_list(reviews, pages["reviews"], "reviews", tokens, queries["reviews"] is not None),
        team_name=member.team,
    )
