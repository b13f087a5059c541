"""Our fields of a historical export: their names (today's column headers), which are
required, which hold a choice of words and which hold dates."""

from __future__ import annotations

from enum import StrEnum

from states.models import ApplicantRelationship, Route
from states.record import HistoricalDecision, SubjectHistory
from states.submissions import RiskLevel

COLUMNS: tuple[str, ...] = (
    "case_ref",
    "route",
    "received_on",
    "applicant_relationship",
    "person_at_risk_name",
    "person_at_risk_dob",
    "subject_name",
    "subject_aliases",
    "subject_dob",
    "research_completed_on",
    "risk_level",
    "decision",
    "decision_on",
    "disclosure_delivered_on",
    "subject_has_relevant_history",
    "notes",
)
# Optional columns beside ours: who decided and who researched, by staff id (a confirmed
# failure's look-back finds their other cases by it). Not part of a row's digest, so files
# imported before they existed match as they did.
STAFF_COLUMNS: tuple[str, ...] = ("decided_by", "researched_by")
STAFF_ID = r"[A-Za-z0-9._-]{1,64}"
REQUIRED: frozenset[str] = frozenset(
    {
        "case_ref",
        "route",
        "received_on",
        "applicant_relationship",
        "person_at_risk_name",
        "subject_name",
        "decision",
        "subject_has_relevant_history",
    }
)
# Fields whose values are a few words (never personal data), each one of ours.
CHOICES: dict[str, type[StrEnum]] = {
    "route": Route,
    "applicant_relationship": ApplicantRelationship,
    "risk_level": RiskLevel,
    "decision": HistoricalDecision,
    "subject_has_relevant_history": SubjectHistory,
}
CHOICE_FIELDS: tuple[str, ...] = tuple(c for c in COLUMNS if c in CHOICES)
DATE_FIELDS: frozenset[str] = frozenset(
    {"received_on", "person_at_risk_dob", "subject_dob", "research_completed_on", "decision_on",
     "disclosure_delivered_on"}
)
