"""What every client (CLI, web, importer) does with cases, in one place.

Starts cases with the policy in force fixed into them, submits tasks as workflow
updates, reads snapshots, and lists cases and pending tasks through visibility queries.
"""

from __future__ import annotations

import base64
import secrets
import tomllib
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowFailureError,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from dvds.cases.listing import CaseListing, list_all, list_rows
from dvds.cases.subject_index import client_keys, matching_query, subject_keys
from dvds.connection.client import connect
from dvds.errors import ReadableError
from dvds.settings import Settings
from states.case_ref import CASE_REF_RULE, is_case_ref, workflow_id
from states.messages import CaseFile, TaskInput
from states.models import Application
from states.policy import DeadlinePolicy, default_policy
from states.proof import CASE_START
from states.record import Actor, CaseInput, CaseSnapshot
from states.roles import TASK_ROLE, Role, Task
from states.tasks import TASK_MODEL
from workflows import search

if TYPE_CHECKING:  # a read signs nothing: the signers (and their cryptography) load when a task is signed
    from dvds.staff.signers import Signer

# The case workflow by its type name: a client names it, it need not load the workflow's
# code (and everything that code imports) to start or read a case.
CASE_WORKFLOW = "CaseWorkflow"


class CaseError(ReadableError):
    """An error a person should read: it names the field or rule, never a value."""


class Started(BaseModel):
    """A case just started, and the earlier cases about the same subject (blind index)."""

    ref: str
    same_subject_as: list[str]


class CasePage(BaseModel):
    cases: list[CaseListing]
    next_token: str | None


def load_policy(settings: Settings) -> DeadlinePolicy:
    if settings.policy_file is None:
        return default_policy()
    # A bad policy file is refused with its rule, before any case starts under it.
    try:
        return DeadlinePolicy.from_toml(settings.policy_file.read_text())
    except tomllib.TOMLDecodeError as err:
        raise CaseError(f"policy_file: {settings.policy_file} is not valid TOML ({err})") from None
    except ValidationError as err:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in err.errors(include_input=False)
        )
        raise CaseError(f"policy_file: {settings.policy_file}: {problems}") from None


def new_ref(now: datetime) -> str:
    return f"DVDS-{now.year}-{secrets.randbelow(10**8):08d}"


async def open_cases(settings: Settings, signer: Signer | None = None) -> CaseClient:
    """A CaseClient connected as the settings say (address from envconfig, their key ring)."""
    return CaseClient(await connect(settings), settings, signer=signer)


