"""A case's page, its task forms, and claiming a task."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from dvds.audit.history import case_timeline
from dvds.audit.signatures import TaskCheck, verify_case
from dvds.audit.timeline import for_people
from dvds.cases.claims import ClaimBoard, ClaimsUnavailable, ClaimTaken
from dvds.cases.client import CaseClient, CaseError
from dvds.staff.signing import Ed25519Verifier
from dvds.web.deps import ArchiveDir, Cases, Claims, Directory
from dvds.web.form_schema import ROWS_SUFFIX, field_errors, form_fields, initial_values, parse, row_count
from dvds.web.identity import RequestSigner, SignedIn, checked_form, refuse_read_only
from dvds.web.rendering import render
from states.case_ref import CASE_REF_RULE, case_ref, workflow_id
from states.machine import CaseState, diagram
from states.messages import CaseFile
from states.personal_data import may_see_personal_data
from states.record import Actor, CaseSnapshot
from states.roles import TASK_ROLE, Role, Task, roles_for
from states.staff import StaffMember
from states.tasks import TASK_MODEL

router = APIRouter()


def _ref(in_path: str) -> str:
    """The case reference a page's path names: its workflow id, each / of it written ~."""
    try:
        return case_ref(in_path)
    except ValueError:
        raise HTTPException(404, f"ref: not a case reference ({CASE_REF_RULE})") from None


def _task(name: str) -> Task:
    try:
        return Task(name)
    except ValueError:
        raise HTTPException(404, f"task: no task called {name}") from None


def _worked_on(snapshot: CaseSnapshot, staff_id: str) -> bool:
    return any(t.actor is not None and t.actor.id == staff_id for t in snapshot.transitions)


async def _personal(cases: CaseClient, me: StaffMember, snapshot: CaseSnapshot) -> CaseFile | None:
    if not may_see_personal_data(me.roles, me.id, snapshot, _worked_on(snapshot, me.id)):
        return None
    return await cases.case_file(snapshot.ref)


def _open_tasks(snapshot: CaseSnapshot) -> list[tuple[Task, bool]]:
    """(task, is a step the case waits for) for everything that can be done now."""
    return [(Task(t), True) for t in snapshot.pending_tasks] + [(Task(t), False) for t in snapshot.actions]


@router.get("/cases/{ref}")
async def case_page(request: Request, ref: str, me: SignedIn, cases: Cases, claims: Claims, archive: ArchiveDir,
                    directory: Directory, done: str | None = None, raw: bool = False) -> Response:
    snapshot = await cases.snapshot(_ref(ref))
    proofs: dict[tuple[int, int], TaskCheck] = {}
    try:
        timeline = await case_timeline(cases.client, snapshot.ref, archive)
        entries, path = for_people(timeline.entries, raw), timeline.path
        checked = await verify_case(cases.client, snapshot.ref, archive, directory, Ed25519Verifier())
        proofs = {(c.run, c.event_id): c for c in checked.checks}
    except CaseError:
        entries, path = None, [str(CaseState.received)] + [str(t.dest) for t in snapshot.transitions]
    return render(
        request, "case.html",
        case=snapshot, open_tasks=_open_tasks(snapshot), claims=await claims.all(), task_role=TASK_ROLE,
        entries=entries, path=path, states=[str(s) for s in CaseState], mermaid=diagram(path),
        case_file=await _personal(cases, me, snapshot), done=done, proofs=proofs, raw=raw,
    )


def _acting_role(me: StaffMember, task: Task) -> Role | None:
    """The role the member does the task in: the task's own, or another that may do it (ALSO_BY)."""
    return next((role for role in roles_for(task) if role in me.roles), None)


def _may_do(me: StaffMember, snapshot: CaseSnapshot, task: Task) -> None:
    refuse_read_only(me)
    if _acting_role(me, task) is None:
        needed = " or ".join(roles_for(task))
        raise HTTPException(403, f"role: the {task} task needs the role {needed}, which {me.id} does not hold")
    if str(task) not in [*snapshot.pending_tasks, *snapshot.actions]:
        raise HTTPException(409, f"task: {task} is not open while the case is {snapshot.state}")


async def _form_page(request: Request, claims: ClaimBoard, snapshot: CaseSnapshot, task: Task,
                     values: dict[str, str], errors: dict[str, list[str]], general: list[str],
                     case_file: CaseFile | None, status_code: int = 200) -> Response:
    fields = form_fields(TASK_MODEL[task])
    return render(request, "task.html", status_code, case=snapshot, task=task, role=TASK_ROLE[task],
                  fields=fields, values=values, errors=errors, general=general,
                  rows_of=lambda f, key: row_count(f, values, key),
                  claim=await claims.find(snapshot.ref, str(task)), case_file=case_file,
                  model_doc=(TASK_MODEL[task].__doc__ or "").strip())


