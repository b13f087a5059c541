"""The deadline policy: limits, stage targets, the escalation ladder, the urgent track.

Loaded from a TOML file (`DeadlinePolicy.from_toml`) or the documented default
(`DEFAULT_POLICY_TOML`). The policy in force is copied into each case when it starts.
Times are computed in UK local time; day limits end at the end of the last day
(the IOPC rule's reading: "by the end of the day following the day ...").
"""

from __future__ import annotations

import tomllib
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from states import calendars
from states.roles import Task
from states.submissions import FailureType


class Unit(StrEnum):
    seconds = "seconds"
    minutes = "minutes"
    hours = "hours"
    calendar_days = "calendar_days"
    working_days = "working_days"


class Limit(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    amount: float = Field(gt=0)
    unit: Unit

    @model_validator(mode="after")
    def days_are_whole(self) -> Limit:
        if self.unit in (Unit.calendar_days, Unit.working_days) and not float(self.amount).is_integer():
            raise ValueError(f"amount: a limit in {self.unit} must be a whole number of days")
        return self

    def due_from(self, start: datetime, tz: str, calendar: str | None = None) -> datetime:
        """When a limit of this length that starts at `start` (UTC-aware) is due. Working
        days skip the bank holidays of `calendar` (states/calendars); None, for cases begun
        before calendars were fixed into cases, those of the installed `holidays` package."""
        if self.unit is Unit.seconds:
            return start + timedelta(seconds=self.amount)
        if self.unit is Unit.minutes:
            return start + timedelta(minutes=self.amount)
        if self.unit is Unit.hours:
            return start + timedelta(hours=self.amount)
        zone = ZoneInfo(tz)
        day = start.astimezone(zone).date()
        days = int(self.amount)
        if self.unit is Unit.calendar_days:
            last = day + timedelta(days=days)
        else:
            last = _add_working_days(day, days, calendar)
        end_of_day = datetime.combine(last + timedelta(days=1), time(0), tzinfo=zone)
        return (end_of_day - timedelta(microseconds=1)).astimezone(start.tzinfo)


@lru_cache(maxsize=128)
def _bank_holidays(year: int) -> frozenset[date]:
    # Imported when a calendar is first needed (the worker preloads them, see below): a
    # command that only reads a case does not pay for loading the holidays package.
    import holidays

    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year).keys())


def preload_bank_holidays(years: range) -> None:
    """Load these years' bank holidays into the cache. The worker does, before any
    workflow runs: `holidays` cannot load a calendar inside the workflow sandbox (it
    reads translation files through `locale`, which the sandbox refuses), and the
    sandbox shares this module with the worker, so workflows read the cache."""
    assert len(years) <= 128, "the cache holds 128 years"
    for year in years:
        _bank_holidays(year)


def _add_working_days(day: date, count: int, calendar: str | None) -> date:
    while count > 0:
        day += timedelta(days=1)
        holidays = _bank_holidays(day.year) if calendar is None else calendars.bank_holidays(calendar, day.year)
        if day.weekday() < 5 and day not in holidays:
            count -= 1
    return day


class Accountable(StrEnum):
    assigned_officer = "assigned_officer"
    supervisor = "supervisor"
    senior_officer = "senior_officer"
    professional_standards = "professional_standards"


class Rung(BaseModel):
    """One step of the escalation ladder: at a time after the deadline starts, or at
    the breach, tell whoever is accountable."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    at: Limit | Literal["breach"]
    notify: Accountable


class DeadlineRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    limit: Limit
    ladder: list[Rung] = Field(default_factory=list)


class ReferralPolicy(BaseModel):
    """Which confirmed failures go to the IOPC without a further choice."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    automatic: list[FailureType] = Field(default_factory=lambda: [FailureType.service, FailureType.harm])
    when_harm_occurred: bool = Field(default=True, description="Any failure where harm occurred is referred")

    def refers(self, failure_type: str, harm_occurred: bool) -> bool:
        return failure_type in self.automatic or (self.when_harm_occurred and harm_occurred)


