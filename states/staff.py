"""The staff directory's shape: who exists, which roles they hold, whether they are active.

The directory itself is a file the worker (and the web app) loads; this module is
only the pure model and the rule "may this staff id act in this role?".
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from states.models import StaffId
from states.roles import Role


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

    def find(self, staff_id: str) -> StaffMember | None:
        return next((m for m in self.staff if m.id == staff_id), None)

    def refusal(self, staff_id: str, role: Role) -> str | None:
        """Why this staff id may not act in this role, or None if it may."""
        member = self.find(staff_id)
        if member is None:
            return f"actor: staff id {staff_id} is not in the staff directory"
        if not member.active:
            return f"actor: staff id {staff_id} is not active"
        if role not in member.roles:
            return f"role: staff id {staff_id} does not hold the role {role}"
        return None
