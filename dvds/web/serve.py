"""The staff inbox as a running server: the app with its dependencies built from the
settings, served in the caller's event loop."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
from collections.abc import AsyncIterator

from fastapi import FastAPI
from temporalio.client import Client

from dvds.cases.claims import ClaimBoard
from dvds.cases.client import CaseClient
from dvds.monitoring.metrics import DomainMetrics
from dvds.settings import Settings
from dvds.staff.credentials import Credential, CredentialError, ensure_web_key
from dvds.staff.directory import StaffFileError
from dvds.staff.throttle import SignInThrottle, ThrottlePolicy
from dvds.web.app import create_app
from dvds.web.context import StaffSource, WebContext
from dvds.web.serving import BackgroundServer, background_server, serve_in_background, stop_serving
from dvds.web.sign_in_guard import SignInGuard, tag_secret


class WebServerError(Exception):
    """The web app cannot start: its port is taken, or a setting is wrong. Says which."""


def session_secret(settings: Settings) -> str:
    """DVDS_WEB_SESSION_SECRET, else $DVDS_HOME/web-session-secret (created, mode 0600)."""
    if settings.web.session_secret is not None:
        secret = settings.web.session_secret.get_secret_value()
        if len(secret) < 32:
            raise WebServerError("web: DVDS_WEB_SESSION_SECRET must be at least 32 characters")
        return secret
    path = settings.session_secret_path
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it first: use theirs
        else:
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_urlsafe(48) + "\n")
    return path.read_text().strip()


def web_service_key(settings: Settings) -> Credential:
    """The inbox's service key: made (mode 0600) and listed in the staff directory's web_keys
    the first time, loaded as it is after."""
    try:
        return ensure_web_key(settings.web_key_path, settings.staff_path)
    except (CredentialError, StaffFileError) as err:
        raise WebServerError(f"web: {err}") from None


def web_app(client: Client, settings: Settings, staff: StaffSource, metrics: DomainMetrics | None = None) -> FastAPI:
    secret = session_secret(settings)
    ctx = WebContext(
        cases=CaseClient(client, settings),
        staff=staff,
        claims=ClaimBoard(client, settings.task_queue),
        web=settings.web,
        archive_dir=settings.archive_dir,
        service_key=web_service_key(settings),
        guard=SignInGuard(tag_secret(secret), SignInThrottle(ThrottlePolicy(
            first_delay=settings.web.sign_in_first_wait,
            max_delay=max(settings.web.sign_in_max_wait, settings.web.sign_in_first_wait)))),
        metrics=metrics or DomainMetrics(),
    )
    return create_app(ctx, secret)


def web_server(app: FastAPI, settings: Settings) -> BackgroundServer:
    return background_server(app, settings.web.host, settings.web.port)


async def start_web_server(server: BackgroundServer, within: float = 20.0) -> asyncio.Task[None]:
    """Serve in the background; return once it listens."""
    refusal = WebServerError(
        f"web: cannot serve on {server.config.host}:{server.config.port} (DVDS_WEB_PORT sets the port)"
    )
    return await serve_in_background(server, refusal, within)


@contextlib.asynccontextmanager
async def serving_inbox(
    client: Client, settings: Settings, staff: StaffSource, enabled: bool = True, metrics: DomainMetrics | None = None
) -> AsyncIterator[str | None]:
    """The inbox for as long as the block runs; yields its address, or None when off."""
    if not enabled:
        yield None
        return
    server = web_server(web_app(client, settings, staff, metrics), settings)
    task = await start_web_server(server)
    try:
        yield f"http://{settings.web.host}:{settings.web.port}"
    finally:
        await stop_serving(server, task)
