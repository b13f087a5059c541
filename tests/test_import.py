"""`dvds import` against the real server: cases started once, bad rows reported, interrupted
imports finished by running them again, and the reviewer's queue in priority order."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import uuid
from datetime import date
from pathlib import Path
from typing import Any

from temporalio.client import Client

from dvds.cases.client import CaseClient
from dvds.importer.demo_data import write_demo_export
from dvds.importer.export import plan_import
from dvds.importer.rows import RowContext
from dvds.importer.run import Outcome, run_import, tally_for
from dvds.settings import Settings
from states.machine import CaseState
from states.policy import DEFAULT_POLICY_TOML, DeadlinePolicy
from states.record import Actor, CaseInput, ReviewPriority
from states.roles import Role, Task
from tests.helpers.cases import OPERATOR, application, running_worker
from tests.helpers.cli import DVDS, dvds
from tests.helpers.eventually import eventually
from tests.helpers.staff import SIGNER

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "examples" / "historical_sample.csv"
EXAMPLES = ROOT / "examples" / "tasks"
WORKING_DAYS = '[stages.failure_confirmation]\nlimit = { amount = 5, unit = "working_days" }'
assert WORKING_DAYS in DEFAULT_POLICY_TOML
# The default policy with the confirmation stage in calendar days: computing bank holidays
# inside a workflow is refused by the sandbox (an engine issue reported separately).
CALENDAR_DAY_POLICY = DeadlinePolicy.from_toml(
    DEFAULT_POLICY_TOML.replace(WORKING_DAYS, WORKING_DAYS.replace("working_days", "calendar_days"))
)


def new_prefix() -> str:
    """A fresh case-reference prefix per test, so tests never meet each other's cases."""
    return "T" + uuid.uuid4().hex[:8].upper()


def sample_file(tmp_path: Path, prefix: str) -> Path:
    path = tmp_path / "sample.csv"
    path.write_text(SAMPLE.read_text(encoding="utf-8").replace("HIST-", f"{prefix}-"), encoding="utf-8")
    return path


def demo_file(tmp_path: Path, prefix: str, rows: int, seed: int = 3) -> Path:
    path = tmp_path / "demo.csv"
    with path.open("w", newline="", encoding="utf-8") as out:
        write_demo_export(out, rows, seed, prefix)
    return path


def cli_env(client: Client, task_queue: str, home: Path) -> dict[str, str]:
    return {
        "TEMPORAL_ADDRESS": client.service_client.config.target_host,
        "DVDS_TASK_QUEUE": task_queue,
        "DVDS_HOME": str(home),
    }


async def import_json(path: Path, env: dict[str, str], *args: str, code: int = 0) -> dict[str, Any]:
    result = await dvds("import", str(path), "--json", *args, env=env, timeout=240)
    assert result.code == code, result.err
    summary: dict[str, Any] = json.loads(result.out)
    counted = sum(summary.get(key, 0) for key in ("started", "already_imported", "changed", "valid"))
    assert counted + summary["rejected"] == summary["rows_read"], "every row read is counted once"
    return summary


def refs_in(path: Path) -> list[str]:
    plan = plan_import(path.read_bytes(), RowContext(today=date.today()))
    return [row.case_ref for row in plan.to_start]


