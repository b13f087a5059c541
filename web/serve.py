"""Serving the staff inbox with uvicorn inside an event loop that is already running
(`dvds up` beside the worker, `dvds web` alone, the browser tests in-process)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator

import uvicorn
from fastapi import FastAPI
from temporalio.client import Client

from dvds.audit.archive import default_archive_dir
from dvds.case_client import CaseClient
from dvds.settings import Settings
from dvds.uvicorn_background import serve_in_background, stop_serving
from web.app import create_app
from web.claims import ClaimStore
from web.context import StaffSource, WebContext
from web.settings import WebServerError, WebSettings, session_secret

__all__ = ["WebServerError", "serving_inbox", "start_web_server", "stop_web_server", "web_app", "web_server"]


def web_app(client: Client, settings: Settings, staff: StaffSource, web: WebSettings | None = None) -> FastAPI:
    web = web or WebSettings()
    ctx = WebContext(
        cases=CaseClient(client, settings),
        staff=staff,
        claims=ClaimStore(settings.home / "web-claims.sqlite"),
        web=web,
        archive_dir=default_archive_dir(settings),
    )
    return create_app(ctx, session_secret(web, settings))


class WebServer(uvicorn.Server):
    """uvicorn in the caller's loop. The caller owns SIGINT/SIGTERM."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def web_server(app: FastAPI, host: str, port: int) -> WebServer:
    # No access log: paths carry case references, and the app logs nothing personal.
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False, lifespan="off")
    return WebServer(config)


async def start_web_server(server: WebServer, within: float = 20.0) -> asyncio.Task[None]:
    """Serve in the background; return once it listens."""
    refusal = WebServerError(
        f"web: cannot serve on {server.config.host}:{server.config.port} (DVDS_WEB_PORT sets the port)"
    )
    return await serve_in_background(server, refusal, within)


async def stop_web_server(server: WebServer, task: asyncio.Task[None]) -> None:
    await stop_serving(server, task)


@contextlib.asynccontextmanager
async def serving_inbox(
    client: Client, settings: Settings, staff: StaffSource, enabled: bool = True
) -> AsyncIterator[str | None]:
    """The inbox for as long as the block runs (`dvds up`); yields its address, or None when off."""
    if not enabled:
        yield None
        return
    web = WebSettings()
    server = web_server(web_app(client, settings, staff, web), web.host, web.port)
    task = await start_web_server(server)
    try:
        yield f"http://{web.host}:{web.port}"
    finally:
        await stop_web_server(server, task)
