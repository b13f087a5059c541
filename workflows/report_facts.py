"""The report's facts as search attributes (states/report_facts.py says what each is), so
`dvds audit report` counts cases in visibility instead of reading each one.

A case publishes them from the first time it acts under this code: a new case at once; a
case already running the next time it wakes (a task, a timer), because the guard below
asks `workflow.patched` afresh at every upsert until it is taken. Its history up to then
replays as recorded (tests/histories/), and from then on with the patch marker. Cases that
ended before it (and running cases that have not woken since) carry no DvdsReportFacts:
the report reads those the old way and says how many.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributeKey

with workflow.unsafe.imports_passed_through():
    from states import report_facts as facts
    from states.record import CaseSnapshot

VERSION = 1
PATCH = "report-facts"

REPORT_FACTS = SearchAttributeKey.for_int("DvdsReportFacts")  # VERSION, once the case publishes these
DECISION_SECONDS = SearchAttributeKey.for_float("DvdsDecisionSeconds")
DECIDED_OVER_DAYS = SearchAttributeKey.for_int("DvdsDecidedOverDays")  # 0, 28 or 35
REFERRAL_SECONDS = SearchAttributeKey.for_float("DvdsReferralSeconds")
REFERRAL_OUTCOME = SearchAttributeKey.for_keyword("DvdsReferralOutcome")
# Space-separated deadline names; read back from listings, never searched on.
OVERDUE_DEADLINES = SearchAttributeKey.for_text("DvdsOverdueDeadlines")

# The server's SQL visibility holds 3 attributes of each type but Keyword (10): these take
# the Int, Double and Text slots and one Keyword.
KEYS: tuple[SearchAttributeKey[Any], ...] = (
    REPORT_FACTS, DECISION_SECONDS, DECIDED_OVER_DAYS, REFERRAL_SECONDS, REFERRAL_OUTCOME, OVERDUE_DEADLINES,
)


def wanted(snapshot: CaseSnapshot, timezone: str, now: datetime) -> list[tuple[SearchAttributeKey[Any], Any]]:
    """The facts as they stand now; None means unset."""
    outcome = facts.referral_outcome(snapshot, now)
    return [
        (REPORT_FACTS, VERSION),
        (DECISION_SECONDS, facts.decision_seconds(snapshot)),
        (DECIDED_OVER_DAYS, facts.decided_over_days(snapshot, timezone)),
        (REFERRAL_SECONDS, facts.referral_seconds(snapshot)),
        (REFERRAL_OUTCOME, outcome and str(outcome)),
        (OVERDUE_DEADLINES, " ".join(facts.overdue_deadlines(snapshot, now)) or None),
    ]


class Publishing:
    """Whether this run publishes the facts yet. Each upsert until it does asks a patch of
    its own (`report-facts-1`, `-2`, ...): `workflow.patched` remembers its answer per id for
    the run, so one fixed id, answered False while an old history replays, would stay False."""

    def __init__(self) -> None:
        self._asked = 0
        self._on = False

    def now(self) -> bool:
        if not self._on:
            self._asked += 1
            self._on = workflow.patched(f"{PATCH}-{self._asked}")
        return self._on
