"""Task forms generated from the submission models: what a filled form becomes, and where
the model's messages go."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from dvds.web.form_schema import FormField, field_errors, field_keys, form_fields, initial_values, parse
from states.models import Application
from states.roles import Task
from states.submissions import Research, RiskAssessment
from states.tasks import TASK_MODEL
from tests.helpers.paths import EXAMPLES

UK = "Europe/London"
OTHER_EXAMPLES = {"failure_not_confirmed": Task.failure_confirmation}


def as_form(task: Task, example: dict[str, object]) -> dict[str, str]:
    """What a person types into the generated form to say what the example file says."""
    form: dict[str, str] = {}
    for spec in form_fields(TASK_MODEL[task]):
        value = example.get(spec.name)
        if spec.kind == "rows":
            rows = value if isinstance(value, list) else []
            form[f"{spec.name}.__rows"] = str(len(rows) + 1)  # and a blank row left at the end
            for i, item in enumerate(rows):
                for sub in spec.subfields:
                    form[f"{spec.name}.{i}.{sub.name}"] = str(item[sub.name]).replace("Z", "+00:00")
        elif value is None:
            continue
        elif spec.kind == "lines":
            form[spec.name] = "\n".join(str(v) for v in value)  # type: ignore[attr-defined]
        elif spec.kind == "yesno":
            form[spec.name] = "yes" if value else "no"
        elif spec.kind == "checkbox":
            if value:
                form[spec.name] = "on"
        else:
            form[spec.name] = str(value)
    return form


@pytest.mark.parametrize("example", sorted(p.stem for p in (EXAMPLES / "tasks").glob("*.json")))
def test_every_example_submission_can_be_typed_into_its_form(example: str) -> None:
    """Each example submission, typed into its generated form, parses to the same model."""
    data = json.loads((EXAMPLES / "tasks" / f"{example}.json").read_text())
    task = OTHER_EXAMPLES.get(example) or next(t for t in Task if example.startswith(str(t)))
    model = TASK_MODEL[task]
    parsed, _ = parse(form_fields(model), as_form(task, data), UK)
    assert model.model_validate(parsed) == model.model_validate(data)


def test_research_checks_are_rows_and_blank_rows_are_dropped() -> None:
    """A research form has a row per check; a blank row is not a check, and a local time is UK time."""
    fields = form_fields(Research)
    checks = next(f for f in fields if f.name == "checks")
    assert checks.kind == "rows" and [s.name for s in checks.subfields][:2] == ["system", "search_terms"]
    form = {"checks.__rows": "2", "checks.0.system": "PNC", "checks.0.search_terms": "all names",
            "checks.0.result": "no_trace", "checks.0.checked_at": "2026-07-01T10:00", "checks.0.checked_by": "R100",
            "aliases_checked": "yes", "summary": "Nothing found."}
    parsed, kept = parse(fields, form, UK)
    research = Research.model_validate(parsed)
    assert len(research.checks) == 1 and kept["checks"] == [0]
    assert research.checks[0].checked_at == datetime(2026, 7, 1, 9, 0, tzinfo=UTC)  # BST
    assert initial_values(fields)["checks.__rows"] == "1"


def test_messages_go_beside_their_fields_without_the_values() -> None:
    """A missing field in a check's row and a rule across fields are put beside those fields."""
    fields = form_fields(Research)
    form = {"checks.__rows": "2", "checks.1.system": "PNC", "summary": "Secret Name"}
    parsed, kept = parse(fields, form, UK)
    with pytest.raises(ValidationError) as invalid:
        Research.model_validate(parsed)
    by_field, _ = field_errors(invalid.value, fields, kept)
    assert by_field["checks.1.search_terms"] == ["Field required"]
    assert by_field["aliases_checked"] == ["Field required"]

    fields = form_fields(RiskAssessment)
    parsed, kept = parse(fields, {"score": "90", "level": "high", "rationale": "Secret Name"}, UK)
    with pytest.raises(ValidationError) as invalid:
        RiskAssessment.model_validate(parsed)
    by_field, general = field_errors(invalid.value, fields, kept)
    assert by_field["marac_referral"] == by_field["idva_referral"] == ["a high risk must be referred to both"]
    assert "Secret Name" not in json.dumps([by_field, general])


def application_form(data: dict[str, object], fields: list[FormField], prefix: str = "") -> dict[str, str]:
    """What an operator types into the generated application form to say what `data` says."""
    form: dict[str, str] = {}
    for spec in fields:
        key, value = prefix + spec.name, data.get(spec.name)
        if spec.kind == "group":
            form.update(application_form(value if isinstance(value, dict) else {}, spec.subfields, key + "."))
        elif spec.kind == "rows":
            rows = value if isinstance(value, list) else []
            form[f"{key}.__rows"] = str(len(rows) + 1)
            for i, item in enumerate(rows):
                form.update({f"{key}.{i}.{sub.name}": str(item[sub.name]) for sub in spec.subfields})
        elif spec.kind == "lines" and isinstance(value, list):
            form[key] = "\n".join(str(v) for v in value)
        elif spec.kind == "checkbox":
            if value:
                form[key] = "on"
        elif value is not None:
            form[key] = str(value)
    return form


class TestApplicationForm:
    """The new application's form, generated from the Application model: groups of fields."""

    def test_the_example_application_typed_in_parses_to_the_same(self) -> None:
        """examples/application.json typed into the form (people, addresses, aliases, dates) is the same Application."""
        data = json.loads((EXAMPLES / "application.json").read_text())
        data["subject"]["previous_addresses"] = [{"line1": "2 Old Road", "town": "Devizes", "postcode": "SN10 1AA"}]
        fields = form_fields(Application)
        assert {f.name: f.kind for f in fields}["subject"] == "group"
        form = application_form(data, fields)
        assert form["person_at_risk.address.town"] == "Trowbridge" and form["subject.previous_addresses.__rows"] == "2"
        parsed, _ = parse(fields, form, UK)
        assert Application.model_validate(parsed) == Application.model_validate(data)
        assert "applicant" not in parsed, "an optional person left blank is not given"

    def test_messages_beside_nested_fields(self) -> None:
        """A missing name inside a group and a bad cell in a row of addresses go beside those fields."""
        fields = form_fields(Application)
        data = json.loads((EXAMPLES / "application.json").read_text())
        form = application_form(data, fields)
        form.update({"person_at_risk.name": "", "subject.previous_addresses.__rows": "3",
                     "subject.previous_addresses.2.line1": "Secret Street"})
        parsed, kept = parse(fields, form, UK)
        with pytest.raises(ValidationError) as invalid:
            Application.model_validate(parsed)
        by_field, general = field_errors(invalid.value, fields, kept)
        assert by_field["person_at_risk.name"] == ["Field required"]
        assert by_field["subject.previous_addresses.2.town"] == ["Field required"]
        assert {"person_at_risk.name", "subject.previous_addresses.2.town"} <= field_keys(fields, form)
        assert "Secret" not in json.dumps([by_field, general])
