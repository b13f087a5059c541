"""Record the event histories of representative cases into tests/histories/, for the
replay test (tests/test_replay.py): `python -m tests.helpers.record_histories`.

Record only a NEW case, for a new path guarded by `workflow.patched(...)` (README: Changing
workflow code safely): name it (`python -m tests.helpers.record_histories signed`) to record
that one, leaving the others as they were recorded. The files already there stand for cases
already running and are never re-recorded (those recorded before signed proofs started
unsigned, with no operator; today's worker refuses such a start).
Payloads are encrypted with the fixed, test-only key ring in tests/histories/keys.json.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
import uuid
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Any

from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from tests.helpers.paths import HISTORIES, ROOT

KEYS = HISTORIES / "keys.json"
DIRECTORIES = HISTORIES / "staff"  # the staff directory each recorded case was signed under


def replay_keys() -> Any:
    from dvds.connection.keys import KeyRing

    return KeyRing.model_validate_json(KEYS.read_text())


async def _disclosed(handle: WorkflowHandle[Any, Any]) -> None:
    from states.roles import Task
    from tests.helpers.cases import submit

    for task, actor in [(Task.research, "R100"), (Task.risk_assessment, "RA200"), (Task.decision, "DM300"),
                        (Task.disclosure, "DO400"), (Task.review, "RV500")]:
        await submit(handle, task, actor)


async def _queried_at_start(handle: WorkflowHandle[Any, Any]) -> None:
    """Queries while the start's proof is checked, then disclosed."""
    from states.record import CaseSnapshot

    await asyncio.gather(*(handle.query("snapshot", result_type=CaseSnapshot) for _ in range(5)))
    await _disclosed(handle)


async def _declined(handle: WorkflowHandle[Any, Any]) -> None:
    from states.roles import Task
    from tests.helpers.cases import submit

    await submit(handle, Task.research, "R100")
    await submit(handle, Task.risk_assessment, "RA200")
    await submit(handle, Task.decision, "DM300", "decision_decline")
    await submit(handle, Task.review, "RV500")


async def _withdrawn(handle: WorkflowHandle[Any, Any]) -> None:
    from states.roles import Task
    from tests.helpers.cases import submit

    await submit(handle, Task.research, "R100")
    await submit(handle, Task.withdrawal, "OP1")
    await submit(handle, Task.review, "RV500")


async def _first_timer(handle: WorkflowHandle[Any, Any]) -> None:
    """Until the case has set its first timer. No query before the first workflow task is done:
    a query that arrives while the start's local activity runs splits that task, and such a
    history does not replay."""
    from tests.helpers.eventually import eventually

    async def started() -> bool:
        return any([e.HasField("timer_started_event_attributes") async for e in handle.fetch_history_events()])

    await eventually(started, what="the case's first timer")


async def _breach(handle: WorkflowHandle[Any, Any], deadline: str) -> None:
    """Until the named deadline has breached (queried: only once the first timer is set)."""
    from states.record import CaseSnapshot
    from tests.helpers.eventually import eventually

    async def breached() -> bool:
        snap = await handle.query("snapshot", result_type=CaseSnapshot)
        return any(d.name == deadline and d.breaches for d in snap.deadlines)

    await eventually(breached, within=120, what=f"the {deadline} breach")


async def _escalated(handle: WorkflowHandle[Any, Any]) -> None:
    """Rungs of the short policy fire (and the research breach) before the work is done."""
    from states.roles import Task
    from tests.helpers.cases import submit

    await _breach(handle, "outcome")
    await submit(handle, Task.deadline_extension, "SV700")
    await _declined_after_research(handle)


async def _declined_after_research(handle: WorkflowHandle[Any, Any], research: str | None = None) -> None:
    """Researched (by the `research` example, if named), assessed, declined, reviewed."""
    from states.roles import Task
    from tests.helpers.cases import submit

    await submit(handle, Task.research, "R100", research)
    await submit(handle, Task.risk_assessment, "RA200")
    await submit(handle, Task.decision, "DM300", "decision_decline")
    await submit(handle, Task.review, "RV500")


