"""Running cases survive a deploy: the recorded histories of representative cases
(tests/histories/, made by `python -m tests.helpers.record_histories`) replay against today's
CaseWorkflow without nondeterminism; a workflow whose command order changed without a
`workflow.patched` guard fails to replay them."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from dvds.connection.worker_codec import worker_data_converter
from states.policy import preload_bank_holidays
from states.record import CaseInput, CaseSnapshot
from tests.helpers.record_histories import CASES, HISTORIES, replay_keys
from worker import BANK_HOLIDAY_YEARS, sandbox
from workflows.case import CaseWorkflow
from workflows.payload_gate import PayloadGate

RECORDED = sorted(p for p in HISTORIES.glob("*.json") if p.name != "keys.json")


def history(path: Path) -> WorkflowHistory:
    return WorkflowHistory.from_json(path.stem, path.read_text())


def replayer(workflow_class: type, strict: bool = True) -> Replayer:
    """As the worker runs workflows: its sandbox (strict, or as deployed), bank holidays
    preloaded, its codec (refusing what is not encrypted) and its payload gate."""
    preload_bank_holidays(BANK_HOLIDAY_YEARS)
    return Replayer(
        workflows=[workflow_class],
        data_converter=worker_data_converter(replay_keys()),
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
