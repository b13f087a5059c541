"""Referring a confirmed failure to the IOPC through a gateway adapter.

The default gateway is a file outbox (one JSON file per referral, named by its
idempotency key); `HttpIopcGateway` posts JSON to a configured endpoint. Both are
idempotent on the key, so a retried activity never files twice.
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import structlog
from temporalio import activity

from states.messages import ReferralReceipt, ReferralRequest

logger = structlog.get_logger()


class IopcGateway(Protocol):
    async def refer(self, request: ReferralRequest) -> ReferralReceipt: ...


def _key_name(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:32]


class FileOutboxGateway:
    """The embedded default: writes each referral once to an outbox folder."""

    def __init__(self, outbox: Path) -> None:
        self.outbox = outbox

    async def refer(self, request: ReferralRequest) -> ReferralReceipt:
        self.outbox.mkdir(parents=True, exist_ok=True)
        path = self.outbox / f"{_key_name(request.idempotency_key)}.json"
        if path.exists():  # filed before: a retry after a crash returns the same receipt
            return ReferralReceipt.model_validate_json(json.loads(path.read_text())["receipt"])
        receipt = ReferralReceipt(
            iopc_reference=f"IOPC-{_key_name(request.idempotency_key)[:10].upper()}",
            accepted_at=datetime.now(UTC),
        )
        body = {"request": request.model_dump(mode="json"), "receipt": receipt.model_dump_json()}
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(body, indent=2))
        os.replace(tmp, path)
        return receipt


class IopcActivities:
    def __init__(self, gateway: IopcGateway) -> None:
        self.gateway = gateway

    @activity.defn
    async def refer_to_iopc(self, request: ReferralRequest) -> ReferralReceipt:
        receipt = await self.gateway.refer(request)
        logger.info(
            "iopc referral filed",
            case_ref=request.ref,
            category=request.category,
            iopc_reference=receipt.iopc_reference,
            attempt=activity.info().attempt,
        )
        return receipt
