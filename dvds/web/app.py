"""The staff inbox as a FastAPI app: sign-in, the inbox, case pages, task forms, the
operator's new application and import pages, and the auditor's search and report.
Server-rendered (Jinja2); no script is needed.

Every POST carries the session's CSRF token; the session is a signed cookie (itsdangerous,
through Starlette's SessionMiddleware); responses are never cached and allow no framing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware
from temporalio.service import RPCError

from dvds.cases.client import BUSY, CaseError, server_refusal
from dvds.web import application_pages, audit_pages, case_pages, import_pages, staff_pages
from dvds.web.context import WebContext
from dvds.web.identity import SignInRequired
from dvds.web.rendering import HERE, render

SECURITY_HEADERS = {
    # No inline script anywhere, and nothing from elsewhere: the network is closed anyway.
    "Content-Security-Policy": "default-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # Pages carry personal data: never kept by the browser or a proxy.
    "Cache-Control": "no-store",
}


def create_app(ctx: WebContext, session_secret: str) -> FastAPI:
    app = FastAPI(title="DVDS staff inbox", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.ctx = ctx
    app.add_middleware(
        SessionMiddleware,
        secret_key=session_secret,
        session_cookie="dvds_session",
        max_age=ctx.web.session_hours * 3600,
        same_site="lax",
        https_only=ctx.web.secure_cookies,
    )

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        response.headers.update(SECURITY_HEADERS)
        return response

    @app.exception_handler(SignInRequired)
    async def sign_in_first(request: Request, _: SignInRequired) -> Response:
        if ctx.web.trusted_header:
            ctx.metrics.refused_sign_in("single_sign_on_not_active_staff")
            return render(request, "error.html", 401, message="Your single sign-on did not name a staff id that is "
                          "active in the staff directory.")
        target = request.url.path if request.method == "GET" else "/inbox"
        return RedirectResponse(f"/sign-in?next={target}", status_code=303)

    @app.exception_handler(StarletteHTTPException)
    async def refused(request: Request, err: StarletteHTTPException) -> Response:
        return render(request, "error.html", err.status_code, message=err.detail)

    @app.exception_handler(CaseError)
    async def case_error(request: Request, err: CaseError) -> Response:
        return render(request, "error.html", 404 if "no case" in str(err) else 409, message=str(err))

    @app.exception_handler(RPCError)
    async def server_refused(request: Request, err: RPCError) -> Response:
        status = 503 if err.status in BUSY else 502
        page = render(request, "error.html", status, message=server_refusal(err))
        if status == 503:
            page.headers["Retry-After"] = "30"
        return page

    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(staff_pages.router)
    app.include_router(case_pages.router)
    app.include_router(audit_pages.router)
    app.include_router(application_pages.router)
    app.include_router(import_pages.router)
    return app
