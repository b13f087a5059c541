"""Checking the proof a case's start carries, once, when the case first runs.

A local activity, so its verdict is recorded in the case's history: the staff directory may
change (a key revoked, a leaver made inactive) and a replay must still see the verdict the
case was started under. The check itself (the directory as it is now, and Ed25519) is the
worker's, injected like any adapter.
"""

from __future__ import annotations

from collections.abc import Callable, Container
from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict
from temporalio import activity

from states.actor import Actor
from states.proof import CASE_START, Claim, Envelope, ProofRefusal


class StartProofCheck(BaseModel):
    """What the start claims, and its proof. The application itself stays out: only its digest."""

    model_config = ConfigDict(extra="forbid")
    ref: str
    started_by: Actor
    application_digest: str
    proof: Envelope | None
    started_at: AwareDatetime  # the server's start time: a start queued while no worker ran is not stale

    @classmethod
    def of(cls, claim: Claim, proof: Envelope | None, started_at: datetime) -> StartProofCheck:
        return cls(ref=claim.ref, started_by=claim.actor, application_digest=claim.submission_digest,
                   proof=proof, started_at=started_at)

    @property
    def claim(self) -> Claim:
        return Claim(self.ref, CASE_START, self.started_by, self.application_digest)


class StartProofVerdict(BaseModel):
    refusal: str | None = None
    rule: str | None = None


ProofCheck = Callable[[Envelope | None, Claim, Container[str], datetime], ProofRefusal | None]


class StartProofActivities:
    def __init__(self, check: ProofCheck) -> None:
        self.check = check

    @activity.defn
    async def check_start_proof(self, request: StartProofCheck) -> StartProofVerdict:
        refused = self.check(request.proof, request.claim, (), request.started_at)
        if refused is None:
            return StartProofVerdict()
        return StartProofVerdict(refusal=refused.message, rule=str(refused.rule))
