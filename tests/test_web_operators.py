"""Operators in the inbox, in a real browser: a new application from the generated form, and
a force's export imported from the page (dry run, rejects, confirm, progress) by a durable
import that a restart of the web app neither stops nor repeats. Saves screenshots of both
pages (into $DVDS_WEB_SCREENSHOTS when set, which is how docs/ gets them)."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

from playwright.async_api import Browser, Page
from temporalio.client import Client

from tests.helpers.browser import (  # noqa: F401 - the *_fixture names are fixtures
    browser_fixture,
    reload_until,
    serving,
    sign_in,
    staff_file_fixture,
)
from tests.helpers.cases import running_worker
from tests.helpers.eventually import eventually
from tests.helpers.exports import FORCE_PROFILE, demo_rows, force_file, force_style


def screenshots(tmp_path: Path) -> Path:
    return Path(os.environ.get("DVDS_WEB_SCREENSHOTS") or tmp_path)


async def fill_application(page: Page, subject_dob: str) -> None:
    await page.select_option("select[name='route']", "right_to_ask")
    await page.select_option("select[name='applicant_relationship']", "self")
    await page.fill("input[name='person_at_risk.name']", "Alex Example")
    await page.fill("input[name='person_at_risk.date_of_birth']", "1990-05-17")
    await page.fill("input[name='subject.name']", "Sam Placeholder")
    await page.fill("textarea[name='subject.aliases']", "Sammy Holder\nS. Place")
    await page.fill("input[name='subject.date_of_birth']", subject_dob)
    await page.select_option("select[name='safe_contact.method']", "phone")
    await page.fill("input[name='safe_contact.detail']", "07700 900123")
    await page.fill("input[name='safe_contact.safe_times']", "weekdays 10:00-12:00")
    await page.fill("input[name='prompted_by']", "New relationship")


class TestNewApplication:
    """The operator records a new application in the generated form."""

    async def test_bad_input_refused_beside_its_field_then_the_case_starts(
        self, client: Client, browser: Browser, staff_file: Path, tmp_path: Path
    ) -> None:
        """A missing name and a date of birth in the future are refused beside their fields,
        with everything typed kept; corrected, the case starts and its page is shown."""
        async with running_worker(client, tmp_path, staff_file=staff_file) as worker, \
                serving(client, worker, tmp_path, staff_file) as base:
            page = await sign_in(browser, base, "OP1")
            await page.click("a[href='/applications/new']")
            await page.wait_for_selector("#application-form")
            await fill_application(page, "2999-01-01")
            await page.fill("input[name='person_at_risk.name']", "")
            await page.click("#start-case")
            await page.wait_for_selector("[data-error-for='person_at_risk.name']")
            assert "required" in (await page.inner_text("[data-error-for='person_at_risk.name']")).lower()
            assert await page.input_value("input[name='subject.name']") == "Sam Placeholder"
            assert await page.input_value("textarea[name='subject.aliases']") == "Sammy Holder\nS. Place"
            await page.fill("input[name='person_at_risk.name']", "Alex Example")
            await page.click("#start-case")
            await page.wait_for_selector("[data-error-for='subject.date_of_birth']")
            assert "future" in await page.inner_text("[data-error-for='subject.date_of_birth']")
            await page.fill("input[name='subject.date_of_birth']", "1986-02-03")
            await page.screenshot(path=str(screenshots(tmp_path) / "new-application.png"), full_page=True)
            await page.click("#start-case")
            await page.wait_for_selector("#case-state")
            assert await page.inner_text("#case-state") == "received"
            assert "/cases/DVDS-" in page.url

    async def test_only_operators(self, client: Client, browser: Browser, staff_file: Path, tmp_path: Path) -> None:
        """A researcher is refused the new application and import pages, and sees no link to them."""
        async with running_worker(client, tmp_path, staff_file=staff_file) as worker, \
                serving(client, worker, tmp_path, staff_file) as base:
            page = await sign_in(browser, base, "R100")
            assert not await page.is_visible("a[href='/applications/new']")
            for path in ("/applications/new", "/imports"):
                answer = await page.goto(path)
                assert answer is not None and answer.status == 403
                assert "needs the role operator" in await page.inner_text("main")


def force_export(rows: int, bad: int) -> bytes:
    """A force-style export of `rows` rows, `bad` of them with a reference no force writes."""
    written = demo_rows(rows, seed=11)
    tag = os.urandom(3).hex().upper()
    for n, row in enumerate(written):
        row["case_ref"] = f"WP/{tag}/{row['case_ref'][5:9]}/{n:05d}" if n >= bad else f"WP {tag} {n}"
    return force_file(written)


class TestImportPage:
    """The operator imports a force's export from the page."""

    async def test_bad_profile_refused_beside_its_field(
        self, client: Client, browser: Browser, staff_file: Path, tmp_path: Path
    ) -> None:
        """A profile naming a header the file lacks is refused beside the profile, nothing kept."""
        export, profile = tmp_path / "force.csv", tmp_path / "bad.toml"
        export.write_bytes(force_export(5, 0))
        profile.write_text(FORCE_PROFILE.replace('"Date received"', '"Received"'))
        async with running_worker(client, tmp_path, staff_file=staff_file) as worker, \
                serving(client, worker, tmp_path, staff_file) as base:
            page = await sign_in(browser, base, "OP1")
            await page.goto("/imports")
            await page.set_input_files("#file", str(export))
            await page.set_input_files("#profile_file", str(profile))
            await page.click("#dry-run")
            await page.wait_for_selector("[data-error-for='profile']")
            assert "columns.received_on: the file has no header 'Received'" in await page.inner_text(
                "[data-error-for='profile']")
            assert not (tmp_path / "imports").exists() or not any((tmp_path / "imports").iterdir())

    async def test_3000_rows_dry_run_confirm_progress_and_restart(
        self, client: Client, browser: Browser, staff_file: Path, tmp_path: Path
    ) -> None:
        """3,000 rows with a profile from the profiles folder: the dry run counts them and lists
        the rejected lines (the rejects file downloads); confirmed, progress shows while it runs,
        the web app restarts mid-way, and every valid row is started exactly once."""
        rows, bad = 3000, 7
        export = tmp_path / "force.csv"
        export.write_bytes(force_export(rows, bad))
        (tmp_path / "profiles").mkdir()
        (tmp_path / "profiles" / "wiltshire.toml").write_text(FORCE_PROFILE)
        shots = screenshots(tmp_path)
        async with running_worker(client, tmp_path, staff_file=staff_file) as worker:
            async with serving(client, worker, tmp_path, staff_file) as base:
                page = await sign_in(browser, base, "OP1")
                await page.click("a[href='/imports']")
                await page.set_input_files("#file", str(export))
                await page.select_option("#profile", "wiltshire.toml")
                await page.click("#dry-run")
                await page.wait_for_selector("#dry-run-counts")
                counts = {k: await page.inner_text(f"[data-count='{k}']")
                          for k in ("rows_read", "to_start", "rejected")}
                assert counts == {"rows_read": str(rows), "to_start": str(rows - bad), "rejected": str(bad)}
                assert await page.locator("#rejects tbody tr").count() == bad
                assert "case_ref: must be 3 to 40 letters" in await page.inner_text("#rejects tr[data-line='2']")
                async with page.expect_download() as downloading:
                    await page.click("#rejects-file")
                download = await downloading.value
                lines = list(csv.reader(io.StringIO(Path(await download.path()).read_text())))
                assert lines[0] == ["line", "case_ref", "reason"] and len(lines) == bad + 1
                await page.screenshot(path=str(shots / "import-dry-run.png"), full_page=True)
                import_url = page.url
                await page.click("#confirm-import")
                await page.wait_for_selector("#import-progress")

                async def some_started() -> bool:
                    await page.goto(import_url)
                    done = int(await page.inner_text("#progress-done"))
                    return 0 < done < rows - bad

                await eventually(some_started, within=120)
                await page.screenshot(path=str(shots / "import-progress.png"), full_page=True)
            # The web app is gone (as in a restart); the import carries on on the worker.
            async with serving(client, worker, tmp_path, staff_file) as base:
                page = await sign_in(browser, base, "OP1")
                path = import_url.split("/imports/")[1]
                await reload_until(page, f"/imports/{path}", lambda: finished(page), within=600)
                assert await page.inner_text("[data-progress='started']") == str(rows - bad)
                assert await page.inner_text("[data-progress='already_imported']") == "0"
                # Confirming again (a second tab, a double click) starts nothing more.
                answer = await page.request.post(f"/imports/{path}/start", form={"csrf_token": await csrf(page)})
                assert answer.ok
                await page.goto(f"/imports/{path}")
                assert await page.inner_text("[data-progress='started']") == str(rows - bad)
        stored = b"".join(p.read_bytes() for p in (tmp_path / "imports").rglob("*.bin"))
        first = force_style(demo_rows(1, seed=11)[0], 0)
        assert first["Subject"].encode() not in stored, "the upload is kept encrypted"


async def finished(page: Page) -> bool:
    return await page.get_attribute("#import-progress", "data-finished") == "yes"


async def csrf(page: Page) -> str:
    await page.goto("/imports")
    value = await page.get_attribute("input[name='csrf_token']", "value")
    assert value
    return value
