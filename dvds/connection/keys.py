"""The key ring: AES-256-GCM data keys (the newest encrypts, every one decrypts) and the
key of the subjects' blind index. From DVDS_KEYS (the file's JSON) or a key file.

File format (`dvds up` creates it, mode 0600; `dvds keys rotate` adds a key):

    {"encryption_keys": [{"id": "k20260101-ab12", "key": "<base64 of 32 bytes>"}],
     "index_key": "<base64 of 32 bytes>"}

The index key never rotates: a new one would stop new applications matching old ones.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator

from dvds.errors import ReadableError
from dvds.settings import Settings

KeyId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._-]{1,64}$")]


class KeysError(ReadableError):
    """A key problem a person can fix. Never carries key material."""


def _key_bytes(value: str) -> str:
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("must be base64") from None
    if len(raw) != 32:
        raise ValueError("must be 32 bytes (AES-256)")
    return value


def _new_key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


class DataKey(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True, frozen=True)
    id: KeyId
    key: str = Field(repr=False)

    @field_validator("key")
    @classmethod
    def _is_aes_256(cls, value: str) -> str:
        return _key_bytes(value)

    @property
    def secret(self) -> bytes:
        return base64.b64decode(self.key)


class KeyRing(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True, frozen=True)
    encryption_keys: list[DataKey] = Field(min_length=1, description="Oldest first; the last one encrypts")
    index_key: str = Field(repr=False)

    @field_validator("index_key")
    @classmethod
    def _is_256_bits(cls, value: str) -> str:
        return _key_bytes(value)

    @property
    def current(self) -> DataKey:
        return self.encryption_keys[-1]

    def find(self, key_id: str) -> DataKey | None:
        return next((k for k in self.encryption_keys if k.id == key_id), None)

    @property
    def index_secret(self) -> bytes:
        return base64.b64decode(self.index_key)

    @classmethod
    def generate(cls) -> Self:
        return cls(encryption_keys=[DataKey(id=_new_id(), key=_new_key())], index_key=_new_key())

    def rotated(self) -> Self:
        """A ring with a new newest key; the old ones stay to decrypt what they encrypted."""
        newest = DataKey(id=_new_id(), key=_new_key())
        return self.model_copy(update={"encryption_keys": [*self.encryption_keys, newest]})

    @classmethod
    def parse(cls, text: str, source: str) -> Self:
        try:
            return cls.model_validate_json(text)
        except ValidationError as err:
            fields = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or '(file)'}: {e['msg']}"
                for e in err.errors(include_input=False, include_url=False)
            )
            raise KeysError(f"keys: {source} is not a valid key ring ({fields})") from None


def _new_id() -> str:
    return f"k{datetime.now(UTC):%Y%m%d}-{secrets.token_hex(2)}"


def load_keys(settings: Settings) -> KeyRing:
    """DVDS_KEYS if set, else the key file; a clear KeysError when there is neither."""
    if settings.keys is not None:
        return KeyRing.parse(settings.keys.get_secret_value(), "DVDS_KEYS")
    path = settings.key_path
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise KeysError(
            f"keys: no key file at {path} and DVDS_KEYS is not set; `dvds up` creates one on first start "
            "(DVDS_KEY_FILE says where it is)"
        ) from None
    except OSError as err:
        raise KeysError(f"keys: cannot read the key file {path} ({err.strerror})") from None
    return KeyRing.parse(text, f"the key file {path}")


def write_keys(path: Path, ring: KeyRing, *, new: bool) -> None:
    """Write the ring readable by its owner only. `new` refuses to overwrite a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    target = path if new else path.with_name(path.name + ".new")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
    try:
        fd = os.open(target, flags, 0o600)
    except FileExistsError:
        raise KeysError(f"keys: {target} already exists; not overwriting keys") from None
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(json.dumps(ring.model_dump(), indent=2) + "\n")
        out.flush()
        os.fsync(out.fileno())
    if not new:
        os.replace(target, path)


def ensure_key_file(settings: Settings) -> bool:
    """Create the key file on first start unless keys come from DVDS_KEYS. True if created."""
    if settings.keys is not None or settings.key_path.exists():
        return False
    write_keys(settings.key_path, KeyRing.generate(), new=True)
    return True


def rotate_key_file(settings: Settings) -> tuple[Path, KeyRing]:
    """Add a new newest key to the key file; the file's path and the new ring."""
    if settings.keys is not None:
        raise KeysError("keys: keys come from DVDS_KEYS; rotate where that value is kept")
    ring = load_keys(settings).rotated()
    write_keys(settings.key_path, ring, new=False)
    return settings.key_path, ring
