"""`dvds up`: the embedded server and worker, stopped and started again."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers.cli import dvds
from tests.helpers.ports import free_port
from tests.helpers.processes import dvds_up


async def test_case_survives_dvds_up_restart(tmp_path: Path) -> None:
    """A case started under `dvds up` is still there, with its tasks, after stopping and starting again."""
    port = free_port()
    env = {
        "DVDS_HOME": str(tmp_path / "home"),
        "DVDS_SERVER_PORT": str(port),
        "DVDS_UI_PORT": str(free_port()),
        "DVDS_WEB_PORT": str(free_port()),
        "TEMPORAL_ADDRESS": f"127.0.0.1:{port}",
    }
    async with dvds_up(env):
        ref = (await dvds("case", "start", "--file", "examples/application.json", "--actor", "OP1",
                          env=env)).out.strip()
        done = await dvds("task", "complete", ref, "research", "--actor", "R100", "--role", "researcher",
                          "--file", "examples/tasks/research.json", env=env)
        assert done.code == 0, done.err
    assert (tmp_path / "home" / "temporal.sqlite").exists()
    async with dvds_up(env):
        shown = await dvds("case", "show", ref, "--json", env=env)
        assert shown.code == 0, shown.err
        snapshot = json.loads(shown.out)
        assert snapshot["state"] == "researched" and snapshot["pending_tasks"] == ["risk_assessment"]
