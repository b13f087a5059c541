"""The report's table per member of staff (ids only): confirmed failures where they made the
decision or did the research, and how the look-backs of their other cases stand."""

from __future__ import annotations

from collections import defaultdict

from pydantic import BaseModel, Field

from states.lookback import REPEAT_FAILURES
from states.record import CaseSnapshot


class StaffFigures(BaseModel):
    staff_id: str
    confirmed_failures: int
    look_backs: int = Field(description="Look-back reviews of their cases, opened by a confirmed failure")
    look_backs_open: int = Field(description="Not reviewed yet")
    look_backs_clear: int = Field(description="Reviewed: no failure found (or not confirmed)")
    look_backs_failure: int = Field(description="Reviewed: a failure found")
    alert: bool = Field(description=f"{REPEAT_FAILURES} or more confirmed failures: Professional Standards alerted")


def staff_figures(snapshots: list[CaseSnapshot]) -> list[StaffFigures]:
    failures: dict[str, int] = defaultdict(int)
    looks: dict[str, list[CaseSnapshot]] = defaultdict(list)
    for snap in snapshots:
        if snap.look_back is not None:
            for staff_id in snap.look_back.staff_ids:
                looks[staff_id].append(snap)
        elif snap.failure_confirmed:
            for staff_id in snap.staff:
                failures[staff_id] += 1
    figures = []
    for staff_id in sorted(set(failures) | set(looks)):
        mine = looks[staff_id]
        reviewed = [s for s in mine if _reviewed(s)]
        found = [s for s in reviewed if s.failure_type is not None]
        figures.append(StaffFigures(
            staff_id=staff_id,
            confirmed_failures=failures[staff_id],
            look_backs=len(mine),
            look_backs_open=len(mine) - len(reviewed),
            look_backs_clear=len(reviewed) - len(found),
            look_backs_failure=len(found),
            alert=failures[staff_id] >= REPEAT_FAILURES,
        ))
    return figures


def _reviewed(snapshot: CaseSnapshot) -> bool:
    return any(t.trigger == "review" for t in snapshot.transitions)
