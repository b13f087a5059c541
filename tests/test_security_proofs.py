"""Every task provably from the person it names, tried as an attacker on the same machine
would: a raw `temporalio` client with the pydantic converter, with no key ring (plaintext)
or with the ring but no one's credential. Each attempt is refused naming its rule; the case
does not change; its history gains no task; and the server's SQLite files hold none of the
text the attacker sent."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowFailureError, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from dvds.cases.client import CaseClient, CaseError
from dvds.settings import Settings
from dvds.staff.credentials import revoke
from dvds.staff.directory import read_staff
from states.case import Case
from states.machine import CaseState
from states.messages import TaskInput
from states.policy import default_policy
from states.proof import CASE_START, Envelope
from states.record import Actor, CaseInput, CaseSnapshot
from states.resume import carried
from states.roles import Role, Task
from tests.helpers.attacker import Hammer, history_types, plaintext_client, server_on_file, stored_bytes, task_events
from tests.helpers.cases import (
    OPERATOR,
    application,
    new_ref,
    running_worker,
    settled,
    signed,
    signed_start,
    start_case,
    submission,
    submit,
    task_input,
)
from tests.helpers.eventually import eventually
from tests.helpers.staff import SIGNER, signed_with_key_of
from workflows import search
from workflows.case import CaseWorkflow

RESEARCHER = Actor(id="R100", role=Role.researcher)


@dataclass
class Server:
    env: WorkflowEnvironment
    database: Path

    @property
    def client(self) -> Client:
        return self.env.client


@pytest.fixture(scope="module")
async def server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Server]:
    """A dev server of this module's own, on a SQLite file, so its bytes can be searched."""
    async with server_on_file(tmp_path_factory.mktemp("server")) as (env, database):
        yield Server(env, database)


def token() -> str:
    """Text no other test sends: the byte search looks for it."""
    return "Atk" + "".join(secrets.choice("bcdfghjklmnpqrstvwxz") for _ in range(12))


def research(text: str) -> Any:
    return submission(Task.research, summary=f"Forged research: convictions under the alias {text}")


def unsigned(text: str, actor: Actor = RESEARCHER) -> TaskInput[Any]:
    return task_input(Task.research, actor.id, summary=f"Forged research: convictions under the alias {text}")


async def refused(handle: WorkflowHandle[Any, Any], update: str, payload: Any) -> ApplicationError:
    with pytest.raises(WorkflowUpdateFailedError) as failed:
        await asyncio.wait_for(handle.execute_update(update, payload), 60)
    cause = failed.value.cause
    assert isinstance(cause, ApplicationError), cause
    return cause


class Watched:
    """A case and what it was before an attack: its state, its tasks, its history's task events."""

    def __init__(self, handle: WorkflowHandle[Any, Any]) -> None:
        self.handle = handle

    async def before(self) -> Watched:
        await settled(self.handle)
        self.snapshot = await self.handle.query("snapshot", result_type=CaseSnapshot)
        self.tasks = task_events(await history_types(self.handle))
        return self

    async def unchanged(self) -> None:
        await settled(self.handle)
        now = await self.handle.query("snapshot", result_type=CaseSnapshot)
        assert (now.state, now.tasks_done) == (self.snapshot.state, self.snapshot.tasks_done)
        assert task_events(await history_types(self.handle)) == self.tasks  # no new task, no failed workflow task


async def attacked(server: Server, handle: WorkflowHandle[Any, Any], sender: Client, update: str, payload: Any,
                   rule: str, text: str) -> ApplicationError:
    """Send the attack; assert it was refused by `rule`, changed nothing, and left no trace of `text`."""
    watched = await Watched(handle).before()
    cause = await refused(sender.get_workflow_handle(handle.id), update, payload)
    assert f"(rule {rule})" in cause.message, cause.message
    assert text not in cause.message
    await watched.unchanged()
    assert text.encode() not in stored_bytes(server.database)
    return cause


