"""Demo exports that reproduce a review's outcome (`dvds demo-data --profile NAME`), and the
finding a reviewer makes of each imported record (the bench's reviewers use it).

`wiltshire-2024`: the Wiltshire review's final figures (May 2024): 3,778 applications, 33
failures: 17 service (relevant history found, never disclosed), 2 of the same kind that led to
harm, 14 administrative (a decision on a record with no research logged). Every other row is
as `write_demo_export` makes it, with no possible failure, so the review finds exactly those.

Each row names its staff (the `decided_by` / `researched_by` columns): the failures are all
one decision maker's (`REPEAT_DECIDER`, deciding alone: they did the research too, or none was
logged), who also decided a few dozen of the other cases; everyone else's decisions and research
are spread over the team. So the failures, once confirmed, open look-backs of that person's
other cases and alert Professional Standards.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from typing import TextIO

from dvds.importer.columns import STAFF_COLUMNS
from dvds.importer.demo_data import demo_row
from dvds.importer.rows import COLUMNS
from states.record import HistoricalFacts, SubjectHistory
from states.risk import RiskLevel
from states.submissions import FailureType


@dataclass(frozen=True)
class CampaignProfile:
    rows: int
    service: int
    harm: int
    administrative: int

    @property
    def failures(self) -> int:
        return self.service + self.harm + self.administrative


PROFILES: dict[str, CampaignProfile] = {
    "wiltshire-2024": CampaignProfile(rows=3778, service=17, harm=2, administrative=14),
}


REPEAT_DECIDER = "DM07"
DECIDERS = tuple(f"DM{n:02d}" for n in range(1, 25) if f"DM{n:02d}" != REPEAT_DECIDER)
RESEARCHERS = tuple(f"RS{n:02d}" for n in range(1, 31))
REPEAT_DECIDER_SHARE = 0.015  # of the other decided cases: about 40 in the Wiltshire profile


@dataclass(frozen=True)
class Finding:
    failure_type: FailureType
    harm_occurred: bool


def review_finding(facts: HistoricalFacts) -> Finding | None:
    """What the review finds in an imported record: relevant history that never reached the
    person at risk is a service failure (harm when the risk was high, as the two Wiltshire
    cases of harm were), whatever the decision: an application withdrawn does not end the
    police's power to disclose under Right to Know, so its found history is looked at too (the
    importer's possible-failure priority says the same); a decision on a record with no research
    logged is administrative."""
    never_disclosed = facts.subject_has_relevant_history is SubjectHistory.yes and facts.disclosure_delivered_on is None
    if never_disclosed:
        harm = facts.risk_level is RiskLevel.high
        return Finding(FailureType.harm if harm else FailureType.service, harm)
    if facts.risk_level is not None and facts.research_completed_on is None and facts.decision_on is not None:
        return Finding(FailureType.administrative, False)
    return None


def _clean(rng: random.Random, number: int, prefix: str) -> dict[str, str]:
    """A row the review finds nothing in."""
    while True:
        row = demo_row(rng, number, prefix)
        delivered = row["disclosure_delivered_on"]
        if not (row["subject_has_relevant_history"] == "yes" and not delivered):
            return row


def _failing(row: dict[str, str], kind: FailureType, rng: random.Random) -> dict[str, str]:
    if kind is FailureType.administrative:
        # A decision made and delivered, with no research logged.
        return {**row, "decision": "disclosed", "research_completed_on": "",
                "risk_level": row["risk_level"] or "medium",
                "decision_on": row["decision_on"] or row["received_on"],
                "disclosure_delivered_on": row["disclosure_delivered_on"] or row["decision_on"] or row["received_on"],
                "subject_has_relevant_history": "yes"}
    risk = "high" if kind is FailureType.harm else rng.choice(("standard", "medium"))
    return {**row, "decision": "declined", "subject_has_relevant_history": "yes", "disclosure_delivered_on": "",
            "risk_level": risk, "research_completed_on": row["research_completed_on"] or row["received_on"],
            "decision_on": row["decision_on"] or row["received_on"]}


def _staffed(row: dict[str, str], failing: bool, rng: random.Random) -> dict[str, str]:
    """Who decided and who researched: the repeat decision maker alone on a failing row."""
    decided, researched = row["decision_on"] != "", row["research_completed_on"] != ""
    if failing:
        decider = researcher = REPEAT_DECIDER
    else:
        decider = REPEAT_DECIDER if rng.random() < REPEAT_DECIDER_SHARE else rng.choice(DECIDERS)
        researcher = rng.choice(RESEARCHERS)
    return {**row, "decided_by": decider if decided else "", "researched_by": researcher if researched else ""}


def write_campaign_export(out: TextIO, profile: CampaignProfile, seed: int, prefix: str = "DEMO") -> None:
    """The profile's rows, its failures planted at places the seed picks; the same seed, the same file."""
    rng = random.Random(seed)
    # Staff drawn apart, so the rest of each row is what it was before the staff columns.
    staff_rng = random.Random(f"{seed}:staff")
    kinds = ([FailureType.service] * profile.service + [FailureType.harm] * profile.harm
             + [FailureType.administrative] * profile.administrative)
    planted = dict(zip(rng.sample(range(1, profile.rows + 1), len(kinds)), kinds, strict=True))
    writer = csv.DictWriter(out, fieldnames=(*COLUMNS, *STAFF_COLUMNS), lineterminator="\n")
    writer.writeheader()
    for number in range(1, profile.rows + 1):
        row = _clean(rng, number, prefix)
        if number in planted:
            row = _failing(row, planted[number], rng)
        writer.writerow(_staffed(row, number in planted, staff_rng))
