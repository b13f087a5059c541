"""Personal credentials: each member of staff's own Ed25519 key, and the web inbox's service key.

The private key lives in one file only its holder can read (mode 0600, PEM PKCS8, optionally
encrypted with a passphrase); the public key goes into the staff directory with the time it
was added, so a case (and an auditor, years later) can check who signed a task. Rotating adds
a key; revoking dates the end of one; neither removes a key, so old signatures still verify.

Paths come from the caller (Settings): nothing here reads the environment.
"""

from __future__ import annotations

import base64
import os
import secrets
import stat
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from dvds.errors import ReadableError
from dvds.staff.directory import StaffFileError, read_staff
from dvds.staff.editing import StaffData, edit_staff_json, member_entry
from states.staff import StaffKey, key_fingerprint

DEFAULT_CREDENTIALS_DIR = Path("~/.config/dvds/credentials")
_ENCRYPTED_PEM = b"-----BEGIN ENCRYPTED PRIVATE KEY-----"


class CredentialError(ReadableError):
    """A credential problem a person can fix. Names the file and the rule, never a key or passphrase."""


@dataclass(frozen=True)
class Credential:
    """A private key, loaded, with the id of its public half."""

    key_id: str
    private_key: Ed25519PrivateKey
    path: Path


def credential_path(credentials_dir: Path, staff_id: str) -> Path:
    """Where a member's credential lives by default: `<dir>/<ID>.pem`."""
    # Staff ids may hold dots; "." and ".." would name a directory, not a file.
    if staff_id in {".", ".."} or "/" in staff_id:
        raise CredentialError("staff_id: not usable as a file name")
    return credentials_dir.expanduser() / f"{staff_id}.pem"


def enrol(
    member_id: str,
    directory_path: Path,
    credential_path: Path,
    passphrase: str | None = None,
    *,
    rotate: bool = False,
    now: datetime | None = None,
) -> StaffKey:
    """Make a new key pair for a member: the private key to `credential_path`, the public key
    into the staff directory. With `rotate`, an existing credential file is replaced; the keys
    already in the directory stay (revoke them with `revoke`)."""
    if passphrase == "":
        raise CredentialError("passphrase: must not be empty (give none for a key without one)")
    if credential_path.exists() and not rotate:
        raise CredentialError(
            f"credential: {credential_path} already exists; rotate to replace it with a new key"
        )
    _member_must_exist(member_id, directory_path)
    private_key = Ed25519PrivateKey.generate()
    key = _staff_key(private_key, now)
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase.encode("utf-8"))
        if passphrase is not None
        else serialization.NoEncryption()
    )
    pem = private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
    previous = credential_path.read_bytes() if rotate and credential_path.exists() else None
    _write_private(credential_path, pem, replace=rotate)

    def add_key(data: StaffData) -> None:
        member_entry(data, member_id, directory_path).setdefault("public_keys", []).append(_key_json(key))

    try:
        edit_staff_json(directory_path, add_key)
    except BaseException:
        # The directory did not take the key: put the credential back as it was.
        if previous is None:
            credential_path.unlink(missing_ok=True)
        else:
            _write_private(credential_path, previous, replace=True)
        raise
    return key


def revoke(member_id: str, key_id: str, at: datetime, directory_path: Path) -> StaffKey:
    """Date the end of one of a member's keys. What it signed before `at` still verifies.
    Revoking again keeps the earlier time: a revocation is never pushed later."""
    return _revoke(
        directory_path,
        at,
        key_id,
        lambda data: member_entry(data, member_id, directory_path).get("public_keys", []),
        member_id,
    )


def revoke_web_key(key_id: str, at: datetime, directory_path: Path) -> StaffKey:
    """Date the end of one of the web inbox's service keys."""
    return _revoke(directory_path, at, key_id, lambda data: data.get("web_keys", []), "the web inbox")