class TestNothingUnencryptedGetsIn:
    """Payloads not encrypted under the key ring never reach a case."""

    async def test_plaintext_update_is_refused(self, server: Server, tmp_path: Path) -> None:
        """A plaintext research update naming R100 is refused by rule payload_not_encrypted."""
        text = token()
        async with running_worker(server.client, tmp_path) as worker:
            handle = await start_case(server.client, worker)
            attacker = await plaintext_client(server.client)
            payload = {"actor": RESEARCHER.model_dump(), "submission": research(text).model_dump(mode="json")}
            cause = await attacked(server, handle, attacker, "research", payload, "payload_not_encrypted", text)
            assert cause.type == "PayloadRefused"

    async def test_plaintext_start_ends_at_once_as_refused(self, server: Server, tmp_path: Path,
                                                           caplog: pytest.LogCaptureFixture) -> None:
        """A case started in plaintext ends refused on its first workflow task, with no failed task; no list
        shows it, whatever attributes it was started with; a security line names the rule and nothing sent.
        (The server itself stored the start before any worker saw it: it is only in the start event.)"""
        text = token()
        ref = new_ref()
        caplog.set_level(logging.WARNING)
        async with running_worker(server.client, tmp_path) as worker:
            attacker = await plaintext_client(server.client)
            start = {"ref": ref, "application": {"route": "right_to_ask", "prompted_by": f"{text} said so"}}
            faked = TypedSearchAttributes([SearchAttributePair(search.STATE, "received"),
                                           SearchAttributePair(search.PENDING_TASKS, ["research"])])
            handle = await attacker.start_workflow("CaseWorkflow", start, id=ref, task_queue=worker.task_queue,
                                                   search_attributes=faked)
            with pytest.raises(WorkflowFailureError) as ended:
                await asyncio.wait_for(handle.result(), 60)
            cause = ended.value.cause
            assert isinstance(cause, ApplicationError) and cause.type == "PayloadRefused"
            assert "(rule payload_not_encrypted)" in cause.message and text not in cause.message
            events = [e async for e in server.client.get_workflow_handle(ref).fetch_history_events()]
            assert EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED not in [e.event_type for e in events]
            holding = [e.event_type for e in events if text.encode() in e.SerializeToString()]
            assert holding == [EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED]

            cases = CaseClient(server.client, Settings(home=tmp_path, task_queue=worker.task_queue))

            async def unlisted() -> bool:
                found = [w async for w in server.client.list_workflows(f"WorkflowId = '{ref}'")]
                refused_there = bool(found) and found[0].typed_search_attributes.get(search.STATE) == "refused"
                return refused_there and not await cases.list_cases(f"WorkflowId = '{ref}'")

            await eventually(unlisted, what="the refused run marked and left out of the case list")
            assert ref not in [c.ref for c in await cases.pending_tasks()]
            with pytest.raises(CaseError, match="is not a case"):
                await cases.snapshot(ref)
        lines = [r for r in caplog.records if getattr(r, "security", None) == "workflow start refused"]
        assert lines and lines[0].rule == "payload_not_encrypted"  # type: ignore[attr-defined]
        assert all(text not in r.getMessage() and text not in str(r.__dict__) for r in caplog.records)


