"""Keys: a missing or wrong key gives a clear error and no plaintext; rotation keeps old
cases readable; the key file is created readable by its owner only."""

from __future__ import annotations

import asyncio
import json
import os
import stat
import sys
from pathlib import Path

import pytest
from temporalio.client import Client

from dvds.cases.client import CaseClient
from dvds.connection.codec import KEY_ID, PayloadKeyError, case_data_converter
from dvds.connection.keys import DataKey, KeyRing, KeysError, ensure_key_file, load_keys, write_keys
from dvds.settings import Settings
from states.record import Actor, CaseInput
from states.roles import Role, Task
from tests.helpers.cases import OPERATOR, new_ref, submit
from tests.helpers.cli import Result
from tests.helpers.keys import TEST_KEYS
from tests.helpers.paths import ROOT
from tests.helpers.security import personal_values, secret_application, staff_for_tests, staffed_worker
from tests.helpers.staff import SIGNER
from worker import build_worker


async def dvds_with_keys(*args: str, keys: str | None, env: dict[str, str]) -> Result:
    """Run `dvds` with DVDS_KEYS set to `keys`, or unset."""
    base = {k: v for k, v in os.environ.items() if k != "DVDS_KEYS"} | {"COLUMNS": "400"}
    if keys is not None:
        base["DVDS_KEYS"] = keys
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "dvds", *args, env={**base, **env}, cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    # Messages are compared as one line, however the terminal wrapped them.
    return Result(process.returncode, out.decode(), " ".join(err.decode().split()))


async def connected(client: Client, keys: KeyRing) -> Client:
    return await Client.connect(client.service_client.config.target_host, namespace=client.namespace,
                                data_converter=case_data_converter(keys))


class TestMissingOrWrongKey:
    """Without the right key nothing is readable, and the error says why in one line."""

    async def test_missing_key_is_a_clear_error(self, tmp_path: Path) -> None:
        """No DVDS_KEYS and no key file: the CLI names the missing file, with no traceback."""
        shown = await dvds_with_keys("case", "show", "DVDS-2026-00000001", keys=None,
                                     env={"DVDS_HOME": str(tmp_path)})
        assert shown.code == 1
        assert f"no key file at {tmp_path / 'keys.json'}" in shown.err
        assert "Traceback" not in shown.err + shown.out

    async def test_wrong_key_is_a_clear_error_without_plaintext(self, client: Client, tmp_path: Path) -> None:
        """A client holding another key ring gets 'not in the key ring' and none of the case's values."""
        app = secret_application()
        async with staffed_worker(client, tmp_path, staff_for_tests()) as worker:
            cases = CaseClient(client, Settings(home=tmp_path, task_queue=worker.task_queue), signer=SIGNER)
            handle = await cases.start(CaseInput(ref=new_ref(), application=app,
                                                 started_by=Actor(id="OP1", role=Role.operator)))
            env = {"TEMPORAL_ADDRESS": client.service_client.config.target_host, "DVDS_HOME": str(tmp_path)}
            shown = await dvds_with_keys("case", "show", handle.id, "--json", keys=KeyRing.generate().model_dump_json(),
                                         env=env)
            assert shown.code == 1
            assert f"encrypted with key {TEST_KEYS.current.id!r}, which is not in the key ring" in shown.err
            assert "Traceback" not in shown.err + shown.out
            assert [v for v in personal_values(app) if v in shown.out + shown.err] == []
            # The right key reads it.
            good = await dvds_with_keys("case", "show", handle.id, "--json", keys=TEST_KEYS.model_dump_json(), env=env)
            assert good.code == 0, good.err

    async def test_same_key_id_with_other_bytes_is_refused(self, client: Client, tmp_path: Path) -> None:
        """A forged key under the right id fails authentication instead of yielding garbage."""
        forged = KeyRing(encryption_keys=[DataKey(id=TEST_KEYS.current.id, key=KeyRing.generate().current.key)],
                         index_key=TEST_KEYS.index_key)
        async with staffed_worker(client, tmp_path, staff_for_tests()) as worker:
            cases = CaseClient(client, Settings(home=tmp_path, task_queue=worker.task_queue), signer=SIGNER)
            handle = await cases.start(CaseInput(ref=new_ref(), application=secret_application(), started_by=OPERATOR))
            reader = CaseClient(await connected(client, forged), Settings(home=tmp_path), signer=SIGNER)
            with pytest.raises(PayloadKeyError, match="could not be decrypted: the key is wrong or the data was"):
                await reader.case_file(handle.id)


