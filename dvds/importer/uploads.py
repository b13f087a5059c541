"""Exports uploaded through the web inbox, kept under $DVDS_HOME/imports until imported:
each upload a folder named by a random id, its file and its description (file name,
profile, sheet, the dry run's counts and rejects) encrypted with the key ring's current
key (AES-256-GCM, the upload id and key id authenticated), so a copy of the disk holds
no one's details. The worker reads the file back a page at a time; the web app reads the
description to show the dry run and offer the rejects file.
"""

from __future__ import annotations

import json
import os
import secrets
from datetime import date
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from activities.imports import UploadGone
from dvds.connection.keys import KeyRing
from states.imports import RowProblem

MAGIC = b"DVDSUP1\n"
_NONCE = 12
_ID_CHARS = set("0123456789abcdef")


class Upload(BaseModel):
    """What an upload is, and what its dry run found."""

    model_config = ConfigDict(extra="forbid")

    file_name: str
    sheet: str | None = None
    profile_name: str | None = None
    profile_text: str | None = None  # the profile as chosen, kept with the upload
    uploaded_by: str
    today: date
    rows_read: int
    to_start: int
    repeats: int
    rejects: list[RowProblem] = Field(default_factory=list)


def imports_dir(home: Path) -> Path:
    return home / "imports"


def profiles_dir(home: Path) -> Path:
    """Where the force's column profiles live for the web page to offer (*.toml)."""
    return home / "profiles"


def new_upload_id() -> str:
    return secrets.token_hex(8)


class UploadStore:
    def __init__(self, folder: Path, keys: KeyRing) -> None:
        self.folder = folder
        self.keys = keys

    def _seal(self, upload_id: str, data: bytes) -> bytes:
        key = self.keys.current
        nonce = os.urandom(_NONCE)
        sealed = AESGCM(key.secret).encrypt(nonce, data, f"{upload_id}\n{key.id}".encode())
        return MAGIC + key.id.encode() + b"\n" + nonce + sealed

    def _open(self, upload_id: str, blob: bytes) -> bytes:
        if not blob.startswith(MAGIC):
            raise UploadGone(f"upload {upload_id} is not a stored upload")
        key_id, _, rest = blob[len(MAGIC):].partition(b"\n")
        key = self.keys.find(key_id.decode(errors="replace"))
        if key is None:
            raise UploadGone(f"upload {upload_id} is encrypted with a key the key ring lacks")
        try:
            return AESGCM(key.secret).decrypt(rest[:_NONCE], rest[_NONCE:], f"{upload_id}\n{key.id}".encode())
        except InvalidTag:
            raise UploadGone(f"upload {upload_id} was altered or is damaged") from None

    def _path(self, upload_id: str, name: str) -> Path:
        if len(upload_id) != 16 or not set(upload_id) <= _ID_CHARS:
            raise UploadGone("upload: not an upload id")
        return self.folder / upload_id / name

    def save(self, upload_id: str, data: bytes, upload: Upload) -> None:
        folder = self.folder / upload_id
        folder.mkdir(parents=True, exist_ok=False, mode=0o700)
        for name, content in (("export.bin", data), ("upload.bin", upload.model_dump_json().encode())):
            path = self._path(upload_id, name)
            path.write_bytes(self._seal(upload_id, content))
            path.chmod(0o600)

    def _read(self, upload_id: str, name: str) -> bytes:
        try:
            blob = self._path(upload_id, name).read_bytes()
        except OSError:
            raise UploadGone(f"upload {upload_id} is not on this host's disk ({self.folder})") from None
        return self._open(upload_id, blob)

    def export(self, upload_id: str) -> bytes:
        return self._read(upload_id, "export.bin")

    def upload(self, upload_id: str) -> Upload:
        try:
            return Upload.model_validate(json.loads(self._read(upload_id, "upload.bin")))
        except (ValidationError, ValueError):
            raise UploadGone(f"upload {upload_id}: its description cannot be read") from None
