"""A synthetic historical export for demos and benchmarks: the review's mix, made-up people.

The mix follows the Wiltshire review (3,582 applications, April 2015 to August 2023,
33% ended in disclosure, a few dozen possible failures): about a third disclosed, about
a fifth of decisions later than the 35-day yardstick, and about one row in a hundred a
subject with relevant history whose disclosure was never delivered. Every name is built
from words no one is called (Example, Sample, ...), so no real person's data can appear.
"""

from __future__ import annotations

import csv
import io
import random
from datetime import date, timedelta
from typing import TextIO

from dvds.importer.rows import COLUMNS

FIRST = ("Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot", "Golf", "Hotel", "India", "Juliet",
         "Kilo", "Lima", "Mike", "November", "Oscar", "Papa", "Quebec", "Romeo", "Sierra", "Tango")
LAST = ("Example", "Sample", "Specimen", "Placeholder", "Fictitious", "Madeup", "Testcase", "Dummy")
NOTES = (
    "Checked PNC, local intelligence and partner agencies.",
    "Applicant moved address; contact via IDVA, not by phone.",
    'Subject known as "the lodger" to neighbours.\nCheck the alias on PNC.',
    "Forum met twice, decision deferred.\nMinutes on file.",
)
FIRST_DAY = date(2015, 4, 1)
LAST_DAY = date(2023, 8, 31)
LATE_SHARE = 0.2
POSSIBLE_FAILURE_SHARE = 0.01


def _name(rng: random.Random) -> str:
    return f"{rng.choice(FIRST)} {rng.choice(LAST)}"


def _when(rng: random.Random, day: date | None) -> str:
    """Some rows use the UK day-first form, as a force's export does."""
    if day is None:
        return ""
    return day.strftime("%d/%m/%Y") if rng.random() < 0.25 else day.isoformat()


def _birth(rng: random.Random, received: date, youngest: int, oldest: int) -> date:
    return received - timedelta(days=rng.randint(youngest * 365, oldest * 365))


def demo_row(rng: random.Random, number: int, prefix: str = "DEMO") -> dict[str, str]:
    received = FIRST_DAY + timedelta(days=rng.randint(0, (LAST_DAY - FIRST_DAY).days))
    route = "right_to_know" if rng.random() < 0.3 else "right_to_ask"
    relationship = "police" if route == "right_to_know" else rng.choice(("self", "self", "third_party"))
    roll = rng.random()
    decision = "disclosed" if roll < 0.334 else "declined" if roll < 0.78 else "withdrawn" if roll < 0.95 else "none"
    late = rng.random() < LATE_SHARE
    decided = None if decision == "none" else received + timedelta(
        days=rng.randint(36, 400) if late else rng.randint(3, 35))
    researched = None
    if decided is not None and (decision != "withdrawn" or rng.random() < 0.5):
        researched = received + timedelta(days=rng.randint(1, max(1, (decided - received).days)))
    risk = ""
    if decision in ("disclosed", "declined") or rng.random() < 0.4:
        risk = rng.choices(("standard", "medium", "high"), weights=(6, 3, 1))[0]
        researched = researched or received + timedelta(days=1)
    delivered = None
    history = rng.choice(("no", "no", "no", "unknown"))
    if decision == "disclosed":
        history = "yes"
        assert decided is not None
        delivered = decided + timedelta(days=rng.randint(0, 14))
    if rng.random() < POSSIBLE_FAILURE_SHARE:
        # Relevant history that never reached the person at risk.
        history, delivered = "yes", None
    aliases = "; ".join(_name(rng) for _ in range(rng.choice((0, 0, 0, 1, 2))))
    return {
        "case_ref": f"{prefix}-{received.year}-{number:06d}",
        "route": route,
        "received_on": _when(rng, received),
        "applicant_relationship": relationship,
        "person_at_risk_name": _name(rng),
        "person_at_risk_dob": _when(rng, _birth(rng, received, 17, 70)) if rng.random() < 0.9 else "",
        "subject_name": _name(rng),
        "subject_aliases": aliases,
        "subject_dob": _when(rng, _birth(rng, received, 18, 70)) if rng.random() < 0.8 else "",
        "research_completed_on": _when(rng, researched),
        "risk_level": risk,
        "decision": decision,
        "decision_on": _when(rng, decided),
        "disclosure_delivered_on": _when(rng, delivered),
        "subject_has_relevant_history": history,
        "notes": rng.choice(NOTES) if rng.random() < 0.3 else "",
    }


def write_demo_export(out: TextIO, rows: int, seed: int, prefix: str = "DEMO") -> None:
    """`rows` applications; the same seed writes the same file. Case references are
    PREFIX-YEAR-NUMBER, so two demo files with different prefixes never collide."""
    rng = random.Random(seed)
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for number in range(1, rows + 1):
        writer.writerow(demo_row(rng, number, prefix))


def demo_export(rows: int, seed: int, prefix: str = "DEMO") -> bytes:
    """The demo export as the bytes of a CSV file (what `dvds demo-data` writes)."""
    out = io.StringIO(newline="")
    write_demo_export(out, rows, seed, prefix)
    return out.getvalue().encode()
