"""`dvds backup` of a running embedded server mid-campaign, `dvds restore` into a fresh home:
the server started there carries the cases on, and their timers fire."""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path

from temporalio.client import WorkflowExecutionStatus, WorkflowHandle

from activities.archive_store import Archive
from dvds.audit.archiving import archive_closed_cases
from dvds.connection.keys import KeyRing
from states.record import CaseSnapshot
from states.roles import Task
from tests.helpers.cases import settled, start_case, submit
from tests.helpers.cli import dvds
from tests.helpers.eventually import eventually
from tests.helpers.keys import TEST_KEYS
from tests.helpers.paths import EXAMPLES
from tests.helpers.policies import SHORT_POLICY, RecordingNotifier, watched_worker
from tests.helpers.processes import server_on_disk


def env_for(home: Path) -> dict[str, str]:
    """A `dvds` command for the embedded server whose home is `home`."""
    return {"DVDS_HOME": str(home), "DVDS_STAFF_FILE": str(home / "staff.json")}


class TestBackupAndRestore:
    """A backup taken while cases run restores into a server that carries them on."""

    async def test_backup_mid_campaign_restores_and_timers_fire(self, tmp_path: Path) -> None:
        """Open cases, their timers, the archive and the staff come back; keys only with --with-keys."""
        first_home, restored_home = tmp_path / "first", tmp_path / "restored"
        first_home.mkdir()
        shutil.copy(EXAMPLES / "staff.json", first_home / "staff.json")
        queue = f"test-{uuid.uuid4()}"
        before = RecordingNotifier()
        async with server_on_disk(first_home) as server:
            client = await server.start()
            async with watched_worker(client, before, task_queue=queue, home=first_home) as worker:
                closed = await start_case(client, worker)
                await submit(closed, Task.withdrawal, "OP1")
                await submit(closed, Task.review, "RV500")
                await closed.result()
                await archive_closed_cases(client, Archive(first_home / "archive"))
                waiting = await start_case(client, worker, policy=SHORT_POLICY)

                async def first_rung() -> bool:
                    return any(s.ref == waiting.id for s in before.escalations("research"))

                await eventually(first_rung, 30, "the research deadline's first rung")
                plain = await dvds("backup", str(tmp_path / "plain.dvds-backup"), env=env_for(first_home))
                keyed = await dvds("backup", str(tmp_path / "keyed.dvds-backup"), "--with-keys",
                                   env=env_for(first_home))
            head = Archive(first_home / "archive").head()[1]
        assert plain.code == 0, plain.err
        assert keyed.code == 0 and "key ring is in it" in keyed.out, keyed.err
        fired_before = {(s.deadline, s.notify, s.breach) for s in before.escalations() if s.ref == waiting.id}

        restored = await dvds("restore", str(tmp_path / "plain.dvds-backup"), env=env_for(restored_home))
        assert restored.code == 0, restored.err
        assert not (restored_home / "keys.json").exists()
        staff = json.loads((restored_home / "staff.json").read_text())
        assert staff == json.loads((EXAMPLES / "staff.json").read_text())
        assert Archive(restored_home / "archive").verify(expected_head=head).intact

        after = RecordingNotifier()
        async with server_on_disk(restored_home) as server:
            client = await server.start()
            async with watched_worker(client, after, task_queue=queue, home=restored_home):
                handle: WorkflowHandle[object, CaseSnapshot] = client.get_workflow_handle(
                    waiting.id, result_type=CaseSnapshot)

                async def breached() -> bool:
                    return any(s.ref == waiting.id and s.deadline == "research" and s.breach
                               for s in after.escalations())

                await eventually(breached, 60, "the research breach, a timer set before the backup")
                listed = await client.count_workflows(f"WorkflowId = '{waiting.id}' AND DvdsState = 'received'")
                assert listed.count == 1  # visibility came back too: the inbox and the metrics find it
                snapshot = await submit(handle, Task.research, "R100")
                await settled(handle)
                described = await client.get_workflow_handle(closed.id).describe()
                assert described.status is WorkflowExecutionStatus.COMPLETED
        assert ("research", "supervisor", True) not in fired_before  # it fired on the restored server
        assert str(snapshot.state) == "researched"

    async def test_restore_refuses_a_home_in_use_and_a_damaged_file(self, tmp_path: Path) -> None:
        """Restoring over a non-empty home, or from a changed file, is refused and writes nothing."""
        home = tmp_path / "home"
        home.mkdir()
        shutil.copy(EXAMPLES / "staff.json", home / "staff.json")
        async with server_on_disk(home) as server:
            await server.start()
            made = await dvds("backup", str(tmp_path / "full.dvds-backup"), "--with-keys", env=env_for(home))
        assert made.code == 0, made.err
        again = await dvds("backup", str(tmp_path / "full.dvds-backup"), env=env_for(home))
        assert again.code == 1 and "already exists" in again.err

        over = await dvds("restore", str(tmp_path / "full.dvds-backup"), env=env_for(home))
        assert over.code == 1 and "home:" in over.err and "not empty" in over.err

        damaged = tmp_path / "damaged.dvds-backup"
        data = bytearray((tmp_path / "full.dvds-backup").read_bytes())
        data[len(data) // 2] ^= 0xFF
        damaged.write_bytes(bytes(data))
        target = tmp_path / "never"
        refused = await dvds("restore", str(damaged), env=env_for(target))
        assert refused.code == 1 and "file:" in refused.err and "Traceback" not in refused.err
        assert not target.exists() and not list(tmp_path.glob(".never.restoring-*"))

        keyed_home = tmp_path / "keyed"
        keyed = await dvds("restore", str(tmp_path / "full.dvds-backup"), env=env_for(keyed_home))
        assert keyed.code == 0, keyed.err
        ring = keyed_home / "keys.json"
        assert ring.stat().st_mode & 0o777 == 0o600
        assert KeyRing.model_validate_json(ring.read_text()) == TEST_KEYS
