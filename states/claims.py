"""Who has claimed which open task: work allocation, not part of a case's record. Kept on
the claim board (workflows/claims.py), which every web host reaches through the server, so
a claim made on one host is seen on all of them. Pure: the models and the rule of who may
take or release a claim."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from states.models import CaseRef, StaffId
from states.roles import Task


class Claim(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    ref: CaseRef
    task: Task
    staff_id: StaffId
    claimed_at: datetime


class ClaimRequest(BaseModel):
    """Claim a task for `staff_id`; release it (`release=True`) as its holder or, with
    `any_holder`, as a supervisor; `forget` drops it whoever holds it (the task is done)."""

    model_config = ConfigDict(extra="forbid")

    ref: CaseRef
    task: Task
    staff_id: StaffId
    any_holder: bool = False


class ClaimBoardInput(BaseModel):
    """The board's start, and what it carries into its next run (continue-as-new)."""

    claims: list[Claim] = Field(default_factory=list)
    history_limit: int = Field(default=2000, ge=50, description="Continue as new past this many history events")


def claim_refusal(held: Claim | None, request: ClaimRequest) -> str | None:
    """Why `request` may not claim the task, or None. Names the staff id, nothing personal."""
    if held is not None and held.staff_id != request.staff_id:
        return f"claim: {request.task} on {request.ref} is claimed by {held.staff_id}"
    return None


def release_refusal(held: Claim | None, request: ClaimRequest) -> str | None:
    """Why `request` may not release the claim, or None (nothing held: nothing to refuse)."""
    if held is None or held.staff_id == request.staff_id or request.any_holder:
        return None
    return (f"claim: {request.task} on {request.ref} is claimed by {held.staff_id}; only they or a supervisor "
            "can release it")
