"""`dvds import` of a force's export as it comes, against the real server: its own references
and columns through a profile, Excel, a starting profile written from the file, a file that
grows, and a bad profile refused before any case starts."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client

from tests.helpers.cases import running_worker
from tests.helpers.cli import dvds
from tests.helpers.eventually import eventually
from tests.helpers.exports import FORCE_PROFILE, demo_rows, force_file, force_xlsx, today_file


def cli_env(client: Client, task_queue: str, home: Path) -> dict[str, str]:
    return {"TEMPORAL_ADDRESS": client.service_client.config.target_host, "DVDS_TASK_QUEUE": task_queue,
            "DVDS_HOME": str(home)}


def force_refs(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """The rows with references as forces write them, fresh for each test: slashes, hyphens
    in the prefix, a short one and digits only."""
    tag, digits = uuid.uuid4().hex[:6].upper(), str(uuid.uuid4().int)[:7]
    shapes = [f"WP-{tag}-2020-{{:05d}}", f"WP/{tag}/2020/{{:05d}}", f"CL{tag}-21-{{:04d}}", f"{digits}{{:04d}}"]
    return [{**row, "case_ref": shapes[n % 4].format(n)} for n, row in enumerate(rows)]


async def import_json(path: Path, env: dict[str, str], *args: str, code: int = 0) -> dict[str, Any]:
    result = await dvds("import", str(path), "--json", *args, env=env, timeout=240)
    assert result.code == code, result.err + result.out
    summary: dict[str, Any] = json.loads(result.out)
    return summary


async def cases_on(client: Client, task_queue: str) -> int:
    return (await client.count_workflows(f"TaskQueue = '{task_queue}'")).count


class TestForceExport:
    """The force's export, its references kept as written."""

    async def test_profile_and_force_references(self, client: Client, tmp_path: Path) -> None:
        """Through --profile, every row of a force-style export starts a case under its own
        reference, slashes included, and `dvds case show` finds it as written."""
        rows = force_refs(demo_rows(12))
        path, profile = tmp_path / "force.csv", tmp_path / "force.toml"
        path.write_bytes(force_file(rows))
        profile.write_text(FORCE_PROFILE)
        async with running_worker(client, tmp_path) as worker:
            env = cli_env(client, worker.task_queue, tmp_path)
            summary = await import_json(path, env, "--profile", str(profile))
            assert (summary["started"], summary["rejected"], summary["changed"]) == (12, 0, 0)
            slashed = rows[1]["case_ref"]
            assert "/" in slashed
            shown = await dvds("case", "show", slashed, "--json", env=env)
            assert shown.code == 0, shown.err
            assert json.loads(shown.out)["ref"] == slashed

            async def listed() -> set[str]:
                found = await dvds("case", "list", "--historical", "--json", env=env)
                refs = {c["ref"] for c in json.loads(found.out)}
                assert {r["case_ref"] for r in rows} <= refs
                return refs

            await eventually(listed)
            again = await import_json(path, env, "--profile", str(profile))
            assert (again["started"], again["already_imported"]) == (0, 12)

    async def test_xlsx_sheet(self, client: Client, tmp_path: Path) -> None:
        """The same export as an Excel workbook, its second sheet named with --sheet, starts the same cases."""
        rows = force_refs(demo_rows(8))
        path, profile = tmp_path / "force.xlsx", tmp_path / "force.toml"
        path.write_bytes(force_xlsx(rows, sheet="DVDS export"))
        profile.write_text(FORCE_PROFILE)
        async with running_worker(client, tmp_path) as worker:
            env = cli_env(client, worker.task_queue, tmp_path)
            cover = await dvds("import", str(path), "--profile", str(profile), env=env)
            assert cover.code == 2 and "columns.case_ref" in cover.err, "the first sheet is a cover page"
            summary = await import_json(path, env, "--profile", str(profile), "--sheet", "DVDS export")
            assert (summary["started"], summary["rejected"]) == (8, 0)
            missing = await dvds("import", str(path), "--sheet", "Nope", env=env)
            assert missing.code == 2 and "sheet" in missing.err and "Traceback" not in missing.err
            fake = tmp_path / "fake.xlsx"
            fake.write_bytes(today_file(rows))
            wrong = await dvds("import", str(fake), env=env)
            assert wrong.code == 2 and "is named .xlsx but is not an Excel workbook" in wrong.err

    async def test_write_profile(self, client: Client, tmp_path: Path) -> None:
        """--write-profile writes a starting profile listing the headers and words it could not
        match (never a name), starts nothing, and never overwrites a file."""
        rows = force_refs(demo_rows(20))
        path, out = tmp_path / "force.csv", tmp_path / "start.toml"
        path.write_bytes(force_file(rows))
        async with running_worker(client, tmp_path) as worker:
            env = cli_env(client, worker.task_queue, tmp_path)
            written = await dvds("import", str(path), "--write-profile", str(out), env=env)
            assert written.code == 0, written.err
            text = out.read_text()
            for header in ('"Officer"', '"Area"', '"Reference"', '"Outcome"'):
                assert header in text
            assert "\"Right to Know\"" in text, "the words of a matched choice column it could not read"
            assert rows[0]["subject_name"] not in text
            again = await dvds("import", str(path), "--write-profile", str(out), env=env)
            assert again.code == 2 and "exists" in again.err
            assert await cases_on(client, worker.task_queue) == 0


