"""Deadlines on the real server with a policy in seconds: escalation ladders, breaches, extensions."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from dvds.cases.client import CaseClient
from dvds.settings import Settings
from states import calendars
from states.deadlines import DeadlineBook
from states.policy import DeadlinePolicy, Limit, Unit, default_policy
from states.record import Actor, CaseInput, CaseSnapshot, Deadline
from states.roles import Role, Task
from states.submissions import DeadlineExtension
from tests.helpers.cases import OPERATOR, application, new_ref, running_worker, settled, start_case, submit
from tests.helpers.cli import dvds
from tests.helpers.eventually import eventually
from tests.helpers.policies import SHORT_POLICY, RecordingNotifier, watched_worker
from tests.helpers.staff import SIGNER


def deadline(snap: CaseSnapshot, name: str) -> Deadline:
    return next(d for d in snap.deadlines if d.name == name)


def escalations_scheduled(history: list[Any]) -> int:
    return sum(
        1 for e in history
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
        and e.activity_task_scheduled_event_attributes.activity_type.name == "escalate"
    )


def overdue_upserted(history: list[Any]) -> bool:
    for event in history:
        if event.event_type == EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
            fields = event.upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields
            if "DvdsOverdue" in fields and fields["DvdsOverdue"].data == b"true":
                return True
    return False


class TestLadder:
    """An untouched case escalates rung by rung, in order, once each, and shows as overdue."""

    async def test_untouched_case_escalates_and_is_overdue(self, client: Client, tmp_path: Path) -> None:
        """Every rung fires once in due order; the breach shows in case show, the history and --overdue."""
        recorder = RecordingNotifier()
        async with watched_worker(client, recorder, home=tmp_path) as worker:
            handle = await start_case(client, worker, policy=SHORT_POLICY)

            async def outcome_breached() -> bool:
                return len(recorder.escalations("outcome")) == 3

            await eventually(outcome_breached, what="the outcome breach")
            history = await settled(handle)
            sent = recorder.escalations()
            assert [(s.deadline, s.notify, s.breach) for s in sent] == [
                ("research", "assigned_officer", False),
                ("outcome", "assigned_officer", False),
                ("outcome", "supervisor", False),
                ("research", "supervisor", True),
                ("outcome", "senior_officer", True),
            ]
            assert [s.due for s in sent] == sorted(s.due for s in sent)
            assert len({s.notice.idempotency_key for s in sent}) == len(sent)
            assert escalations_scheduled(history) == len(sent)
            assert overdue_upserted(history)

            snap = await handle.query("snapshot", result_type=CaseSnapshot)
            outcome = deadline(snap, "outcome")
            assert snap.overdue and outcome.open and outcome.breaches == [outcome.due]
            assert outcome.breached_at == outcome.due == outcome.started_at + timedelta(seconds=20)
            assert all(r.fired_at is not None for r in outcome.rungs)

            env = {"TEMPORAL_ADDRESS": client.service_client.config.target_host, "DVDS_HOME": str(tmp_path)}
            shown = await dvds("case", "show", handle.id, env=env)
            assert shown.code == 0, shown.err
            assert "OVERDUE" in shown.out and "BREACHED" in shown.out and "outcome deadline breached" in shown.out

            async def listed_overdue() -> bool:
                found = await dvds("case", "list", "--overdue", "--json", env=env)
                return found.code == 0 and handle.id in [c["ref"] for c in json.loads(found.out)]

            await eventually(listed_overdue, what="the case in case list --overdue")


class TestStoppingAndRearming:
    """Completing a task stops its ladder; a supervisor's extension re-arms it."""

    async def test_completing_the_task_stops_the_rest(self, client: Client, tmp_path: Path) -> None:
        """Research done after its first rung: its breach rung never fires, though later rungs elsewhere do."""
        recorder = RecordingNotifier()
        async with watched_worker(client, recorder, home=tmp_path) as worker:
            handle = await start_case(client, worker, policy=SHORT_POLICY)

            async def first_research_rung() -> bool:
                return len(recorder.escalations("research")) == 1

            await eventually(first_research_rung, what="the first research rung")
            await submit(handle, Task.research, "R100")

            # The outcome breach is due after the research breach would have been: once it
            # has fired, a research breach still armed would have fired before it.
            async def outcome_breached() -> bool:
                return any(s.breach for s in recorder.escalations("outcome"))

            await eventually(outcome_breached, what="the outcome breach")
            history = await settled(handle)
            assert [(s.notify, s.breach) for s in recorder.escalations("research")] == [("assigned_officer", False)]
            snap = await handle.query("snapshot", result_type=CaseSnapshot)
            research = deadline(snap, "research")
            assert research.met_at is not None and research.breaches == [] and research.breached_at is None
            assert [r.fired_at is not None for r in research.rungs] == [True, False]
            assert escalations_scheduled(history) == 1 + 3

    async def test_extension_rearms_the_ladder(self, client: Client, tmp_path: Path) -> None:
        """Extended after its first rung, research escalates again at the moved time, then breaches."""
        recorder = RecordingNotifier()
        async with watched_worker(client, recorder, home=tmp_path) as worker:
            handle = await start_case(client, worker, policy=SHORT_POLICY)

            async def first_research_rung() -> bool:
                return len(recorder.escalations("research")) == 1

            await eventually(first_research_rung, what="the first research rung")
            snap = await submit(handle, Task.deadline_extension, "SV700", deadline="research",
                                extend_by_hours=8 / 3600)
            assert deadline(snap, "research").extensions

            async def research_breached() -> bool:
                return any(s.breach for s in recorder.escalations("research"))

            await eventually(research_breached, what="the research breach")
            await settled(handle)
            sent = recorder.escalations("research")
            assert [(s.notify, s.breach) for s in sent] == [
                ("assigned_officer", False), ("assigned_officer", False), ("supervisor", True)]
            started = deadline(snap, "research").started_at
            assert [s.due - started for s in sent] == [timedelta(seconds=3), timedelta(seconds=11),
                                                       timedelta(seconds=24)]
            research = deadline(await handle.query("snapshot", result_type=CaseSnapshot), "research")
            assert research.breaches == [started + timedelta(seconds=24)]


