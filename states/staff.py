"""The staff directory's shape: who exists, which roles they hold, whether they are active,
and the public keys that prove who submitted a task.

The directory itself is a file the worker (and the web app) loads; this module is
only the pure model and the rule "may this staff id act in this role?".
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from datetime import datetime
from typing import Annotated, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from states.models import StaffId
from states.roles import READ_ONLY_ROLES, READ_ONLY_RULE, Role

ED25519_PUBLIC_KEY_BYTES = 32
KeyId = Annotated[str, StringConstraints(pattern=r"^ed25519-[0-9a-f]{32}$")]


def key_fingerprint(public_key: bytes) -> str:
    """A key's id: derived from the key itself, so a directory cannot pair an id with another key."""
    return "ed25519-" + hashlib.sha256(public_key).hexdigest()[:32]


class StaffKey(BaseModel):
    """One public key, with the time it was added and (once revoked) the time it stopped counting.

    Keys are never deleted: what was signed while a key was valid must still verify years later.
    """

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)
    id: KeyId
    public_key: str = Field(description="Raw Ed25519 public key, base64")
    added_at: AwareDatetime
    revoked_at: AwareDatetime | None = None

    @field_validator("public_key")
    @classmethod
    def is_an_ed25519_key(cls, value: str) -> str:
        try:
            raw = base64.b64decode(value, validate=True)
        except binascii.Error:
            raise ValueError("must be base64") from None
        if len(raw) != ED25519_PUBLIC_KEY_BYTES:
            raise ValueError(f"must be a raw Ed25519 public key ({ED25519_PUBLIC_KEY_BYTES} bytes)")
        return value

    @model_validator(mode="after")
    def id_and_dates_fit_the_key(self) -> Self:
        if self.id != key_fingerprint(self.public_key_bytes):
            raise ValueError("id: must be the fingerprint of public_key")
        if self.revoked_at is not None and self.revoked_at < self.added_at:
            raise ValueError("revoked_at: must not be before added_at")
        return self

    @property
    def public_key_bytes(self) -> bytes:
        return base64.b64decode(self.public_key)

    def valid_at(self, when: datetime) -> bool:
        """Whether something signed at `when` counts: from added_at, up to (not at) revoked_at."""
        return self.added_at <= when and (self.revoked_at is None or when < self.revoked_at)


class StaffMember(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)
    id: StaffId
    name: str = Field(min_length=1, max_length=200)
    roles: list[Role] = Field(min_length=1)
    team: str = Field(min_length=1, max_length=100)
    active: bool = True
    password_hash: str | None = Field(default=None, description="For the embedded web sign-in only")
    public_keys: list[StaffKey] = Field(default_factory=list, description="Every key this person has signed with")

    def key(self, key_id: str) -> StaffKey | None:
        return next((k for k in self.public_keys if k.id == key_id), None)


class StaffDirectory(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)
    staff: list[StaffMember] = Field(default_factory=list)
    web_keys: list[StaffKey] = Field(
        default_factory=list, description="The web inbox's service keys: it signs what its sign-in authenticated"
    )

    @model_validator(mode="after")
    def ids_are_unique(self) -> Self:
        ids = [m.id for m in self.staff]
        if len(ids) != len(set(ids)):
            raise ValueError("staff: each staff id appears once")
        # One key, one holder: a key listed twice would let one person sign as another.
        key_ids = [k.id for m in self.staff for k in m.public_keys] + [k.id for k in self.web_keys]
        if len(key_ids) != len(set(key_ids)):
            raise ValueError("public_keys: each key appears once in the directory, under one holder")
        return self

    def find(self, staff_id: str) -> StaffMember | None:
        return next((m for m in self.staff if m.id == staff_id), None)

    def web_key(self, key_id: str) -> StaffKey | None:
        return next((k for k in self.web_keys if k.id == key_id), None)

    def identity_refusal(self, staff_id: str) -> str | None:
        """Why this staff id may not act at all (unknown or inactive), or None."""
        member = self.find(staff_id)
        if member is None:
            return f"actor: staff id {staff_id} is not in the staff directory"
        if not member.active:
            return f"actor: staff id {staff_id} is not active"
        return None

    def refusal(self, staff_id: str, role: Role) -> str | None:
        """Why this staff id may not act in this role, or None if it may."""
        unknown = self.identity_refusal(staff_id)
        if unknown is not None:
            return unknown
        member = self.find(staff_id)
        assert member is not None
        read_only = READ_ONLY_ROLES.intersection(member.roles)
        if read_only:
            held = ", ".join(sorted(read_only))
            return f"actor: staff id {staff_id} holds the role {held}, which only reads (rule {READ_ONLY_RULE})"
        if role not in member.roles:
            return f"role: staff id {staff_id} does not hold the role {role}"
        return None
