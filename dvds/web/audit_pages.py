"""The auditor's view: read-only search across cases and the audit report. Case
timelines are on each case's page. Nothing here changes anything (GET only)."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response

from dvds.audit.visibility_report import visibility_report
from dvds.cases.client import CaseError
from dvds.cases.queries import build_query
from dvds.web.deps import Cases
from dvds.web.identity import SignedIn
from dvds.web.rendering import may_oversee, render
from states.machine import CaseState
from states.risk import RiskLevel
from states.roles import Task
from states.staff import StaffMember

router = APIRouter()
SEARCH_PAGE = 100


def _oversight(me: SignedIn) -> StaffMember:
    if not may_oversee(me.roles):
        raise HTTPException(403, "search and report: for auditors, supervisors and professional standards")
    return me


Overseer = Annotated[StaffMember, Depends(_oversight)]


def _choice(value: str | None, allowed: type) -> str | None:
    if not value:
        return None
    try:
        return str(allowed(value))
    except ValueError:
        raise HTTPException(400, f"{allowed.__name__}: {value!r} is not one of the choices") from None


def _day(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise HTTPException(400, f"{name}: must be a date, YYYY-MM-DD") from None


def _flag(value: str | None) -> bool | None:
    return {"yes": True, "no": False}.get(value or "")


@router.get("/search")
async def search(request: Request, me: Overseer, cases: Cases, state: str | None = None, overdue: str | None = None,
                 historical: str | None = None, risk: str | None = None, task: str | None = None,
                 received_from: str | None = None, received_to: str | None = None,
                 page: str | None = None) -> Response:
    query = build_query(
        _choice(state, CaseState), _flag(overdue), _flag(historical), _choice(risk, RiskLevel),  # type: ignore[arg-type]
        _choice(task, Task), _day(received_from, "received_from"), _day(received_to, "received_to"),
    )
    try:
        found, total = await asyncio.gather(cases.page_cases(query, SEARCH_PAGE, page), cases.count_cases(query))
    except CaseError as err:
        raise HTTPException(400, str(err)) from None
    filters = {"state": state or "", "overdue": overdue or "", "historical": historical or "", "risk": risk or "",
               "task": task or "", "received_from": received_from or "", "received_to": received_to or ""}
    next_href = None
    if found.next_token:
        next_href = "/search?" + urlencode({**{k: v for k, v in filters.items() if v}, "page": found.next_token})
    return render(request, "search.html", cases=found.cases, total=total, next_href=next_href, filters=filters,
                  states=[str(s) for s in CaseState], risks=[str(r) for r in RiskLevel], tasks=[str(t) for t in Task])


@router.get("/report")
async def report(request: Request, me: Overseer, cases: Cases, received_from: str | None = None,
                 received_to: str | None = None, historical: str | None = None) -> Response:
    start, end = _day(received_from, "received_from"), _day(received_to, "received_to")
    flag = _flag(historical)
    query = build_query(historical=flag, received_from=start, received_to=end)
    filters = {"received_from": start and start.isoformat(), "received_to": end and end.isoformat(),
               "historical": flag}
    result = await visibility_report(cases, query, datetime.now(UTC), cases.policy.timezone, filters)
    return render(request, "report.html", report=result,
                  form={"received_from": received_from or "", "received_to": received_to or "",
                        "historical": historical or ""})
