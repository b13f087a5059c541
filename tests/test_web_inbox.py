"""The staff inbox in a real browser: sign in, complete tasks, refusals, auditors, claims."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Browser
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
from tests.helpers.cases import running_worker, submit
from tests.helpers.eventually import eventually


async def test_researcher_signs_in_and_completes_research(
    client: Client, browser: Browser, staff_file: Path, tmp_path: Path
) -> None:
    """A researcher signs in, finds the task in My tasks, fills the generated form, and the case moves on."""
    async with running_worker(client, tmp_path, staff_file=staff_file) as worker, \
            serving(client, worker, tmp_path, staff_file) as base:
        ref = await start_new_case(client, worker, tmp_path)
        page = await sign_in(browser, base, "R100")
        await open_task_from_inbox(page, ref, "research")
        await fill_research(page, "yes", "Two prior convictions under an alias.")
        await page.click("#submit-task")
        await page.wait_for_selector("#done")
        assert await page.inner_text("#case-state") == "researched"
        assert "research" in await page.inner_text("#timeline")
        assert "R100" in await page.inner_text("#timeline")


async def test_refused_submission_shows_the_message_and_keeps_what_was_typed(
    client: Client, browser: Browser, staff_file: Path, tmp_path: Path
) -> None:
    """A refusal by the case, and a rule of the model, are shown with what was typed still in the form."""
    async with running_worker(client, tmp_path, staff_file=staff_file) as worker, \
            serving(client, worker, tmp_path, staff_file) as base:
        ref = await start_new_case(client, worker, tmp_path)
        page = await sign_in(browser, base, "R100")
        await page.goto(f"/cases/{ref}/tasks/research")
        await fill_research(page, "no", "Typed before the refusal.")
        await page.click("#submit-task")
        await page.wait_for_selector("#form-errors")
        message = await page.inner_text("#form-errors")
        assert "research refused" in message and "checks_cover_aliases" in message
        assert await page.input_value("textarea[name='summary']") == "Typed before the refusal."
        assert await page.input_value("input[name='checks.0.system']") == "PNC"
        assert await page.input_value("select[name='aliases_checked']") == "no"

        await submit(client.get_workflow_handle(ref), "research", "R100")  # type: ignore[arg-type]
        assessor = await sign_in(browser, base, "RA200")
        await assessor.goto(f"/cases/{ref}/tasks/risk_assessment")
        await assessor.fill("input[name='score']", "80")
        await assessor.select_option("select[name='level']", "high")
        await assessor.fill("textarea[name='rationale']", "Escalating threats.")
        await assessor.click("#submit-task")
        await assessor.wait_for_selector("[data-error-for='marac_referral']")
        assert "a high risk must be referred to both" in await assessor.inner_text("[data-error-for='marac_referral']")
        assert await assessor.input_value("textarea[name='rationale']") == "Escalating threats."
        assert await assessor.input_value("input[name='score']") == "80"
        await assessor.goto(f"/cases/{ref}")
        assert await assessor.inner_text("#case-state") == "researched"


async def test_auditor_reads_the_case_but_cannot_submit(
    client: Client, browser: Browser, staff_file: Path, tmp_path: Path
) -> None:
    """An auditor sees state and timeline, no personal data and no forms; a task POST is refused."""
    async with running_worker(client, tmp_path, staff_file=staff_file) as worker, \
            serving(client, worker, tmp_path, staff_file) as base:
        ref = await start_new_case(client, worker, tmp_path)
        page = await sign_in(browser, base, "AU800")
        await page.goto(f"/cases/{ref}")
        assert await page.inner_text("#case-state") == "received"
        assert await page.is_visible("#timeline")
        assert await page.is_visible("#no-personal-data")
        assert await page.locator("#open-tasks a.button").count() == 0
        assert await page.locator("button[data-claim]").count() == 0
        assert "Sam Placeholder" not in await page.content()

        await page.goto(f"/cases/{ref}/tasks/research")
        assert "only reads" in await page.inner_text("#refusal")
        token = await page.input_value("input[name=csrf_token]")
        posted = await page.request.post(f"/cases/{ref}/tasks/research",
                                         form={"csrf_token": token, "summary": "x", "aliases_checked": "yes"})
        assert posted.status == 403 and "only reads" in await posted.text()
        claimed = await page.request.post(f"/cases/{ref}/tasks/research/claim", form={"csrf_token": token})
        assert claimed.status == 403
        await page.goto(f"/cases/{ref}")
        assert await page.inner_text("#case-state") == "received"


async def test_inbox_counts_its_lists_after_the_rows_show(
    client: Client, browser: Browser, staff_file: Path, tmp_path: Path
) -> None:
    """The rows come first; the lists' counts arrive from /inbox/counts and fill the headings."""
    async with running_worker(client, tmp_path, staff_file=staff_file) as worker, \
            serving(client, worker, tmp_path, staff_file) as base:
        refs = [await start_new_case(client, worker, tmp_path) for _ in range(2)]
        page = await sign_in(browser, base, "R100")

        async def both_shown() -> bool:
            return all([await page.is_visible(row("my-tasks", ref, "research")) for ref in refs])

        await reload_until(page, "/inbox", both_shown)
        # Read from the page, not by a script in it: the inbox's CSP refuses eval, and with it
        # Playwright's wait_for_function whenever it has to poll (counts not yet in: a loaded machine).

        async def counted() -> bool:
            return await page.inner_text("[data-count='mine']") != ""

        await eventually(counted, 30, "the counts filled in")
        assert await page.inner_text("[data-count='mine']") == "2"
        assert await page.inner_text("[data-count='team']") == "2"
        counts = await (await page.request.get("/inbox/counts")).json()
        assert counts == {"mine": 2, "team": 2}  # a researcher's team holds no reviewer: no review queue

        # Counted only for someone signed in with an inbox: a stranger gets the sign-in page,
        # an auditor (no inbox) a refusal; neither gets a figure.
        stranger = await (await browser.new_context(base_url=base)).new_page()
        await stranger.goto("/inbox/counts")
        assert "/sign-in" in stranger.url and "mine" not in await stranger.content()
        auditor = await sign_in(browser, base, "AU800")
        refused = await auditor.request.get("/inbox/counts")
        assert refused.status == 403 and "mine" not in await refused.text()