class TestImport:
    """Each valid row starts one historical case, once."""

    async def test_import_twice_starts_nothing_new(self, client: Client, tmp_path: Path) -> None:
        """The sample imports as historical cases awaiting review; the same import again starts nothing."""
        prefix = new_prefix()
        path = sample_file(tmp_path, prefix)
        async with running_worker(client, tmp_path) as worker:
            env = cli_env(client, worker.task_queue, tmp_path)
            checked = await import_json(path, env, "--dry-run")
            assert checked == {**checked, "rows_read": 12, "valid": 12, "rejected": 0}
            first = await import_json(path, env)
            assert (first["started"], first["already_imported"], first["rejected"]) == (12, 0, 0)
            again = await import_json(path, env)
            assert (again["started"], again["already_imported"], again["rejected"]) == (0, 12, 0)
            snap = await CaseClient(client, Settings(task_queue=worker.task_queue)).snapshot(f"{prefix}-2015-000101")
            assert snap.historical and snap.state is CaseState.disclosed and snap.pending_tasks == [Task.review]
            assert [t.dest for t in snap.transitions] == [
                CaseState.researched, CaseState.risk_assessed, CaseState.disclosed,
            ]
            assert all(t.imported and t.actor is None for t in snap.transitions)
            assert [d.name for d in snap.deadlines] == ["review"] and not snap.overdue

    async def test_bad_rows_reported_good_rows_start(self, client: Client, tmp_path: Path) -> None:
        """Bad rows go to the rejects file with line and reason, never their values; good rows all start."""
        prefix = new_prefix()
        lines = SAMPLE.read_text(encoding="utf-8").replace("HIST-", f"{prefix}-").splitlines(keepends=True)
        broken = [
            f"{prefix}-2016-000901,right_to_ask,30/02/2016,self,Kilo Example,,Lima Sample,,,,,declined,,,no,\n",
            f"{prefix}-2016-000902,right_to_ask,2016-05-01,self,Kilo Example,,Lima Sample,,,,,declined,"
            "2016-04-01,,no,\n",
            f"{prefix}-2016-000101,right_to_ask,2016-05-01,self,Kilo Example,,Lima Sample,,,,,granted,,,no,\n",
        ]
        path = tmp_path / "broken.csv"
        path.write_bytes(b"\xef\xbb\xbf" + "".join([*lines, *broken]).encode("utf-8"))
        rejects = tmp_path / "out" / "rejects.csv"
        async with running_worker(client, tmp_path) as worker:
            env = cli_env(client, worker.task_queue, tmp_path)
            result = await dvds("import", str(path), "--rejects", str(rejects), env=env, timeout=240)
            assert result.code == 1, result.err
            assert "Kilo Example" not in result.out + result.err
            reasons = {int(row.split(",", 1)[0]): row for row in rejects.read_text().splitlines()[1:]}
            assert sorted(reasons) == [15, 16, 17]
            assert reasons[15].endswith("received_on: not a real date")
            assert reasons[16].endswith("decision_on: must not be before received_on")
            assert reasons[17].endswith("decision: must be one of disclosed | declined | withdrawn | none")
            assert "Kilo" not in rejects.read_text()
            again = await import_json(path, env, "--rejects", str(rejects), code=1)
            assert (again["started"], again["already_imported"], again["rejected"]) == (0, 12, 3)

    async def test_ref_taken_by_another_case_is_rejected(self, client: Client, tmp_path: Path) -> None:
        """A case_ref already used on the server by a new case is a reject; one imported from a
        different row is changed since import, named by field."""
        prefix = new_prefix()
        path = sample_file(tmp_path, prefix)
        async with running_worker(client, tmp_path) as worker:
            cases = CaseClient(client, Settings(task_queue=worker.task_queue), signer=SIGNER)
            await cases.start(CaseInput(ref=f"{prefix}-2015-000101", application=application(), started_by=OPERATOR))
            env = cli_env(client, worker.task_queue, tmp_path)
            first = await import_json(path, env, code=1)
            assert (first["started"], first["rejected"]) == (11, 1)
            edited = tmp_path / "edited.csv"
            edited.write_text(path.read_text().replace("No decision recorded.", "Edited note."))
            second = await import_json(edited, env, "--rejects", str(tmp_path / "r.csv"), code=1)
            assert (second["started"], second["already_imported"], second["changed"], second["rejected"]) == (
                0, 10, 1, 1)
            reasons = (tmp_path / "r.csv").read_text()
            assert "case_ref: already used on this server by a case not imported from an export" in reasons
            assert "changed since import: notes" in reasons


