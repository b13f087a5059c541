"""Run a DVDS worker: `python worker.py`.

Connects through Temporal's environment configuration (TEMPORAL_ADDRESS,
TEMPORAL_NAMESPACE, TEMPORAL_TLS_*, TEMPORAL_API_KEY or a profile file), so the same
worker joins the embedded server, a cluster or Temporal Cloud.
"""

from __future__ import annotations

import asyncio
import compileall
import contextlib
import logging
import os
import signal
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import structlog
from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.worker import Interceptor, Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.archive import ArchiveActivities
from activities.imports import ImportActivities
from activities.iopc import FileOutboxGateway, IopcActivities, IopcGateway
from activities.iopc_http import HttpIopcGateway
from activities.lookback import LookBackActivities
from activities.notifications import LogNotifier, NotificationActivities, Notifier
from activities.sent_log import OnceNotifier, SentLog
from activities.smtp import SmtpNotifier
from activities.start_proof import StartProofActivities
from dvds import logs
from dvds.audit.archiving import archive_closed_cases
from dvds.cases.lookback import ServerLookBackOpener
from dvds.connection.client import connect
from dvds.connection.keys import KeysError, load_keys
from dvds.connection.worker_codec import worker_client
from dvds.importer.durable import UploadedPages
from dvds.monitoring.interceptor import MonitoringInterceptor
from dvds.monitoring.metrics import DomainMetrics
from dvds.monitoring.serving import MetricsError, exposing_metrics, telemetry
from dvds.settings import Settings
from dvds.staff.directory import StaffFile, StaffFileError
from dvds.staff.signing import Ed25519Verifier
from states.archiving import archive_task_queue
from states.policy import preload_bank_holidays
from workflows.archive import ArchiveWorkflow
from workflows.case import CaseWorkflow
from workflows.claims import ClaimBoardWorkflow
from workflows.imports import ImportWorkflow
from workflows.organisational_referral import OrganisationalReferralWorkflow
from workflows.payload_gate import PayloadGate
from workflows.staff_gate import StaffGate, StaffLookup

logger = structlog.get_logger()

# Modules the workflow sandbox shares with the worker instead of importing afresh for
# each workflow. structlog: its JSON renderer imports lazily when the SDK logs a failed
# activation from inside the sandbox, which the sandbox refused (the line was lost).
# cryptography: the staff gate checks Ed25519 signatures in update validators, inside the
# sandbox's thread; the Rust binding imports its exception classes when a signature fails,
# and the sandbox's re-import of them aborted the whole worker process.
SANDBOX_PASSTHROUGH = ("structlog", "cryptography")
# workflows/: re-importing workflows/case.py (and introspecting its 22 handlers) for every
# case the worker started or replayed was the largest cost the case engine added to bare
# Temporal: 2.3 ms of CPU a time, against 0.15 ms passed through, and the largest share
# of the worker's memory per cached case (BENCHMARKS.md). The module keeps no state of
# its own (the case lives in each workflow instance; states/ is passed through already)
# and takes time and randomness only from `workflow`. The sandbox still isolates each
# workflow's event loop and restricts builtins. What passing it through gives up: calls
# the sandbox would refuse made from workflows/ itself (datetime.now, random, os, ...).
# `strict_sandbox` (DVDS_STRICT_SANDBOX=1) restores that check, and the test suite runs
# every workflow under it, so such a call fails the tests before it reaches a deployment.
WORKFLOWS_PASSTHROUGH = ("workflows",)
# The strict sandbox imports workflows/ afresh for every workflow it runs. With
# PYTHONDONTWRITEBYTECODE set, as containers often do, there is no .pyc and each import
# compiled case.py from source (a quarter of the worker's CPU in the first bench
# profile, when every worker ran that way). The bytecode is written once here.
WORKFLOW_SOURCES = Path(__file__).resolve().parent / "workflows"
# Working-day deadlines need bank holidays; loaded here, outside the sandbox (see
# states.policy.preload_bank_holidays). Years a deadline of a case alive now can fall in.
BANK_HOLIDAY_YEARS = range(datetime.now(UTC).year - 10, datetime.now(UTC).year + 21)


def activities_for(settings: Settings) -> Sequence[Callable[..., Any]]:
    """The activities with the channels the settings choose (defaults: log line, outbox)."""
    notifier: Notifier = LogNotifier()
    if settings.smtp.host:
        smtp = SmtpNotifier(settings.smtp.host, settings.smtp.port, settings.smtp.sender, settings.smtp.to)
        # A retried attempt never resends (the heartbeat's "sent" mark, activities/notifications.py);
        # this host's sent-log also drops a second activity for the same notice, which the case
        # still schedules after some of its own moves.
        notifier = OnceNotifier(smtp, SentLog(settings.sent_log))
    gateway: IopcGateway = FileOutboxGateway(settings.outbox)
    if settings.iopc.endpoint:
        token = settings.iopc.token.get_secret_value() if settings.iopc.token else None
        gateway = HttpIopcGateway(settings.iopc.endpoint, token)
    notifications = NotificationActivities(notifier)
    iopc = IopcActivities(gateway)
    return [notifications.notify_task_waiting, notifications.escalate, iopc.refer_to_iopc,
            notifications.alert_professional_standards]


