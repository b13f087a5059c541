"""Review, confirmation and the automatic IOPC referral, on the real server with a real HTTP gateway."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from temporalio.client import Client, WorkflowUpdateFailedError

from activities.iopc_http import HttpIopcGateway
from states.machine import CaseState
from states.policy import DeadlinePolicy
from states.record import CaseSnapshot
from states.roles import Task
from tests.helpers.cases import referred, settled, start_case, submit
from tests.helpers.channels import IopcGatewayServer
from tests.helpers.eventually import eventually
from tests.helpers.policies import (
    SHORT_POLICY,
    RecordingNotifier,
    reviewed_with_failure,
    watched_worker,
    with_iopc_limit,
)

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def gateway() -> Any:
    server = IopcGatewayServer()
    yield server
    server.close()


class TestConfirmation:
    """A failure is confirmed by a second person only."""

    async def test_reviewer_and_decision_maker_cannot_confirm(self, client: Client, tmp_path: Path,
                                                              gateway: IopcGatewayServer) -> None:
        """The reviewer confirming their own finding (or the decision maker) is refused; nothing is referred."""
        async with watched_worker(client, RecordingNotifier(), HttpIopcGateway(gateway.url), home=tmp_path) as worker:
            handle = await start_case(client, worker, policy=SHORT_POLICY)
            await reviewed_with_failure(handle)
            for who in ("RV500", "DM300"):
                with pytest.raises(WorkflowUpdateFailedError) as refused:
                    await submit(handle, Task.failure_confirmation, who)
                assert "confirmer_is_independent" in str(refused.value.cause)
            await settled(handle)
            snap = await handle.query("snapshot", result_type=CaseSnapshot)
            assert snap.state is CaseState.reviewed and snap.pending_tasks == [Task.failure_confirmation]
            assert snap.referral is None and gateway.requests == []


class TestReferral:
    """A confirmed failure reaches the IOPC gateway exactly once, with no further human step."""

    async def test_one_referral_when_the_gateway_refuses_first(self, client: Client, tmp_path: Path) -> None:
        """Two refusals, then acceptance: one filing, the reference stored, remediation open, then closed."""
        gateway = IopcGatewayServer(refuse_first=2)
        try:
            channel = HttpIopcGateway(gateway.url)
            async with watched_worker(client, RecordingNotifier(), channel, home=tmp_path) as worker:
                handle = await start_case(client, worker, policy=SHORT_POLICY)
                await reviewed_with_failure(handle)
                confirmed = await submit(handle, Task.failure_confirmation, "PS600")
                assert confirmed.state is CaseState.referred
                assert confirmed.referral is not None and confirmed.referral.category == "voluntary"

                snap = await referred(handle)
                assert len(gateway.requests) == 3
                assert {r.key for r in gateway.requests} == {snap.referral.idempotency_key}  # type: ignore[union-attr]
                assert list(gateway.filings.values()) == [snap.referral.iopc_reference]  # type: ignore[union-attr]
                assert gateway.requests[-1].body["ref"] == handle.id
                assert gateway.requests[-1].body["failure_type"] == "service"
                assert snap.state is CaseState.referred and snap.pending_tasks == [Task.remedial_disclosure]
                assert snap.referral is not None and not snap.referral.late
                remedial = next(d for d in snap.deadlines if d.name == "remedial_disclosure")
                assert remedial.open and remedial.urgent  # the person is still at risk

                await submit(handle, Task.iopc_decision, "PS600")
                await submit(handle, Task.remedial_disclosure, "DO400")
                result = await handle.result()
                assert result.state is CaseState.closed
                assert result.referral is not None and result.referral.mode_decided == "independent"
                assert len(gateway.filings) == 1
        finally:
            gateway.close()

    async def test_a_4xx_opens_an_incident_for_professional_standards(self, client: Client, tmp_path: Path) -> None:
        """Refused for good (422): one request, not retried; Professional Standards are escalated to and
        given the referral_resolution task; once put right, they send it again and it is filed."""
        gateway = IopcGatewayServer(refuse_with=422)
        notifier = RecordingNotifier()
        try:
            async with watched_worker(client, notifier, HttpIopcGateway(gateway.url), home=tmp_path) as worker:
                handle = await start_case(client, worker, policy=SHORT_POLICY)
                await reviewed_with_failure(handle)
                await submit(handle, Task.failure_confirmation, "PS600")

                async def waiting_on_standards() -> CaseSnapshot | None:
                    snap = await handle.query("snapshot", result_type=CaseSnapshot)
                    return snap if Task.referral_resolution in snap.pending_tasks else None

                snap = await eventually(waiting_on_standards, what="the referral_resolution task")
                assert snap.referral is not None and snap.referral.refused == "IOPC gateway refused the referral (422)"
                assert snap.state is CaseState.referred and snap.referral.iopc_reference is None
                await settled(handle)
                assert len(gateway.requests) == 1  # not retried
                subjects = [n.subject for n in notifier.notices if "professional_standards" in n.to]
                assert f"DVDS {handle.id}: incident: IOPC gateway refused the referral (422)" in subjects
                assert f"DVDS {handle.id}: referral_resolution is waiting" in subjects

                gateway.refuse_with = None
                await submit(handle, Task.referral_resolution, "PS600")
                snap = await referred(handle)
                assert snap.referral is not None and snap.referral.refused is None
                assert list(gateway.filings.values()) == [snap.referral.iopc_reference]
                await submit(handle, Task.remedial_disclosure, "DO400")
                assert (await handle.result()).state is CaseState.closed
        finally:
            gateway.close()

    async def test_late_referral_is_a_breach(self, client: Client, tmp_path: Path) -> None:
        """A gateway down past the IOPC limit: the breach escalates, and the referral is recorded late."""
        gateway = IopcGatewayServer()
        gateway.accepting.clear()
        recorder = RecordingNotifier()
        try:
            async with watched_worker(client, recorder, HttpIopcGateway(gateway.url), home=tmp_path) as worker:
                handle = await start_case(client, worker, policy=with_iopc_limit(3))
                await reviewed_with_failure(handle)
                await submit(handle, Task.failure_confirmation, "PS600")

                async def iopc_breach_escalated() -> bool:
                    return any(s.breach for s in recorder.escalations("iopc_referral"))

                await eventually(iopc_breach_escalated, what="the IOPC referral breach")
                gateway.accepting.set()
                snap = await referred(handle)
                assert snap.referral is not None and snap.referral.late
                iopc = next(d for d in snap.deadlines if d.name == "iopc_referral")
                assert iopc.met_at is not None and iopc.breaches == [iopc.due] and iopc.due == snap.referral.due
                assert [s.notify for s in recorder.escalations("iopc_referral")] == ["professional_standards"]
                assert len(gateway.filings) == 1
        finally:
            gateway.close()


@asynccontextmanager
async def worker_process(client: Client, queue: str, home: Path, endpoint: str, name: str) -> AsyncIterator[Any]:
    """`python worker.py` in its own process, as deployed, with the HTTP gateway configured."""
    env = {
        **os.environ,
        "TEMPORAL_ADDRESS": client.service_client.config.target_host,
        "DVDS_TASK_QUEUE": queue,
        "DVDS_HOME": str(home),
        "DVDS_IOPC_ENDPOINT": endpoint,
    }
    log = open(home / f"{name}.log", "wb")  # noqa: SIM115 - closed below, after the process
    process = await asyncio.create_subprocess_exec(sys.executable, "worker.py", cwd=ROOT, env=env,
                                                   stdout=log, stderr=log)
    try:
        yield process
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.wait(), 60)
        log.close()


@pytest.mark.faults
class TestWorkerKilledMidReferral:
    """A worker killed while the gateway holds its answer: the next worker finishes the referral once."""

    async def test_kill_during_referral_files_once(self, client: Client, tmp_path: Path) -> None:
        """SIGKILL after the gateway filed but before it answered; a new worker gets the same reference."""
        gateway = IopcGatewayServer(hold_first_answer=True)
        queue = f"test-{uuid.uuid4()}"
        policy: DeadlinePolicy = SHORT_POLICY
        try:
            async with worker_process(client, queue, tmp_path, gateway.url, "worker-a") as first:
                handle = await start_case(client, SimpleNamespace(task_queue=queue), policy=policy)  # type: ignore[arg-type]
                await reviewed_with_failure(handle)
                await submit(handle, Task.failure_confirmation, "PS600")

                async def in_flight() -> bool:
                    return len(gateway.requests) == 1

                await eventually(in_flight, what="the first referral attempt at the gateway")
                first.send_signal(signal.SIGKILL)
                await asyncio.wait_for(first.wait(), 30)
            gateway.release.set()
            assert len(gateway.filings) == 1  # the IOPC filed it; the worker never heard

            async with worker_process(client, queue, tmp_path, gateway.url, "worker-b"):
                snap = await referred(handle, within=180)
                await settled(handle, within=60)
            assert len(gateway.requests) >= 2
            assert {r.key for r in gateway.requests} == {snap.referral.idempotency_key}  # type: ignore[union-attr]
            assert list(gateway.filings.values()) == [snap.referral.iopc_reference]  # type: ignore[union-attr]
            assert snap.state is CaseState.referred and snap.pending_tasks == [Task.remedial_disclosure]
        finally:
            gateway.close()
