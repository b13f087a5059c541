"""A known set of cases the report's figures can be checked against (tests/test_audit_report.py,
tests/test_reads_at_scale.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio.client import Client

from states.record import HistoricalFacts, ReviewPriority
from states.roles import Task
from tests.helpers.cases import referred, start_case, submit
from tests.helpers.policies import CALENDAR_POLICY


async def known_cases(client: Client, worker: object, now: datetime) -> dict[str, str]:
    """A: decided to disclose after 10 days. B: declined after 30, failure confirmed and referred.
    C: declined after 40. D: received 2 days ago, untouched (research overdue). E: received 35
    days ago, untouched (research and outcome overdue). H: historical, declined 40 days after receipt."""
    refs = {}

    async def case(label: str, days_ago: float, **start: object) -> object:
        handle = await start_case(client, worker, received_at=now - timedelta(days=days_ago),  # type: ignore[arg-type]
                                  policy=CALENDAR_POLICY, **start)
        refs[label] = handle.id
        return handle

    a = await case("A", 10)
    for task, actor in ((Task.research, "R100"), (Task.risk_assessment, "RA200"), (Task.decision, "DM300")):
        await submit(a, task, actor)  # type: ignore[arg-type]
    for label, days in (("B", 30), ("C", 40)):
        handle = await case(label, days)
        await submit(handle, Task.research, "R100", "research_no_history")  # type: ignore[arg-type]
        await submit(handle, Task.risk_assessment, "RA200")  # type: ignore[arg-type]
        await submit(handle, Task.decision, "DM300", "decision_decline")  # type: ignore[arg-type]
    b = client.get_workflow_handle(refs["B"])
    await submit(b, Task.review, "RV500", "review_failure")
    await submit(b, Task.failure_confirmation, "PS600")
    await referred(b)
    await case("D", 2)
    await case("E", 35)
    received = (now - timedelta(days=60)).date()
    await case("H", 60, historical=HistoricalFacts(
        source_line=1, source_digest="d", received_on=received, risk_level="standard", decision="declined",
        decision_on=received + timedelta(days=40), subject_has_relevant_history="no", priority=ReviewPriority.routine))
    return refs
