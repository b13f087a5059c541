"""Serving a uvicorn app inside the running event loop (beside the worker in `dvds up`)."""

from __future__ import annotations

import asyncio
import contextlib

import uvicorn


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
