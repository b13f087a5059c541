"""The import behind the web page: an upload checked and stored (a dry run), then imported
by ImportWorkflow (workflows/imports.py), one page of its plan at a time, on the worker.

Every page reads the stored file again and plans it against the day of the dry run, so
each page sees the same rows in the same order, whichever worker runs it and whenever.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from zoneinfo import ZoneInfo

from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from dvds.cases.client import CaseClient
from dvds.connection.keys import KeyRing
from dvds.importer.export import Plan, plan_import
from dvds.importer.files import check_kind
from dvds.importer.pacing import DEFAULT_BACKLOG
from dvds.importer.profile import load_profile
from dvds.importer.rows import RowContext
from dvds.importer.run import Tally, run_import
from dvds.importer.uploads import Upload, UploadStore, imports_dir, new_upload_id
from dvds.settings import Settings
from states.imports import (
    ImportCounts,
    ImportInput,
    ImportPage,
    ImportProgress,
    PageResult,
    RowProblem,
    import_workflow_id,
)
from states.policy import DeadlinePolicy

IMPORT_WORKFLOW = "ImportWorkflow"


def store_for(settings: Settings, keys: KeyRing) -> UploadStore:
    return UploadStore(imports_dir(settings.home), keys)


def _plan(data: bytes, upload: Upload, timezone: str, key: bytes) -> Plan:
    profile = load_profile(upload.profile_text) if upload.profile_text is not None else None
    context = RowContext(today=upload.today, timezone=timezone)
    return plan_import(data, context, profile=profile, sheet=upload.sheet, digest_key=key)


def dry_run(store: UploadStore, policy: DeadlinePolicy, data: bytes, file_name: str, uploaded_by: str, *,
            sheet: str | None = None, profile_name: str | None = None,
            profile_text: str | None = None) -> tuple[str, Upload]:
    """Check the file as the import will read it and keep it (encrypted) for the import;
    ExportError (or ProfileError) before anything is kept when it cannot be read at all."""
    check_kind(file_name, data, sheet)
    upload = Upload(file_name=file_name, sheet=sheet, profile_name=profile_name, profile_text=profile_text,
                    uploaded_by=uploaded_by, today=datetime.now(ZoneInfo(policy.timezone)).date(),
                    rows_read=0, to_start=0, repeats=0)
    plan = _plan(data, upload, policy.timezone, store.keys.index_secret)
    upload = upload.model_copy(update={
        "rows_read": plan.rows_read, "to_start": len(plan.to_start), "repeats": len(plan.repeats),
        "rejects": [RowProblem(line=r.line, case_ref=r.case_ref, reason=r.reason) for r in plan.rejects],
    })
    upload_id = new_upload_id()
    store.save(upload_id, data, upload)
    return upload_id, upload


class UploadedPages:
    """Starts the pages of stored uploads (the activity's injected starter). Keeps the last
    upload's plan, so the pages of one import do not each read and check the whole file."""

    def __init__(self, client: Client, settings: Settings, keys: Callable[[], KeyRing]) -> None:
        self.cases = CaseClient(client, settings)
        self.settings = settings
        self.keys = keys  # read when a page first needs them, as the worker's codec reads its ring
        self._cached: tuple[tuple[str, date], Plan] | None = None

    @property
    def store(self) -> UploadStore:
        return store_for(self.settings, self.keys())

    def plan(self, upload_id: str, today: date) -> Plan:
        if self._cached is not None and self._cached[0] == (upload_id, today):
            return self._cached[1]
        upload = self.store.upload(upload_id)
        plan = _plan(self.store.export(upload_id), upload.model_copy(update={"today": today}),
                     self.cases.policy.timezone, self.store.keys.index_secret)
        self._cached = ((upload_id, today), plan)
        return plan

    async def __call__(self, page: ImportPage, heartbeat: Callable[[int], None]) -> PageResult:
        rows = self.plan(page.import_id, page.today).to_start[page.offset:page.offset + page.size]
        part = Plan(rows_read=len(rows), to_start=rows)
        tally = Tally(rows_read=len(rows))
        await run_import(self.cases, part, tally, on_row=lambda _: heartbeat(tally.done), backlog=DEFAULT_BACKLOG)
        counts = ImportCounts(started=len(tally.started), already_imported=len(tally.already_imported),
                              changed=len(tally.changed), rejected=len(tally.rejects))
        problems = [RowProblem(line=r.line, case_ref=r.case_ref, reason=r.reason) for r in tally.not_started()]
        return PageResult(counts=counts, problems=problems)


async def begin_import(client: Client, settings: Settings, upload_id: str, upload: Upload, confirmed_by: str) -> None:
    """Start the import of a checked upload; confirming it again starts nothing more."""
    start = ImportInput(import_id=upload_id, to_start=upload.to_start, today=upload.today, confirmed_by=confirmed_by)
    try:
        await client.start_workflow(
            IMPORT_WORKFLOW, start, id=import_workflow_id(upload_id), task_queue=settings.task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE, id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
        )
    except WorkflowAlreadyStartedError:
        pass  # confirmed before (another tab, a double click): the one import carries on
    except RPCError as err:
        if err.status is not RPCStatusCode.ALREADY_EXISTS:
            raise


async def import_progress(client: Client, upload_id: str) -> ImportProgress | None:
    """How far the import has got; None before it is confirmed."""
    handle = client.get_workflow_handle(import_workflow_id(upload_id), result_type=ImportProgress)
    try:
        description = await handle.describe()
        if description.status is WorkflowExecutionStatus.COMPLETED:
            return await handle.result()
        progress = await handle.query("progress", result_type=ImportProgress)
        if description.status not in (WorkflowExecutionStatus.RUNNING, WorkflowExecutionStatus.CONTINUED_AS_NEW):
            status = description.status.name.lower() if description.status else "stopped"
            return progress.model_copy(update={"stopped": status})
        return progress
    except RPCError as err:
        if err.status is RPCStatusCode.NOT_FOUND:
            return None
        raise
