"""README's command-line walkthrough, run verbatim (bash, the block as written) against `dvds up`
on a fresh data folder and a fresh home directory: it enrols the example staff, then drives a
case from received to closed."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from tests.helpers.paths import ROOT
from tests.helpers.ports import free_port
from tests.helpers.processes import dvds_up, environment

# What the session sets for every other test; a first-time user has none of it.
SESSION_ONLY = ("DVDS_KEYS", "DVDS_STAFF_FILE", "DVDS_CREDENTIALS_DIR")


def walkthrough() -> str:
    """The first ```sh block under the walkthrough's heading."""
    text = (ROOT / "README.md").read_text()
    after = text.split("## Walkthrough: one case from received to closed", 1)[1]
    return after.split("```sh\n", 1)[1].split("```", 1)[0]


async def test_the_cli_walkthrough_runs_verbatim(tmp_path: Path) -> None:
    """Every command of the walkthrough succeeds as written, and the case ends closed."""
    port = free_port()
    env = {
        "HOME": str(tmp_path / "person"),  # credentials go to ~/.config/dvds/credentials, as for a person
        "DVDS_HOME": str(tmp_path / "home"),
        "DVDS_SERVER_PORT": str(port),
        "DVDS_UI_PORT": str(free_port()),
        "DVDS_WEB_PORT": str(free_port()),
        "TEMPORAL_ADDRESS": f"127.0.0.1:{port}",
        "COLUMNS": "200",
    }
    # `dvds` as the checkout's own code (an installed console script may point elsewhere).
    script = f'set -euo pipefail\ndvds() {{ "{sys.executable}" -m dvds "$@"; }}\n{walkthrough()}'
    async with dvds_up(env, unset=SESSION_ONLY):
        process = await asyncio.create_subprocess_exec(
            "bash", "-c", script, cwd=ROOT, env=environment(env, SESSION_ONLY),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(process.communicate(), 240)
    assert process.returncode == 0, err.decode()[-3000:]
    shown = out.decode()
    assert shown.count("Enrolled ") == 6
    assert "state closed" in shown
    assert (tmp_path / "person" / ".config" / "dvds" / "credentials" / "OP1.pem").stat().st_mode & 0o077 == 0
