"""What routes depend on, injected through FastAPI's `Depends` (as the full-stack FastAPI
template's api/deps.py does): the library objects the app was built with, one
`Annotated` type each, so a route names what it needs in its signature."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request

from dvds.cases.claims import ClaimBoard
from dvds.cases.client import CaseClient
from dvds.monitoring.metrics import DomainMetrics
from dvds.settings import WebSettings
from dvds.web.context import WebContext
from dvds.web.sign_in_guard import SignInGuard
from states.staff import StaffDirectory


def web_context(request: Request) -> WebContext:
    return request.app.state.ctx  # type: ignore[no-any-return]


Context = Annotated[WebContext, Depends(web_context)]


def case_client(ctx: Context) -> CaseClient:
    return ctx.cases


def claim_board(ctx: Context) -> ClaimBoard:
    return ctx.claims


def staff_directory(ctx: Context) -> StaffDirectory:
    """The directory as the staff file says now (re-read when it changes)."""
    return ctx.staff.directory


def web_settings(ctx: Context) -> WebSettings:
    return ctx.web


def archive_dir(ctx: Context) -> Path:
    return ctx.archive_dir


def sign_in_guard(ctx: Context) -> SignInGuard:
    return ctx.guard


def domain_metrics(ctx: Context) -> DomainMetrics:
    return ctx.metrics


Cases = Annotated[CaseClient, Depends(case_client)]
Claims = Annotated[ClaimBoard, Depends(claim_board)]
Directory = Annotated[StaffDirectory, Depends(staff_directory)]
Web = Annotated[WebSettings, Depends(web_settings)]
ArchiveDir = Annotated[Path, Depends(archive_dir)]
Guard = Annotated[SignInGuard, Depends(sign_in_guard)]
Metrics = Annotated[DomainMetrics, Depends(domain_metrics)]