class TestUrgentTrack:
    """A case with immediate risk runs on the urgent track's (scaled-down) hour-scale targets."""

    async def test_urgent_case_escalates_on_urgent_targets(self, client: Client, tmp_path: Path) -> None:
        """Immediate risk: the outcome ladder fires at the urgent 2/4/6 s, not the standard 4/8/20 s."""
        recorder = RecordingNotifier()
        async with watched_worker(client, recorder, home=tmp_path) as worker:
            handle = await start_case(client, worker, policy=SHORT_POLICY, application=application(immediate_risk=True))

            async def outcome_breached() -> bool:
                return len(recorder.escalations("outcome")) == 3

            await eventually(outcome_breached, what="the urgent outcome breach")
            await settled(handle)
            snap = await handle.query("snapshot", result_type=CaseSnapshot)
            outcome, research = deadline(snap, "outcome"), deadline(snap, "research")
            assert outcome.urgent and research.urgent and snap.overdue
            sent = recorder.escalations("outcome")
            assert [(s.notify, s.due - outcome.started_at) for s in sent] == [
                ("assigned_officer", timedelta(seconds=2)),
                ("supervisor", timedelta(seconds=4)),
                ("senior_officer", timedelta(seconds=6)),
            ]
            assert [(s.notify, s.due - research.started_at, s.breach) for s in recorder.escalations("research")] == [
                ("supervisor", timedelta(seconds=1), True)]


