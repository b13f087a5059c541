"""Visibility queries for finding cases: filters in, a query string out.

Every value is an enum, a bool or a date, so nothing needs escaping.
"""

from __future__ import annotations

from datetime import date

from states.machine import CaseState
from states.risk import RiskLevel


def flag_is(name: str, value: bool) -> str:
    """A flag's clause, as "is not the other value" (the same cases: an unset flag matches
    neither). An equality on it would lead SQLite's planner to read every case with the flag
    for each count it is part of, instead of the counted attribute's own index."""
    return f"{name} != {str(not value).lower()}"


def build_query(
    state: CaseState | None = None,
    overdue: bool | None = None,
    historical: bool | None = None,
    risk: RiskLevel | None = None,
    pending_task: str | None = None,
    received_from: date | None = None,
    received_to: date | None = None,
) -> str:
    """A visibility query from the filters (all values are enums, bools or dates)."""
    clauses = []
    if state:
        clauses.append(f"DvdsState = '{state}'")
    if overdue is not None:
        clauses.append(flag_is("DvdsOverdue", overdue))
    if historical is not None:
        clauses.append(flag_is("DvdsHistorical", historical))
    if risk:
        clauses.append(f"DvdsRiskLevel = '{risk}'")
    if pending_task:
        clauses.append(f"DvdsPendingTasks = '{pending_task}'")
    if received_from:
        clauses.append(f"DvdsReceived >= '{received_from.isoformat()}T00:00:00Z'")
    if received_to:
        clauses.append(f"DvdsReceived <= '{received_to.isoformat()}T23:59:59Z'")
    return " AND ".join(clauses)
