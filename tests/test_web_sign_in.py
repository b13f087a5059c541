"""The web sign-in in a real browser: the throttle after repeated failures, which says nothing
about whether an id exists, and its security log lines; and what a task done through the web
records of its sign-in, shown on the case page as a verified mark."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Browser, Page
from structlog.testing import capture_logs
from temporalio.client import Client

from tests.helpers.browser import (  # noqa: F401 - the *_fixture names are fixtures
    browser_fixture,
    fill_research,
    open_task_from_inbox,
    password,
    serving,
    sign_in,
    staff_file_fixture,
    start_new_case,
)
from tests.helpers.cases import running_worker, submit

THRESHOLD = 5  # failures, for one id or from one address, before attempts wait


async def attempt(page: Page, staff_id: str, typed: str) -> str:
    """One sign-in attempt; what the page then says ("signed in", "no match", or the wait it asks for)."""
    await page.goto("/sign-in")
    await page.fill("#staff_id", staff_id)
    await page.fill("#password", typed)
    await page.click("button[type=submit]")
    await page.wait_for_selector("#sign-in-error, #sign-in-wait, #signed-in-as")
    if await page.is_visible("#signed-in-as"):
        return "signed in"
    return await page.inner_text("#sign-in-wait") if await page.is_visible("#sign-in-wait") else "no match"


async def test_failed_sign_ins_wait_without_telling_which_ids_exist(
    client: Client, browser: Browser, staff_file: Path, tmp_path: Path
) -> None:
    """Four wrong passwords are refused as no match; the fifth starts the wait; then even the right password
    waits, and so does an id that does not exist (the address is locked too). One security line per failure
    and one for the lock, with the address as a keyed tag and no password in any line."""
    wrong = "Zq-not-the-password-Zq"
    # The first wait is long here, so the attempts after the fifth come inside it however slow the machine.
    async with running_worker(client, tmp_path, staff_file=staff_file) as worker, \
            serving(client, worker, tmp_path, staff_file, sign_in_first_wait=600) as base:
        page = await (await browser.new_context(base_url=base)).new_page()
        with capture_logs() as lines:
            said = [await attempt(page, "R100", wrong) for _ in range(THRESHOLD)]
            right = await attempt(page, "R100", password("R100"))
            stranger = await attempt(page, "NOBODY9", wrong)
        assert said[:-1] == ["no match"] * (THRESHOLD - 1) and said[-1].startswith("Too many failed sign-ins: wait")
        # The same answer for the right password and for an id that does not exist: nothing told.
        assert said[-1].split(" wait ")[0] == right.split(" wait ")[0] == stranger.split(" wait ")[0]
    security = [line for line in lines if "security" in line]
    failed = [line for line in security if line["security"] == "sign_in_failed"]
    locked = [line for line in security if line["security"] == "sign_in_locked"]
    refused = [line for line in security if line["security"] == "sign_in_locked_out"]
    assert len(failed) == THRESHOLD and len(locked) == 1 and len(refused) == 2
    assert sorted(locked[0]["locked_by"]) == ["address", "staff_id"]
    assert all(line.get("staff_id") == "R100" for line in failed)
    assert "staff_id" not in refused[-1] and refused[-1]["staff_id_tag"]  # an id not in the directory: a tag
    assert len({line["address_tag"] for line in security}) == 1
    for line in security:
        text = repr(line)
        assert wrong not in text and password("R100") not in text and "127.0.0.1" not in text


async def test_a_task_done_through_the_web_is_marked_verified_with_its_sign_in(
    client: Client, browser: Browser, staff_file: Path, tmp_path: Path
) -> None:
    """Research submitted in the browser is signed by the inbox for R100's password sign-in; the case page
    marks it verified through the web, and a task signed on the command line as verified with the member's key."""
    async with running_worker(client, tmp_path, staff_file=staff_file) as worker, \
            serving(client, worker, tmp_path, staff_file) as base:
        ref = await start_new_case(client, worker, tmp_path)
        page = await sign_in(browser, base, "R100")
        await open_task_from_inbox(page, ref, "research")
        await fill_research(page, "yes", "Two prior convictions under an alias.")
        await page.click("#submit-task")
        await page.wait_for_selector("#done")
        await submit(client.get_workflow_handle(ref), "risk_assessment", "RA200")  # type: ignore[arg-type]
        await page.goto(f"/cases/{ref}")
        marks = await page.locator("#timeline [data-proof]").all_inner_texts()
        kinds = await page.locator("#timeline [data-proof]").evaluate_all("els => els.map(e => e.dataset.proof)")
        assert kinds == ["verified", "verified", "verified"]  # the start, the research, the risk assessment
        assert [m.split("(")[-1].rstrip(")") for m in marks] == ["own key", "web, password", "own key"]
