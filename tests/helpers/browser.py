"""The staff inbox served in-process against the test server, and a real browser
(Debian's chromium, driven by Playwright) to use it as staff do."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, async_playwright
from temporalio.client import Client
from temporalio.worker import Worker

from dvds.cases.client import CaseClient
from dvds.settings import Settings, WebSettings
from dvds.staff.directory import StaffFile
from dvds.staff.passwords import hash_password
from dvds.web.serve import serving_inbox
from states.policy import DeadlinePolicy
from states.record import Actor, CaseInput
from states.roles import Role
from tests.helpers.cases import application, new_ref
from tests.helpers.eventually import eventually
from tests.helpers.ports import free_port
from tests.helpers.staff import SIGNER

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# A second researcher in the same team, to see someone else's claim.
EXTRA_STAFF = [{"id": "R101", "name": "Rhea Researcher", "roles": ["researcher"], "team": "dvds-research"}]


def password(staff_id: str) -> str:
    return f"{staff_id}-correct-horse"


def staff_file_with_passwords(folder: Path) -> Path:
    """The test staff with their keys (tests/helpers/staff.py, plus R101), each with an argon2
    hash of `password(id)`."""
    data = json.loads(Settings().staff_path.read_text())
    data["staff"] += EXTRA_STAFF
    for member in data["staff"]:
        member["password_hash"] = hash_password(password(member["id"]))
    path = folder / "staff.json"
    path.write_text(json.dumps(data))
    return path


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            await browser.close()


@asynccontextmanager
async def serving(client: Client, worker: Worker, home: Path, staff_file: Path, **web: Any) -> AsyncIterator[str]:
    """The inbox on a free loopback port for this test's worker's task queue; yields its URL."""
    async with serving_queue(client, worker.task_queue, home, staff_file, **web) as address:
        yield address


@asynccontextmanager
async def serving_queue(
    client: Client, task_queue: str, home: Path, staff_file: Path, **web: Any
) -> AsyncIterator[str]:
    """The inbox on a free loopback port for the cases on `task_queue` (workers elsewhere); yields its URL."""
    settings = Settings(home=home, task_queue=task_queue, staff_file=staff_file,
                        web=WebSettings(port=free_port(), **web))
    async with serving_inbox(client, settings, StaffFile(staff_file)) as address:
        assert address is not None
        yield address


async def start_new_case(client: Client, worker: Worker, home: Path, policy: DeadlinePolicy | None = None,
                         **changes: Any) -> str:
    cases = CaseClient(client, Settings(home=home, task_queue=worker.task_queue), policy, signer=SIGNER)
    case = CaseInput(ref=new_ref(), application=application(**changes), started_by=Actor(id="OP1", role=Role.operator))
    await cases.start(case)
    return case.ref


async def sign_in(browser: Browser, base: str, staff_id: str) -> Page:
    """A fresh browser context (its own cookies), signed in as `staff_id`."""
    context = await browser.new_context(base_url=base)
    page = await context.new_page()
    await page.goto("/inbox")  # redirected to the sign-in page
    await page.fill("#staff_id", staff_id)
    await page.fill("#password", password(staff_id))
    await page.click("button[type=submit]")
    await page.wait_for_selector("#signed-in-as")
    return page


async def reload_until(page: Page, url: str, ready: Callable[[], Awaitable[bool]], within: float = 30.0) -> None:
    """Load `url` until `ready()`: visibility (the inbox's source) is eventually consistent."""

    async def shown() -> bool:
        await page.goto(url)
        return await ready()

    await eventually(shown, within, f"{url} showing what was expected")


@pytest.fixture(scope="module", name="browser")
async def browser_fixture() -> AsyncIterator[Browser]:
    async with chromium() as launched:
        yield launched


@pytest.fixture(scope="module", name="staff_file")
def staff_file_fixture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return staff_file_with_passwords(tmp_path_factory.mktemp("staff"))


def row(table: str, ref: str, task: str) -> str:
    return f"#{table} tr[data-ref='{ref}'][data-task='{task}']"


async def open_task_from_inbox(page: Page, ref: str, task: str) -> None:
    selector = row("my-tasks", ref, task)
    await reload_until(page, "/inbox", lambda: page.is_visible(selector))
    await page.click(f"{selector} a.button")
    await page.wait_for_selector("#task-form")


async def fill_research(page: Page, aliases_checked: str, summary: str) -> None:
    await page.fill("input[name='checks.0.system']", "PNC")
    await page.fill("input[name='checks.0.search_terms']", "name, aliases, both dates of birth")
    await page.select_option("select[name='checks.0.result']", "relevant_history")
    await page.fill("input[name='checks.0.checked_at']", "2026-01-05T10:15")
    await page.fill("input[name='checks.0.checked_by']", "R100")
    await page.select_option("select[name='aliases_checked']", aliases_checked)
    await page.fill("textarea[name='summary']", summary)
