"""Cases with distinctive personal values, for the security tests to search bytes for,
and a staff directory with people holding two roles (the ones segregation must stop)."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from temporalio.client import Client, WorkflowHandle
from temporalio.worker import Worker

from dvds.settings import Settings
from states.models import Application
from states.roles import Task
from states.staff import StaffDirectory
from tests.helpers.cases import application, submit
from tests.helpers.staff import session_staff
from worker import build_worker
from workflows.staff_gate import StaffLookup

T = TypeVar("T")


def letters(n: int = 10) -> str:
    """Random letters: a name no other test uses, so a byte search finds only this case."""
    return "".join(secrets.choice("bcdfghjklmnpqrstvwxz") for _ in range(n)).capitalize()


def secret_application(token: str | None = None, **subject: Any) -> Application:
    """The example application with every personal value made unique to this test."""
    token = token or letters()
    base = application()
    data = base.model_dump(mode="json")
    data["person_at_risk"] = {
        "name": f"Alexa {token}rix",
        "date_of_birth": "1991-07-23",
        "address": {"line1": f"{token} Cottage, 7 Lane", "town": f"{token}bury", "postcode": "SN10 4QX"},
    }
    data["subject"] = {
        "name": f"Samson {token}ley",
        "aliases": [f"Sonny {token}er"],
        "date_of_birth": "1979-12-04",
        "alternative_dates_of_birth": ["1979-04-12"],
        **subject,
    }
    data["safe_contact"] = {"method": "phone", "detail": f"07700 9{secrets.randbelow(10**5):05d}",
                            "safe_times": f"after the school run at {token} Primary"}
    data["prompted_by"] = f"{token} told the applicant about a previous partner"
    return Application.model_validate(data)


def personal_values(app: Application) -> list[str]:
    """Every name, date of birth, address and free-text value the application holds."""
    people = [app.person_at_risk, *( [app.applicant] if app.applicant else [])]
    values: list[str] = [app.subject.name, *app.subject.aliases, app.prompted_by,
                         app.safe_contact.detail, app.safe_contact.safe_times]
    values += [d.isoformat() for d in [app.subject.date_of_birth, *app.subject.alternative_dates_of_birth] if d]
    for person in people:
        values.append(person.name)
        if person.date_of_birth:
            values.append(person.date_of_birth.isoformat())
        if person.address:
            values += [person.address.line1, person.address.town, person.address.postcode]
    return values


def secret_notes(token: str) -> dict[Task, dict[str, Any]]:
    """Free text for each task, unique to this test."""
    return {
        Task.research: {"summary": f"Convictions found under the alias {token}er"},
        Task.risk_assessment: {"rationale": f"Controlling behaviour reported by {token}'s sister"},
        Task.decision: {"disclosure_content": f"Two assaults on partners, the last at {token} Court"},
        Task.disclosure: {"safety_plan": f"Refuge place held at {token} House"},
        Task.review: {"findings": f"Handled well; {token} file complete"},
    }


async def drive_to_closed(handle: WorkflowHandle[Any, Any], token: str) -> list[str]:
    """Every task with personal free text, to closed; returns the free text used."""
    notes = secret_notes(token)
    for task, actor in [(Task.research, "R100"), (Task.risk_assessment, "RA200"), (Task.decision, "DM300"),
                        (Task.disclosure, "DO400"), (Task.review, "RV500")]:
        await submit(handle, task, actor, **notes[task])
    return [v for fields in notes.values() for v in fields.values()]


def staff_for_tests() -> StaffDirectory:
    """The session's staff: the example staff plus people holding two roles, an inactive one
    and an auditor who also reviews (tests/helpers/staff.py), every one with their key."""
    return session_staff()


@asynccontextmanager
async def staffed_worker(client: Client, tmp_path: Path, staff: StaffLookup) -> AsyncIterator[Worker]:
    """A worker on a fresh queue whose staff directory is `staff`."""
    worker = build_worker(client, Settings(home=tmp_path), task_queue=f"test-{uuid.uuid4()}", staff=staff)
    async with worker:
        yield worker


