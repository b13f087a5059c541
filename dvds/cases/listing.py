"""A case as visibility lists it, read straight from the server's reply.

The SDK's `list_workflows` decodes every search attribute of every row twice (as untyped
and typed attributes, through the payload converter): about half a millisecond a case,
most of `dvds case list --all`'s time. A listing needs nine of them, each one small JSON
document; they are read here from the reply's payloads, with the SDK's rules for what a
value may be (a one-item list for a single value, ISO datetimes, whole-number doubles)."""

from __future__ import annotations

import asyncio
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


def _json(data: bytes) -> Any:
    """One search attribute's JSON. Most are a plain string (a keyword, a datetime) or a flag,
    read here without the JSON parser: a listing of every case reads some 30,000 of them."""
    if len(data) >= 2 and data[:1] == b'"' and data[-1:] == b'"' and b"\\" not in data:
        return data[1:-1].decode()  # no escapes in it: the text between the quotes is the value
    if data == b"true" or data == b"false":
        return data == b"true"
    try:
        return json.loads(data.decode())
    except ValueError:
        return None


def _value(info: WorkflowExecutionInfo, name: str, many: bool = False) -> Any:
    payload = info.search_attributes.indexed_fields.get(name)
    if payload is None or payload.metadata.get("encoding") != b"json/plain":
        return None
    value = _json(payload.data)
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


def _request(client: Client, query: str, size: int, token: bytes | None) -> ListWorkflowExecutionsRequest:
    return ListWorkflowExecutionsRequest(namespace=client.namespace, page_size=size, query=query,
                                         next_page_token=token or b"")


async def list_rows(
    client: Client, query: str, size: int, token: bytes | None = None
) -> tuple[list[CaseListing], bytes]:
    """One page of the workflows `query` matches, as listings, and the server's token for
    the next (empty at the end). The server's refusals (RPCError) are raised as they come."""
    reply = await client.workflow_service.list_workflow_executions(_request(client, query, size, token), retry=True)
    return [listing_of(info) for info in reply.executions], reply.next_page_token


async def list_all(client: Client, query: str, limit: int | None = None, size: int = 1000) -> list[CaseListing]:
    """Every workflow `query` matches (the first `limit`), as listings, page after page. The
    next page is asked for as soon as a reply gives its token, and the reply is read while the
    server finds the next: reading a page of a thousand takes Python about 50 ms."""
    found: list[CaseListing] = []
    if limit is not None and limit <= 0:
        return found
    service = client.workflow_service
    asked = asyncio.ensure_future(service.list_workflow_executions(
        _request(client, query, size if limit is None else min(size, limit), None), retry=True))
    while True:
        reply = await asked
        left = None if limit is None else limit - len(found) - len(reply.executions)
        more = bool(reply.next_page_token) and (left is None or left > 0)
        if more:
            asked = asyncio.ensure_future(service.list_workflow_executions(
                _request(client, query, size if left is None else min(size, left), reply.next_page_token),
                retry=True))
        try:
            found += [listing_of(info) for info in reply.executions]
        except BaseException:
            if more:
                asked.cancel()
            raise
        if not more:
            return found if limit is None else found[:limit]
