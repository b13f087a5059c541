"""One row of the historical export: checked column by column, then turned into the
case input of a historical case, or refused with the reasons.

Pure: no Temporal, no I/O. A reason names the column and the rule, never the value,
because every value here is personal data or a fact about a person at risk.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum
from typing import TypeVar
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from dvds.importer.columns import COLUMNS, DATE_FIELDS, REQUIRED, STAFF_COLUMNS, STAFF_ID
from dvds.importer.digests import Cell, cell_text, field_digests, row_digest
from dvds.importer.reading import Reading, parse_date
from states.case_ref import CASE_REF_RULE, is_case_ref
from states.historical import review_priority
from states.models import ApplicantRelationship, Application, ContactMethod, Route
from states.record import CaseInput, HistoricalDecision, HistoricalFacts, SubjectHistory
from states.risk import RiskLevel

__all__ = ["COLUMNS", "REQUIRED", "ImportRow", "RowContext", "RowReject", "parse_date", "parse_row", "row_digest"]

# The export has no safe contact or prompt: historical applications are reviewed by
# staff from the force's own records, so the case says plainly that these are unknown.
NOT_RECORDED = "not recorded in historical export"
PLACEHOLDER_CONTACT = {"method": ContactMethod.via_agency, "detail": NOT_RECORDED, "safe_times": NOT_RECORDED}
PLACEHOLDER_PROMPT = NOT_RECORDED

EARLIEST_BIRTH = date(1900, 1, 1)
MAX_NOTES = 20000
TODAY_READING = Reading()
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


class _Problems:
    def __init__(self) -> None:
        self.reasons: list[str] = []

    def add(self, column: str, rule: str) -> None:
        self.reasons.append(f"{column}: {rule}")


E = TypeVar("E", bound=StrEnum)


class _Row:
    """Reads one row's cells, recording each broken rule instead of stopping at the first."""

    def __init__(self, cells: Mapping[str, Cell], context: RowContext, reading: Reading) -> None:
        self.raw = {column: cells.get(column, "") for column in (*COLUMNS, *STAFF_COLUMNS)}
        # A date cell counts as a date only in a date column; elsewhere it is its ISO text.
        self.cells: dict[str, Cell] = {
            column: value if isinstance(value, date) and column in DATE_FIELDS else cell_text(value)
            for column, value in self.raw.items()
        }
        self.context = context
        self.reading = reading
        self.problems = _Problems()

    def text(self, column: str) -> str | None:
        value = self.cells[column]
        if isinstance(value, date):
            return value.isoformat()
        if not value:
            if column in REQUIRED:
                self.problems.add(column, "required")
            return None
        return value

    def choice(self, column: str, kind: type[E], blank: E | None = None) -> E | None:
        value = self.text(column)
        if value is None:
            return blank
        ours = self.reading.choice(column, value)
        if ours is None:
            self.problems.add(column, self.reading.choice_rule(column))
            return None
        return kind(ours)

    def day(self, column: str, not_before: tuple[str, date | None] | None = None) -> date | None:
        value = self.cells[column]
        parsed: date | str
        if isinstance(value, date):
            parsed = value
        elif (text := self.text(column)) is None:
            return None
        else:
            parsed = self.reading.day(text)
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


def parse_row(
    line: int,
    cells: Mapping[str, Cell],
    context: RowContext,
    reading: Reading = TODAY_READING,
    digest_key: bytes | None = None,
) -> ImportRow | RowReject:
    """Check one row (cells by our field name, the export's words and dates as `reading`
    says); return the case it starts, or every rule it breaks. With `digest_key` the case
    keeps a keyed hash of each field, so a later import can name the fields that changed."""
    row = _Row(cells, context, reading)
    problems = row.problems

    case_ref = row.text("case_ref")
    if case_ref is not None and not is_case_ref(case_ref):
        problems.add("case_ref", CASE_REF_RULE)
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
    staff = {column: _staff_id(row, column) for column in STAFF_COLUMNS}

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
    assert case_ref and route and relationship and received_on and decision and history and application
    days = (decision_on - received_on).days if decision_on else None
    digest = row_digest(row.cells)
    held = {
        "case_ref": case_ref,
        "route": str(route),
        "received_on": received_on.isoformat(),
        "applicant_relationship": str(relationship),
        "person_at_risk_name": application.person_at_risk.name,
        "person_at_risk_dob": _iso(at_risk_dob),
        "subject_name": application.subject.name,
        "subject_aliases": "; ".join(application.subject.aliases),
        "subject_dob": _iso(subject_dob),
        "research_completed_on": _iso(research_on),
        "risk_level": str(risk_level or ""),
        "decision": str(decision),
        "decision_on": _iso(decision_on),
        "disclosure_delivered_on": _iso(delivered_on),
        "subject_has_relevant_history": str(history),
        "notes": notes or "",
    }
    facts = HistoricalFacts(
        source_line=line,
        source_digest=digest,
        field_digests=field_digests(case_ref, held, digest_key),
        received_on=received_on,
        research_completed_on=research_on,
        risk_level=risk_level,
        decision=decision,
        decision_on=decision_on,
        disclosure_delivered_on=delivered_on,
        subject_has_relevant_history=history,
        notes=notes,
        priority=review_priority(decision, history, days, delivered_on is not None),
        decided_by=staff["decided_by"],
        researched_by=staff["researched_by"],
    )
    received_at = datetime.combine(received_on, time(0), tzinfo=ZoneInfo(context.timezone))
    case = CaseInput(ref=case_ref, application=application, received_at=received_at, historical=facts)
    return ImportRow(line, case_ref, digest, case)



def _staff_id(row: _Row, column: str) -> str | None:
    value = row.cells.get(column)
    if not value:
        return None
    text = value.isoformat() if isinstance(value, date) else str(value).strip()
    if not re.fullmatch(STAFF_ID, text):
        row.problems.add(column, "must be a staff id: letters, digits, dot, dash or underscore")
        return None
    return text


def _iso(day: date | None) -> str:
    return day.isoformat() if day else ""
