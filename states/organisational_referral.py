"""An organisational referral: Professional Standards refers to the IOPC a matter about the
force's handling across several cases at once (Wiltshire's referral about its response to
two earlier referrals of one member of staff). It keeps its category and the cases it covers;
each case's own referral, if it has one, keeps its own category.
"""

from __future__ import annotations

from datetime import datetime
from typing import Self

from pydantic import Field, model_validator

from states.actor import Actor
from states.models import CaseRef, LongText
from states.record import Record
from states.roles import Role

ORGANISATIONAL = "organisational"


class OrganisationalReferralInput(Record):
    ref: CaseRef = Field(description="The referral's own reference (not a case's)")
    referred_by: Actor
    cases: list[CaseRef] = Field(min_length=2, max_length=1000, description="The cases the referral covers")
    concern: LongText = Field(description="What the referral is about; kept with it, never sent in the message")

    @model_validator(mode="after")
    def made_by_professional_standards(self) -> Self:
        if self.referred_by.role is not Role.professional_standards:
            raise ValueError("referred_by: an organisational referral is made by professional_standards")
        if len(set(self.cases)) != len(self.cases):
            raise ValueError("cases: each case is named once")
        if self.ref in self.cases:
            raise ValueError("ref: the referral's reference must not be one of its cases")
        return self


class OrganisationalReferral(Record):
    """The referral as filed: its category, the cases it covers, the IOPC's reference."""

    ref: str
    category: str = ORGANISATIONAL
    cases: list[str]
    referred_by: str
    duty_arose_at: datetime
    iopc_reference: str
    referred_at: datetime


def workflow_id(ref: str) -> str:
    return f"organisational-referral-{ref}"
