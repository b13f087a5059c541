"""ImportWorkflow: an export uploaded through the web inbox, imported a page at a time.

The batch pattern of samples-python's batch_sliding_window, fitted to cases that are
their own workflows: an activity reads one page of the stored upload and starts its
cases (idempotently, paced on the worker), the workflow keeps the counts and continues
as new every `pages_per_run` pages so its history stays small. Closing the page or
restarting the web app neither stops nor repeats it; a page retried after a crash
finds the cases it had started and counts them as already imported.

Activities: start_import_page. Queries: progress. No updates, no timers.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.imports import ImportActivities
    from states.imports import ImportCounts, ImportInput, ImportPage, ImportProgress


@workflow.defn
class ImportWorkflow:
    def __init__(self) -> None:
        self.state: ImportInput | None = None

    @workflow.run
    async def run(self, start: ImportInput) -> ImportProgress:
        self.state = start
        pages = 0
        while self.state.offset < self.state.to_start:
            if pages >= self.state.pages_per_run or workflow.info().is_continue_as_new_suggested():
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(self.state)
            state = self.state
            size = min(state.page_size, state.to_start - state.offset)
            result = await workflow.execute_activity_method(
                ImportActivities.start_import_page,
                ImportPage(import_id=state.import_id, today=state.today, offset=state.offset, size=size),
                start_to_close_timeout=timedelta(hours=1),
                heartbeat_timeout=timedelta(minutes=2),
                retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=1),
                                         non_retryable_error_types=["UploadGone"]),
            )
            self.state = state.model_copy(update={
                "offset": state.offset + size,
                "counts": state.counts.plus(result.counts),
                "problems": [*state.problems, *result.problems],
            })
            pages += 1
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.progress()

    @workflow.query
    def progress(self) -> ImportProgress:
        state = self.state
        if state is None:
            return ImportProgress(to_start=0, counts=ImportCounts())
        return ImportProgress(to_start=state.to_start, counts=state.counts, problems=state.problems,
                              finished=state.offset >= state.to_start)