class TestEveryTaskIsProven:
    """An encrypted submission is taken only with a valid proof of who submitted it."""

    async def test_no_signature_is_refused(self, server: Server, tmp_path: Path) -> None:
        """Encrypted with the ring but carrying no proof: refused by rule signature_missing."""
        text = token()
        async with running_worker(server.client, tmp_path) as worker:
            handle = await start_case(server.client, worker)
            await attacked(server, handle, server.client, "research", unsigned(text), "signature_missing", text)

    async def test_a_proof_replayed_on_the_same_case_is_refused(self, server: Server, tmp_path: Path) -> None:
        """A research accepted once, sent again with the same proof: refused by rule nonce_seen."""
        async with running_worker(server.client, tmp_path) as worker:
            handle = await start_case(server.client, worker)
            first = signed(handle.id, Task.research, task_input(Task.research, "R100"))
            await handle.execute_update("research", first)
            watched = await Watched(handle).before()
            cause = await refused(handle, "research", first)
            assert "(rule nonce_seen)" in cause.message
            await watched.unchanged()

    async def test_a_proof_replayed_after_continue_as_new_is_refused(self, server: Server, tmp_path: Path) -> None:
        """The case's records carry its nonces into its next run: a proof from the first run is refused there."""
        async with running_worker(server.client, tmp_path) as worker:
            handle = await start_case(server.client, worker, history_limit=20)
            first_run = (await handle.describe()).run_id
            research_done = signed(handle.id, Task.research, task_input(Task.research, "R100"))
            await handle.execute_update("research", research_done)
            steps = [(Task.risk_assessment, "RA200", None), (Task.decision, "DM300", "decision_decline")]
            for task, actor, example in steps:
                if (await handle.describe()).run_id != first_run:
                    break
                await submit(handle, task, actor, example)
                await settled(handle)

            async def continued() -> bool:
                return (await handle.describe()).run_id != first_run

            await eventually(continued, what="the case continuing as new")
            watched = await Watched(handle).before()
            cause = await refused(handle, "research", research_done)
            assert "(rule nonce_seen)" in cause.message
            await watched.unchanged()

    async def test_a_proof_moved_to_another_case_is_refused(self, server: Server, tmp_path: Path) -> None:
        """A valid proof for one case, sent to another: refused by rule signed_for_another_case."""
        text = token()
        async with running_worker(server.client, tmp_path) as worker:
            one = await start_case(server.client, worker)
            other = await start_case(server.client, worker)
            payload = signed(one.id, Task.research, unsigned(text))
            await attacked(server, other, server.client, "research", payload, "signed_for_another_case", text)

    async def test_a_proof_moved_to_another_task_is_refused(self, server: Server, tmp_path: Path) -> None:
        """RA200's valid proof of a research-task envelope, sent as the risk assessment: signed_for_another_task."""
        text = token()
        async with running_worker(server.client, tmp_path) as worker:
            handle = await start_case(server.client, worker)
            await submit(handle, Task.research, "R100")
            assessment = task_input(Task.risk_assessment, "RA200", rationale=f"Forged by {text}")
            proof = SIGNER.sign(handle.id, Task.research, assessment.actor, assessment.submission)
            payload = assessment.model_copy(update={"proof": proof})
            await attacked(server, handle, server.client, "risk_assessment", payload, "signed_for_another_task", text)

    async def test_a_submission_altered_after_signing_is_refused(self, server: Server, tmp_path: Path) -> None:
        """R100's signed research with its summary changed afterwards: refused by rule submission_altered."""
        text = token()
        async with running_worker(server.client, tmp_path) as worker:
            handle = await start_case(server.client, worker)
            honest = signed(handle.id, Task.research, task_input(Task.research, "R100"))
            altered = honest.model_copy(update={"submission": research(text)})
            await attacked(server, handle, server.client, "research", altered, "submission_altered", text)

    async def test_another_members_key_is_refused(self, server: Server, tmp_path: Path) -> None:
        """DUAL4 (also a researcher) signing research as R100 with DUAL4's own key: key_not_the_actors."""
        text = token()
        async with running_worker(server.client, tmp_path) as worker:
            handle = await start_case(server.client, worker)
            forged = unsigned(text)
            proof = signed_with_key_of("DUAL4", handle.id, Task.research, RESEARCHER, forged.submission)
            payload = forged.model_copy(update={"proof": proof})
            await attacked(server, handle, server.client, "research", payload, "key_not_the_actors", text)

    async def test_a_revoked_key_is_refused(self, server: Server, tmp_path: Path) -> None:
        """R100's key revoked in the staff directory: what it signs after that is refused by rule key_revoked."""
        text = token()
        staff = tmp_path / "staff.json"
        staff.write_text(Settings().staff_path.read_text())
        key = read_staff(staff).find("R100").public_keys[-1]  # type: ignore[union-attr]
        revoke("R100", key.id, datetime.now(UTC), staff)
        async with running_worker(server.client, tmp_path, staff_file=staff) as worker:
            handle = await start_case(server.client, worker)
            payload = signed(handle.id, Task.research, unsigned(text))
            await attacked(server, handle, server.client, "research", payload, "key_revoked", text)

    async def test_an_inactive_member_is_refused(self, server: Server, tmp_path: Path) -> None:
        """GONE1 (a reviewer who left; their key still verifies) signing a review: refused by rule member_inactive."""
        text = token()
        async with running_worker(server.client, tmp_path) as worker:
            handle = await start_case(server.client, worker)
            review = task_input(Task.review, "GONE1", findings=f"Reviewed by {text}")
            payload = signed(handle.id, Task.review, review)
            await attacked(server, handle, server.client, "review", payload, "member_inactive", text)


class TestStarts:
    """A case's start is checked once, when it first runs; a start it cannot take ends refused, unlisted."""

    @pytest.mark.parametrize("how", ["unsigned", "another_members_key", "no_operator", "resume_from_nowhere"])
    async def test_a_start_the_case_cannot_take_ends_refused(self, server: Server, tmp_path: Path, how: str) -> None:
        """Encrypted with the ring but not proven (no proof, R100's key for OP1), a new application naming no
        operator, or a record (resume) sent by a client: the run ends refused by its rule and no list shows it."""
        rules = {"unsigned": "signature_missing", "another_members_key": "key_not_the_actors",
                 "no_operator": "operator_missing", "resume_from_nowhere": "resumed_from_nowhere"}
        async with running_worker(server.client, tmp_path) as worker:
            case = CaseInput(ref=new_ref(), application=application(), started_by=OPERATOR)
            if how == "another_members_key":
                proof = signed_with_key_of("R100", case.ref, CASE_START, OPERATOR, case.application)
                case = case.model_copy(update={"proof": proof})
            elif how == "no_operator":
                case = case.model_copy(update={"started_by": None})
            elif how == "resume_from_nowhere":
                forged = Case(case, default_policy(), datetime.now(UTC))
                case = signed_start(carried(forged, set()))
            handle = await server.client.start_workflow(CaseWorkflow.run, case, id=case.ref,
                                                        task_queue=worker.task_queue)
            with pytest.raises(WorkflowFailureError) as ended:
                await asyncio.wait_for(handle.result(), 60)
            cause = ended.value.cause
            assert isinstance(cause, ApplicationError) and cause.type == "StartRefused"
            assert f"(rule {rules[how]})" in cause.message
            assert EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED not in await history_types(handle)
            cases = CaseClient(server.client, Settings(home=tmp_path, task_queue=worker.task_queue))

            async def unlisted() -> bool:
                return not await cases.list_cases(f"WorkflowId = '{case.ref}'")

            await eventually(unlisted, what="the refused case left out of the case list")
            with pytest.raises(CaseError, match=f"refused when it started: .*{rules[how]}"):
                await cases.snapshot(case.ref)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


