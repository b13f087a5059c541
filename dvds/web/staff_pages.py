"""Signing in and out, and the inbox."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from dvds.cases.client import CaseError
from dvds.staff.passwords import password_matches
from dvds.web.deps import Cases, Claims, Directory, Guard, Metrics
from dvds.web.identity import SignedIn, checked_form, current_staff, is_read_only, start_session
from dvds.web.inbox import build_inbox, inbox_counts
from dvds.web.rendering import render
from states.staff import StaffMember

router = APIRouter()


def _safe_next(target: str | None) -> str:
    # Only a path on this site: never an open redirect to another.
    return target if target and target.startswith("/") and not target.startswith("//") else "/inbox"


@router.get("/")
async def home() -> Response:
    return RedirectResponse("/inbox", status_code=303)


@router.get("/sign-in")
async def sign_in_page(request: Request, next: str | None = None) -> Response:
    if current_staff(request) is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return render(request, "sign_in.html", next=_safe_next(next), staff_id="", message=None)


NO_MATCH = "That staff id and password do not match an active member of staff."


def _locked(request: Request, target: str, staff_id: str, wait: int, message: str | None = None) -> Response:
    """The same answer for every id, known or not: the throttle never looks at the directory."""
    page = render(request, "sign_in.html", 429, next=target, staff_id=staff_id, message=message, wait=wait)
    page.headers["Retry-After"] = str(wait)
    return page


@router.post("/sign-in")
async def sign_in(request: Request, directory: Directory, guard: Guard, metrics: Metrics) -> Response:
    try:
        form = await checked_form(request)
    except HTTPException:
        metrics.refused_sign_in("csrf_token")
        raise
    staff_id = str(form.get("staff_id", "")).strip()
    password = str(form.get("password", ""))
    target = _safe_next(str(form.get("next", "")))
    address = request.client.host if request.client else "unknown"
    # Too many failures for this id or from this address: refused unchecked, so guesses made
    # in parallel gain nothing while the wait runs.
    wait = guard.wait(staff_id, address, directory)
    if wait:
        metrics.refused_sign_in("throttled")
        return _locked(request, target, staff_id, wait)
    member = directory.find(staff_id)
    stored = member.password_hash if member is not None and member.active else None
    # Hashing is slow on purpose: off the event loop, so the worker and other pages carry on.
    if not await run_in_threadpool(password_matches, stored, password):
        # The metric tells operators which (an id that is not there is a sign of guessing);
        # the page must not: one message whatever was wrong, so it tells no one which ids exist.
        metrics.refused_sign_in(_refusal_rule(member, stored))
        wait = guard.failed(staff_id, address, directory)
        if wait:
            return _locked(request, target, staff_id, wait, NO_MATCH)
        return render(request, "sign_in.html", 401, next=target, staff_id=staff_id, message=NO_MATCH)
    guard.succeeded(staff_id, address)
    start_session(request, staff_id)
    return RedirectResponse(target, status_code=303)


def _refusal_rule(member: StaffMember | None, stored: str | None) -> str:
    if member is None or not member.active:
        return "unknown_or_inactive_staff"
    return "wrong_password" if stored is not None else "no_password_set"


@router.post("/sign-out")
async def sign_out(request: Request) -> Response:
    await checked_form(request)
    request.session.clear()
    return RedirectResponse("/sign-in", status_code=303)


@router.get("/inbox")
async def inbox(request: Request, me: SignedIn, cases: Cases, claims: Claims, directory: Directory,
                mine: str | None = None, team: str | None = None, reviews: str | None = None) -> Response:
    """Each list one page at a time; `mine`, `team`, `reviews`: the page token of each list."""
    if is_read_only(me):  # auditors have no tasks: their start page is the search
        return RedirectResponse("/search", status_code=303)
    built = build_inbox(me, directory, cases, await claims.all(), {"mine": mine, "team": team, "reviews": reviews})
    try:
        return render(request, "inbox.html", inbox=await built)
    except CaseError as err:
        raise HTTPException(400, str(err)) from None


@router.get("/inbox/counts")
async def inbox_list_counts(me: SignedIn, cases: Cases, directory: Directory) -> Response:
    """How many cases each of the inbox's lists holds: asked by the inbox once it has shown."""
    if is_read_only(me):
        raise HTTPException(403, "auditors have no inbox")
    return JSONResponse(await inbox_counts(me, directory, cases), headers={"Cache-Control": "no-store"})
