"""A wheel built from the repository runs `dvds up` away from the checkout: everything it
needs (templates, the example staff directory, worker.py) travels inside the package."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

from tests.helpers.paths import ROOT
from tests.helpers.ports import free_port


def build_wheel(out: Path) -> Path:
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)],
                   check=True, capture_output=True)
    [wheel] = out.glob("dvds-*.whl")
    return wheel


def install(wheel: Path, where: Path) -> Path:
    """A fresh venv with the wheel in it; its dependencies are this Python's (no download)."""
    venv.EnvBuilder(system_site_packages=True, with_pip=False).create(where)
    python = where / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q", str(wheel)],
                   check=True, capture_output=True)
    return where / "bin"


class TestWheel:
    """The installed package, not the checkout, is what runs."""

    def test_wheel_carries_the_package_data(self, tmp_path: Path) -> None:
        """Templates, static files, the example staff directory and worker.py are in the wheel."""
        names = set(zipfile.ZipFile(build_wheel(tmp_path)).namelist())
        for needed in ("worker.py", "dvds/staff/example_staff.json", "dvds/web/templates/inbox.html",
                       "dvds/web/static/style.css", "states/machine.py", "workflows/case.py"):
            assert needed in names, needed

    async def test_installed_dvds_up_runs_a_case(self, tmp_path: Path) -> None:
        """From an empty folder: `dvds up` starts, the inbox answers, staff enrol, a case starts and takes a task."""
        bin_dir = install(build_wheel(tmp_path / "dist"), tmp_path / "venv")
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        env = {key: value for key, value in os.environ.items() if not key.startswith(("DVDS_", "TEMPORAL_"))}
        port = free_port()
        # HOME too: each person's signing key goes to ~/.config/dvds/credentials.
        env.update({"HOME": str(elsewhere / "person"), "DVDS_HOME": str(elsewhere / "home"),
                    "DVDS_SERVER_PORT": str(port), "DVDS_WEB_PORT": str(free_port()),
                    "TEMPORAL_ADDRESS": f"127.0.0.1:{port}", "PYTHONPATH": ""})
        up = await asyncio.create_subprocess_exec(
            str(bin_dir / "dvds"), "up", "--no-ui", cwd=elsewhere, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
        assert up.stdout is not None
        seen: list[str] = []
        try:
            async with asyncio.timeout(120):
                while not any("Worker running" in line for line in seen):
                    line = (await up.stdout.readline()).decode()
                    assert line, f"dvds up exited early: {seen}"
                    seen.append(line)
            assert any("Copied the example staff directory" in line for line in seen)
            assert any("Staff inbox:" in line for line in seen)

            async def run(*args: str) -> str:
                done = await asyncio.create_subprocess_exec(
                    str(bin_dir / "dvds"), *args, cwd=elsewhere, env=env,
                    stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
                out, err = await asyncio.wait_for(done.communicate(), 60)
                assert done.returncode == 0, err.decode()[-800:]
                return out.decode()

            examples = ROOT / "examples"
            for staff_id in ("OP1", "R100"):
                await run("staff", "enrol", staff_id)
            ref = (await run("case", "start", "--file", str(examples / "application.json"), "--actor", "OP1")).strip()
            done = await run("task", "complete", ref, "research", "--actor", "R100", "--role", "researcher",
                             "--file", str(examples / "tasks" / "research.json"))
            assert "state researched" in done
            installed = await run("schema", "application")
            assert '"title": "Application"' in installed
        finally:
            up.send_signal(signal.SIGINT)
            async with asyncio.timeout(60):
                await up.wait()