async def test_claim_keeps_a_task_for_one_researcher_until_released(
    client: Client, browser: Browser, staff_file: Path, tmp_path: Path
) -> None:
    """A claimed task leaves a colleague's My tasks, shows in the team queue, and returns when released."""
    async with running_worker(client, tmp_path, staff_file=staff_file) as worker, \
            serving(client, worker, tmp_path, staff_file) as base:
        ref = await start_new_case(client, worker, tmp_path)
        mine = await sign_in(browser, base, "R100")
        colleague = await sign_in(browser, base, "R101")
        selector = row("my-tasks", ref, "research")
        await reload_until(mine, "/inbox", lambda: mine.is_visible(selector))
        await mine.click(f"{selector} button[data-claim]")
        assert "claimed by you" in await mine.inner_text(selector)

        await colleague.goto("/inbox")
        assert not await colleague.is_visible(row("my-tasks", ref, "research"))
        assert "claimed by R100" in await colleague.inner_text(row("team-queue", ref, "research"))
        await colleague.goto(f"/cases/{ref}/tasks/research")
        await fill_research(colleague, "yes", "Colleague's attempt.")
        await colleague.click("#submit-task")
        await colleague.wait_for_selector("#form-errors")
        assert "claimed by R100" in await colleague.inner_text("#form-errors")

        await mine.click(f"{selector} button[data-release]")
        await colleague.goto("/inbox")
        assert await colleague.is_visible(row("my-tasks", ref, "research"))


async def test_sign_in_refuses_a_wrong_password_and_a_post_without_its_token(
    client: Client, browser: Browser, staff_file: Path, tmp_path: Path
) -> None:
    """A wrong password says nothing about which part was wrong; a POST without the CSRF token is refused."""
    async with running_worker(client, tmp_path, staff_file=staff_file) as worker, \
            serving(client, worker, tmp_path, staff_file) as base:
        context = await browser.new_context(base_url=base)
        page = await context.new_page()
        await page.goto("/sign-in")
        await page.fill("#staff_id", "R100")
        await page.fill("#password", "not-the-password")
        await page.click("button[type=submit]")
        assert "do not match" in await page.inner_text("#sign-in-error")
        assert await page.input_value("#staff_id") == "R100"
        await page.goto("/inbox")
        assert page.url.endswith("/sign-in?next=/inbox")

        signed = await sign_in(browser, base, "R100")
        ref = await start_new_case(client, worker, tmp_path)
        forged = await signed.request.post(f"/cases/{ref}/tasks/research/claim", form={"csrf_token": "forged"})
        assert forged.status == 403 and "csrf" in await forged.text()


async def test_single_sign_on_header_is_honoured_only_when_enabled(
    client: Client, browser: Browser, staff_file: Path, tmp_path: Path
) -> None:
    """With DVDS_WEB_TRUSTED_HEADER the proxy's header signs staff in; without the header nobody is."""
    async with running_worker(client, tmp_path, staff_file=staff_file) as worker:
        async with serving(client, worker, tmp_path, staff_file, trusted_header="X-Remote-User") as base:
            proxied = await browser.new_context(base_url=base, extra_http_headers={"X-Remote-User": "RV500"})
            page = await proxied.new_page()
            await page.goto("/inbox")
            assert "RV500" in await page.inner_text("#signed-in-as")
            anonymous = await (await browser.new_context(base_url=base)).new_page()
            response = await anonymous.goto("/inbox")
            assert response is not None and response.status == 401
        async with serving(client, worker, tmp_path, staff_file) as base:
            spoofed = await browser.new_context(base_url=base, extra_http_headers={"X-Remote-User": "RV500"})
            page = await spoofed.new_page()
            await page.goto("/inbox")
            assert page.url.endswith("/sign-in?next=/inbox")


async def test_supervisor_updates_the_risk_from_the_case_page(
    client: Client, browser: Browser, staff_file: Path, tmp_path: Path
) -> None:
    """A supervisor, not only a risk assessor, re-triages a case in the browser; the case shows the new level."""
    async with running_worker(client, tmp_path, staff_file=staff_file) as worker, \
            serving(client, worker, tmp_path, staff_file) as base:
        ref = await start_new_case(client, worker, tmp_path)
        page = await sign_in(browser, base, "SV700")
        await page.goto(f"/cases/{ref}/tasks/risk_update")
        await page.wait_for_selector("#task-form")
        await page.select_option("select[name='level']", "medium")
        await page.fill("textarea[name='reason']", "Threats reported by a neighbour.")
        await page.click("#submit-task")
        await page.wait_for_selector("#done")
        snap = await client.get_workflow_handle(ref).query("snapshot")
        assert snap["risk_level"] == "medium"
