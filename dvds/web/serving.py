"""Serving a uvicorn app inside an event loop that is already running (beside the worker
in `dvds up`, alone in `dvds web`, in-process in the browser tests)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from typing import Any

import uvicorn


class BackgroundServer(uvicorn.Server):
    """uvicorn in the caller's loop. The caller owns SIGINT/SIGTERM, so this server must not
    install its own handlers."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def background_server(app: Any, host: str, port: int) -> BackgroundServer:
    # No access log: paths carry case references (and the codec server's, its token).
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False, lifespan="off")
    return BackgroundServer(config)


async def serve_in_background(server: uvicorn.Server, refusal: Exception, within: float = 20.0) -> asyncio.Task[None]:
    """Serve in the background; return once it listens, or raise `refusal` if it cannot."""
    task = asyncio.create_task(server.serve())
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not server.started:
        if task.done() or loop.time() > deadline:
            # uvicorn exits (SystemExit) when it cannot bind; say so plainly.
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(task, 1)
            raise refusal
        await asyncio.sleep(0.05)
    return task


async def stop_serving(server: uvicorn.Server, task: asyncio.Task[None]) -> None:
    server.should_exit = True
    with contextlib.suppress(BaseException):
        await asyncio.wait_for(task, 10)