@st.composite
def tampered(draw: st.DrawFn, envelope: Envelope) -> dict[str, Any]:
    """The envelope as JSON with one thing changed, as an attacker holding a valid proof would try."""
    data = json.loads(envelope.model_dump_json())
    field = draw(st.sampled_from(["ref", "task", "actor", "submission_digest", "nonce", "signed_at", "channel",
                                  "signature", "version"]))
    hexes = st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)
    if field == "ref":
        data["ref"] = draw(st.sampled_from([new_ref(), "TEST-2026-1", data["ref"] + "0"]))
    elif field == "task":
        data["task"] = draw(st.sampled_from([str(t) for t in Task if t is not Task.research] + ["case_start"]))
    elif field == "actor":
        data["actor"] = draw(st.sampled_from([{"id": "DUAL4", "role": "researcher"}, {"id": "R100", "role": "reviewer"},
                                              {"id": "NOBODY9", "role": "researcher"}]))
    elif field == "submission_digest":
        data["submission_digest"] = draw(hexes.filter(lambda h: h != envelope.submission_digest))
    elif field == "nonce":
        data["nonce"] = draw(hexes.map(lambda h: h[:32]).filter(lambda n: n != envelope.nonce))
    elif field == "signed_at":
        moved = draw(st.integers(-3600, 3600).filter(lambda s: s != 0))
        data["signed_at"] = (envelope.signed_at + timedelta(seconds=moved)).isoformat()
    elif field == "channel":
        data["channel"] = draw(st.sampled_from([
            {"kind": "cli", "key_id": "ed25519-" + "0" * 32},
            {"kind": "web", "key_id": envelope.channel.key_id, "sign_in": "password", "session_hash": "a" * 64},
        ]))
    elif field == "signature":
        raw = bytearray(base64.b64decode(envelope.signature))
        flip = draw(st.integers(0, len(raw) - 1))
        raw[flip] ^= draw(st.integers(1, 255))
        data["signature"] = draw(st.sampled_from([_b64(bytes(raw)), "", "not base64!", _b64(b"\0" * 64)]))
    else:
        data["version"] = 2
    return data


class TestTamperedEnvelopes:
    """Properties over the signed envelope, on the real server."""

    async def test_no_change_to_a_valid_envelope_is_taken(self, server: Server, tmp_path: Path) -> None:
        """Any one field of a valid proof changed: refused (by a proof rule, or by the envelope's own
        shape), never taken, no failed workflow task; the untouched proof is then taken."""
        async with running_worker(server.client, tmp_path) as worker:
            handle = await start_case(server.client, worker)
            honest = signed(handle.id, Task.research, task_input(Task.research, "R100"))
            assert honest.proof is not None
            raw = json.loads(honest.model_dump_json())
            watched = await Watched(handle).before()
            hammer = Hammer(handle, asyncio.get_running_loop())
            kinds: list[str] = []

            @settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
            @given(envelope=tampered(honest.proof))
            def hammered(envelope: dict[str, Any]) -> None:
                refusal = hammer.send("research", {**raw, "proof": envelope})
                assert isinstance(refusal, WorkflowUpdateFailedError), refusal
                cause = refusal.cause
                assert isinstance(cause, ApplicationError) and cause.non_retryable, cause
                assert cause.type in ("ProofRefused", "InvalidSubmission"), cause
                kinds.append(cause.type)

            await asyncio.to_thread(hammered)
            assert "ProofRefused" in kinds
            await watched.unchanged()
            taken = await handle.execute_update("research", honest, result_type=CaseSnapshot)
            assert taken.state is CaseState.researched