class TestInterrupted:
    """An import stopped part way is finished by running the same command again."""

    async def test_killed_import_finished_by_rerun(self, client: Client, tmp_path: Path) -> None:
        """`dvds import` killed after its first case starts only the rest when run again."""
        prefix = new_prefix()
        path = demo_file(tmp_path, prefix, rows=300)
        first_ref = refs_in(path)[0]
        async with running_worker(client, tmp_path) as worker:
            env = cli_env(client, worker.task_queue, tmp_path)
            process = await asyncio.create_subprocess_exec(
                *DVDS, "import", str(path), "--concurrency", "1",
                env={**os.environ, **env}, cwd=ROOT,
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
            )

            async def first_case_started() -> bool:
                try:
                    await client.get_workflow_handle(first_ref).describe()
                    return True
                except Exception:
                    return False

            await eventually(first_case_started, within=60)
            process.send_signal(signal.SIGKILL)
            assert await process.wait() == -signal.SIGKILL, "the import was killed, not finished"
            rerun = await import_json(path, env)
            assert rerun["rows_read"] == 300 and rerun["rejected"] == 0
            assert rerun["already_imported"] >= 1 and rerun["started"] + rerun["already_imported"] == 300
            final = await import_json(path, env)
            assert (final["started"], final["already_imported"]) == (0, 300)

    async def test_cancelled_import_finished_by_rerun(self, client: Client, tmp_path: Path) -> None:
        """An import cancelled (as Ctrl-C does) after some rows starts exactly the others when run again."""
        prefix = new_prefix()
        plan = plan_import(demo_file(tmp_path, prefix, rows=40).read_bytes(), RowContext(today=date.today()))
        async with running_worker(client, tmp_path) as worker:
            cases = CaseClient(client, Settings(task_queue=worker.task_queue), signer=SIGNER)
            tally = tally_for(plan)
            enough = asyncio.Event()

            def count(outcome: Outcome) -> None:
                if len(tally.started) >= 10:
                    enough.set()

            runner = asyncio.create_task(run_import(cases, plan, tally, concurrency=4, on_row=count))
            await enough.wait()
            runner.cancel()
            await asyncio.gather(runner, return_exceptions=True)
            first = len(tally.started)
            assert 10 <= first < 40
            rerun = await run_import(cases, plan, tally_for(plan), concurrency=4)
            assert rerun.counts() == {"rows_read": 40, "started": 40 - len(rerun.already_imported),
                                      "already_imported": len(rerun.already_imported), "changed": 0, "rejected": 0}
            # Rows whose start was in flight when cancelled may have started too: never fewer.
            assert len(rerun.already_imported) >= first


class TestReviewQueue:
    """The imported cases wait for review in the order the review team works."""

    async def test_reviewer_queue_in_priority_order(self, client: Client, tmp_path: Path) -> None:
        """`dvds task list --role reviewer` lists possible failures first, then late or missing decisions."""
        prefix = new_prefix()
        async with running_worker(client, tmp_path) as worker:
            env = cli_env(client, worker.task_queue, tmp_path)
            await import_json(sample_file(tmp_path, prefix), env)

            async def queue() -> list[dict[str, Any]]:
                listed = await dvds("task", "list", "--role", "reviewer", "--json", env=env)
                assert listed.code == 0, listed.err
                ours = [c for c in json.loads(listed.out) if c["ref"].startswith(prefix)]
                return ours if len(ours) == 12 else []

            ours = await eventually(queue)
            priorities = [c["priority"] for c in ours]
            assert priorities == sorted(priorities)
            assert priorities.count(ReviewPriority.possible_failure_to_disclose) == 3
            assert priorities.count(ReviewPriority.late_or_no_decision) == 4
            assert {c["ref"] for c in ours[:3]} == {f"{prefix}-2016-000103", f"{prefix}-2016-000104",
                                                      f"{prefix}-2023-000112"}

    async def test_review_of_imported_case_refers_a_failure(self, client: Client, tmp_path: Path) -> None:
        """A failure found on an imported case is confirmed and referred like any new case's."""
        prefix = new_prefix()
        plan = plan_import(sample_file(tmp_path, prefix).read_bytes(), RowContext(today=date.today()))
        async with running_worker(client, tmp_path) as worker:
            cases = CaseClient(client, Settings(task_queue=worker.task_queue), CALENDAR_DAY_POLICY, SIGNER)
            assert (await run_import(cases, plan, tally_for(plan))).counts()["started"] == 12
            ref = f"{prefix}-2016-000104"
            review = json.loads((EXAMPLES / "review_failure.json").read_text())
            snap = await cases.complete(ref, Task.review, Actor(id="RV500", role=Role.reviewer), review)
            assert snap.state is CaseState.reviewed and snap.pending_tasks == [Task.failure_confirmation]
            confirmation = json.loads((EXAMPLES / "failure_confirmation.json").read_text())
            psd = Actor(id="PS600", role=Role.professional_standards)
            snap = await cases.complete(ref, Task.failure_confirmation, psd, confirmation)
            assert snap.state is CaseState.referred

            async def referred() -> Any:
                current = await cases.snapshot(ref)
                return current if current.referral and current.referral.iopc_reference else None

            snap = await eventually(referred)
            assert snap.pending_tasks == [Task.remedial_disclosure]
