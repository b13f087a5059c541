"""A backup file: a gzipped tar whose first member, manifest.json, lists every other member
with its size and SHA-256, so a restore can prove the copy whole before it writes a byte."""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path, PurePosixPath

from pydantic import BaseModel, Field

from dvds.errors import ReadableError

FORMAT = 1
MANIFEST = "manifest.json"
DATABASE = "temporal.sqlite"
ARCHIVE = "archive"
STAFF = "staff.json"
OUTBOX = "iopc-outbox"
KEYS = "keys.json"
# What a restore makes readable by its owner only: the database, the staff (password
# hashes), the key ring. Archive records keep their read-only mode.
PRIVATE = 0o600


class BackupError(ReadableError):
    """A backup or restore that cannot go ahead; it names the file or setting and the rule."""


class BackedUpFile(BaseModel):
    name: str = Field(description="Its path inside the backup and, restored, under the home")
    size: int
    sha256: str
    mode: int


class Manifest(BaseModel):
    format: int = FORMAT
    created_at: datetime
    source_home: str
    with_keys: bool
    files: list[BackedUpFile]

    def names(self) -> set[str]:
        return {f.name for f in self.files}


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def safe_name(name: str) -> bool:
    """A member name that stays under the home: relative, no '..', no empty parts."""
    path = PurePosixPath(name)
    return bool(name) and not path.is_absolute() and all(part not in ("", ".", "..") for part in path.parts)
