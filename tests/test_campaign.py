"""`dvds demo-data --profile wiltshire-2024`: an export the review finds the Wiltshire mix in."""

from __future__ import annotations

import io
from collections import Counter
from datetime import date

from dvds.importer.campaign import PROFILES, REPEAT_DECIDER, review_finding, write_campaign_export
from dvds.importer.export import plan_import
from dvds.importer.rows import RowContext
from tests.helpers.cli import dvds


def findings(text: str) -> Counter[str]:
    plan = plan_import(text.encode(), RowContext(today=date.today()))
    assert not plan.rejects, plan.rejects[:3]
    found = Counter[str]()
    for row in plan.to_start:
        assert row.case.historical is not None
        finding = review_finding(row.case.historical)
        found[str(finding.failure_type) if finding else "none"] += 1
    return found


class TestWiltshireProfile:
    """The profile's rows import cleanly, and the review finds exactly its failures."""

    def test_reviewed_it_gives_the_review_s_mix(self) -> None:
        """3,778 rows: 33 failures, 14 administrative, 17 service, 2 with harm; the same seed, the same file."""
        out = io.StringIO()
        write_campaign_export(out, PROFILES["wiltshire-2024"], seed=2024)
        assert findings(out.getvalue()) == Counter(none=3778 - 33, administrative=14, service=17, harm=2)
        again = io.StringIO()
        write_campaign_export(again, PROFILES["wiltshire-2024"], seed=2024)
        assert again.getvalue() == out.getvalue()

    def test_one_decision_maker_made_every_failing_decision(self) -> None:
        """Every failing row names one decision maker (alone: no other researcher), who decided other cases too."""
        out = io.StringIO()
        write_campaign_export(out, PROFILES["wiltshire-2024"], seed=2024)
        plan = plan_import(out.getvalue().encode(), RowContext(today=date.today()))
        failing, others = set(), Counter[str]()
        for row in plan.to_start:
            facts = row.case.historical
            assert facts is not None
            staff = {s for s in (facts.decided_by, facts.researched_by) if s}
            if review_finding(facts):
                failing |= staff
            elif REPEAT_DECIDER in staff:
                others[REPEAT_DECIDER] += 1
            if facts.decision_on is not None:
                assert facts.decided_by, row.case_ref
        assert failing == {REPEAT_DECIDER}
        assert 10 <= others[REPEAT_DECIDER] <= 200

    async def test_command_writes_the_profile(self) -> None:
        """`dvds demo-data --profile wiltshire-2024` writes the 3,778 rows; an unknown profile is refused by name."""
        result = await dvds("demo-data", "--profile", "wiltshire-2024", "--seed", "7", env={})
        assert result.code == 0, result.err
        found = findings(result.out)
        assert sum(found.values()) == 3778 and found["administrative"] == 14
        refused = await dvds("demo-data", "--profile", "nowhere", "--seed", "7", env={})
        assert refused.code == 2 and "profile: one of wiltshire-2024" in refused.err
