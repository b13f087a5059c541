"""The campaign's tally, from the audit report as `dvds audit report` counts it
(dvds/audit/visibility_report.py), beside what the rows and the referral policy imply:
confirmed failures by type, referrals made, the per-staff table, the look-backs. The bench
exits non-zero when they differ."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bench.phases import Review, look_backs_for
from dvds.audit.report import AuditReport
from dvds.audit.visibility_report import visibility_report
from dvds.cases.client import CaseClient
from states.lookback import REPEAT_FAILURES
from states.record import ReviewPriority
from workflows import search


@dataclass
class Tally:
    expected: dict[str, Any]
    counted: dict[str, Any]
    look_backs_counted: int = 0
    differences: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"expected": self.expected, "counted": self.counted, "look_backs": self.look_backs_counted,
                "differences": self.differences}

    def text(self) -> str:
        counted = self.counted
        lines = ["", "tally (the audit report, counted from visibility):",
                 "  confirmed failures by type: " + _pairs(counted["failures_by_type"]),
                 "  referrals made:"]
        for r in counted["referrals"]:
            lines.append(f"    {r['category']}: {r['cases']} cases, {r['referred']} referred, "
                         f"{r['within_limit']} within the limit, {r['late']} late")
        lines.append(f"  look-back reviews (beside the {counted['reviews']} reviews of the rows): "
                     f"{self.look_backs_counted}")
        lines.append(f"  {'staff':<8}{'failures':>9}{'look-backs':>11}{'open':>6}{'clear':>7}{'failure':>8}  alert")
        for s in counted["staff"]:
            lines.append(f"  {s['staff_id']:<8}{s['confirmed_failures']:>9}{s['look_backs']:>11}"
                         f"{s['look_backs_open']:>6}{s['look_backs_clear']:>7}{s['look_backs_failure']:>8}  "
                         f"{'yes' if s['alert'] else 'no'}")
        if self.differences:
            lines.append("TALLY DIFFERS from what the rows and the policy imply:")
            lines += [f"  {d}" for d in self.differences]
        else:
            lines.append("tally: as the rows and the referral policy imply")
        return "\n".join(lines)


def expected_tally(reviews: list[Review]) -> dict[str, Any]:
    """Every failure found is confirmed; referred ones are referred at once (voluntary: no
    death or serious injury is recorded), so within the limit; every look-back is reviewed and
    finds nothing."""
    failures = [r for r in reviews if r.failure]
    by_type = Counter(str(r.finding.failure_type) for r in failures if r.finding)
    referred = sum(r.referred for r in failures)
    referrals = [{"category": "voluntary", "cases": referred, "referred": referred, "within_limit": referred,
                  "late": 0}] if referred else []
    confirmed = Counter(s for r in failures for s in r.staff)
    looked = look_backs_for(reviews)
    staff = [{"staff_id": s, "confirmed_failures": confirmed[s], "look_backs": len(looked.get(s, ())),
              "look_backs_open": 0, "look_backs_clear": len(looked.get(s, ())), "look_backs_failure": 0,
              "alert": confirmed[s] >= REPEAT_FAILURES} for s in sorted(set(confirmed) | set(looked))]
    return {"reviews": len(reviews), "failures_by_type": dict(sorted(by_type.items())), "referrals": referrals,
            "staff": staff, "look_backs": len(set().union(*looked.values())) if looked else 0}


def counted_tally(report: AuditReport, reviews: int) -> dict[str, Any]:
    return {
        "reviews": reviews,
        "failures_by_type": dict(sorted(report.failures_by_type.items())),
        "referrals": [{"category": r.category, "cases": r.cases, "referred": r.referred,
                       "within_limit": r.within_limit, "late": r.late} for r in report.referrals],
        "staff": [s.model_dump(mode="json") for s in report.staff],
    }


async def tally(cases: CaseClient, reviews: list[Review], within: float) -> Tally:
    """The report, read again until it agrees (visibility catches up) or `within` seconds pass."""
    expected = expected_tally(reviews)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    look_backs = f"WorkflowType = 'CaseWorkflow' AND {search.PRIORITY.name} = '{ReviewPriority.look_back}'"
    while True:
        report = await visibility_report(cases, "", datetime.now(UTC), cases.policy.timezone, {})
        looks = (await cases.client.count_workflows(look_backs)).count
        found = Tally(expected, counted_tally(report, expected["reviews"]), looks)
        found.differences = differences(expected, found)
        if not found.differences or loop.time() > deadline:
            return found
        await asyncio.sleep(1)


def differences(expected: dict[str, Any], found: Tally) -> list[str]:
    counted = found.counted
    out = [f"{key}: expected {expected[key]}, counted {counted[key]}"
           for key in ("failures_by_type", "referrals", "staff") if expected[key] != counted[key]]
    if found.look_backs_counted != expected["look_backs"]:
        out.append(f"look-backs: expected {expected['look_backs']}, counted {found.look_backs_counted}")
    return out


def _pairs(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in counts.items()) + f" (total {sum(counts.values())})" if counts else "none"
