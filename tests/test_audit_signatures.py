"""Auditors re-verify: every task's proof checked again from the history alone, against the
staff directory, years later (keys as they were valid when they signed), from the server or
from the archive; `dvds audit verify-signatures` prints what fails."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client, WorkflowHistory
from temporalio.testing import WorkflowEnvironment

from activities.archive_store import Archive
from dvds.audit.signatures import SignatureReport, verify_case
from dvds.cases.client import CaseClient
from dvds.connection.codec import case_data_converter
from dvds.connection.keys import KeyRing
from dvds.settings import Settings
from dvds.staff.signing import Ed25519Verifier
from states.record import Actor, CaseInput
from states.roles import Role, Task
from states.staff import StaffDirectory
from tests.helpers.attacker import server_on_file
from tests.helpers.cases import OPERATOR, application, new_ref, running_worker, submission, submit
from tests.helpers.cli import dvds
from tests.helpers.keys import TEST_KEYS
from tests.helpers.paths import HISTORIES
from tests.helpers.record_histories import DIRECTORIES, replay_keys
from tests.helpers.staff import SIGNER

# What the recorded histories are encrypted with, and what this module's server's cases are.
BOTH_RINGS = KeyRing(encryption_keys=[*replay_keys().encryption_keys, *TEST_KEYS.encryption_keys],
                     index_key=TEST_KEYS.index_key)
DRIVE = [(Task.research, "R100"), (Task.risk_assessment, "RA200"), (Task.decision, "DM300"),
         (Task.disclosure, "DO400"), (Task.review, "RV500")]


@pytest.fixture(scope="module")
async def server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[WorkflowEnvironment]:
    """A server of this module's own: `--all` reads every closed case on it."""
    async with server_on_file(tmp_path_factory.mktemp("server")) as (env, _):
        yield env


async def reader(server: WorkflowEnvironment) -> Client:
    return Client(server.client.service_client, namespace=server.client.namespace,
                  data_converter=case_data_converter(BOTH_RINGS))


def recorded_directory() -> StaffDirectory:
    """The staff directory the recorded signed case was signed under (public keys only)."""
    return StaffDirectory.model_validate_json((DIRECTORIES / "signed.json").read_text())


async def archive_recorded(archive: Archive, name: str, client: Client, change: Any = None) -> str:
    """Put a recorded case's history into the archive (after `change` to it, if any); its ref."""
    data = json.loads((HISTORIES / f"{name}.json").read_text())
    history = WorkflowHistory.from_json(name, data)
    started = history.events[0].workflow_execution_started_event_attributes
    [start] = await client.data_converter.decode(started.input.payloads, [CaseInput])
    if change is not None:
        history = await change(history, start.ref)
    archive.append(ref=start.ref, run_id=started.first_execution_run_id, status="completed", closed_at=None,
                   archived_at=datetime.now(UTC), timeline={}, history=history.to_json_dict())
    return str(start.ref)


def by_task(report: SignatureReport) -> dict[str, str | None]:
    return {c.task: c.rule for c in report.checks}


class TestYearsLater:
    """A recorded case is checked from the archive with the directory it was signed under."""

    async def test_a_signed_case_verifies_and_one_from_before_proofs_does_not(
        self, server: WorkflowEnvironment, tmp_path: Path
    ) -> None:
        """Every step of the signed case verifies (start and five tasks, each with the member's own key); each
        task of a case recorded before proofs fails by signature_missing: never proven, and said so."""
        client = await reader(server)
        archive = Archive(tmp_path / "archive")
        signed = await archive_recorded(archive, "signed", client)
        old = await archive_recorded(archive, "disclosed", client)
        good = await verify_case(client, signed, archive.directory, recorded_directory(), Ed25519Verifier())
        assert [c.task for c in good.checks] == ["case_start", *[str(t) for t, _ in DRIVE]]
        assert good.failures == [] and {c.channel for c in good.checks} == {"cli"}
        unsigned = await verify_case(client, old, archive.directory, recorded_directory(), Ed25519Verifier())
        assert set(by_task(unsigned).values()) == {"signature_missing"} and len(unsigned.checks) == len(DRIVE)

    async def test_keys_count_as_they_were_when_they_signed(self, server: WorkflowEnvironment, tmp_path: Path) -> None:
        """R100's key revoked after the research was signed: it still verifies. Revoked from before: key_revoked."""
        client = await reader(server)
        archive = Archive(tmp_path / "archive")
        ref = await archive_recorded(archive, "signed", client)
        directory = recorded_directory()
        researcher = directory.find("R100")
        assert researcher is not None
        key = researcher.public_keys[0]

        def revoked(at: datetime) -> StaffDirectory:
            moved = key.model_copy(update={"revoked_at": at})
            return directory.model_copy(update={"staff": [
                m.model_copy(update={"public_keys": [moved]}) if m.id == "R100" else m for m in directory.staff]})

        later = await verify_case(client, ref, archive.directory, revoked(datetime.now(UTC)), Ed25519Verifier())
        assert later.failures == []
        before = await verify_case(client, ref, archive.directory, revoked(key.added_at), Ed25519Verifier())
        assert [(c.task, c.rule) for c in before.failures] == [("research", "key_revoked")]

    async def test_a_submission_altered_in_the_archive_fails(self, server: WorkflowEnvironment, tmp_path: Path) -> None:
        """Someone with the key ring rewrites the research's summary in an archived history: submission_altered."""
        client = await reader(server)
        archive = Archive(tmp_path / "archive")

        async def rewrite(history: WorkflowHistory, ref: str) -> WorkflowHistory:
            for event in history.events:
                request = event.workflow_execution_update_accepted_event_attributes.accepted_request
                if request.input.name == "research":
                    [raw] = await client.data_converter.decode(request.input.args.payloads)
                    raw["submission"]["summary"] = "No convictions found."
                    del request.input.args.payloads[:]
                    request.input.args.payloads.extend(await client.data_converter.encode([raw]))
            return history

        ref = await archive_recorded(archive, "signed", client, rewrite)
        report = await verify_case(client, ref, archive.directory, recorded_directory(), Ed25519Verifier())
        assert [(c.task, c.rule) for c in report.failures] == [("research", "submission_altered")]


