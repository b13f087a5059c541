"""Running the real `dvds` command against the test server, as a person would."""

from __future__ import annotations

import asyncio
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.helpers.paths import ROOT

DVDS = [sys.executable, "-m", "dvds"]


@dataclass
class Result:
    code: int
    out: str
    err: str


async def dvds(*args: str, env: dict[str, str], cwd: Path | None = None, timeout: float = 60,
               stdin: str | None = None) -> Result:
    process = await asyncio.create_subprocess_exec(
        *DVDS, *args,
        env={**os.environ, **env},
        cwd=cwd or ROOT,
        stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(stdin.encode() if stdin is not None else None), timeout)
    assert process.returncode is not None
    return Result(process.returncode, out.decode(), err.decode())
