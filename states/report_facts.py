"""The facts the audit report counts, each as of the moment it happened: when the forum
decided and how long after receipt, whether that was past the 28- or 35-day guidance,
how long the IOPC referral took and whether it met its limit, which deadlines are past due.

The case publishes them as search attributes (workflows/report_facts.py), so the report
is a few dozen visibility counts; the report's reference path (dvds/audit/report.py)
computes the same facts from each case's snapshot with these same functions.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from states.machine import CaseState
from states.policy import Limit, Unit
from states.record import CaseSnapshot

DECISION_TRIGGERS = {"decide_to_disclose", "decide_to_decline"}
OVER_28 = Limit(amount=28, unit=Unit.calendar_days)  # 2023 guidance
OVER_35 = Limit(amount=35, unit=Unit.calendar_days)  # 2016 guidance, the historical yardstick
REFERRAL_CATEGORIES = ("mandatory", "voluntary")  # states/case.py: Case.referral_category


class ReferralOutcome(StrEnum):
    pending = "pending"
    pending_overdue = "pending_overdue"  # not referred yet, and past the limit
    within_limit = "within_limit"
    late = "late"


def decided_at(snapshot: CaseSnapshot) -> datetime | None:
    """When the forum decided: the decision task; for an imported record, the date it
    shows for the decline or the disclosure."""
    for made in snapshot.transitions:
        if made.trigger in DECISION_TRIGGERS:
            return made.at
        if made.imported and made.dest in (CaseState.declined, CaseState.disclosed):
            return made.at
    return None


def decision_seconds(snapshot: CaseSnapshot) -> float | None:
    """Receipt to decision, in seconds; None while undecided."""
    at = decided_at(snapshot)
    return None if at is None else (at - snapshot.received_at).total_seconds()


def decided_over_days(snapshot: CaseSnapshot, timezone: str) -> int | None:
    """35 when decided after the 35-day guidance, 28 after the 28-day one, else 0; None while undecided."""
    at = decided_at(snapshot)
    if at is None:
        return None
    if at > OVER_35.due_from(snapshot.received_at, timezone):
        return 35
    return 28 if at > OVER_28.due_from(snapshot.received_at, timezone) else 0


def referral_seconds(snapshot: CaseSnapshot) -> float | None:
    """Confirmation to referral, in seconds, once referred."""
    referral = snapshot.referral
    if referral is None or referral.referred_at is None:
        return None
    return (referral.referred_at - referral.duty_arose_at).total_seconds()


def referral_outcome(snapshot: CaseSnapshot, now: datetime) -> ReferralOutcome | None:
    referral = snapshot.referral
    if referral is None:
        return None
    if referral.referred_at is not None:
        return ReferralOutcome.within_limit if referral.referred_at <= referral.due else ReferralOutcome.late
    # The case wakes when the limit passes, so `now` is then at or after it.
    return ReferralOutcome.pending_overdue if now >= referral.due else ReferralOutcome.pending


def overdue_deadlines(snapshot: CaseSnapshot, now: datetime) -> list[str]:
    """The open deadlines past due, in the case's order."""
    return [d.name for d in snapshot.deadlines if d.open and d.due <= now]