class TestTheCommand:
    """`dvds audit verify-signatures REF` and `--all`, as an auditor runs them."""

    async def test_ref_and_all(self, server: WorkflowEnvironment, tmp_path: Path) -> None:
        """A case closed through the signed client verifies (exit 0); `--all` over the server's closed cases and
        the archive lists the unsigned archived case's tasks by rule and exits 1."""
        archive = Archive(tmp_path / "archive")
        old = await archive_recorded(archive, "disclosed", await reader(server))
        async with running_worker(server.client, tmp_path) as worker:
            cases = CaseClient(server.client, Settings(home=tmp_path, task_queue=worker.task_queue), signer=SIGNER)
            handle = await cases.start(CaseInput(ref=new_ref(), application=application(), started_by=OPERATOR))
            for task, actor in DRIVE:
                await submit(handle, task, actor)
            await handle.result()
        env = {"TEMPORAL_ADDRESS": server.client.service_client.config.target_host, "DVDS_HOME": str(tmp_path),
               "DVDS_KEYS": BOTH_RINGS.model_dump_json(), "COLUMNS": "200"}
        one = await dvds("audit", "verify-signatures", handle.id, env=env)
        assert one.code == 0, one.err
        assert "6 signed step(s) on 1 case(s) checked" in one.out and ": 0 do not verify" in one.out
        every = await dvds("audit", "verify-signatures", "--all", "--json", env=env)
        assert every.code == 1, every.err
        checks = json.loads(every.out)["checks"]
        failing = {(c["ref"], c["task"], c["rule"]) for c in checks if not c["verified"]}
        assert failing == {(old, str(t), "signature_missing") for t, _ in DRIVE}
        assert {c["ref"] for c in checks if c["verified"]} == {handle.id}
        shown = await dvds("audit", "verify-signatures", "--all", env=env)
        assert shown.code == 1 and old in shown.out and "signature_missing" in shown.out


class TestForceReference:
    """A reference as a force writes it, slashes and all, is what an auditor types."""

    async def test_history_and_signatures_by_the_reference(self, server: WorkflowEnvironment, tmp_path: Path) -> None:
        """`dvds audit history` and `verify-signatures` take WP/DVDS/... as written and show it so."""
        ref = f"WP/DVDS/2020/{uuid.uuid4().int % 10**8:08d}"
        async with running_worker(server.client, tmp_path) as worker:
            cases = CaseClient(server.client, Settings(home=tmp_path, task_queue=worker.task_queue), signer=SIGNER)
            await cases.start(CaseInput(ref=ref, application=application(), started_by=OPERATOR))
            await cases.complete(ref, Task.research, Actor(id="R100", role=Role.researcher),
                                 submission(Task.research).model_dump(mode="json"))
        env = {"TEMPORAL_ADDRESS": server.client.service_client.config.target_host, "DVDS_HOME": str(tmp_path),
               "DVDS_KEYS": BOTH_RINGS.model_dump_json(), "COLUMNS": "200"}
        history = await dvds("audit", "history", ref, "--json", env=env)
        assert history.code == 0, history.err
        assert json.loads(history.out)["ref"] == ref
        verified = await dvds("audit", "verify-signatures", ref, env=env)
        assert verified.code == 0, verified.err
        assert "2 signed step(s) on 1 case(s) checked" in verified.out and ": 0 do not verify" in verified.out