class TestCalendar:
    """The bank holidays a case counts are fixed into its start."""

    async def test_the_case_client_writes_the_current_calendar_into_the_start(
        self, client: Client, tmp_path: Path
    ) -> None:
        """A case started through the case client carries the current calendar's version in its start input."""
        async with running_worker(client, tmp_path) as worker:
            cases = CaseClient(client, Settings(home=tmp_path, task_queue=worker.task_queue), signer=SIGNER)
            handle = await cases.start(CaseInput(ref=new_ref(), application=application(), started_by=OPERATOR))
            first = (await handle.fetch_history()).events[0]
            [start] = await client.data_converter.decode(
                first.workflow_execution_started_event_attributes.input.payloads, [CaseInput]
            )
            await settled(handle)
        assert start.policy is not None and start.policy.calendar == calendars.current()


class TestDeadlineArithmetic:
    """Due times and breach records, in the domain alone (no server)."""

    def test_day_limits_end_at_the_end_of_the_uk_day(self) -> None:
        """28 calendar days end at midnight UK time; in summer that is 23:00 UTC."""
        summer = datetime(2026, 6, 2, 9, 30, tzinfo=UTC)
        due = Limit(amount=28, unit=Unit.calendar_days).due_from(summer, "Europe/London")
        assert due.astimezone(ZoneInfo("Europe/London")).replace(microsecond=0) == datetime(
            2026, 6, 30, 23, 59, 59, tzinfo=ZoneInfo("Europe/London"))

    def test_working_days_skip_weekends_and_bank_holidays(self) -> None:
        """5 working days from 23 December 2026 skip Christmas, Boxing Day's substitute and New Year."""
        due = Limit(amount=5, unit=Unit.working_days).due_from(datetime(2026, 12, 23, 10, tzinfo=UTC), "Europe/London")
        assert due.date() == date(2027, 1, 4)

    def test_working_days_count_by_the_calendar_named(self) -> None:
        """Named, the versioned calendar counts (the same 4 January 2027); an unknown version
        is refused naming the field; a policy naming none is given the current one."""
        limit = Limit(amount=5, unit=Unit.working_days)
        due = limit.due_from(datetime(2026, 12, 23, 10, tzinfo=UTC), "Europe/London", calendars.current())
        assert due.date() == date(2027, 1, 4)
        with pytest.raises(ValidationError, match="(?s)calendar.*no bank-holiday calendar is called 'ew-1999'"):
            DeadlinePolicy.model_validate({**default_policy().model_dump(), "calendar": "ew-1999"})
        assert default_policy().with_calendar().calendar == calendars.current()
        assert SHORT_POLICY.with_calendar("england-and-wales-2026-12").with_calendar().calendar == (
            "england-and-wales-2026-12")

    def test_fractional_days_are_refused(self) -> None:
        """A limit of 1.5 calendar days is refused naming the rule."""
        with pytest.raises(ValidationError, match="whole number of days"):
            Limit(amount=1.5, unit=Unit.calendar_days)

    def test_late_completion_and_extension_keep_the_breach(self) -> None:
        """Met after its due time the deadline counts as breached; an extension re-arms but keeps the record."""
        start = datetime(2026, 11, 2, 9, tzinfo=UTC)
        book = DeadlineBook(SHORT_POLICY)
        book.open("research", start, urgent=False)
        book.meet("research", start + timedelta(seconds=30))
        [late] = book.all()
        assert late.breaches == [late.due] and late.breached_at == late.due

        book.open("outcome", start, urgent=False)
        book.due_rungs(start + timedelta(seconds=25))
        extension = DeadlineExtension(deadline="outcome", extend_by_hours=10 / 3600, reason="Agency records awaited.")
        book.extend(extension, Actor(id="SV700", role=Role.supervisor), start + timedelta(seconds=25))
        outcome = book.all()[1]
        assert outcome.breaches == [start + timedelta(seconds=20)] and outcome.due == start + timedelta(seconds=30)
        assert [r.fired_at is None for r in outcome.rungs] == [False, False, True]
        assert book.next_wakeup() == start + timedelta(seconds=30)
