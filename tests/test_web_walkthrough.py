"""README's walkthrough in a real browser: a case from received to closed, worked by five
people in the inbox, then read by an auditor. Saves screenshots of the inbox and a case page
(into $DVDS_WEB_SCREENSHOTS when set, which is how docs/ gets them; else the test's folder)."""

from __future__ import annotations

import os
from pathlib import Path

from playwright.async_api import Browser, Page
from temporalio.client import Client

from tests.helpers.browser import (  # noqa: F401 - the *_fixture names are fixtures
    browser_fixture,
    fill_research,
    open_task_from_inbox,
    reload_until,
    row,
    serving,
    sign_in,
    staff_file_fixture,
    start_new_case,
)
from tests.helpers.cases import running_worker
from tests.helpers.policies import SHORT_POLICY


async def submit_and_see(page: Page, state: str) -> None:
    await page.click("#submit-task")
    await page.wait_for_selector("#done")
    assert await page.inner_text("#case-state") == state


async def test_a_case_from_received_to_closed_then_read_by_an_auditor(
    client: Client, browser: Browser, staff_file: Path, tmp_path: Path
) -> None:
    """Five staff complete every task in the browser; the case closes; the auditor finds it and reads its timeline."""
    shots = Path(os.environ.get("DVDS_WEB_SCREENSHOTS") or tmp_path)
    async with running_worker(client, tmp_path, staff_file=staff_file) as worker, \
            serving(client, worker, tmp_path, staff_file) as base:
        ref = await start_new_case(client, worker, tmp_path)
        # An urgent case on a policy in seconds, to be overdue in the inbox beside it.
        late = await start_new_case(client, worker, tmp_path, SHORT_POLICY, immediate_risk=True)

        researcher = await sign_in(browser, base, "R100")
        await reload_until(researcher, "/inbox", lambda: researcher.is_visible(
            f"{row('my-tasks', late, 'research')} .badge.overdue"))
        assert await researcher.is_visible(row("my-tasks", ref, "research"))
        await researcher.screenshot(path=str(shots / "inbox.png"), full_page=True)
        await open_task_from_inbox(researcher, ref, "research")
        assert "Sam Placeholder" in await researcher.inner_text("#personal-data")  # a researcher needs the names
        await fill_research(researcher, "yes", "Two prior convictions for assault on former partners.")
        await researcher.click("button[name=add_row]")
        await researcher.fill("input[name='checks.1.system']", "probation")
        await researcher.fill("input[name='checks.1.search_terms']", "name, date of birth")
        await researcher.select_option("select[name='checks.1.result']", "no_trace")
        await researcher.fill("input[name='checks.1.checked_at']", "2026-01-05T11:05")
        await researcher.fill("input[name='checks.1.checked_by']", "R100")
        await submit_and_see(researcher, "researched")

        assessor = await sign_in(browser, base, "RA200")
        await open_task_from_inbox(assessor, ref, "risk_assessment")
        await assessor.fill("input[name='score']", "42")
        await assessor.select_option("select[name='level']", "medium")
        await assessor.fill("textarea[name='rationale']", "Controlling behaviour; no weapons.")
        await submit_and_see(assessor, "risk_assessed")

        forum = await sign_in(browser, base, "DM300")
        await open_task_from_inbox(forum, ref, "decision")
        await forum.select_option("select[name='outcome']", "disclose")
        await forum.fill("textarea[name='forum_members']", "DS 1234\nIDVA service")
        for name, text in [("lawful", "Common-law power to prevent crime."), ("necessary", "Cannot protect herself."),
                           ("proportionate", "Violence against partners only."),
                           ("pressing_need", "Cohabitation planned."),
                           ("disclosure_content", "Two convictions for assaulting former partners.")]:
            await forum.fill(f"textarea[name='{name}']", text)
        await submit_and_see(forum, "risk_assessed")

        officer = await sign_in(browser, base, "DO400")
        await open_task_from_inbox(officer, ref, "disclosure")
        await officer.fill("input[name='recipient']", "the person at risk")
        await officer.select_option("select[name='recipient_is_person_at_risk']", "yes")
        await officer.fill("input[name='delivered_by']", "DO400")
        await officer.check("input[name='in_person']")
        await officer.fill("textarea[name='safety_plan']", "Refuge place held; IDVA contact.")
        await submit_and_see(officer, "disclosed")

        reviewer = await sign_in(browser, base, "RV500")
        await open_task_from_inbox(reviewer, ref, "review")
        await reviewer.select_option("select[name='failure_found']", "no")
        await reviewer.fill("textarea[name='findings']", "Handled within time; record complete.")
        await submit_and_see(reviewer, "closed")

        auditor = await sign_in(browser, base, "AU800")
        found = f"#results a[href='/cases/{ref}']"
        await reload_until(auditor, "/search?state=closed", lambda: auditor.is_visible(found))
        await auditor.click(found)
        timeline = await auditor.inner_text("#timeline")
        for actor in ("R100", "RA200", "DM300", "DO400", "RV500"):
            assert actor in timeline
        assert await auditor.inner_text("#diagram li.current") == "closed"
        assert await auditor.is_visible("#no-personal-data")
        await auditor.screenshot(path=str(shots / "case-page.png"), full_page=True)
        await auditor.goto("/report?received_to=2000-01-01")
        assert (await auditor.inner_text("#report-total")).startswith("0 case(s)")