class TestGrowingFile:
    """The larger file starts only its new rows; a changed row is named by its fields."""

    async def test_superset_and_changed_row(self, client: Client, tmp_path: Path) -> None:
        """30 rows imported, then 36 with one of the first changed: 6 start, the changed row is
        reported with the field names only, and nothing is restarted."""
        rows = force_refs(demo_rows(36))
        first, later = tmp_path / "first.csv", tmp_path / "later.csv"
        first.write_bytes(today_file(rows[:30]))
        changed = [dict(r) for r in rows]
        changed[4]["notes"] = "Further database checks found an older record."
        later.write_bytes(today_file(changed))
        async with running_worker(client, tmp_path) as worker:
            env = cli_env(client, worker.task_queue, tmp_path)
            assert (await import_json(first, env))["started"] == 30
            summary = await import_json(later, env, code=1)
            assert (summary["started"], summary["already_imported"], summary["changed"], summary["rejected"]) == (
                6, 29, 1, 0)
            shown = await dvds("import", str(later), env=env)
            assert shown.code == 1
            assert f"line 6: {rows[4]['case_ref']} changed since import: notes; nothing restarted" in shown.out
            assert "older record" not in shown.out + shown.err
            reasons = (tmp_path / "later.rejects.csv").read_text()
            assert "changed since import: notes" in reasons and "older record" not in reasons


BAD_PROFILES = [  # (in the good profile, this, becomes this, and is refused with this)
    ("[columns]\n", '[columns]\nofficer = "Officer"\n', "columns.officer: not one of our fields"),
    ('"Date received"', '"Received"', "columns.received_on: the file has no header 'Received'"),
    ('decision_on = "Outcome date"', 'decision_on = "Date received"',
     "columns.received_on and columns.decision_on: two fields on one header ('Date received')"),
]


class TestBadProfile:
    """A bad profile is refused with a clear error before any case starts."""

    @pytest.mark.parametrize(("good", "bad", "message"), BAD_PROFILES)
    async def test_refused_before_any_case(self, client: Client, tmp_path: Path, good: str, bad: str,
                                           message: str) -> None:
        """An unknown field, a header the file lacks, two fields on one header: exit 2, the key and the rule named."""
        rows = force_refs(demo_rows(5))
        path, profile = tmp_path / "force.csv", tmp_path / "bad.toml"
        path.write_bytes(force_file(rows))
        assert good in FORCE_PROFILE
        profile.write_text(FORCE_PROFILE.replace(good, bad, 1))
        async with running_worker(client, tmp_path) as worker:
            env = cli_env(client, worker.task_queue, tmp_path)
            result = await dvds("import", str(path), "--profile", str(profile), env=env)
            assert result.code == 2, result.err
            assert message in " ".join(result.err.split()) and "Traceback" not in result.err
            assert await cases_on(client, worker.task_queue) == 0
