"""Running cases survive a deploy: the recorded histories of representative cases
(tests/histories/, made by `python -m tests.helpers.record_histories`) replay against today's
CaseWorkflow without nondeterminism; a workflow whose command order changed without a
`workflow.patched` guard fails to replay them."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import ClassVar
from zoneinfo import ZoneInfo

import pytest
from temporalio import workflow
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHistory
from temporalio.worker import Replayer

from dvds.connection.codec import case_data_converter
from dvds.connection.keys import KeyRing
from dvds.connection.worker_codec import worker_data_converter
from states import calendars, policy
from states.policy import Limit, Unit, preload_bank_holidays
from states.record import CaseInput, CaseSnapshot, Deadline
from states.roles import Task
from tests.helpers.cases import running_worker, start_case, submit
from tests.helpers.keys import TEST_KEYS
from tests.helpers.record_histories import CASES, HISTORIES, replay_keys
from worker import BANK_HOLIDAY_YEARS, sandbox
from workflows.case import CaseWorkflow
from workflows.payload_gate import PayloadGate

RECORDED = sorted(p for p in HISTORIES.glob("*.json") if p.name != "keys.json")


def history(path: Path) -> WorkflowHistory:
    return WorkflowHistory.from_json(path.stem, path.read_text())


def replayer(workflow_class: type, strict: bool = True, keys: KeyRing | None = None) -> Replayer:
    """As the worker runs workflows: its sandbox (strict, or as deployed), bank holidays
    preloaded, its codec (refusing what is not encrypted) and its payload gate."""
    preload_bank_holidays(BANK_HOLIDAY_YEARS)
    return Replayer(
        workflows=[workflow_class],
        data_converter=worker_data_converter(keys or replay_keys()),
        workflow_runner=sandbox(strict=strict),
        interceptors=[PayloadGate()],
    )


@workflow.defn(name="CaseWorkflow", sandboxed=False)
class ReorderedCaseWorkflow(CaseWorkflow):
    """CaseWorkflow with one unguarded change to its commands: a pause (a timer) now comes
    before the first notice is scheduled. (Swapping two upserts or markers is not enough
    for Temporal to notice; a timer or activity moved is.)"""

    @workflow.run
    async def run(self, start: CaseInput) -> CaseSnapshot:  # type: ignore[override]
        await workflow.sleep(1)
        return await super().run(start)


def test_every_representative_case_is_recorded() -> None:
    """Disclosed, declined, withdrawn, escalated, historical-referred and signed histories are all there."""
    assert sorted(p.stem for p in RECORDED) == sorted(CASES)


@pytest.mark.parametrize("strict", [True, False], ids=["strict sandbox", "sandbox as deployed"])
@pytest.mark.parametrize("path", RECORDED, ids=[p.stem for p in RECORDED])
async def test_recorded_case_replays(path: Path, strict: bool) -> None:
    """Today's CaseWorkflow replays the recorded case without a nondeterminism error, both
    under the full sandbox and with workflows/ passed through as a deployed worker runs it."""
    result = await replayer(CaseWorkflow, strict).replay_workflow(history(path), raise_on_replay_failure=False)
    assert result.replay_failure is None, f"{path.stem}: {result.replay_failure}"


async def test_reordered_commands_fail_replay() -> None:
    """A change of commands without workflow.patched is caught: replay of every recorded case fails."""
    for path in RECORDED:
        result = await replayer(ReorderedCaseWorkflow).replay_workflow(history(path), raise_on_replay_failure=False)
        assert result.replay_failure is not None, path.stem
        assert "nondetermin" in str(result.replay_failure).lower(), result.replay_failure


class TestQueriedAtStart:
    """A case queried while its start's proof is checked (the inbox or `case show` right after
    `case start`): with the check as a local activity the first move was split between two
    workflow tasks and the history no longer replayed, so the case would stop at the next
    worker restart."""

    async def test_history_replays(self, client: Client, tmp_path: Path) -> None:
        """Five queries at once on the first case of each of three fresh workers (whose first
        workflow task is slow: the sandbox loads the workflow's modules); each history replays."""
        for attempt in range(3):
            async with running_worker(client, tmp_path / str(attempt)) as worker:
                handle = await start_case(client, worker)
                await asyncio.gather(*(handle.query("snapshot", result_type=CaseSnapshot) for _ in range(5)))
                await submit(handle, Task.research, "R100")
            replayed = await replayer(CaseWorkflow, keys=TEST_KEYS).replay_workflow(
                await handle.fetch_history(), raise_on_replay_failure=False
            )
            assert replayed.replay_failure is None, replayed.replay_failure


@workflow.defn(name="CaseWorkflow", sandboxed=False)
class WatchedCaseWorkflow(CaseWorkflow):
    """CaseWorkflow keeping the snapshot each replay ends with."""

    ended: ClassVar[list[CaseSnapshot]] = []

    @workflow.run
    async def run(self, start: CaseInput) -> CaseSnapshot:  # type: ignore[override]
        snapshot = await super().run(start)
        WatchedCaseWorkflow.ended.append(snapshot)
        return snapshot


async def replayed_due_dates(name: str) -> dict[str, tuple[datetime, list[datetime]]]:
    WatchedCaseWorkflow.ended.clear()
    result = await replayer(WatchedCaseWorkflow).replay_workflow(
        history(HISTORIES / f"{name}.json"), raise_on_replay_failure=False
    )
    assert result.replay_failure is None, result.replay_failure
    return due_dates(WatchedCaseWorkflow.ended[-1].deadlines)


async def recorded_due_dates(name: str) -> dict[str, tuple[datetime, list[datetime]]]:
    """The due dates the case reported when it closed, read from its recorded history."""
    events = history(HISTORIES / f"{name}.json").events
    closed = next(e for e in events if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED)
    [snapshot] = await case_data_converter(replay_keys()).decode(
        closed.workflow_execution_completed_event_attributes.result.payloads, [CaseSnapshot]
    )
    return due_dates(snapshot.deadlines)


def due_dates(deadlines: list[Deadline]) -> dict[str, tuple[datetime, list[datetime]]]:
    return {d.name: (d.due, [r.due for r in d.rungs]) for d in deadlines}


@pytest.fixture
def calendar_cache() -> Iterator[None]:
    calendars._days.cache_clear()
    yield
    calendars._days.cache_clear()


class TestCalendarFixedAtStart:
    """A case counts working days by the calendar fixed when it started, whatever came after."""

    NAME = "calendar_fixed"  # started naming no calendar: its patch marker fixed the newest

    async def test_a_later_calendar_moves_no_due_date(
        self, monkeypatch: pytest.MonkeyPatch, calendar_cache: None
    ) -> None:
        """A new calendar version and an upgraded holidays package, both with an extra bank
        holiday inside the case's 5 working days: replayed, the case keeps every due date."""
        recorded = await recorded_due_dates(self.NAME)
        due, _ = recorded["failure_confirmation"]
        extra = first_working_day_before(due.astimezone(ZoneInfo("Europe/London")).date())
        later = {**calendars.CALENDARS[calendars.current()]}
        later[extra.year] = (*later.get(extra.year, ()), extra.strftime("%m-%d"))
        monkeypatch.setitem(calendars.CALENDARS, "england-and-wales-2099-01", later)
        installed = policy._bank_holidays
        monkeypatch.setattr(policy, "_bank_holidays", lambda year: installed(year) | {extra})

        assert await replayed_due_dates(self.NAME) == recorded
        # Under the later calendar the same limit is due a day later: the change was in the window.
        started = next(d for d in WatchedCaseWorkflow.ended[-1].deadlines if d.name == "failure_confirmation")
        five = Limit(amount=5, unit=Unit.working_days)
        assert five.due_from(started.started_at, "Europe/London", calendars.current()) > due

    async def test_editing_the_case_calendar_would_move_it(
        self, monkeypatch: pytest.MonkeyPatch, calendar_cache: None
    ) -> None:
        """The check bites: the case's own version edited in place moves its due date on replay
        (why a released version is never edited)."""
        recorded = await recorded_due_dates(self.NAME)
        due, _ = recorded["failure_confirmation"]
        extra = first_working_day_before(due.astimezone(ZoneInfo("Europe/London")).date())
        version = calendars.current()
        edited = {**calendars.CALENDARS[version]}
        edited[extra.year] = (*edited.get(extra.year, ()), extra.strftime("%m-%d"))
        monkeypatch.setitem(calendars.CALENDARS, version, edited)

        replayed = await replayed_due_dates(self.NAME)
        assert replayed["failure_confirmation"] != recorded["failure_confirmation"]


def first_working_day_before(day: date) -> date:
    day -= timedelta(days=1)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day
