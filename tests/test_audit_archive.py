"""The append-only archive: closed cases exported with a hash chain, verified, outliving the server."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from temporalio.client import Client, ScheduleActionStartWorkflow, WorkflowHandle
from temporalio.worker import Worker

from activities.archive_store import Archive
from dvds.audit.archiving import archive_closed_cases
from dvds.audit.history import case_timeline
from dvds.audit.schedule import SCHEDULE_ID, ensure_archive_schedule
from dvds.settings import Settings
from states.roles import Task
from tests.helpers.cases import delete_case, running_worker, start_case, submit
from tests.helpers.cli import dvds
from tests.helpers.eventually import eventually


async def closed_case(client: Client, worker: Worker) -> WorkflowHandle[Any, Any]:
    """A case withdrawn and reviewed: closed in two tasks."""
    handle = await start_case(client, worker)
    await submit(handle, Task.withdrawal, "OP1")
    await submit(handle, Task.review, "RV500")
    await handle.result()
    return handle


def cli_env(client: Client, home: Path) -> dict[str, str]:
    return {"TEMPORAL_ADDRESS": client.service_client.config.target_host, "DVDS_HOME": str(home), "COLUMNS": "200"}


def tampered(original: Path, into: Path) -> Path:
    """A writable copy of the archive to damage."""
    shutil.copytree(original, into)
    for path in (into / "records").iterdir():
        path.chmod(0o644)
    return into


class TestArchive:
    """Archive, verify, and detect tampering."""

    async def test_archive_then_verify_and_detect_tampering(self, client: Client, tmp_path: Path) -> None:
        """Verify passes after archiving; a changed byte, a removed record or a reordering makes it fail."""
        async with running_worker(client, tmp_path) as worker:
            refs = [(await closed_case(client, worker)).id for _ in range(3)]
        env = cli_env(client, tmp_path)
        first = await dvds("audit", "archive", env=env)
        assert first.code == 0, first.err
        archive = Archive(tmp_path / "archive")
        archived = [r.ref for r in archive.records()]
        assert all(archived.count(ref) == 1 for ref in refs)
        assert await archive_closed_cases(client, archive) == []  # nothing archived twice
        assert [r.ref for r in archive.records()] == archived
        intact = await dvds("audit", "verify", env=env)
        assert intact.code == 0 and "archive intact" in intact.out
        head = archive.head()[1]
        assert head in intact.out
        record = archive.records().__next__()
        assert record.timeline["ref"] == record.ref and record.history["events"]

        files = [path for *_, path in archive.files()]
        assert len(files) >= 3
        changed = tampered(archive.directory, tmp_path / "changed")
        target = changed / "records" / files[0].name
        data = bytearray(target.read_bytes())
        at = data.index(b'"status":"') + len(b'"status":"')
        data[at] = ord("C")  # "completed" -> "Completed": one byte
        target.write_bytes(bytes(data))
        result = await dvds("audit", "verify", "--dir", str(changed), env=env)
        assert result.code == 1 and "record 2" in result.out and "changed, removed or reordered" in result.out

        removed = tampered(archive.directory, tmp_path / "removed")
        (removed / "records" / files[1].name).unlink()
        result = await dvds("audit", "verify", "--dir", str(removed), env=env)
        assert result.code == 1 and "record 2 missing" in result.out

        truncated = tampered(archive.directory, tmp_path / "truncated")
        (truncated / "records" / files[-1].name).unlink()
        result = await dvds("audit", "verify", "--dir", str(truncated), env=env)
        assert result.code == 1 and "the last record was changed or removed" in result.out

        reordered = tampered(archive.directory, tmp_path / "reordered")
        one, two = reordered / "records" / files[0].name, reordered / "records" / files[1].name
        first_bytes, second_bytes = one.read_bytes(), two.read_bytes()
        one.write_bytes(second_bytes)
        two.write_bytes(first_bytes)
        result = await dvds("audit", "verify", "--dir", str(reordered), env=env)
        assert result.code == 1 and "reordered" in result.out

        noted = await dvds("audit", "verify", "--head", "0" * 64, env=env)
        assert noted.code == 1 and "not the" in noted.out

    async def test_history_read_from_archive_after_server_lost_the_case(self, client: Client, tmp_path: Path) -> None:
        """Once archived and deleted from the server, the case's timeline still shows, from the archive."""
        async with running_worker(client, tmp_path) as worker:
            handle = await closed_case(client, worker)
        on_server = await case_timeline(client, handle.id, tmp_path / "archive")
        await archive_closed_cases(client, Archive(tmp_path / "archive"))
        await delete_case(client, handle.id)

        from_archive = await case_timeline(client, handle.id, tmp_path / "archive")
        assert from_archive.source.startswith("archive record")
        assert from_archive.tasks() == [("withdrawal", "OP1", "operator"), ("review", "RV500", "reviewer")]
        assert from_archive.entries == on_server.entries
        shown = await dvds("audit", "history", handle.id, "--json", env=cli_env(client, tmp_path))
        assert shown.code == 0, shown.err
        assert json.loads(shown.out)["source"].startswith("archive record")

    async def test_schedule_archives_through_the_worker(self, client: Client, tmp_path: Path) -> None:
        """The daily schedule `dvds up` creates starts ArchiveWorkflow, which archives closed cases."""
        async with running_worker(client, tmp_path) as worker:
            handle = await closed_case(client, worker)
            settings = Settings(home=tmp_path, task_queue=worker.task_queue)
            schedule = await ensure_archive_schedule(client, settings)
            try:
                again = await ensure_archive_schedule(client, settings)  # a second `dvds up` updates it
                assert again.id == SCHEDULE_ID
                description = await schedule.describe()
                action = description.schedule.action
                assert isinstance(action, ScheduleActionStartWorkflow)
                assert action.workflow == "ArchiveWorkflow" and action.task_queue == worker.task_queue
                assert description.schedule.spec.time_zone_name == "Europe/London"
                await schedule.trigger()
                archive = Archive(tmp_path / "archive")

                async def archived() -> bool:
                    return handle.id in {ref for ref, _ in archive.archived_runs()}

                await eventually(archived, 60, "the scheduled run archiving the case")
            finally:
                await schedule.delete()
        assert archive.verify().intact
