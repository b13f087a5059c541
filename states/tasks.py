"""What each human task submits, and the dates a submission may carry.

The case (states/case.py) decides whether a task is open; this module only knows the
shape of a submission and refuses a date the case could never have seen.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from states.roles import Task
from states.submissions import (
    Countersignature,
    DeadlineExtension,
    Decision,
    Disclosure,
    FailureConfirmation,
    IopcDecision,
    ReferralResolution,
    RemedialDisclosure,
    Research,
    Review,
    RiskAssessment,
    RiskUpdate,
    SafeguardingContact,
    Withdrawal,
)

TASK_MODEL: dict[Task, type[BaseModel]] = {
    Task.research: Research,
    Task.risk_assessment: RiskAssessment,
    Task.decision: Decision,
    Task.disclosure: Disclosure,
    Task.withdrawal: Withdrawal,
    Task.review: Review,
    Task.failure_confirmation: FailureConfirmation,
    Task.remedial_disclosure: RemedialDisclosure,
    Task.iopc_decision: IopcDecision,
    Task.deadline_extension: DeadlineExtension,
    Task.countersignature: Countersignature,
    Task.risk_update: RiskUpdate,
    Task.safeguarding_contact: SafeguardingContact,
    Task.referral_resolution: ReferralResolution,
}

DATE_FIELDS = frozenset({"delivered_on", "met_on", "decided_on", "contacted_on"})


class TaskRefused(Exception):
    """A submission the case does not allow. The message names the rule; never a value."""


def dated(submission: BaseModel, now: datetime, received_at: datetime, timezone: str) -> BaseModel:
    """Refuse a date in the future or before receipt; an omitted one means today (in the
    policy's timezone, so a task recorded just after midnight is dated the new day)."""
    zone = ZoneInfo(timezone)
    today = now.astimezone(zone).date()
    filled = {}
    for field in DATE_FIELDS.intersection(type(submission).model_fields):
        value = getattr(submission, field)
        if value is None:
            filled[field] = today
        elif value > today:
            raise TaskRefused(f"{field}: must not be in the future")
        elif value < received_at.astimezone(zone).date():
            raise TaskRefused(f"{field}: must not be before the case was received")
    return submission.model_copy(update=filled) if filled else submission
