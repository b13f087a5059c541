"""Password hashes for the embedded sign-in (argon2id). A force with single sign-on uses
the trusted header instead and needs none."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
MIN_LENGTH = 12


class WeakPassword(ValueError):
    pass


def hash_password(password: str) -> str:
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"password: at least {MIN_LENGTH} characters")
    return _hasher.hash(password)


# Checked against a real hash even when the staff id has none, so a wrong id and a wrong
# password take the same time and say the same thing.
_DUMMY = _hasher.hash("no password set for this staff id")


def password_matches(stored: str | None, presented: str) -> bool:
    try:
        return _hasher.verify(stored or _DUMMY, presented) and stored is not None
    except (VerificationError, InvalidHashError):
        return False
