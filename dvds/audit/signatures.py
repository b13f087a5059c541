"""Re-checking, from the event history alone, that every task a case took was signed by the
person it names: what an auditor, a court or the IOPC relies on years later.

Each accepted task's submission is read back from its update event, its claim rebuilt
(case, task, actor, the submission's digest) and its proof checked against the staff
directory as it is now (states/proof.py `proof_refusal`: keys as they were valid at the
signing time, so rotated and revoked keys still verify what they signed before). A case's
start is checked too when it names its operator. A nonce used twice on one case is a failure
wherever the two uses are. Tasks recorded before proofs existed fail by `signature_missing`:
they were never proven, and the check says so rather than pass them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client, WorkflowHistory
from temporalio.converter import DataConverter, WorkflowSerializationContext
from temporalio.service import RPCError, RPCStatusCode

from activities.archive_store import Archive, ArchiveRecord
from dvds.audit.archiving import CLOSED_CASES
from dvds.audit.runs import case_runs
from dvds.cases.client import CaseError, case_workflow_id
from dvds.connection.client import connect
from dvds.settings import Settings
from dvds.staff.directory import read_staff
from dvds.staff.signing import Ed25519Verifier
from states.admission import start_claim
from states.messages import TaskInput
from states.proof import CASE_START, Claim, ProofRefusal, ProofRule, Verifier, WebChannel, proof_refusal
from states.record import CaseInput
from states.roles import Task
from states.staff import StaffDirectory
from states.tasks import TASK_MODEL

UNREADABLE = "submission_unreadable"


class TaskCheck(BaseModel):
    """One task (or a case's start) and whether its proof holds."""

    ref: str
    run_id: str
    run: int = Field(description="Which run of the case: 1, then 2 after a continue-as-new... (as the timeline's)")
    event_id: int
    at: datetime
    task: str
    actor: str | None
    role: str | None
    channel: str | None = None  # "cli" (the member's own key) or "web" (the inbox's service key)
    sign_in: str | None = None  # for the web: "password" or "sso"
    key_id: str | None = None
    verified: bool
    rule: str | None = None
    reason: str | None = None


class SignatureReport(BaseModel):
    checks: list[TaskCheck]
    sources: list[str]

    @property
    def failures(self) -> list[TaskCheck]:
        return [c for c in self.checks if not c.verified]


class _Checker:
    def __init__(self, directory: StaffDirectory, verifier: Verifier) -> None:
        self.directory = directory
        self.verifier = verifier
        self.nonces: dict[tuple[str, str], tuple[int, int]] = {}  # (ref, nonce) -> (run, event id) of its first use
        self.run = 1

    async def case(self, runs: list[WorkflowHistory], converter: DataConverter, namespace: str) -> list[TaskCheck]:
        """Every run of one case, oldest first."""
        checks: list[TaskCheck] = []
        for number, history in enumerate(runs, start=1):
            self.run = number
            checks += await self.history(history, converter, namespace)
        return checks

    async def history(self, history: WorkflowHistory, converter: DataConverter, namespace: str) -> list[TaskCheck]:
        converter = converter.with_context(WorkflowSerializationContext(namespace, history.workflow_id))
        checks: list[TaskCheck] = []
        ref = history.workflow_id
        accepted: dict[int, tuple[str, Any]] = {}
        for event in history.events:
            if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
                attrs = event.workflow_execution_started_event_attributes
                [start] = await converter.decode(attrs.input.payloads, [CaseInput])
                ref = start.ref
                check = self._start(start, history.run_id, event)
                if check is not None:
                    checks.append(check)
            elif event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
                request = event.workflow_execution_update_accepted_event_attributes.accepted_request
                raw = await converter.decode(request.input.args.payloads)
                accepted[event.event_id] = (request.input.name, raw[0] if raw else None)
            elif event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED:
                completed = event.workflow_execution_update_completed_event_attributes
                found = accepted.pop(completed.accepted_event_id, None)
                if found is not None and completed.outcome.HasField("success") and found[0] in Task.__members__:
                    checks.append(self._task(ref, history.run_id, completed.accepted_event_id, event, *found))
        return checks

    def _start(self, start: CaseInput, run_id: str, event: HistoryEvent) -> TaskCheck | None:
        claim = start_claim(start)
        if start.resume is not None or claim is None:
            return None  # a continued run (checked in its first), or an import naming nobody
        refused = proof_refusal(start.proof, claim, self.directory, self.verifier)
        return self._checked(start.ref, run_id, event.event_id, event, CASE_START, claim.actor.id,
                             str(claim.actor.role), start.proof, refused.rule if refused else None)

    def _task(self, ref: str, run_id: str, event_id: int, event: HistoryEvent, name: str, raw: Any) -> TaskCheck:
        task = Task(name)
        try:
            submitted = TaskInput[TASK_MODEL[task]].model_validate(raw)  # type: ignore[misc,valid-type]
        except ValidationError:
            return TaskCheck(ref=ref, run_id=run_id, run=self.run, event_id=event_id, at=_at(event), task=name,
                             actor=None, role=None, verified=False, rule=UNREADABLE,
                             reason="the submission does not parse")
        refused = proof_refusal(submitted.proof, _claim(ref, task, submitted), self.directory, self.verifier)
        return self._checked(ref, run_id, event_id, event, name, submitted.actor.id, str(submitted.actor.role),
                             submitted.proof, refused.rule if refused else None)

    def _checked(self, ref: str, run_id: str, event_id: int, event: HistoryEvent, task: str, actor: str, role: str,
                 proof: Any, rule: ProofRule | None) -> TaskCheck:
        if rule is None and proof is not None:
            first = self.nonces.setdefault((ref, proof.nonce), (self.run, event_id))
            if first != (self.run, event_id):
                rule = ProofRule.nonce_seen
        channel = proof.channel if proof is not None else None
        return TaskCheck(
            ref=ref, run_id=run_id, run=self.run, event_id=event_id, at=_at(event), task=task, actor=actor, role=role,
            channel=channel.kind if channel else None,
            sign_in=str(channel.sign_in) if isinstance(channel, WebChannel) else None,
            key_id=channel.key_id if channel else None,
            verified=rule is None, rule=str(rule) if rule else None,
            reason=_reason(rule),
        )


def _claim(ref: str, task: Task, submitted: TaskInput[Any]) -> Claim:
    return Claim.of(ref, task, submitted.actor, submitted.submission)


def _reason(rule: ProofRule | None) -> str | None:
    return ProofRefusal(rule).message if rule is not None else None


def _at(event: HistoryEvent) -> datetime:
    return event.event_time.ToDatetime().replace(tzinfo=UTC)


def _archived(record: ArchiveRecord) -> list[WorkflowHistory]:
    return [WorkflowHistory.from_json(record.ref, run) for run in [*record.earlier_runs, record.history]]


async def verify_case(
    client: Client, ref: str, archive_dir: Path, directory: StaffDirectory, verifier: Verifier
) -> SignatureReport:
    """Every run of one case: from the server, or (once the server has none) from the archive."""
    checker = _Checker(directory, verifier)
    try:
        runs = await case_runs(client, case_workflow_id(ref))
    except RPCError as err:
        if err.status is not RPCStatusCode.NOT_FOUND:
            raise CaseError(f"the server refused the request ({err.status.name})") from None
    else:
        return SignatureReport(checks=await checker.case(runs, client.data_converter, client.namespace),
                               sources=["server"])
    record = Archive(archive_dir).find(case_workflow_id(ref))  # archived under the workflow id
    if record is None:
        raise CaseError(f"ref: no case {ref} on this server or in the archive at {archive_dir}")
    checks = await checker.case(_archived(record), client.data_converter, client.namespace)
    return SignatureReport(checks=checks, sources=[f"archive record {record.seq}"])


async def verify_all(
    client: Client, archive_dir: Path, directory: StaffDirectory, verifier: Verifier
) -> SignatureReport:
    """Every closed case on the server (all its runs) and every case in the archive not on it."""
    checker = _Checker(directory, verifier)
    checks: list[TaskCheck] = []
    done: set[tuple[str, str]] = set()
    async for execution in client.list_workflows(CLOSED_CASES, page_size=1000):
        done.add((execution.id, execution.run_id))
        runs = await case_runs(client, execution.id, execution.run_id)
        checks += await checker.case(runs, client.data_converter, client.namespace)
    archived = 0
    for record in Archive(archive_dir).records():
        if (record.ref, record.run_id) in done:
            continue
        done.add((record.ref, record.run_id))
        archived += 1
        checks += await checker.case(_archived(record), client.data_converter, client.namespace)
    return SignatureReport(checks=checks, sources=[f"server ({len(done) - archived} closed cases)",
                                                   f"archive ({archived} cases not on the server)"])


async def verify_signatures(settings: Settings, ref: str | None, archive_dir: Path | None = None) -> SignatureReport:
    """What `dvds audit verify-signatures` runs: one case (`ref`), or with None every closed
    case and the archive, against the staff directory as the settings name it."""
    client = await connect(settings)
    directory = read_staff(settings.staff_path)
    archive = archive_dir or settings.archive_dir
    if ref is None:
        return await verify_all(client, archive, directory, Ed25519Verifier())
    return await verify_case(client, ref, archive, directory, Ed25519Verifier())
