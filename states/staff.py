"""The staff directory's shape: who exists, which roles they hold, whether they are active.

The directory itself is a file the worker (and the web app) loads; this module is
only the pure model and the rule "may this staff id act in this role?".
"""

from __future__ import annotations

from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from states.models import StaffId
from states.roles import READ_ONLY_ROLES, READ_ONLY_RULE, Role


class StaffMember(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)
    id: StaffId
    name: str = Field(min_length=1, max_length=200)
    roles: list[Role] = Field(min_length=1)
    team: str = Field(min_length=1, max_length=100)
    active: bool = True
    password_hash: str | None = Field(default=None, description="For the embedded web sign-in only")


class StaffDirectory(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)
    staff: list[StaffMember] = Field(default_factory=list)

    @model_validator(mode="after")
    def ids_are_unique(self) -> Self:
        ids = [m.id for m in self.staff]
        if len(ids) != len(set(ids)):
            raise ValueError("staff: each staff id appears once")
        return self

    def find(self, staff_id: str) -> StaffMember | None:
        return next((m for m in self.staff if m.id == staff_id), None)

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
