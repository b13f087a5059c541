"""Cases that run for years continue as new: the auditor's timeline and the archive read
every run of the case, not only the latest."""

from __future__ import annotations

import json
from pathlib import Path

from temporalio.client import Client

from activities.archive_store import Archive
from dvds.audit.archiving import archive_closed_cases
from dvds.audit.history import archived_timeline, case_timeline
from dvds.audit.timeline import Kind, Timeline
from states.record import CaseSnapshot
from states.roles import Task
from tests.helpers.cases import running_worker, settled, start_case, submit
from tests.helpers.cli import dvds

DISCLOSED = [
    (Task.research, "R100", "researcher"),
    (Task.risk_assessment, "RA200", "risk_assessor"),
    (Task.decision, "DM300", "decision_maker"),
    (Task.disclosure, "DO400", "disclosing_officer"),
    (Task.review, "RV500", "reviewer"),
]


class TestLongCase:
    """A case continued as new at least twice still shows every task, by whom and when."""

    async def test_history_and_archive_walk_every_run(self, client: Client, tmp_path: Path) -> None:
        """Timeline, `dvds audit history` and the archive record list all five tasks across three or more runs."""
        async with running_worker(client, tmp_path) as worker:
            handle = await start_case(client, worker, history_limit=20)
            for task, actor, _ in DISCLOSED:
                await submit(handle, task, actor)
                await settled(handle)
            result: CaseSnapshot = await handle.result()
        assert str(result.state) == "closed"
        expected = [(str(task), actor, role) for task, actor, role in DISCLOSED]

        timeline = await case_timeline(client, handle.id, tmp_path / "archive")
        assert len(timeline.runs) >= 3 and timeline.run_id == timeline.runs[-1]
        assert timeline.tasks() == expected
        done = [e for e in timeline.entries if e.kind is Kind.task and e.outcome == "completed"]
        assert len({e.run for e in done}) >= 2  # the tasks really were spread over runs
        assert all(e.at and e.finished_at for e in done)
        assert [e.task for e in done] == [str(t) for t, _, _ in DISCLOSED]
        assert timeline.status == "completed" and timeline.entries[-1].kind is Kind.ended
        assert [e.kind for e in timeline.entries].count(Kind.started) == 1
        assert timeline.path == ["received", "researched", "risk_assessed", "disclosed", "reviewed", "closed"]

        env = {"TEMPORAL_ADDRESS": client.service_client.config.target_host, "DVDS_HOME": str(tmp_path)}
        shown = await dvds("audit", "history", handle.id, "--json", env=env)
        assert shown.code == 0, shown.err
        assert Timeline.model_validate(json.loads(shown.out)).tasks() == expected

        archive = Archive(tmp_path / "archive")
        await archive_closed_cases(client, archive)
        records = [r for r in archive.records() if r.ref == handle.id]
        assert len(records) == 1  # one record for the case, not one per run
        [record] = records
        assert record.run_id == timeline.runs[-1] and len(record.earlier_runs) == len(timeline.runs) - 1
        assert Timeline.model_validate(record.timeline).tasks() == expected
        rebuilt = await archived_timeline(client, record)
        assert rebuilt.entries == timeline.entries and rebuilt.runs == timeline.runs
        assert archive.verify().intact