class DeadlinePolicy(BaseModel):
    """Which limits apply. `outcome` runs from receipt to the decision (or withdrawal);
    `stages` each run from when a task opens to when it is done; `urgent` replaces
    them for high risk or immediate risk; `iopc_referral` runs from a confirmed failure
    to the referral."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = "default"
    timezone: str = "Europe/London"
    outcome: DeadlineRule
    historical_outcome: Limit = Field(description="Yardstick for historical decisions")
    stages: dict[Task, DeadlineRule] = Field(default_factory=dict)
    urgent: dict[str, DeadlineRule] = Field(
        default_factory=dict, description="Keyed 'outcome' or a task name"
    )
    iopc_referral: DeadlineRule
    referral: ReferralPolicy = Field(default_factory=ReferralPolicy)
    calendar: str | None = Field(
        default=None,
        description="The bank-holiday calendar's version (states/calendars), fixed when a case starts; "
        "unset only in cases begun before it was (they count by the holidays package)",
    )

    @field_validator("calendar")
    @classmethod
    def calendar_is_known(cls, version: str | None) -> str | None:
        why = None if version is None else calendars.unknown(version)
        if why is not None:
            raise ValueError(why)
        return version

    def with_calendar(self, version: str | None = None) -> DeadlinePolicy:
        """This policy counting by `version` (the current calendar if None), unless it names one."""
        if self.calendar is not None:
            return self
        return self.model_copy(update={"calendar": version or calendars.current()})

    @classmethod
    def from_toml(cls, text: str) -> DeadlinePolicy:
        return cls.model_validate(tomllib.loads(text))

    def rule_for(self, name: str, urgent: bool) -> DeadlineRule | None:
        if urgent and name in self.urgent:
            return self.urgent[name]
        if name == "outcome":
            return self.outcome
        if name == "iopc_referral":
            return self.iopc_referral
        return self.stages.get(Task(name)) if name in Task.__members__ else None


DEFAULT_POLICY_TOML = """\
# The DVDS deadline policy. Units: seconds, minutes, hours, calendar_days, working_days
# (England and Wales bank holidays skipped: `calendar`, a version in states/calendars, is
# the current one unless named). Day limits end at the end of the last day, UK local time.
name = "default-2023-guidance"
timezone = "Europe/London"
historical_outcome = { amount = 35, unit = "calendar_days" }   # 2016 guidance

[outcome]            # receipt to decision: 28 days under the 2023 guidance
limit = { amount = 28, unit = "calendar_days" }
ladder = [
  { at = { amount = 14, unit = "calendar_days" }, notify = "assigned_officer" },
  { at = { amount = 21, unit = "calendar_days" }, notify = "supervisor" },
  { at = "breach", notify = "senior_officer" },
]

[stages.research]    # initial checks within 24 hours (a local target)
limit = { amount = 24, unit = "hours" }
ladder = [{ at = "breach", notify = "supervisor" }]

[stages.disclosure]  # face-to-face within 10 days of the decision
limit = { amount = 10, unit = "calendar_days" }
ladder = [
  { at = { amount = 7, unit = "calendar_days" }, notify = "assigned_officer" },
  { at = "breach", notify = "supervisor" },
]

[stages.review]
limit = { amount = 14, unit = "calendar_days" }
ladder = [{ at = "breach", notify = "supervisor" }]

[stages.countersignature]   # a second decision maker on a decline despite relevant history
limit = { amount = 2, unit = "working_days" }
ladder = [
  { at = { amount = 1, unit = "working_days" }, notify = "supervisor" },
  { at = "breach", notify = "senior_officer" },
]

[stages.safeguarding_contact]  # opens when the outcome deadline is breached
limit = { amount = 24, unit = "hours" }
ladder = [
  { at = { amount = 12, unit = "hours" }, notify = "supervisor" },
  { at = "breach", notify = "senior_officer" },
]

[stages.failure_confirmation]
limit = { amount = 5, unit = "working_days" }
ladder = [{ at = "breach", notify = "senior_officer" }]

[stages.remedial_disclosure]
limit = { amount = 3, unit = "calendar_days" }
ladder = [{ at = "breach", notify = "senior_officer" }]

[iopc_referral]      # by the end of the day after the day the failure is confirmed
limit = { amount = 1, unit = "calendar_days" }
ladder = [{ at = "breach", notify = "professional_standards" }]

[referral]           # referred to the IOPC once confirmed; any other failure only if PSD chooses
automatic = ["service", "harm"]
when_harm_occurred = true

# High risk or immediate risk: hour-scale targets replace the ones above.
[urgent.outcome]
limit = { amount = 72, unit = "hours" }
ladder = [
  { at = { amount = 24, unit = "hours" }, notify = "assigned_officer" },
  { at = { amount = 48, unit = "hours" }, notify = "supervisor" },
  { at = "breach", notify = "senior_officer" },
]

[urgent.research]
limit = { amount = 4, unit = "hours" }
ladder = [{ at = "breach", notify = "supervisor" }]

[urgent.risk_assessment]
limit = { amount = 8, unit = "hours" }
ladder = [{ at = "breach", notify = "supervisor" }]

[urgent.countersignature]
limit = { amount = 8, unit = "hours" }
ladder = [{ at = "breach", notify = "senior_officer" }]

[urgent.disclosure]
limit = { amount = 24, unit = "hours" }
ladder = [{ at = "breach", notify = "senior_officer" }]

[urgent.remedial_disclosure]
limit = { amount = 24, unit = "hours" }
ladder = [
  { at = { amount = 12, unit = "hours" }, notify = "supervisor" },
  { at = "breach", notify = "senior_officer" },
]
"""


def default_policy() -> DeadlinePolicy:
    return DeadlinePolicy.from_toml(DEFAULT_POLICY_TOML)
