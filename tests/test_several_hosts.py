"""Two workers and two web hosts against one server, sharing no disk: each in its own home
directory, one worker SIGKILLed mid-campaign. The archive stays one chain, written by the
one archiver; each notice is sent once; a claim made on one web host is seen on the other."""

from __future__ import annotations

import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from playwright.async_api import Browser
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle

from activities.archive_store import Archive
from states.archiving import ArchiveInput, ArchiveResult
from states.record import CaseInput
from states.roles import Task
from tests.helpers.browser import (  # noqa: F401 - the *_fixture names are fixtures
    browser_fixture,
    fill_research,
    reload_until,
    row,
    serving_queue,
    sign_in,
    staff_file_fixture,
)
from tests.helpers.cases import OPERATOR, application, new_ref, settled, signed_start, submit
from tests.helpers.channels import SmtpServer
from tests.helpers.processes import WorkerProcess, server_on_disk

DISCLOSED = [(Task.research, "R100"), (Task.risk_assessment, "RA200"), (Task.decision, "DM300"),
             (Task.disclosure, "DO400"), (Task.review, "RV500")]


def identities(history: list[Any]) -> set[str]:
    """The workers that ran the case's workflow tasks and activities."""
    found = set()
    for event in history:
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED:
            found.add(event.workflow_task_started_event_attributes.identity)
        elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            found.add(event.activity_task_started_event_attributes.identity)
    return found


def waiting_subjects(messages: list[Any]) -> Counter[str]:
    return Counter((m["Subject"] or "").removeprefix("URGENT ") for m in messages
                   if (m["Subject"] or "").endswith(" is waiting"))


class TestSeveralHosts:
    """Workers and web hosts that keep nothing on their own disk that another host needs."""

    async def test_two_workers_two_web_hosts_one_killed(
        self, tmp_path: Path, browser: Browser, staff_file: Path
    ) -> None:
        """Cases close across a SIGKILL; one archive chain on the archiver only; notices once; claims shared."""
        smtp = SmtpServer()
        queue = f"test-{uuid.uuid4()}"
        hosts = {name: tmp_path / name for name in ("host-a", "host-b", "web-a", "web-b")}
        common = {"smtp_host": "127.0.0.1", "smtp_port": str(smtp.port), "staff_file": str(staff_file)}
        try:
            async with server_on_disk(tmp_path / "server") as server:
                client = await server.start()
                for home in hosts.values():
                    home.mkdir()
                archiver = WorkerProcess(server.address, queue, hosts["host-a"], "worker-a", **common)
                other = WorkerProcess(server.address, queue, hosts["host-b"], "worker-b", archiver="false", **common)
                replacement = WorkerProcess(server.address, queue, hosts["host-b"], "worker-b2", archiver="false",
                                            **common)
                await archiver.start()
                await other.start()
                try:
                    handles: list[WorkflowHandle[Any, Any]] = []
                    for _ in range(4):
                        case = signed_start(CaseInput(ref=new_ref(), application=application(), started_by=OPERATOR))
                        handles.append(await client.start_workflow("CaseWorkflow", case, id=case.ref,
                                                                   task_queue=queue))
                    for task, actor in DISCLOSED[:2]:
                        for handle in handles:
                            await submit(handle, task, actor)
                            await settled(handle)
                    assert other.process is not None
                    killed = f"{other.process.pid}@"
                    worked = set().union(*[identities(await settled(h)) for h in handles])
                    await other.kill()
                    await replacement.start()

                    claimed = await self._claims_seen_by_both_web_hosts(client, browser, queue, hosts, staff_file)

                    for task, actor in DISCLOSED[2:]:
                        for handle in handles:
                            await submit(handle, task, actor)
                    for handle in handles:
                        await handle.result()
                        await settled(handle)
                    archived: ArchiveResult = await client.execute_workflow(
                        "ArchiveWorkflow", ArchiveInput(), id=f"archive-{uuid.uuid4()}", task_queue=queue,
                        result_type=ArchiveResult)
                    again: ArchiveResult = await client.execute_workflow(
                        "ArchiveWorkflow", ArchiveInput(), id=f"archive-{uuid.uuid4()}", task_queue=queue,
                        result_type=ArchiveResult)
                finally:
                    await archiver.stop()
                    await replacement.stop()
        finally:
            smtp.close()

        assert any(identity.startswith(killed) for identity in worked)  # the killed worker had done some of it
        archive = Archive(hosts["host-a"] / "archive")
        assert archived.archived == 4 and again.archived == 0
        verified = archive.verify()
        assert verified.intact and verified.records == 4 and verified.head == archived.head
        assert sorted(r.ref for r in archive.records()) == sorted(h.id for h in handles)
        for name in ("host-b", "web-a", "web-b"):
            assert not (hosts[name] / "archive").exists()
        subjects = waiting_subjects(smtp.messages)
        for handle in handles:
            assert [subjects[f"DVDS {handle.id}: {task} is waiting"] for task, _ in DISCLOSED] == [1] * 5
        assert subjects[f"DVDS {claimed}: research is waiting"] == 1
        assert len({m["Message-ID"] for m in smtp.messages}) == len(smtp.messages)

    async def _claims_seen_by_both_web_hosts(
        self, client: Any, browser: Browser, queue: str, hosts: dict[str, Path], staff_file: Path
    ) -> str:
        """R100 claims research on web host A; R101 on web host B sees it claimed and is refused;
        once R100 has done it through A, B shows nothing left to claim. Returns the case's ref."""
        case = signed_start(CaseInput(ref=new_ref(), application=application(), started_by=OPERATOR))
        await client.start_workflow("CaseWorkflow", case, id=case.ref, task_queue=queue)
        async with (
            serving_queue(client, queue, hosts["web-a"], staff_file) as web_a,
            serving_queue(client, queue, hosts["web-b"], staff_file) as web_b,
        ):
            mine = await sign_in(browser, web_a, "R100")
            colleague = await sign_in(browser, web_b, "R101")
            selector = row("my-tasks", case.ref, "research")
            await reload_until(mine, "/inbox", lambda: mine.is_visible(selector))
            await mine.click(f"{selector} button[data-claim]")
            assert "claimed by you" in await mine.inner_text(selector)

            await colleague.goto("/inbox")
            assert not await colleague.is_visible(row("my-tasks", case.ref, "research"))
            assert "claimed by R100" in await colleague.inner_text(row("team-queue", case.ref, "research"))
            await colleague.goto(f"/cases/{case.ref}/tasks/research")
            await fill_research(colleague, "yes", "Colleague's attempt.")
            await colleague.click("#submit-task")
            await colleague.wait_for_selector("#form-errors")
            assert "claimed by R100" in await colleague.inner_text("#form-errors")

            await mine.goto(f"/cases/{case.ref}/tasks/research")
            await fill_research(mine, "yes", "Checked every alias.")
            await mine.click("#submit-task")
            await mine.wait_for_selector("#case-state")
            team_row = row("team-queue", case.ref, "research")

            async def gone() -> bool:
                return not await colleague.is_visible(team_row)

            await reload_until(colleague, "/inbox", gone)
        return case.ref
