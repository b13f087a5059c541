"""The application a case starts from, and the people and facts it carries.

Every model hides its input in validation errors (`hide_input_in_errors`): an error
message names the field and the rule, never the value, because the values are
personal data about people at risk of abuse.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, ValidationError

# Re-exported: the reference is one of the models a case starts from (rules in states/case_ref.py).
from states.case_ref import CaseRef as CaseRef

# Strict about unknown fields so a typo in a submission file is refused, not ignored.
DOMAIN_CONFIG = ConfigDict(
    extra="forbid", hide_input_in_errors=True, str_strip_whitespace=True, frozen=True
)

Text = Annotated[str, StringConstraints(min_length=1, max_length=2000)]
LongText = Annotated[str, StringConstraints(min_length=1, max_length=20000)]
StaffId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._-]{1,64}$")]


# No "not in the future" check here: models are also decoded inside workflows, where
# only workflow time may be read. Case.check_dates does that with workflow.now().
def _plausible_birth(value: date) -> date:
    if value.year < 1900:
        raise ValueError("must be in 1900 or later")
    return value


DateOfBirth = Annotated[date, AfterValidator(_plausible_birth)]


class DomainModel(BaseModel):
    model_config = DOMAIN_CONFIG


class Route(StrEnum):
    right_to_ask = "right_to_ask"
    right_to_know = "right_to_know"


class ApplicantRelationship(StrEnum):
    self = "self"
    third_party = "third_party"
    police = "police"


class ContactMethod(StrEnum):
    phone = "phone"
    email = "email"
    in_person = "in_person"
    via_agency = "via_agency"


class Address(DomainModel):
    line1: Text
    town: Text
    postcode: Annotated[str, StringConstraints(min_length=5, max_length=8)]


class Person(DomainModel):
    name: Text
    date_of_birth: DateOfBirth | None = None
    address: Address | None = None


class Subject(DomainModel):
    """B: the person whose history is checked. Aliases and other dates of birth matter:
    a check on one date of birth missed a subject in the Wiltshire case."""

    name: Text
    aliases: list[Text] = Field(default_factory=list, max_length=50)
    date_of_birth: DateOfBirth | None = None
    alternative_dates_of_birth: list[DateOfBirth] = Field(default_factory=list, max_length=20)
    previous_addresses: list[Address] = Field(default_factory=list, max_length=50)


class SafeContact(DomainModel):
    method: ContactMethod
    detail: Text
    safe_times: Text
    notes: LongText | None = None


class Application(DomainModel):
    """What is recorded at initial contact."""

    route: Route
    applicant_relationship: ApplicantRelationship
    applicant: Person | None = Field(
        default=None, description="Who applied; omitted when the person at risk applied"
    )
    person_at_risk: Person
    subject: Subject
    safe_contact: SafeContact
    prompted_by: Text = Field(description="What prompted the application")
    immediate_risk: bool = False
    identity_documents_seen: list[Text] = Field(default_factory=list, max_length=20)


def validation_summary(err: ValidationError) -> str:
    """'field.path: rule' for each error, without the submitted values."""
    lines = []
    for error in err.errors(include_input=False, include_url=False):
        where = ".".join(str(p) for p in error["loc"]) or "(input)"
        lines.append(f"{where}: {error['msg']}")
    return "; ".join(lines)
