"""One row of the historical export: checked column by column, then turned into the
case input of a historical case, or refused with the reasons.

Pure: no Temporal, no I/O. A reason names the column and the rule, never the value,
because every value here is personal data or a fact about a person at risk.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum
from typing import TypeVar
from zoneinfo import ZoneInfo

from pydantic import TypeAdapter, ValidationError

from states.historical import review_priority
from states.models import ApplicantRelationship, Application, CaseRef, ContactMethod, Route
from states.record import CaseInput, HistoricalDecision, HistoricalFacts, SubjectHistory
from states.risk import RiskLevel

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

# The export has no safe contact or prompt: historical applications are reviewed by
# staff from the force's own records, so the case says plainly that these are unknown.
NOT_RECORDED = "not recorded in historical export"
PLACEHOLDER_CONTACT = {"method": ContactMethod.via_agency, "detail": NOT_RECORDED, "safe_times": NOT_RECORDED}
PLACEHOLDER_PROMPT = NOT_RECORDED

EARLIEST_BIRTH = date(1900, 1, 1)
MAX_NOTES = 20000
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_UK = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_CASE_REF = TypeAdapter(CaseRef)
# Where an Application field's error belongs in the export.
_FIELD_COLUMN: dict[tuple[str, ...], str] = {
    ("person_at_risk", "name"): "person_at_risk_name",
    ("person_at_risk", "date_of_birth"): "person_at_risk_dob",
    ("subject", "name"): "subject_name",
    ("subject", "aliases"): "subject_aliases",
    ("subject", "date_of_birth"): "subject_dob",
}


@dataclass(frozen=True)
class RowContext:
    """What a row is judged against: today's date and the force's time zone."""

    today: date
    timezone: str = "Europe/London"


@dataclass(frozen=True)
class ImportRow:
    """A valid row: the case it starts and the digest that recognises it again."""

    line: int
    case_ref: str
    digest: str
    case: CaseInput


@dataclass(frozen=True)
class RowReject:
    line: int
    reasons: tuple[str, ...]
    case_ref: str | None = None  # only when it is a valid reference (never personal data)

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons)


def row_digest(cells: Mapping[str, str]) -> str:
    """SHA-256 of the row's values, column by column: the same row gives the same digest
    wherever it sits in the file, so a re-import recognises the case it started."""
    canonical = json.dumps({column: cells.get(column, "").strip() for column in COLUMNS}, sort_keys=True)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class _Problems:
    def __init__(self) -> None:
        self.reasons: list[str] = []

    def add(self, column: str, rule: str) -> None:
        self.reasons.append(f"{column}: {rule}")


def parse_date(text: str) -> date | str:
    """An ISO (2016-04-01) or UK day-first (01/04/2016) date, or the rule it breaks."""
    if match := _ISO.match(text):
        year, month, day = (int(g) for g in match.groups())
    elif match := _UK.match(text):
        day, month, year = (int(g) for g in match.groups())
    else:
        return "not a date; use YYYY-MM-DD or DD/MM/YYYY"
    try:
        return date(year, month, day)
    except ValueError:
        return "not a real date"


E = TypeVar("E", bound=StrEnum)


class _Row:
    """Reads one row's cells, recording each broken rule instead of stopping at the first."""

    def __init__(self, cells: Mapping[str, str], context: RowContext) -> None:
        self.cells = {column: cells.get(column, "").strip() for column in COLUMNS}
        self.context = context
        self.problems = _Problems()

    def text(self, column: str) -> str | None:
        value = self.cells[column]
        if not value:
            if column in REQUIRED:
                self.problems.add(column, "required")
            return None
        return value

    def choice(self, column: str, kind: type[E], blank: E | None = None) -> E | None:
        value = self.text(column)
        if value is None:
            return blank
        try:
            return kind(value.lower())
        except ValueError:
            self.problems.add(column, "must be one of " + " | ".join(kind))
            return None

    def day(self, column: str, not_before: tuple[str, date | None] | None = None) -> date | None:
        value = self.text(column)
        if value is None:
            return None
        parsed = parse_date(value)
        if isinstance(parsed, str):
            self.problems.add(column, parsed)
            return None
        if parsed > self.context.today:
            self.problems.add(column, "must not be in the future")
            return None
        if not_before is not None and not_before[1] is not None and parsed < not_before[1]:
            self.problems.add(column, f"must not be before {not_before[0]}")
            return None
        return parsed

    def birth(self, column: str, received_on: date | None) -> date | None:
        born = self.day(column)
        if born is None:
            return None
        if born < EARLIEST_BIRTH:
            self.problems.add(column, "must be in 1900 or later")
            return None
        if received_on is not None and born > received_on:
            self.problems.add(column, "must not be after received_on")
            return None
        return born


