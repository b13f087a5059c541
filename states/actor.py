"""Who does something on a case: a staff id and the role they act in.

Its own module because both the case's record (states/record.py) and the signed proof of a
task (states/proof.py) name one, and the record keeps the proof.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from states.models import StaffId
from states.roles import Role


class Actor(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)
    id: StaffId
    role: Role