class CaseClient:
    """`signer` signs what this client submits (dvds/staff/signers.py); a call may pass its own."""

    def __init__(
        self, client: Client, settings: Settings, policy: DeadlinePolicy | None = None, signer: Signer | None = None
    ) -> None:
        self.client = client
        self.settings = settings
        self._policy = policy
        self.signer = signer

    @property
    def policy(self) -> DeadlinePolicy:
        """The policy in force, read when first needed (a read of a case needs none)."""
        if self._policy is None:
            self._policy = load_policy(self.settings)
        return self._policy

    def _signer(self, given: Signer | None, staff_id: str) -> Signer:
        signer = given or self.signer
        if signer is None:
            raise CaseError(f"credential: nothing to sign with as {staff_id}; enrol with `dvds staff enrol {staff_id}`")
        return signer

    # ---- writing ---------------------------------------------------------------

    async def start(self, case: CaseInput, signer: Signer | None = None) -> WorkflowHandle[Any, CaseSnapshot]:
        """Start a case with the policy in force, signed by the operator it names. A ref
        already in use is refused."""
        if case.started_by is not None and case.proof is None:
            proof = self._signer(signer, case.started_by.id).sign(
                case.ref, CASE_START, case.started_by, case.application
            )
            case = case.model_copy(update={"proof": proof})
        ring = client_keys(self.client)
        blind = subject_keys(case.application.subject, ring) if ring and not case.subject_keys else case.subject_keys
        # The calendar too is fixed now, in the start itself: no later version moves its deadlines.
        policy = (case.policy or self.policy).with_calendar()
        case = case.model_copy(update={"policy": policy, "subject_keys": blind})
        # The domain's case only to preview its first search attributes; imported here so a
        # command that only reads (case show, lists) does not load the deadline machinery.
        from states.case import Case

        preview = Case(case, case.policy or self.policy, datetime.now(UTC)).snapshot(datetime.now(UTC))
        try:
            return await self.client.start_workflow(
                CASE_WORKFLOW,
                case,
                result_type=CaseSnapshot,
                id=workflow_id(case.ref),
                task_queue=self.settings.task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
                search_attributes=search.initial(preview, case.subject_keys),
            )
        except WorkflowAlreadyStartedError:
            # The SDK turns the server's ALREADY_EXISTS into this; the RPCError is the fallback.
            raise CaseError(f"ref: a case {case.ref} already exists") from None
        except RPCError as err:
            if err.status is RPCStatusCode.ALREADY_EXISTS:
                raise CaseError(f"ref: a case {case.ref} already exists") from None
            raise

    async def start_application(
        self, application: Application, operator: str, ref: str | None = None, signer: Signer | None = None
    ) -> Started:
        """Start a case for a new application recorded (and signed) by `operator`; a new
        reference if none given."""
        case = CaseInput(
            ref=ref or new_ref(datetime.now(UTC)),
            application=application,
            started_by=Actor(id=operator, role=Role.operator),
        )
        await self.start(case, signer)
        ring = client_keys(self.client)
        earlier = await self.linked_cases(case.ref, subject_keys(application.subject, ring)) if ring else []
        return Started(ref=case.ref, same_subject_as=earlier)

    async def complete(
        self, ref: str, task: Task, actor: Actor, submission: dict[str, Any], signer: Signer | None = None
    ) -> CaseSnapshot:
        """Validate the submission against its model here, sign it, then submit it as an update."""
        model = TASK_MODEL[task]
        validated = model.model_validate(submission)
        proof = self._signer(signer, actor.id).sign(ref, task, actor, validated)
        typed = TaskInput[model](actor=actor, submission=validated, proof=proof)  # type: ignore[valid-type]
        try:
            return await self.handle(ref).execute_update(str(task), typed, result_type=CaseSnapshot)
        except WorkflowUpdateFailedError as err:
            cause = err.cause
            message = cause.message if isinstance(cause, ApplicationError) else str(cause)
            raise CaseError(f"{task} refused: {message}") from None
        except RPCError as err:
            if err.status is RPCStatusCode.NOT_FOUND:  # also what the server says of a closed case
                raise CaseError(await self._closed_or_missing(ref, task)) from None
            raise CaseError(_rpc_message(ref, err)) from None

    async def _closed_or_missing(self, ref: str, task: Task) -> str:
        try:
            described = await self.handle(ref).describe()
        except RPCError:
            return f"ref: no case {ref} on this server"
        if described.status is WorkflowExecutionStatus.RUNNING:
            return f"case busy: {ref} did not take the {task}; nothing changed, try again"
        closed = described.close_time.isoformat(timespec="minutes") if described.close_time else "earlier"
        what = "closed" if described.status is WorkflowExecutionStatus.COMPLETED else "not open"
        return f"ref: case {ref} is {what} (since {closed}); a {task} cannot be sent to it; nothing changed"

    # ---- reading ---------------------------------------------------------------

    def handle(self, ref: str) -> WorkflowHandle[Any, CaseSnapshot]:
        return self.client.get_workflow_handle(case_workflow_id(ref), result_type=CaseSnapshot)

    async def snapshot(self, ref: str) -> CaseSnapshot:
        handle = self.handle(ref)
        try:
            description = await handle.describe()
            if description.status is WorkflowExecutionStatus.FAILED:
                raise CaseError(await _refused_message(handle))
            if description.status is WorkflowExecutionStatus.COMPLETED:
                snap = await handle.result()
            else:
                snap = await handle.query("snapshot", result_type=CaseSnapshot)
        except RPCError as err:
            raise CaseError(_rpc_message(ref, err)) from None
        keys = list(description.typed_search_attributes.get(search.SUBJECT_KEYS) or [])
        return snap.model_copy(update={"linked_cases": await self.linked_cases(ref, keys)})

    async def linked_cases(self, ref: str, keys: list[str]) -> list[str]:
        """Other cases about the same subject (any name or date of birth in common),
        found through the blind index: oldest first."""
        if not keys:
            return []
        found = await self.list_cases(matching_query(keys, ref))
        far = datetime.max.replace(tzinfo=UTC)
        return [c.ref for c in sorted(found, key=lambda c: (c.received_at or far, c.ref))]

    async def case_file(self, ref: str) -> CaseFile:
        try:
            return await self.handle(ref).query("case_file", result_type=CaseFile)
        except RPCError as err:
            raise CaseError(_rpc_message(ref, err)) from None

    def case_query(self, query: str = "") -> str:
        """`query` narrowed to cases. A run the worker refused (not encrypted under the ring,
        or a start it could not take) is not a case, whatever attributes its starter gave it:
        the worker marks it refused."""
        clauses = [f"WorkflowType = '{CASE_WORKFLOW}'", f"DvdsState != '{search.REFUSED}'"]
        return " AND ".join(clauses + ([f"({query})"] if query else []))

    async def count_cases(self, query: str = "") -> int:
        try:
            return (await self.client.count_workflows(self.case_query(query))).count
        except RPCError as err:
            raise CaseError(_rpc_message("", err)) from None

    async def list_cases(self, query: str = "", limit: int | None = None) -> list[CaseListing]:
        return await list_all(self.client, self.case_query(query), limit)

    async def page_cases(self, query: str = "", size: int = 100, token: str | None = None) -> CasePage:
        """One page of the cases `query` matches, in the server's order (newest first)."""
        try:
            server = base64.urlsafe_b64decode(token.encode()) if token else None
        except ValueError:
            raise CaseError("page-token: not a page token this list gave") from None
        try:
            cases, more = await self.list_page(query, size, server)
        except RPCError as err:
            if err.status is RPCStatusCode.INVALID_ARGUMENT and token:
                raise CaseError("page-token: not a page token this list gave") from None
            raise CaseError(_rpc_message("", err)) from None
        return CasePage(cases=cases, next_token=base64.urlsafe_b64encode(more).decode() if more else None)

    async def list_page(
        self, query: str, size: int, server_token: bytes | None = None
    ) -> tuple[list[CaseListing], bytes | None]:
        """One page of the cases `query` matches and the server's token for the next (None at
        the end). The server's refusals are raised as they come."""
        rows, more = await list_rows(self.client, self.case_query(query), size, server_token)
        return rows, more or None

    def work_query(self, roles: list[str] | None = None) -> str:
        """Open cases of this deployment waiting on a task for any of `roles` (any role when None)."""
        # Scoped to this deployment's task queue: other deployments (or test runs) may
        # share the namespace, and their cases are not this team's work.
        # Open as "CloseTime IS NULL", not "ExecutionStatus = 'Running'": the same runs, but
        # SQLite's planner then reads the priority's or deadline's own index, where an equality on
        # the status would have it read every running case for each count.
        query = f"CloseTime IS NULL AND TaskQueue = '{self.settings.task_queue.replace(chr(39), '')}'"
        names = [_quoted(r) for r in roles] if roles else sorted({str(r) for r in TASK_ROLE.values()})
        return query + f" AND {search.PENDING_ROLES.name} IN ({', '.join(repr(n) for n in names)})"

    async def pending_tasks(self, role: str | None = None, limit: int | None = None) -> list[CaseListing]:
        """Every open case waiting on a task, in the order staff should take them: the
        historical review queue by priority, then nearest deadline first. The reference for
        dvds/cases/paging.py, which reads the same a page at a time."""
        cases = [c for c in await self.list_cases(self.work_query([role] if role else None), limit) if c.pending_tasks]
        far = datetime.max.replace(tzinfo=UTC)
        return sorted(cases, key=lambda c: (c.priority or "9", c.next_due or far, c.ref))