async def _historical_referred(handle: WorkflowHandle[Any, Any]) -> None:
    from states.roles import Task
    from tests.helpers.cases import referred, submit

    await submit(handle, Task.review, "RV500", "review_failure")
    await submit(handle, Task.failure_confirmation, "PS600")
    await referred(handle)
    await submit(handle, Task.iopc_decision, "PS600")
    await submit(handle, Task.remedial_disclosure, "DO400")


async def _referral_due(handle: WorkflowHandle[Any, Any]) -> None:
    """A new application declined, a failure confirmed, referred and closed: the referral's
    due time is set on the case while the referral waits, and unset once filed."""
    from states.roles import Task
    from tests.helpers.cases import referred, submit

    await submit(handle, Task.research, "R100")
    await submit(handle, Task.risk_assessment, "RA200")
    await submit(handle, Task.decision, "DM300", "decision_decline")
    await submit(handle, Task.review, "RV500", "review_failure")
    await submit(handle, Task.failure_confirmation, "PS600")
    await referred(handle)
    await submit(handle, Task.iopc_decision, "PS600")
    await submit(handle, Task.remedial_disclosure, "DO400")


async def _countersigned(handle: WorkflowHandle[Any, Any]) -> None:
    """Declined despite relevant history: a countersignature refused, a new decline, countersigned, reviewed."""
    from states.roles import Task
    from tests.helpers.cases import submit

    await submit(handle, Task.research, "R100")
    await submit(handle, Task.risk_assessment, "RA200")
    await submit(handle, Task.decision, "DM300", "decision_decline")
    await submit(handle, Task.countersignature, "DM310", "countersignature_refused")
    await submit(handle, Task.decision, "DM300", "decision_decline")
    await submit(handle, Task.countersignature, "DM310")
    await submit(handle, Task.review, "RV500")


async def _retriaged(handle: WorkflowHandle[Any, Any]) -> None:
    """Raised to high after the assessment (the urgent ladder at once), lowered by a supervisor, disclosed."""
    from states.roles import Task
    from tests.helpers.cases import submit

    await submit(handle, Task.research, "R100")
    await submit(handle, Task.risk_assessment, "RA200")
    await submit(handle, Task.risk_update, "RA200")
    await submit(handle, Task.risk_update, "SV700", "risk_update_lower", role="supervisor")
    for task, actor in [(Task.decision, "DM300"), (Task.disclosure, "DO400"), (Task.review, "RV500")]:
        await submit(handle, task, actor)


async def _safeguarded(handle: WorkflowHandle[Any, Any]) -> None:
    """The outcome deadline breached: the safeguarding contact opens, escalates, is made; then declined."""
    from states.roles import Task
    from tests.helpers.cases import submit

    await _first_timer(handle)
    await _breach(handle, "safeguarding_contact")
    await submit(handle, Task.safeguarding_contact, "DO400")
    await _declined_after_research(handle, "research_no_history")


async def _timer_kept(handle: WorkflowHandle[Any, Any]) -> None:
    """The short policy's rungs fire and the outcome breaches (a safeguarding contact opens);
    the contact, an extension and the work done, declined with no history, reviewed."""
    from states.roles import Task
    from tests.helpers.cases import submit

    await _first_timer(handle)
    await _breach(handle, "outcome")
    await submit(handle, Task.safeguarding_contact, "DO400")
    await submit(handle, Task.deadline_extension, "SV700")
    await _declined_after_research(handle, "research_no_history")


