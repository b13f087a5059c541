"""The IOPC gateway over HTTP: one JSON POST a referral, keyed for idempotency.

The contract: `POST <endpoint>` with the `ReferralRequest` as JSON and an
`Idempotency-Key` header (the case's referral key). A 2xx answer carries
`{"reference": "...", "accepted_at": "<ISO time, optional>"}`. The gateway must answer a
repeated key with the reference it gave first: that is what makes a retry after a lost
answer (a worker killed mid-call) file nothing new. A 4xx (but 408, 425 and 429, which ask
to try later) is a refusal no retry can change: a non-retryable `IopcRefused`, which the
case turns into an incident for Professional Standards. Any other answer raises, and the
activity's retry policy tries again with backoff until the gateway accepts.
"""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
from pydantic import BaseModel, ValidationError
from temporalio.exceptions import ApplicationError

from states.messages import ReferralReceipt, ReferralRequest


class IopcGatewayError(Exception):
    """The gateway did not accept the referral. Says the status, never the body."""


IOPC_REFUSED = "IopcRefused"
TRY_LATER = frozenset({408, 425, 429})


def refused(status: int) -> ApplicationError:
    """A refusal for good: the status only, never the body (it may echo the referral)."""
    return ApplicationError(f"IOPC gateway refused the referral ({status})", type=IOPC_REFUSED, non_retryable=True)


class _Accepted(BaseModel):
    reference: str
    accepted_at: datetime | None = None


class HttpIopcGateway:
    def __init__(self, endpoint: str, token: str | None = None, timeout: float = 20.0) -> None:
        # Under the activity's 30 s start-to-close, so a hung gateway fails the attempt cleanly.
        self.endpoint = endpoint
        self.token = token
        self.timeout = timeout

    async def refer(self, request: ReferralRequest) -> ReferralReceipt:
        headers = {"Idempotency-Key": request.idempotency_key}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            async with httpx.AsyncClient(timeout=self.timeout) as http:
                answer = await http.post(self.endpoint, json=request.model_dump(mode="json"), headers=headers)
        except httpx.HTTPError as err:
            raise IopcGatewayError(f"IOPC gateway unreachable ({type(err).__name__})") from None
        if answer.is_client_error and answer.status_code not in TRY_LATER:
            raise refused(answer.status_code)
        if not answer.is_success:
            raise IopcGatewayError(f"IOPC gateway answered {answer.status_code}")
        try:
            accepted = _Accepted.model_validate_json(answer.content)
        except ValidationError:
            raise IopcGatewayError("IOPC gateway answered without a reference") from None
        at = accepted.accepted_at or datetime.now(UTC)
        # A time without a zone is read as UTC: the case compares it with its due time.
        at = at if at.tzinfo else at.replace(tzinfo=UTC)
        return ReferralReceipt(iopc_reference=accepted.reference, accepted_at=at)