def case_workflow_id(ref: str) -> str:
    """The workflow id of the case with this reference; a reference no force could write is
    refused naming the field and the rule."""
    if not is_case_ref(ref):
        raise CaseError(f"ref: {CASE_REF_RULE}")
    return workflow_id(ref)


async def _refused_message(handle: WorkflowHandle[Any, Any]) -> str:
    """A run that failed was refused by the worker (a case never fails otherwise): say why."""
    try:
        await handle.result()
    except WorkflowFailureError as failed:
        cause = failed.cause
        if isinstance(cause, ApplicationError):
            return f"ref: {handle.id} is not a case; it was refused when it started: {cause.message}"
    return f"ref: {handle.id} is not a case; it ended without a result"


def _quoted(value: str) -> str:
    if not value.replace("_", "").isalnum():
        raise CaseError("role: must be a role name such as reviewer")
    return value


def _rpc_message(ref: str, err: RPCError) -> str:
    if err.status is RPCStatusCode.NOT_FOUND:
        return f"ref: no case {ref} on this server"
    if err.status is RPCStatusCode.RESOURCE_EXHAUSTED:
        # Temporal holds at most 10 submissions in flight per case; the SDK has already
        # retried with backoff for about 10 s. Nothing was applied, so trying again is safe.
        return f"case busy: {ref} has too many submissions waiting (is a worker running?); nothing changed, try again"
    if err.status is RPCStatusCode.UNAVAILABLE:
        # E.g. "workflow update was aborted": submissions held while no worker ran were let go.
        return f"case busy: the server did not take the submission to {ref}; check `dvds case show {ref}`, try again"
    return server_refusal(err)


# What a server under load answers: it dropped or timed out the request, or rate-limited it.
BUSY = {RPCStatusCode.CANCELLED, RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.RESOURCE_EXHAUSTED,
        RPCStatusCode.UNAVAILABLE}


def server_refusal(err: RPCError) -> str:
    """A refusal by the server, for people: busy (and what to do), or what it refused."""
    if err.status in BUSY:
        return (f"server busy ({err.status.name}): nothing changed; try again in a minute. If it keeps "
                "happening, the server is overloaded or down: see its log ($DVDS_HOME/temporal-server.log)")
    return f"the server refused the request ({err.status.name})"
