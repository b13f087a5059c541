"""Look-back on a confirmed failure. When Professional Standards confirms a failure, every
other case where the same member of staff made the decision or did the research (open or
closed, new or historical) gets one look-back review: a new case, linked to the case it
looks at and to the failure that caused it, started where that case's record stands (as an
imported record is), at the top of the reviewers' queue. The case looked at keeps its own
history, closed or not. One per case, however many failures name the person: its reference
is derived from the case's.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from zoneinfo import ZoneInfo

from pydantic import Field

from states.case_ref import is_case_ref
from states.machine import CaseState
from states.messages import CaseFile
from states.models import CaseRef
from states.record import (
    CaseInput,
    HistoricalDecision,
    HistoricalFacts,
    LookBack,
    Record,
    ReviewPriority,
    SubjectHistory,
    TaskRecord,
)
from states.roles import Task
from states.submissions import Research

# The tasks whose doers a confirmed failure looks back on.
LOOKED_AT = (Task.decision, Task.research)
REPEAT_FAILURES = 2  # confirmed failures naming one member of staff that alert Professional Standards
LOOK_BACK_SEPARATION = ("look_back_not_by_its_subject",
                        "a look-back is not worked by the member of staff whose cases it looks at")


class LookBackRequest(Record):
    failure: CaseRef = Field(description="The case whose failure was confirmed")
    staff_ids: list[str] = Field(min_length=1)
    confirmed_at: datetime


class LookBackResult(Record):
    opened: int = Field(description="Look-backs this failure opened (a case already looked back at counts once)")
    cases_looked_at: int
    confirmed_failures: dict[str, int] = Field(description="By staff id: confirmed failures naming them")

    def repeat_staff(self) -> dict[str, int]:
        return {staff: n for staff, n in self.confirmed_failures.items() if n >= REPEAT_FAILURES}


class StaffAlert(Record):
    """Professional Standards told that one member of staff has several confirmed failures (ids only)."""

    staff_id: str
    confirmed_failures: int
    latest_failure: str


def look_back_ref(ref: str) -> str:
    """The look-back's reference: the case's with `.LB`, or a hash of it when that is too long."""
    candidate = f"{ref}.LB"
    if is_case_ref(candidate):
        return candidate
    return f"LB.{hashlib.sha256(ref.encode()).hexdigest()[:24]}"


def staff_on(tasks: list[TaskRecord], facts: HistoricalFacts | None) -> list[str]:
    """Who made the decision or did the research on a case (its record, or the imported one)."""
    found = {r.actor.id for r in tasks if r.task in LOOKED_AT}
    if facts is not None:
        found |= {s for s in (facts.decided_by, facts.researched_by) if s}
    return sorted(found)


def look_back_start(looked_at: CaseFile, link: LookBack, timezone: str) -> CaseInput:
    """The look-back case: the case's application, and its record as it stands as the facts."""
    snapshot = looked_at.snapshot
    if looked_at.historical is not None:
        facts = looked_at.historical.model_copy(update={"priority": ReviewPriority.look_back})
    else:
        zone = ZoneInfo(timezone)

        def on(*triggers: str) -> date | None:
            at = next((t.at for t in snapshot.transitions if t.trigger in triggers), None)
            return at.astimezone(zone).date() if at else None

        research = next((r for r in reversed(looked_at.tasks) if r.task is Task.research), None)
        history = SubjectHistory.unknown
        if research is not None:
            found = Research.model_validate(research.submission).found_relevant_history
            history = SubjectHistory.yes if found else SubjectHistory.no
        visited = {t.dest for t in snapshot.transitions}
        decision, decided = HistoricalDecision.none, None
        if CaseState.declined in visited:
            decision, decided = HistoricalDecision.declined, on("countersign", "decide_to_decline")
        elif CaseState.withdrawn in visited:
            decision, decided = HistoricalDecision.withdrawn, on("withdraw")
        elif on("decide_to_disclose") is not None:
            decision, decided = HistoricalDecision.disclosed, on("decide_to_disclose")
        facts = HistoricalFacts(
            source_line=1,
            source_digest=f"look-back:{snapshot.ref}",
            received_on=snapshot.received_at.astimezone(zone).date(),
            research_completed_on=on("complete_research"),
            risk_level=snapshot.risk_level if on("assess_risk") else None,
            decision=decision,
            decision_on=decided,
            disclosure_delivered_on=on("deliver_disclosure"),
            subject_has_relevant_history=history,
            priority=ReviewPriority.look_back,
        )
    return CaseInput(
        ref=look_back_ref(snapshot.ref), application=looked_at.application, received_at=snapshot.received_at,
        historical=facts, look_back=link,
    )
