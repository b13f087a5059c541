"""What staff submit to complete each human task. One model per task."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Literal, Self

from pydantic import Field, model_validator

from states.models import DateOfBirth, DomainModel, LongText, Text
from states.risk import RiskLevel


class CheckResult(StrEnum):
    no_trace = "no_trace"
    relevant_history = "relevant_history"
    no_relevant_history = "no_relevant_history"


class ResearchCheck(DomainModel):
    system: Text = Field(description="e.g. PNC, local intelligence, probation")
    search_terms: Text
    result: CheckResult
    checked_at: datetime
    checked_by: Text


class Research(DomainModel):
    """The research task: every check on the subject, recorded."""

    checks: list[ResearchCheck] = Field(min_length=1, max_length=200)
    aliases_checked: bool = Field(
        description="All known aliases and alternative dates of birth were searched"
    )
    further_aliases: list[Text] = Field(default_factory=list, max_length=50)
    further_dates_of_birth: list[DateOfBirth] = Field(default_factory=list, max_length=20)
    summary: LongText

    @property
    def found_relevant_history(self) -> bool:
        return any(c.result is CheckResult.relevant_history for c in self.checks)


class RiskAssessment(DomainModel):
    tool: Text = Field(default="DASH")
    score: int = Field(ge=0, le=100)
    level: RiskLevel
    marac_referral: bool = False
    idva_referral: bool = False
    rationale: LongText

    @model_validator(mode="after")
    def high_risk_goes_to_marac(self) -> Self:
        if self.level is RiskLevel.high and not (self.marac_referral and self.idva_referral):
            raise ValueError("marac_referral and idva_referral: a high risk must be referred to both")
        return self


class DecisionOutcome(StrEnum):
    disclose = "disclose"
    decline = "decline"


class Decision(DomainModel):
    """The forum's decision: to disclose (lawful, necessary, proportionate, pressing
    need all recorded) or to decline (with the reason)."""

    outcome: DecisionOutcome
    forum_members: list[Text] = Field(min_length=1, max_length=30)
    lawful: LongText | None = None
    necessary: LongText | None = None
    proportionate: LongText | None = None
    pressing_need: LongText | None = None
    reason_to_decline: LongText | None = None
    disclosure_content: LongText | None = None

    @model_validator(mode="after")
    def rationale_matches_outcome(self) -> Self:
        if self.outcome is DecisionOutcome.disclose:
            missing = [
                f
                for f in ("lawful", "necessary", "proportionate", "pressing_need", "disclosure_content")
                if getattr(self, f) is None
            ]
            if missing:
                raise ValueError(f"{', '.join(missing)}: required to disclose")
        elif self.reason_to_decline is None:
            raise ValueError("reason_to_decline: required to decline")
        return self


class Disclosure(DomainModel):
    """A disclosure is delivered in person, with a safety plan; nothing in writing."""

    recipient: Text
    recipient_is_person_at_risk: bool
    delivered_by: Text
    delivered_on: date | None = Field(default=None, description="Defaults to the day it is recorded")
    in_person: Literal[True] = Field(description="Disclosures are delivered in person")
    safety_plan: LongText
    written_copy_given: Literal[False] = Field(
        default=False, description="Nothing is given in writing"
    )


class WithdrawalReason(StrEnum):
    applicant_withdrew = "applicant_withdrew"
    cannot_contact_safely = "cannot_contact_safely"


class Withdrawal(DomainModel):
    reason: WithdrawalReason
    note: LongText


class FailureType(StrEnum):
    administrative = "administrative"
    service = "service"
    harm = "harm"


class Review(DomainModel):
    """A second person's check of the handling: no failure, or a failure of a type."""

    failure_found: bool
    failure_type: FailureType | None = None
    harm_occurred: bool = False
    death_or_serious_injury: bool = False
    still_at_risk: bool = False
    findings: LongText

    @model_validator(mode="after")
    def failure_has_type(self) -> Self:
        if self.failure_found and self.failure_type is None:
            raise ValueError("failure_type: required when a failure is found")
        if not self.failure_found and self.failure_type is not None:
            raise ValueError("failure_type: only given when a failure is found")
        if self.death_or_serious_injury and not self.harm_occurred:
            raise ValueError("death_or_serious_injury: requires harm_occurred")
        return self


class FailureConfirmation(DomainModel):
    """A second person confirms (or does not confirm) the failure the review found."""

    confirmed: bool
    note: LongText
    refer: bool = Field(
        default=False,
        description="Professional Standards refers a failure the policy does not refer automatically",
    )


class RemedialDisclosure(DomainModel):
    """The urgent face-to-face meeting to disclose and give safeguarding advice."""

    met_on: date | None = Field(default=None, description="Defaults to the day it is recorded")
    met_in_person: Literal[True]
    delivered_by: Text
    safeguarding_advice: LongText


class IopcMode(StrEnum):
    not_investigated = "not_investigated"
    local = "local"
    directed = "directed"
    independent = "independent"


class IopcDecision(DomainModel):
    mode: IopcMode
    decided_on: date | None = Field(default=None, description="Defaults to the day it is recorded")
    note: LongText | None = None


class DeadlineExtension(DomainModel):
    deadline: Text = Field(description="Name of the deadline to extend, as shown by case show")
    extend_by_hours: float = Field(gt=0, le=24 * 90)
    reason: LongText


class Countersignature(DomainModel):
    """A second decision maker's check of a decline on a case whose research found relevant
    history: countersigned (the case is declined) or not (it goes back for a new decision)."""

    countersigned: bool
    reason: LongText = Field(description="Why it is, or is not, countersigned")


class RiskUpdate(DomainModel):
    """Re-triage at any stage: a new risk level, with the reason for the change."""

    level: RiskLevel
    reason: LongText
    marac_referral: bool = False
    idva_referral: bool = False

    @model_validator(mode="after")
    def high_risk_goes_to_marac(self) -> Self:
        if self.level is RiskLevel.high and not (self.marac_referral and self.idva_referral):
            raise ValueError("marac_referral and idva_referral: a high risk must be referred to both")
        return self


class SafeguardingContact(DomainModel):
    """Contact with the applicant when the outcome is late: by the recorded safe method, with
    interim safeguarding advice, recording when and how."""

    contacted_on: date | None = Field(default=None, description="Defaults to the day it is recorded")
    method: Text = Field(description="How contact was made: the recorded safe method")
    interim_advice: LongText


class ReferralAction(StrEnum):
    retry = "retry"  # the cause is put right (the gateway's contract, its credentials): send it again
    filed_by_hand = "filed_by_hand"  # filed with the IOPC another way: record its reference


class ReferralResolution(DomainModel):
    """Professional Standards resolving a referral the IOPC gateway refused for good."""

    action: ReferralAction
    iopc_reference: Text | None = Field(default=None, description="The IOPC's reference, when filed by hand")
    note: LongText

    @model_validator(mode="after")
    def filed_by_hand_names_the_reference(self) -> Self:
        if (self.action is ReferralAction.filed_by_hand) != (self.iopc_reference is not None):
            raise ValueError("iopc_reference: given when, and only when, the referral was filed by hand")
        return self