@router.get("/cases/{ref}/tasks/{name}")
async def task_form(request: Request, ref: str, name: str, me: SignedIn, cases: Cases, claims: Claims) -> Response:
    task = _task(name)
    snapshot = await cases.snapshot(_ref(ref))
    _may_do(me, snapshot, task)
    values = initial_values(form_fields(TASK_MODEL[task]))
    return await _form_page(request, claims, snapshot, task, values, {}, [], await _personal(cases, me, snapshot))


@router.post("/cases/{ref}/tasks/{name}")
async def submit_task(request: Request, ref: str, name: str, me: SignedIn, cases: Cases, claims: Claims,
                      signer: RequestSigner) -> Response:
    form = await checked_form(request)
    refuse_read_only(me)  # before reading anything of the case
    task = _task(name)
    ref = _ref(ref)
    snapshot = await cases.snapshot(ref)
    _may_do(me, snapshot, task)
    values = {k: str(v) for k, v in form.items() if isinstance(v, str)}
    fields = form_fields(TASK_MODEL[task])
    case_file = await _personal(cases, me, snapshot)
    adding = values.pop("add_row", None)
    if adding in {f.name for f in fields if f.kind == "rows"}:
        values[f"{adding}.{ROWS_SUFFIX}"] = str(row_count(next(f for f in fields if f.name == adding), values) + 1)
        return await _form_page(request, claims, snapshot, task, values, {}, [], case_file)
    claim = await claims.find(ref, str(task))
    if claim is not None and claim.staff_id != me.id:
        taken = f"claim: {task} is claimed by {claim.staff_id}; ask them or a supervisor to release it"
        return await _form_page(request, claims, snapshot, task, values, {}, [taken], case_file, 409)
    data, kept = parse(fields, values, cases.policy.timezone)
    try:
        TASK_MODEL[task].model_validate(data)
    except ValidationError as invalid:
        by_field, general = field_errors(invalid, fields, kept)
        shown = _shown_keys(fields, values)
        general += [f"{key}: {m}" for key, msgs in by_field.items() if key not in shown for m in msgs]
        return await _form_page(request, claims, snapshot, task, values, by_field, general, case_file, 422)
    try:
        await cases.complete(ref, task, Actor(id=me.id, role=_acting_role(me, task) or TASK_ROLE[task]), data, signer)
    except CaseError as refused:
        # The case refused it: nothing changed, and the form keeps what was typed.
        return await _form_page(request, claims, snapshot, task, values, {}, [str(refused)], case_file, 409)
    try:
        await claims.forget(ref, str(task))
    except ClaimsUnavailable:
        pass  # the task is done: a claim left on it is ignored, as on any task no longer open
    return RedirectResponse(f"/cases/{workflow_id(ref)}?done={task}", status_code=303)


def _shown_keys(fields: list[Any], values: dict[str, str]) -> set[str]:
    shown = set()
    for f in fields:
        if f.kind == "rows":
            shown |= {f"{f.name}.{i}.{s.name}" for i in range(row_count(f, values)) for s in f.subfields}
        shown.add(f.name)
    return shown


@router.post("/cases/{ref}/tasks/{name}/claim")
async def claim(request: Request, ref: str, name: str, me: SignedIn, cases: Cases, claims: Claims) -> Response:
    form = await checked_form(request)
    refuse_read_only(me)
    task = _task(name)
    ref = _ref(ref)
    _may_do(me, await cases.snapshot(ref), task)
    try:
        await claims.claim(ref, str(task), me.id)
    except ClaimTaken as taken:
        raise HTTPException(409, str(taken)) from None
    except ClaimsUnavailable as unavailable:
        raise HTTPException(503, str(unavailable)) from None
    return RedirectResponse(_back(form), status_code=303)


@router.post("/cases/{ref}/tasks/{name}/release")
async def release(request: Request, ref: str, name: str, me: SignedIn, claims: Claims) -> Response:
    form = await checked_form(request)
    refuse_read_only(me)
    task = _task(name)
    try:
        await claims.release(_ref(ref), str(task), me.id, any_holder=Role.supervisor in me.roles)
    except ClaimTaken as taken:
        raise HTTPException(409, str(taken)) from None
    except ClaimsUnavailable as unavailable:
        raise HTTPException(503, str(unavailable)) from None
    return RedirectResponse(_back(form), status_code=303)


def _back(form: Any) -> str:
    target = str(form.get("next", ""))
    return target if target.startswith("/") and not target.startswith("//") else "/inbox"



