"""The subjects' blind index: a repeat subject is linked under another alias or date of
birth, and nothing stored reveals a name or a date."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from temporalio.client import Client

from dvds.cases.client import CaseClient
from dvds.cases.subject_index import subject_keys
from dvds.connection.keys import KeyRing
from dvds.settings import Settings
from states.models import Subject
from states.record import Actor, CaseInput
from states.roles import Role
from states.subject_match import normalised_name, subject_pairs
from tests.helpers.cases import OPERATOR, new_ref
from tests.helpers.cli import dvds
from tests.helpers.eventually import eventually
from tests.helpers.keys import TEST_KEYS
from tests.helpers.security import letters, secret_application, staff_for_tests, staffed_worker
from tests.helpers.staff import SIGNER
from workflows import search


class TestNormalisation:
    """One person written differently gives the same pairs."""

    def test_case_spacing_punctuation_accents_and_order_are_ignored(self) -> None:
        """'Zoë  O'Brien-Smith', 'zoe o brien smith' and 'SMITH, Zoe O Brien' normalise alike."""
        forms = ["Zoë  O'Brien-Smith", "zoe o brien smith", "SMITH, Zoe O Brien", "Zoe\tO.Brien Smith"]
        assert len({normalised_name(f) for f in forms}) == 1

    def test_every_alias_with_every_date_of_birth(self) -> None:
        """Two names and two dates of birth give four pairs; no date gives undated pairs."""
        subject = Subject(name="Sam Placeholder", aliases=["S. Place"], date_of_birth=date(1986, 2, 3),
                          alternative_dates_of_birth=[date(1986, 3, 2)])
        assert subject_pairs(subject) == [
            "placeholder sam|1986-02-03", "placeholder sam|1986-03-02", "place s|1986-02-03", "place s|1986-03-02"]
        assert subject_pairs(Subject(name="Sam Placeholder")) == ["placeholder sam|"]

    def test_keys_depend_on_the_secret(self) -> None:
        """The same subject under another index key gives unrelated keys, and none holds the name or date."""
        subject = Subject(name="Sam Placeholder", date_of_birth=date(1986, 2, 3))
        ours, theirs = subject_keys(subject, TEST_KEYS), subject_keys(subject, KeyRing.generate())
        assert ours != theirs and len(ours[0]) == 32
        assert all(c in "0123456789abcdef" for c in ours[0])


class TestLinkedCases:
    """A new application shows the earlier cases about the same subject."""

    async def test_same_subject_under_another_alias_is_linked(self, client: Client, tmp_path: Path) -> None:
        """A second application naming the subject by an alias and another date of birth links to the first."""
        token = letters()
        first_app = secret_application(token)  # "Samson {token}ley", alias "Sonny {token}er", 1979-12-04 / 1979-04-12
        second_app = secret_application(
            token, name=f"SONNY  {token.upper()}ER", aliases=[f"Sonny-Boy {token}"],
            date_of_birth="1979-04-12", alternative_dates_of_birth=[],
        )
        stranger = secret_application(letters())
        async with staffed_worker(client, tmp_path, staff_for_tests()) as worker:
            cases = CaseClient(client, Settings(home=tmp_path, task_queue=worker.task_queue), signer=SIGNER)
            operator = Actor(id="OP1", role=Role.operator)
            first = await cases.start(CaseInput(ref=new_ref(), application=first_app, started_by=operator))
            other = await cases.start(CaseInput(ref=new_ref(), application=stranger, started_by=operator))
            second = await cases.start(CaseInput(ref=new_ref(), application=second_app, started_by=operator))

            async def linked() -> list[str] | None:
                return (await cases.snapshot(second.id)).linked_cases or None

            assert await eventually(linked, what="the link to the earlier case") == [first.id]
            assert (await cases.snapshot(first.id)).linked_cases == [second.id]
            assert (await cases.snapshot(other.id)).linked_cases == []
            stored = (await second.describe()).typed_search_attributes.get(search.SUBJECT_KEYS) or []
            assert stored == subject_keys(second_app.subject, TEST_KEYS)
            assert not any(token.lower() in k or "1979" in k for k in stored)

    async def test_case_start_flags_a_repeat_subject(self, client: Client, tmp_path: Path) -> None:
        """`dvds case start` warns on stderr of earlier cases about the subject, and prints only the ref on stdout."""
        async with staffed_worker(client, tmp_path, staff_for_tests()) as worker:
            app = secret_application()
            cases = CaseClient(client, Settings(home=tmp_path, task_queue=worker.task_queue), signer=SIGNER)
            earlier = await cases.start(CaseInput(ref=new_ref(), application=app, started_by=OPERATOR))

            async def indexed() -> bool:
                return bool(await cases.list_cases(f"WorkflowId = '{earlier.id}' AND DvdsSubjectKeys IS NOT NULL"))

            await eventually(indexed, what="the earlier case in visibility")
            file = tmp_path / "application.json"
            file.write_text(app.model_dump_json())
            env = {"TEMPORAL_ADDRESS": client.service_client.config.target_host,
                   "DVDS_TASK_QUEUE": worker.task_queue, "DVDS_HOME": str(tmp_path), "COLUMNS": "400"}
            started = await dvds("case", "start", "--file", str(file), "--actor", "OP1", env=env)
            assert started.code == 0, started.err
            assert started.out.strip().startswith("DVDS-") and len(started.out.split()) == 1
            assert "repeat subject" in started.err and earlier.id in started.err
            shown = await dvds("case", "show", started.out.strip(), env=env)
            assert "same subject as" in shown.out and earlier.id in shown.out
