"""ClaimBoardWorkflow: who has claimed which open task, for every web host at once.

One board per deployment (workflow id `claim_board_id(task_queue)`), started by the first
claim (update-with-start). Claims live on the server, not on a web host's disk, so two web
hosts behind a load balancer see the same claims.

Updates: claim (refused, with its validator, when someone else holds the task), release
    (refused unless by the holder or a supervisor), forget (the task was done)
Queries: claims
Timers: none. Continues as new past its history limit, carrying the claims.
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from states.claims import Claim, ClaimBoardInput, ClaimRequest, claim_refusal, release_refusal
    from states.payloads import RefusedPayload

CLAIM_TAKEN = "ClaimTaken"


def claim_board_id(task_queue: str) -> str:
    """The board of the deployment whose cases run on `task_queue`."""
    return f"dvds-claims-{task_queue}"


def _refuse(reason: str | None) -> None:
    if reason is not None:
        raise ApplicationError(reason, type=CLAIM_TAKEN, non_retryable=True)


@workflow.defn
class ClaimBoardWorkflow:
    @workflow.init
    def __init__(self, start: ClaimBoardInput) -> None:
        self.claims: dict[tuple[str, str], Claim] = {}
        if isinstance(start, RefusedPayload):
            return  # not encrypted under the ring: the payload gate ends the run before it runs
        self.claims = {(c.ref, str(c.task)): c for c in start.claims}

    @workflow.run
    async def run(self, start: ClaimBoardInput) -> None:
        def long() -> bool:
            info = workflow.info()
            return info.is_continue_as_new_suggested() or info.get_current_history_length() >= start.history_limit

        await workflow.wait_condition(lambda: long() and workflow.all_handlers_finished())
        workflow.continue_as_new(ClaimBoardInput(claims=list(self.claims.values()), history_limit=start.history_limit))

    @workflow.query
    def all_claims(self) -> list[Claim]:
        return list(self.claims.values())

    def _held(self, request: ClaimRequest) -> Claim | None:
        return self.claims.get((request.ref, str(request.task)))

    @workflow.update
    def claim(self, request: ClaimRequest) -> Claim:
        held = self._held(request)
        # Checked again: two claims validated in one workflow task both passed, before either applied.
        _refuse(claim_refusal(held, request))
        if held is not None:
            return held  # the requester's own claim
        claim = Claim(ref=request.ref, task=request.task, staff_id=request.staff_id, claimed_at=workflow.now())
        self.claims[(request.ref, str(request.task))] = claim
        return claim

    @claim.validator
    def _check_claim(self, request: ClaimRequest) -> None:
        _refuse(claim_refusal(self._held(request), request))

    @workflow.update
    def release(self, request: ClaimRequest) -> None:
        self.claims.pop((request.ref, str(request.task)), None)

    @release.validator
    def _check_release(self, request: ClaimRequest) -> None:
        _refuse(release_refusal(self._held(request), request))

    @workflow.update
    def forget(self, request: ClaimRequest) -> None:
        self.claims.pop((request.ref, str(request.task)), None)
