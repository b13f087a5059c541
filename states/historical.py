"""Historical cases: where an imported record leaves the case, and its review priority."""

from __future__ import annotations

from states.machine import CaseState
from states.record import HistoricalDecision, HistoricalFacts, ReviewPriority, SubjectHistory

LATE_DECISION_DAYS = 35  # the 2016 guidance, the yardstick for historical cases


def review_priority(
    decision: HistoricalDecision,
    subject_history: SubjectHistory,
    received_on_days_to_decision: int | None,
    disclosure_delivered: bool,
) -> ReviewPriority:
    """Possible failures to disclose first, then late or missing decisions, then the rest."""
    if subject_history is SubjectHistory.yes and not disclosure_delivered:
        return ReviewPriority.possible_failure_to_disclose
    if decision is HistoricalDecision.none or received_on_days_to_decision is None:
        return ReviewPriority.late_or_no_decision
    if received_on_days_to_decision > LATE_DECISION_DAYS:
        return ReviewPriority.late_or_no_decision
    return ReviewPriority.routine


def imported_path(facts: HistoricalFacts) -> list[CaseState]:
    """The states the record shows the case went through, in order."""
    path = [CaseState.received]
    if facts.research_completed_on is not None or facts.risk_level is not None:
        path.append(CaseState.researched)
    if facts.risk_level is not None:
        path.append(CaseState.risk_assessed)
    if facts.decision is HistoricalDecision.declined:
        path.append(CaseState.declined)
    elif facts.decision is HistoricalDecision.withdrawn:
        path.append(CaseState.withdrawn)
    elif facts.decision is HistoricalDecision.disclosed and facts.disclosure_delivered_on is not None:
        path.append(CaseState.disclosed)
    return path