def load_credential(path: Path, passphrase: str | None = None) -> Credential:
    """Load a private key for signing. Refuses a file others could read, and says how to enrol."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        raise CredentialError(
            f"credential: no credential at {path}; enrol first with `dvds staff enrol ID` (ID: your staff id)"
        ) from None
    with os.fdopen(fd, "rb") as file:
        info = os.fstat(file.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise CredentialError(f"credential: {path} is not a file")
        if info.st_mode & 0o077:
            raise CredentialError(
                f"credential: {path} can be read by group or others (mode {info.st_mode & 0o777:o}); "
                f"make it private with `chmod 600 {path}`"
            )
        if info.st_uid != os.geteuid():
            raise CredentialError(f"credential: {path} belongs to another user")
        pem = file.read()
    encrypted = _ENCRYPTED_PEM in pem
    if encrypted and passphrase is None:
        raise CredentialError(f"credential: {path} is protected by a passphrase; give it")
    if not encrypted and passphrase is not None:
        raise CredentialError(f"credential: {path} has no passphrase; give none")
    try:
        private_key = serialization.load_pem_private_key(
            pem, passphrase.encode("utf-8") if passphrase is not None else None
        )
    except ValueError:
        if encrypted:
            raise CredentialError(f"credential: wrong passphrase for {path}") from None
        raise CredentialError(f"credential: {path} is not a PEM private key") from None
    if not isinstance(private_key, Ed25519PrivateKey):
        raise CredentialError(f"credential: {path} does not hold an Ed25519 key")
    return Credential(key_fingerprint(_public_raw(private_key)), private_key, path)


def needs_passphrase(path: Path) -> bool:
    """Whether the credential file is passphrase-protected, so a face knows to ask for one."""
    try:
        return _ENCRYPTED_PEM in path.read_bytes()
    except FileNotFoundError:
        return False


def ensure_web_key(key_path: Path, directory_path: Path, *, now: datetime | None = None) -> Credential:
    """The web inbox's service key: made on first start (mode 0600, no passphrase, since the
    service starts unattended), listed in the directory's `web_keys`, then loaded as it is."""
    if not key_path.exists():
        private_key = Ed25519PrivateKey.generate()
        pem = private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        try:
            _write_private(key_path, pem, replace=False)
        except CredentialError:
            pass  # another process made it first: use theirs
    credential = load_credential(key_path)
    listed = read_staff(directory_path).web_key(credential.key_id)
    if listed is None:
        key = _staff_key(credential.private_key, now)

        def add_key(data: StaffData) -> None:
            web_keys = data.setdefault("web_keys", [])
            if not any(isinstance(k, dict) and k.get("id") == key.id for k in web_keys):
                web_keys.append(_key_json(key))

        edit_staff_json(directory_path, add_key)
    elif listed.revoked_at is not None:
        raise CredentialError(
            f"web key: the key in {key_path} is revoked in the staff directory; move the file away to make a new one"
        )
    return credential


def _member_must_exist(member_id: str, directory_path: Path) -> None:
    if directory_path.suffix == ".toml":
        raise StaffFileError(f"staff: {directory_path} is TOML; enrolling needs a JSON staff file")
    member = read_staff(directory_path).find(member_id)
    if member is None:
        raise StaffFileError(f"staff_id: {member_id} is not in the staff directory {directory_path}")
    if not member.active:
        raise StaffFileError(f"staff_id: {member_id} is not active; an inactive member cannot enrol")


def _public_raw(private_key: Ed25519PrivateKey) -> bytes:
    return private_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _staff_key(private_key: Ed25519PrivateKey, now: datetime | None) -> StaffKey:
    raw = _public_raw(private_key)
    return StaffKey(
        id=key_fingerprint(raw),
        public_key=base64.b64encode(raw).decode("ascii"),
        added_at=now or datetime.now(UTC),
    )


def _key_json(key: StaffKey) -> dict[str, object]:
    return key.model_dump(mode="json", exclude_none=True)


def _write_private(path: Path, data: bytes, *, replace: bool) -> None:
    """Write a private key to a file created for it alone (O_EXCL, so never through a file or
    link someone else left there), mode 0600 whatever the umask. Replacing writes a fresh file
    beside it, then swaps it in whole."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    target = path.with_name(f".{path.name}.{secrets.token_hex(8)}") if replace else path
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise CredentialError(f"credential: {path} already exists; rotate to replace it with a new key") from None
    try:
        with os.fdopen(fd, "wb") as out:
            os.fchmod(out.fileno(), 0o600)
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        if replace:
            os.replace(target, path)
    except BaseException:
        target.unlink(missing_ok=True)
        raise


def _revoke(
    directory_path: Path, at: datetime, key_id: str, keys_of: Callable[[StaffData], list[object]], holder: str
) -> StaffKey:
    if at.tzinfo is None:
        raise CredentialError("at: must carry a time zone")
    revoked: list[StaffKey] = []

    def change(data: StaffData) -> None:
        for entry in keys_of(data):
            if isinstance(entry, dict) and entry.get("id") == key_id:
                key = StaffKey.model_validate(entry)
                if at < key.added_at:
                    raise CredentialError("at: before the key was added")
                when = at if key.revoked_at is None else min(at, key.revoked_at)
                updated = key.model_copy(update={"revoked_at": when})
                entry["revoked_at"] = _key_json(updated)["revoked_at"]
                revoked.append(updated)
                return
        raise CredentialError(f"key_id: {key_id} is not a key of {holder}")

    edit_staff_json(directory_path, change)
    return revoked[0]