def build_worker(
    client: Client,
    settings: Settings,
    task_queue: str | None = None,
    staff: StaffLookup | None = None,
    interceptors: Sequence[Interceptor] = (),
    channels: Sequence[Callable[..., Any]] | None = None,
    metrics: DomainMetrics | None = None,
) -> Worker:
    """`staff` defaults to the staff file (DVDS_STAFF_FILE or $DVDS_HOME/staff.json);
    without one the worker refuses to start rather than let anyone act. `interceptors`
    come after the payload and staff gates (the bench counts activities with one). `channels`
    replaces the notification and IOPC activities that `activities_for` picks (tests pass fakes).
    `metrics`: where refused tasks and escalations are counted (dvds/monitoring).

    The worker runs on its own view of `client`'s connection whose codec refuses, rather than
    fails on, anything not encrypted under the ring (dvds/connection/worker_codec.py)."""
    preload_bank_holidays(BANK_HOLIDAY_YEARS)
    gate = StaffGate(staff if staff is not None else StaffFile(settings.staff_path), Ed25519Verifier())
    # The archive's activity has its own queue (build_archiver); the archiver serves it here
    # too, for archive runs started before it had one.
    archiving = [_archive_activity(client, settings)] if settings.archiver else []
    # Log lines from workflows and activities carry the case keys (dvds/logs.py); the SDK's
    # appended dict of workflow or activity info would only repeat them.
    workflow.logger.workflow_info_on_message = False
    activity.logger.activity_info_on_message = False
    queue = task_queue or settings.task_queue
    # A confirmed failure's look-backs are cases started through the client, as the archive reads through it.
    look_backs = LookBackActivities(ServerLookBackOpener(client, settings, queue))
    return Worker(
        worker_client(client, partial(load_keys, settings)),
        task_queue=queue,
        workflows=[CaseWorkflow, ArchiveWorkflow, ClaimBoardWorkflow, OrganisationalReferralWorkflow, ImportWorkflow],
        activities=[
            *(channels if channels is not None else activities_for(settings)),
            *archiving,
            StartProofActivities(gate.proof_refusal).check_start_proof,
            look_backs.open_look_backs,
            _import_activity(client, settings.model_copy(update={"task_queue": queue})),
        ],
        # The counter first, so it sees the payload and staff gates' refusals as well as the case's own.
        interceptors=[
            *([MonitoringInterceptor(metrics)] if metrics is not None else []),
            PayloadGate(),
            gate,
            *interceptors,
        ],
        max_cached_workflows=settings.max_cached_cases,
        workflow_runner=sandbox(strict=settings.strict_sandbox),
    )


def _import_activity(client: Client, settings: Settings) -> Callable[..., Any]:
    """Imports uploaded through the web inbox (DVDS_HOME/imports), their cases started on `settings`' queue."""
    return ImportActivities(UploadedPages(client, settings, partial(load_keys, settings))).start_import_page


def _archive_activity(client: Client, settings: Settings) -> Callable[..., Any]:
    return ArchiveActivities(partial(archive_closed_cases, client), settings.archive_dir).archive_closed_cases


def build_archiver(client: Client, settings: Settings, task_queue: str | None = None) -> Worker:
    """The archive's worker, on the archive's own task queue beside the case queue
    (`task_queue`, default the settings'): run by one designated host (DVDS_ARCHIVER), the
    one whose disk holds the archive, so the hash chain has one writer."""
    return Worker(
        client,
        task_queue=archive_task_queue(task_queue or settings.task_queue),
        activities=[_archive_activity(client, settings)],
    )


@contextlib.asynccontextmanager
async def case_workers(client: Client, settings: Settings, **build: Any) -> AsyncIterator[Worker]:
    """The case worker (build_worker's arguments) and, on the archiver, the archive's
    worker beside it, for as long as the block runs; yields the case worker."""
    worker = build_worker(client, settings, **build)
    async with worker:
        if not settings.archiver:
            yield worker
            return
        async with build_archiver(client, settings, worker.task_queue):
            yield worker


def sandbox(strict: bool) -> SandboxedWorkflowRunner:
    """The workflow sandbox: workflows/ passed through, or with `strict`, re-imported
    with every restriction for each workflow (tests, replay checks)."""
    if strict:  # only the strict sandbox imports workflows/ per workflow, so only it needs the bytecode
        compileall.compile_dir(WORKFLOW_SOURCES, quiet=2)  # a read-only install keeps compiling; it still works
    passthrough = SANDBOX_PASSTHROUGH if strict else SANDBOX_PASSTHROUGH + WORKFLOWS_PASSTHROUGH
    return SandboxedWorkflowRunner(restrictions=SandboxRestrictions.default.with_passthrough_modules(*passthrough))


async def run_worker(settings: Settings) -> None:
    """Run until SIGINT or SIGTERM, then shut down gracefully: in-flight activities
    finish and the server hands this worker's cases to the next one at once. Serves its
    metrics when DVDS_METRICS_PORT is set."""
    found = telemetry(settings)
    client = await connect(settings, runtime=found.runtime)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with (
        case_workers(client, settings, metrics=found.metrics) as worker,
        exposing_metrics(settings, found, client) as metrics_address,
    ):
        logger.info("worker started", task_queue=worker.task_queue, archiver=settings.archiver,
                    metrics=metrics_address)
        await stop.wait()
    logger.info("worker stopped", task_queue=worker.task_queue)


def main() -> None:
    logs.configure()
    code = 0
    try:
        asyncio.run(run_worker(Settings()))
    except (KeysError, StaffFileError, MetricsError) as err:
        logger.error("worker not started", error=str(err))
        code = 1
    # Leave without CPython's finalisation, which the Temporal core's threads can
    # abort (temporalio/sdk-python issue #300); the worker has shut down by now.
    logging.shutdown()
    os._exit(code)


if __name__ == "__main__":
    main()
