"""Operators record a new application: a form generated from the Application model (as
task forms are from theirs); bad input is refused beside its field with what was typed
kept, and a good one starts the case, signed for the operator, and shows its page."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from dvds.cases.client import CaseError
from dvds.web.deps import Cases
from dvds.web.form_schema import (
    ROWS_SUFFIX,
    FormField,
    field_errors,
    field_keys,
    form_fields,
    initial_values,
    parse,
    row_count,
)
from dvds.web.identity import RequestSigner, SignedIn, checked_form, refuse_read_only
from dvds.web.rendering import render
from states.case_ref import workflow_id
from states.models import Application
from states.roles import Role
from states.staff import StaffMember

router = APIRouter()


def refuse_non_operator(me: StaffMember) -> None:
    refuse_read_only(me)
    if Role.operator not in me.roles:
        raise HTTPException(403, f"role: recording an application needs the role operator, which {me.id} does not hold")


def _fields() -> list[FormField]:
    return form_fields(Application)


def _rows_field(fields: list[FormField], key: str, prefix: str = "") -> FormField | None:
    for spec in fields:
        name = prefix + spec.name
        if spec.kind == "rows" and name == key:
            return spec
        if spec.kind == "group" and (found := _rows_field(spec.subfields, key, name + ".")):
            return found
    return None


def _births_after(application: Application, today: date) -> list[str]:
    """The fields holding a date of birth after today (a typing slip the model cannot see:
    models are also read inside workflows, where only workflow time may be read)."""
    people = {"applicant": application.applicant, "person_at_risk": application.person_at_risk,
              "subject": application.subject}
    found = [f"{name}.date_of_birth" for name, person in people.items()
             if person is not None and person.date_of_birth is not None and person.date_of_birth > today]
    if any(day > today for day in application.subject.alternative_dates_of_birth):
        found.append("subject.alternative_dates_of_birth")
    return found


def _page(request: Request, values: dict[str, str], errors: dict[str, list[str]], general: list[str],
          status_code: int = 200) -> Response:
    return render(request, "application.html", status_code, fields=_fields(), values=values, errors=errors,
                  general=general, rows_of=lambda f, key: row_count(f, values, key),
                  model_doc=(Application.__doc__ or "").strip())


@router.get("/applications/new")
async def new_application(request: Request, me: SignedIn) -> Response:
    refuse_non_operator(me)
    return _page(request, initial_values(_fields()), {}, [])


@router.post("/applications/new")
async def start_application(request: Request, me: SignedIn, cases: Cases, signer: RequestSigner) -> Response:
    form = await checked_form(request)
    refuse_non_operator(me)
    values = {k: str(v) for k, v in form.items() if isinstance(v, str)}
    fields = _fields()
    adding = values.pop("add_row", None)
    if adding is not None and (rows := _rows_field(fields, adding)) is not None:
        values[f"{adding}.{ROWS_SUFFIX}"] = str(row_count(rows, values, adding) + 1)
        return _page(request, values, {}, [])
    data, kept = parse(fields, values, cases.policy.timezone)
    try:
        application = Application.model_validate(data)
    except ValidationError as invalid:
        by_field, general = field_errors(invalid, fields, kept)
        shown = field_keys(fields, values)
        general += [f"{key}: {m}" for key, msgs in by_field.items() if key not in shown for m in msgs]
        return _page(request, values, by_field, general, 422)
    if future := _births_after(application, datetime.now(ZoneInfo(cases.policy.timezone)).date()):
        return _page(request, values, {key: ["must not be in the future"] for key in future}, [], 422)
    try:
        started = await cases.start_application(application, me.id, signer=signer)
    except CaseError as refused:
        return _page(request, values, {}, [str(refused)], 409)
    return RedirectResponse(f"/cases/{workflow_id(started.ref)}", status_code=303)
