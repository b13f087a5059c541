"""A case as visibility lists it, read straight from the server's reply.

The SDK's `list_workflows` decodes every search attribute of every row twice (as untyped
and typed attributes, through the payload converter): about half a millisecond a case,
most of `dvds case list --all`'s time. A listing needs nine of them, each one small JSON
document; they are read here from the reply's payloads, with the SDK's rules for what a
value may be (a one-item list for a single value, ISO datetimes, whole-number doubles)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from temporalio.api.workflow.v1 import WorkflowExecutionInfo
from temporalio.api.workflowservice.v1 import ListWorkflowExecutionsRequest
from temporalio.client import Client

from states.case_ref import case_ref
from workflows import search


class CaseListing(BaseModel):
    ref: str
    state: str
    route: str | None
    risk_level: str | None
    historical: bool
    overdue: bool
    pending_tasks: list[str]
    next_due: datetime | None
    priority: str | None
    received_at: datetime | None


def ref_of(execution_id: str) -> str:
    """The case reference of a case's workflow id (states/case_ref.py)."""
    try:
        return case_ref(execution_id)
    except ValueError:
        return execution_id  # not an id a reference gives; shown as it is


def _value(info: WorkflowExecutionInfo, name: str, many: bool = False) -> Any:
    payload = info.search_attributes.indexed_fields.get(name)
    if payload is None or payload.metadata.get("encoding") != b"json/plain":
        return None
    try:
        value = json.loads(payload.data)
    except ValueError:
        return None
    if many:
        return value if isinstance(value, list) else [value]
    if isinstance(value, list):  # a single value listed as one item; more is not a value of this type
        return value[0] if len(value) == 1 else None
    return value


def _text(info: WorkflowExecutionInfo, name: str) -> str | None:
    value = _value(info, name)
    return value if isinstance(value, str) else None


def _when(info: WorkflowExecutionInfo, name: str) -> datetime | None:
    value = _text(info, name)
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def listing_of(info: WorkflowExecutionInfo) -> CaseListing:
    """A case as one row of a visibility reply lists it."""
    tasks = _value(info, search.PENDING_TASKS.name, many=True) or []
    return CaseListing(
        ref=ref_of(info.execution.workflow_id),
        state=_text(info, search.STATE.name) or "unknown",
        route=_text(info, search.ROUTE.name),
        risk_level=_text(info, search.RISK_LEVEL.name),
        historical=_value(info, search.HISTORICAL.name) is True,
        overdue=_value(info, search.OVERDUE.name) is True,
        pending_tasks=[t for t in tasks if isinstance(t, str)],
        next_due=_when(info, search.NEXT_DUE.name),
        priority=_text(info, search.PRIORITY.name),
        received_at=_when(info, search.RECEIVED.name),
    )


async def list_rows(
    client: Client, query: str, size: int, token: bytes | None = None
) -> tuple[list[CaseListing], bytes]:
    """One page of the workflows `query` matches, as listings, and the server's token for
    the next (empty at the end). The server's refusals (RPCError) are raised as they come."""
    request = ListWorkflowExecutionsRequest(namespace=client.namespace, page_size=size, query=query,
                                            next_page_token=token or b"")
    reply = await client.workflow_service.list_workflow_executions(request, retry=True)
    return [listing_of(info) for info in reply.executions], reply.next_page_token