def parse_row(line: int, cells: Mapping[str, str], context: RowContext) -> ImportRow | RowReject:
    """Check one row; return the case it starts, or every rule it breaks."""
    row = _Row(cells, context)
    problems = row.problems

    case_ref = row.text("case_ref")
    if case_ref is not None:
        try:
            case_ref = _CASE_REF.validate_python(case_ref)
        except ValidationError:
            problems.add("case_ref", "must be a force prefix, a year and a number, like DVDS-2016-000123")
            case_ref = None
    route = row.choice("route", Route)
    relationship = row.choice("applicant_relationship", ApplicantRelationship)
    received_on = row.day("received_on")
    at_risk_name = row.text("person_at_risk_name")
    at_risk_dob = row.birth("person_at_risk_dob", received_on)
    subject_name = row.text("subject_name")
    aliases = [a.strip() for a in (row.text("subject_aliases") or "").split(";") if a.strip()]
    subject_dob = row.birth("subject_dob", received_on)
    research_on = row.day("research_completed_on", ("received_on", received_on))
    risk_level = row.choice("risk_level", RiskLevel)
    decision = row.choice("decision", HistoricalDecision)
    decision_on = row.day("decision_on", ("received_on", received_on))
    delivered_on = row.day(
        "disclosure_delivered_on", ("decision_on", decision_on) if decision_on else ("received_on", received_on)
    )
    history = row.choice("subject_has_relevant_history", SubjectHistory)
    notes = row.text("notes")

    if decision is HistoricalDecision.none and row.cells["decision_on"]:
        problems.add("decision_on", "must be blank when decision is none")
    if decision and decision is not HistoricalDecision.disclosed and row.cells["disclosure_delivered_on"]:
        problems.add("disclosure_delivered_on", "must be blank unless decision is disclosed")
    if notes is not None and len(notes) > MAX_NOTES:
        problems.add("notes", f"must be at most {MAX_NOTES} characters")

    application: Application | None = None
    try:
        application = Application.model_validate(
            {
                "route": route or Route.right_to_ask,
                "applicant_relationship": relationship or ApplicantRelationship.self,
                "person_at_risk": {"name": at_risk_name or "-", "date_of_birth": at_risk_dob},
                "subject": {"name": subject_name or "-", "aliases": aliases, "date_of_birth": subject_dob},
                "safe_contact": PLACEHOLDER_CONTACT,
                "prompted_by": PLACEHOLDER_PROMPT,
            }
        )
    except ValidationError as err:
        for error in err.errors(include_input=False, include_url=False):
            column = _FIELD_COLUMN.get(tuple(str(p) for p in error["loc"][:2]), "row")
            problems.add(column, error["msg"].lower())

    if problems.reasons:
        return RowReject(line, tuple(problems.reasons), case_ref)
    assert case_ref and received_on and decision and history and application
    days = (decision_on - received_on).days if decision_on else None
    digest = row_digest(row.cells)
    facts = HistoricalFacts(
        source_line=line,
        source_digest=digest,
        received_on=received_on,
        research_completed_on=research_on,
        risk_level=risk_level,
        decision=decision,
        decision_on=decision_on,
        disclosure_delivered_on=delivered_on,
        subject_has_relevant_history=history,
        notes=notes,
        priority=review_priority(decision, history, days, delivered_on is not None),
    )
    received_at = datetime.combine(received_on, time(0), tzinfo=ZoneInfo(context.timezone))
    case = CaseInput(ref=case_ref, application=application, received_at=received_at, historical=facts)
    return ImportRow(line, case_ref, digest, case)

