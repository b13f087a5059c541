"""Waiting for what happens outside the test (on the server, in a worker, in visibility):
one helper, with a deadline, never a bare sleep in a test."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")
POLL = 0.2  # seconds between probes


async def eventually(probe: Callable[[], Awaitable[T | None]], within: float = 60.0, what: str = "the condition") -> T:
    """Call `probe` until it returns something truthy, and return that. A probe may also
    raise while the world catches up (a server still starting, an assertion not yet
    true): at the deadline the last error is raised again, so the failure says what was
    last seen, not only that time ran out."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        try:
            value = await probe()
        except Exception:  # noqa: BLE001 - tried again; raised as it is at the deadline
            if loop.time() >= deadline:
                raise
        else:
            if value:
                return value
            if loop.time() >= deadline:
                raise AssertionError(f"{what} did not happen within {within:g} s (last seen: {value!r})")
        await asyncio.sleep(POLL)