async def _failure_recorded(handle: WorkflowHandle[Any, Any]) -> None:
    """An administrative failure confirmed: by the default referral policy recorded, not referred, and closed."""
    from states.roles import Task
    from tests.helpers.cases import submit

    await submit(handle, Task.research, "R100", "research_no_history")
    await submit(handle, Task.risk_assessment, "RA200")
    await submit(handle, Task.decision, "DM300", "decision_decline")
    await submit(handle, Task.review, "RV500", "review_failure_administrative")
    await submit(handle, Task.failure_confirmation, "PS600")


async def _looked_back(handle: WorkflowHandle[Any, Any]) -> None:
    """A confirmed failure by R100 and DM300 opens the look-back of another case R100 researched."""
    from states.record import CaseInput
    from states.roles import Task
    from tests.helpers.cases import OPERATOR, application, new_ref, referred, signed_start, submit
    from tests.helpers.eventually import eventually

    queue = (await handle.describe()).task_queue
    client = handle._client  # noqa: SLF001 - the recorder's own client, to start the case looked back at
    other = signed_start(CaseInput(ref=new_ref(), application=application(), started_by=OPERATOR))
    looked_at = await client.start_workflow("CaseWorkflow", other, id=other.ref, task_queue=queue)
    await submit(looked_at, Task.research, "R100")
    await submit(handle, Task.research, "R100", "research_no_history")
    await submit(handle, Task.risk_assessment, "RA200")
    await submit(handle, Task.decision, "DM300", "decision_decline")
    await submit(handle, Task.review, "RV500", "review_failure")

    async def both_visible() -> bool:
        found = [e async for e in client.list_workflows(f"DvdsStaff = 'R100' AND TaskQueue = '{queue}'")]
        return len(found) == 2

    await eventually(both_visible, what="both cases by R100 in visibility")
    await submit(handle, Task.failure_confirmation, "PS600")
    await referred(handle)
    await submit(handle, Task.iopc_decision, "PS600")
    await submit(handle, Task.remedial_disclosure, "DO400")


def _historical_input() -> Any:
    from dvds.importer.rows import ImportRow, RowContext, parse_row

    cells = {"case_ref": f"HIST-2016-{uuid.uuid4().int % 10**6:06d}", "route": "right_to_ask",
             "received_on": "2016-04-01", "applicant_relationship": "self", "person_at_risk_name": "Replay Person",
             "subject_name": "Replay Subject", "decision": "declined", "decision_on": "2016-04-20",
             "subject_has_relevant_history": "yes", "research_completed_on": "2016-04-05", "risk_level": "medium"}
    parsed = parse_row(2, cells, RowContext(today=date(2024, 1, 31)))
    assert isinstance(parsed, ImportRow), parsed
    return parsed.case


CASES: dict[str, tuple[dict[str, Any], Callable[[WorkflowHandle[Any, Any]], Awaitable[None]]]] = {
    "disclosed": ({}, _disclosed),
    "declined": ({}, _declined),
    "withdrawn": ({}, _withdrawn),
    "escalated": ({"short_policy": True}, _escalated),
    "historical_referred": ({"historical": True}, _historical_referred),
    "referral_due": ({}, _referral_due),  # with the search-attribute-referral-due patch
    # Signed proofs: the start's proof checked by a local activity, each task's kept in its record.
    "signed": ({"signed": True}, _disclosed),
    # The start proof checked by an ordinary activity (patch start-proof-activity), queried meanwhile.
    "queried_at_start": ({"signed": True}, _queried_at_start),
    # The report's facts published as search attributes (the report-facts-N patch): decided, referred.
    "report_facts": ({"signed": True}, _referral_due),
    # With the countersignature-on-declines patch.
    "countersigned": ({"signed": True}, _countersigned),
    # Re-triage: risk_update raising to high, then lowering (a new update, no new command).
    "retriaged": ({"signed": True}, _retriaged),
    # With the safeguarding-contact-on-breach patch (tests/helpers/policies.py: LATE_OUTCOME_POLICY).
    "safeguarded": ({"signed": True, "policy": "late_outcome"}, _safeguarded),
    # With the referral-policy patch: a confirmed failure the policy does not refer.
    "failure_recorded": ({"signed": True}, _failure_recorded),
    # Its start names no calendar: the newest is fixed at start (patch bank-holidays-<version>);
    # the failure confirmation's 5 working days count by it.
    "calendar_fixed": ({"signed": True}, _referral_due),
    # Each task announced once (patch announce-each-task-once): the remedial disclosure is not
    # announced again when the referral is filed; calendar_fixed, recorded before, announces it twice.
    "announced_once": ({"signed": True}, _referral_due),
    # With the look-back-on-confirmed-failure and search-attribute-staff patches.
    "looked_back": ({"signed": True}, _looked_back),
    # With the deadline-timer-kept-until-it-moves patch: rungs of the short policy fire and the
    # research breaches; tasks that move no deadline set no timer; the last one lapses.
    "timer_kept": ({"signed": True, "policy": "short"}, _timer_kept),
}


