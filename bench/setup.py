"""A bench's own world: a temp DVDS_HOME, free ports, a key ring, a staff file, the
embedded server with the same settings as `dvds up`."""

from __future__ import annotations

import json
import socket
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

from bench.phases import staff_directory
from dvds.connection.keys import KeyRing
from dvds.connection.server import EmbeddedServer
from dvds.settings import Settings

CASE_QUEUE = "bench-cases"
BARE_QUEUE = "bench-bare"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class BenchWorld:
    home: Path
    keys: KeyRing
    settings: Settings
    server: EmbeddedServer

    @property
    def env(self) -> dict[str, str]:
        """What a worker or `dvds` subprocess needs to join this world."""
        return {"DVDS_KEYS": self.keys.model_dump_json(), "DVDS_STAFF_FILE": str(self.settings.staff_path),
                "DVDS_MAX_CACHED_CASES": str(self.settings.max_cached_cases)}


def make_world(home: Path | None = None, max_cached_cases: int | None = None) -> BenchWorld:
    home = home or Path(tempfile.mkdtemp(prefix="dvds-bench-"))
    home.mkdir(parents=True, exist_ok=True)
    keys = KeyRing.generate()
    staff = home / "staff.json"
    staff.write_text(json.dumps(staff_directory()))
    settings = Settings(home=home, server_port=free_port(), ui_port=free_port(), task_queue=CASE_QUEUE,
                        staff_file=staff, keys=SecretStr(keys.model_dump_json()), policy_file=None)
    if max_cached_cases:
        settings = settings.model_copy(update={"max_cached_cases": max_cached_cases})
    return BenchWorld(home, keys, settings, EmbeddedServer(settings, ui=False))