class TestRotation:
    """The newest key encrypts; older keys still decrypt."""

    async def test_rotated_ring_reads_old_cases_and_encrypts_with_the_new_key(
        self, client: Client, tmp_path: Path
    ) -> None:
        """A case started under the old key is carried on under the new one; the old ring cannot read the new data."""
        old = TEST_KEYS
        new = old.rotated()
        assert new.current.id != old.current.id and new.find(old.current.id) is not None
        app = secret_application()
        rotated = await connected(client, new)
        async with staffed_worker(rotated, tmp_path, staff_for_tests()) as worker:
            before = CaseClient(client, Settings(home=tmp_path, task_queue=worker.task_queue), signer=SIGNER)
            handle = await before.start(CaseInput(ref=new_ref(), application=app, started_by=OPERATOR))
            after = CaseClient(rotated, Settings(home=tmp_path, task_queue=worker.task_queue), signer=SIGNER)
            await submit(after.handle(handle.id), Task.research, "R100")
            case_file = await after.case_file(handle.id)
            assert case_file.application.subject.name == app.subject.name
            assert case_file.snapshot.tasks_done == [Task.research]
            with pytest.raises(PayloadKeyError, match=f"encrypted with key {new.current.id!r}"):
                await before.case_file(handle.id)
        key_ids = set()
        async for event in client.get_workflow_handle(handle.id).fetch_history_events():
            started = event.workflow_execution_started_event_attributes
            for payload in started.input.payloads:
                key_ids.add(("input", payload.metadata[KEY_ID].decode()))
            for payload in event.workflow_execution_update_completed_event_attributes.outcome.success.payloads:
                key_ids.add(("update result", payload.metadata[KEY_ID].decode()))
        assert key_ids == {("input", old.current.id), ("update result", new.current.id)}

    async def test_keys_rotate_adds_a_newest_key_to_the_file(self, tmp_path: Path) -> None:
        """`dvds keys rotate` keeps every old key, adds a new last one, and the file stays mode 0600."""
        settings = Settings(home=tmp_path, keys=None)
        assert ensure_key_file(settings)
        first = load_keys(settings)
        rotated = await dvds_with_keys("keys", "rotate", keys=None, env={"DVDS_HOME": str(tmp_path)})
        assert rotated.code == 0, rotated.err
        ring = load_keys(settings)
        assert [k.id for k in ring.encryption_keys[:-1]] == [first.current.id]
        assert ring.current.id in rotated.out and ring.index_key == first.index_key
        assert stat.S_IMODE((tmp_path / "keys.json").stat().st_mode) == 0o600


    async def test_a_case_under_a_key_the_worker_has_not_loaded_yet_is_taken(
        self, client: Client, tmp_path: Path
    ) -> None:
        """`dvds keys rotate` while the worker runs: a case a client starts under the new key is not refused;
        the worker re-reads its key file and takes it."""
        settings = Settings(home=tmp_path, keys=None, task_queue=f"test-{new_ref()}")
        write_keys(settings.key_path, TEST_KEYS, new=True)
        async with build_worker(client, settings, staff=staff_for_tests()):
            rotated = TEST_KEYS.rotated()
            write_keys(settings.key_path, rotated, new=False)
            cases = CaseClient(await connected(client, rotated), settings, signer=SIGNER)
            handle = await cases.start(CaseInput(ref=new_ref(), application=secret_application(), started_by=OPERATOR))
            done = await submit(handle, Task.research, "R100")
            assert done.tasks_done == [Task.research]


class TestKeyFile:
    """`dvds up` creates the key file on first start, for its owner only."""

    def test_key_file_created_owner_only_and_never_overwritten(self, tmp_path: Path) -> None:
        """The first start writes a valid ring with mode 0600; a later start keeps it."""
        settings = Settings(home=tmp_path / "home", keys=None)
        assert ensure_key_file(settings)
        path = tmp_path / "home" / "keys.json"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        ring = load_keys(settings)
        assert not ensure_key_file(settings)
        assert load_keys(settings) == ring

    def test_corrupt_key_file_names_the_problem_not_the_content(self, tmp_path: Path) -> None:
        """A key file with a short key is refused naming the field, never echoing key material."""
        path = tmp_path / "keys.json"
        path.write_text(json.dumps({"encryption_keys": [{"id": "k1", "key": "c2hvcnQ="}], "index_key": "c2hvcnQ="}))
        with pytest.raises(KeysError) as bad:
            load_keys(Settings(home=tmp_path, keys=None))
        assert "encryption_keys.0.key" in str(bad.value) and "32 bytes" in str(bad.value)
        assert "c2hvcnQ" not in str(bad.value)