async def record(client: Client, home: Path, names: list[str]) -> None:
    unknown = sorted(set(names) - set(CASES))
    if unknown:
        raise SystemExit(f"no recorded case called {', '.join(unknown)}; the cases are {', '.join(CASES)}")
    from dvds.settings import Settings
    from dvds.staff.directory import read_staff
    from states.record import CaseInput
    from tests.helpers.cases import OPERATOR, application, new_ref, signed_start
    from tests.helpers.policies import LATE_OUTCOME_POLICY, SHORT_POLICY, RecordingNotifier, watched_worker

    policies = {"late_outcome": LATE_OUTCOME_POLICY, "short": SHORT_POLICY}

    async with watched_worker(client, RecordingNotifier(), home=home) as worker:
        for name in names:
            how, drive = CASES[name]
            if how.get("historical"):
                start = _historical_input()
            elif how.get("signed"):
                start = signed_start(CaseInput(ref=new_ref(), application=application(), started_by=OPERATOR,
                                               policy=policies.get(how.get("policy", ""))))
            else:
                start = CaseInput(ref=new_ref(), application=application(),
                                  policy=SHORT_POLICY if how.get("short_policy") else None)
            handle = await client.start_workflow("CaseWorkflow", start, id=start.ref, task_queue=worker.task_queue)
            await drive(handle)
            await handle.result()
            history = await handle.fetch_history()
            (HISTORIES / f"{name}.json").write_text(json.dumps(json.loads(history.to_json()), indent=1) + "\n")
            # The directory its proofs verify against, public keys only: what an auditor would hold.
            DIRECTORIES.mkdir(exist_ok=True)
            (DIRECTORIES / f"{name}.json").write_text(read_staff(Settings().staff_path).model_dump_json(indent=1))
            print(f"recorded {name}: {len(history.events)} events")


async def main() -> None:
    sys.path.insert(0, str(ROOT))
    from dvds.connection.codec import case_data_converter
    from dvds.connection.keys import KeyRing
    from dvds.connection.server import temporal_binary
    from tests.helpers.staff import enrolled_staff
    from workflows import search

    names = sys.argv[1:]
    if not names:
        raise SystemExit(f"name the new case(s) to record, from: {', '.join(CASES)}")
    HISTORIES.mkdir(exist_ok=True)
    if not KEYS.exists():
        KEYS.write_text(KeyRing.generate().model_dump_json(indent=1) + "\n")
    os.environ["DVDS_KEYS"] = KEYS.read_text()
    scratch = Path(tempfile.mkdtemp(prefix="dvds-record-"))
    staff, credentials = enrolled_staff(scratch)
    os.environ["DVDS_STAFF_FILE"] = str(staff)
    os.environ["DVDS_CREDENTIALS_DIR"] = str(credentials)
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_binary(), data_converter=case_data_converter(replay_keys()),
        search_attributes=search.ALL,
    )
    try:
        await record(env.client, scratch / "home", names)
    finally:
        await env.shutdown()


if __name__ == "__main__":
    asyncio.run(main())
