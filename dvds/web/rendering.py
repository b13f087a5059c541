"""Templates, and the values every page gets: who is signed in, the CSRF token, the menu."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from dvds.web.deps import web_context
from dvds.web.identity import CSRF_FIELD, csrf_token, current_staff, is_read_only
from states.case_ref import workflow_id

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=HERE / "templates")
UK = ZoneInfo("Europe/London")


def when(moment: datetime | None) -> str:
    """UK local time, as staff read it."""
    return moment.astimezone(UK).strftime("%Y-%m-%d %H:%M") if moment else "-"


def label(name: Any) -> str:
    return str(name).replace("_", " ")


templates.env.filters["when"] = when
templates.env.filters["label"] = label
templates.env.filters["case_path"] = workflow_id  # a reference in a page's path: each / written ~

# Who sees the search and the report: auditors, and the roles that answer for the scheme.
OVERSIGHT_ROLES = frozenset({"auditor", "supervisor", "professional_standards"})


def may_oversee(roles: list[Any]) -> bool:
    return bool(OVERSIGHT_ROLES.intersection(str(r) for r in roles))


def render(request: Request, name: str, status_code: int = 200, **values: Any) -> HTMLResponse:
    member = current_staff(request)
    ctx = web_context(request)
    return templates.TemplateResponse(
        request,
        name,
        {
            "me": member,
            "read_only": bool(member and is_read_only(member)),
            "oversight": bool(member and may_oversee(member.roles)),
            "operator": bool(member and not is_read_only(member) and "operator" in member.roles),
            "sso": bool(ctx.web.trusted_header),
            "csrf_field": CSRF_FIELD,
            "csrf": csrf_token(request),
            **values,
        },
        status_code=status_code,
    )
