"""Who is signed in, and the CSRF token every POST must carry.

Two ways to be signed in:
- the embedded sign-in: staff id and password checked against the staff directory's
  argon2 hash; the staff id then lives in a signed session cookie;
- a trusted reverse proxy (DVDS_WEB_TRUSTED_HEADER): the proxy names the staff id in a
  header on every request. Only honoured when that setting is on.
Either way the staff directory is consulted on every request, so a leaver made
inactive is signed out at once.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from starlette.datastructures import FormData

from dvds.staff.signers import WebSigner
from dvds.web.deps import web_context
from states.proof import SignIn
from states.roles import READ_ONLY_ROLES, READ_ONLY_RULE
from states.staff import StaffMember

CSRF_FIELD = "csrf_token"


class SignInRequired(Exception):
    """Raised by routes; answered with the sign-in page (or 401 in trusted-header mode)."""


def current_staff(request: Request) -> StaffMember | None:
    ctx = web_context(request)
    if ctx.web.trusted_header:
        staff_id = request.headers.get(ctx.web.trusted_header)
    else:
        staff_id = request.session.get("staff_id")
    if not staff_id:
        return None
    member = ctx.staff.directory.find(staff_id)
    return member if member is not None and member.active else None


def signed_in(request: Request) -> StaffMember:
    member = current_staff(request)
    if member is None:
        raise SignInRequired()
    return member


# A route parameter `me: SignedIn` is the signed-in staff member (or the sign-in page).
SignedIn = Annotated[StaffMember, Depends(signed_in)]


def is_read_only(member: StaffMember) -> bool:
    return bool(READ_ONLY_ROLES.intersection(member.roles))


def refuse_read_only(member: StaffMember) -> None:
    if is_read_only(member):
        raise HTTPException(403, f"{member.id} holds a role that only reads (rule {READ_ONLY_RULE}): nothing can be "
                                 "submitted")


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return str(token)


async def checked_form(request: Request) -> FormData:
    """The posted form, once its CSRF token matches the session's; else 403."""
    form = await request.form()
    presented = str(form.get(CSRF_FIELD, ""))
    expected = str(request.session.get("csrf", ""))
    if not expected or not hmac.compare_digest(presented.encode(), expected.encode()):
        raise HTTPException(403, "csrf: the form is out of date or was not sent from this site; reload and try again")
    return form


def start_session(request: Request, staff_id: str) -> None:
    """A fresh session on sign-in (a new CSRF token and session id too), so a planted cookie is useless."""
    request.session.clear()
    request.session["staff_id"] = staff_id
    csrf_token(request)
    session_id(request)


def session_id(request: Request) -> str:
    """This browser session's own id: a web proof records its hash, so tasks can be tied to one sign-in."""
    found = request.session.get("sid")
    if not found:
        found = secrets.token_urlsafe(24)
        request.session["sid"] = found
    return str(found)


def request_signer(request: Request) -> WebSigner:
    """Signs, with the inbox's service key, for the member this request's sign-in authenticated."""
    ctx = web_context(request)
    sign_in = SignIn.sso if ctx.web.trusted_header else SignIn.password
    return WebSigner(ctx.service_key, sign_in, session_id(request))


# A route parameter `signer: RequestSigner` signs what that route submits for the signed-in member.
RequestSigner = Annotated[WebSigner, Depends(request_signer)]
