"""A bench's own world: a temp DVDS_HOME, free ports, a key ring, a staff file with every
member enrolled (their credentials in the world's own folder), the embedded server with the
same settings as `dvds up`."""

from __future__ import annotations

import json
import socket
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, SecretStr

from bench.phases import staff_directory
from dvds.connection.keys import KeyRing
from dvds.connection.server import EmbeddedServer
from dvds.settings import Settings
from dvds.staff.credentials import credential_path, enrol
from dvds.staff.signers import MemberSigner, member_signer
from states.actor import Actor
from states.proof import Envelope, SignedTask

CASE_QUEUE = "bench-cases"
BARE_QUEUE = "bench-bare"
KEPT_KEYS = "bench-keys.json"  # the world's key ring, so a kept world can be opened again


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class BenchSigner:
    """Signs as whichever bench member the actor names, with that member's own credential: the
    bench plays every member of staff, each signing as `dvds task complete` would."""

    def __init__(self, credentials_dir: Path) -> None:
        self.credentials_dir = credentials_dir
        self._signers: dict[str, MemberSigner] = {}

    def sign(self, ref: str, task: SignedTask, actor: Actor, submission: BaseModel) -> Envelope:
        if actor.id not in self._signers:
            self._signers[actor.id] = member_signer(self.credentials_dir, actor.id)
        return self._signers[actor.id].sign(ref, task, actor, submission)


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
                "DVDS_CREDENTIALS_DIR": str(self.settings.credentials_dir),
                "DVDS_MAX_CACHED_CASES": str(self.settings.max_cached_cases)}

    @property
    def signer(self) -> BenchSigner:
        return BenchSigner(self.settings.credentials_dir)


def make_world(home: Path | None = None, max_cached_cases: int | None = None) -> BenchWorld:
    """A new world; or, when `home` holds one a kept run made, that world again (its key ring,
    staff and server database), so a bench can read a 60,000-case world without importing it twice."""
    home = home or Path(tempfile.mkdtemp(prefix="dvds-bench-"))
    home.mkdir(parents=True, exist_ok=True)
    staff = home / "staff.json"
    credentials = home / "credentials"
    kept = home / KEPT_KEYS
    if kept.exists() and staff.exists():
        keys = KeyRing.model_validate_json(kept.read_text())
    else:
        keys = KeyRing.generate()
        directory = staff_directory()
        staff.write_text(json.dumps(directory))
        for member in directory["staff"]:
            enrol(member["id"], staff, credential_path(credentials, member["id"]))
        kept.write_text(keys.model_dump_json())
        kept.chmod(0o600)
    settings = Settings(home=home, server_port=free_port(), ui_port=free_port(), task_queue=CASE_QUEUE,
                        staff_file=staff, credentials_dir=credentials, keys=SecretStr(keys.model_dump_json()),
                        policy_file=None)
    if max_cached_cases:
        settings = settings.model_copy(update={"max_cached_cases": max_cached_cases})
    return BenchWorld(home, keys, settings, EmbeddedServer(settings, ui=False))
