"""The `dvds` command line, run as a subprocess against the real server."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

from temporalio.client import Client

from tests.helpers.cases import running_worker
from tests.helpers.cli import dvds
from tests.helpers.paths import ROOT

EXAMPLES = "examples/tasks"
WALK = [
    ("research", "R100", "researcher", "research.json"),
    ("risk_assessment", "RA200", "risk_assessor", "risk_assessment.json"),
    ("decision", "DM300", "decision_maker", "decision.json"),
    ("disclosure", "DO400", "disclosing_officer", "disclosure.json"),
]


def cli_env(client: Client, task_queue: str, home: Path) -> dict[str, str]:
    return {
        "TEMPORAL_ADDRESS": client.service_client.config.target_host,
        "DVDS_TASK_QUEUE": task_queue,
        "DVDS_HOME": str(home),
    }


class TestWalkthrough:
    """README's walkthrough works with the CLI alone."""

    async def test_case_from_example_driven_to_closed(self, client: Client, tmp_path: Path) -> None:
        """A case started from examples/ is driven to closed with the CLI alone."""
        async with running_worker(client, tmp_path) as worker:
            env = cli_env(client, worker.task_queue, tmp_path)
            started = await dvds("case", "start", "--file", "examples/application.json", "--actor", "OP1", env=env)
            assert started.code == 0, started.err
            ref = started.out.strip()
            assert ref.startswith("DVDS-")
            for task, actor, role, file in WALK:
                done = await dvds("task", "complete", ref, task, "--actor", actor, "--role", role,
                                  "--file", f"{EXAMPLES}/{file}", env=env)
                assert done.code == 0, done.err
            queue = await dvds("task", "list", "--role", "reviewer", "--json", env=env)
            assert ref in [c["ref"] for c in json.loads(queue.out)]
            reviewed = await dvds("task", "complete", ref, "review", "--actor", "RV500", "--role", "reviewer",
                                  "--file", f"{EXAMPLES}/review.json", env=env)
            assert reviewed.code == 0, reviewed.err
            shown = await dvds("case", "show", ref, "--json", env=env)
            snapshot = json.loads(shown.out)
            assert snapshot["state"] == "closed"
            assert [t["actor"]["id"] for t in snapshot["transitions"]] == [
                "R100", "RA200", "DM300", "DO400", "RV500", "RV500"]
            human = await dvds("case", "show", ref, env=env)
            assert "closed" in human.out and "RV500" in human.out

    async def test_illegal_submission_names_the_rule(self, client: Client, tmp_path: Path) -> None:
        """A refused submission prints the rule, exits non-zero, shows no traceback and changes nothing."""
        async with running_worker(client, tmp_path) as worker:
            env = cli_env(client, worker.task_queue, tmp_path)
            ref = (await dvds("case", "start", "--file", "examples/application.json", "--actor", "OP1",
                              env=env)).out.strip()
            refused = await dvds("task", "complete", ref, "decision", "--actor", "DM300", "--role", "decision_maker",
                                 "--file", f"{EXAMPLES}/decision.json", env=env)
            assert refused.code == 1
            assert "decision is not open while the case is received" in refused.err
            assert "Traceback" not in refused.err + refused.out
            shown = json.loads((await dvds("case", "show", ref, "--json", env=env)).out)
            assert shown["state"] == "received" and shown["tasks_done"] == []

    async def test_bad_submission_file_names_the_field(self, client: Client, tmp_path: Path) -> None:
        """A submission missing a required field is refused naming the field, before reaching the case."""
        async with running_worker(client, tmp_path) as worker:
            env = cli_env(client, worker.task_queue, tmp_path)
            ref = (await dvds("case", "start", "--file", "examples/application.json", "--actor", "OP1",
                              env=env)).out.strip()
            bad = tmp_path / "bad.json"
            bad.write_text(json.dumps({"checks": [], "aliases_checked": True}))
            refused = await dvds("task", "complete", ref, "research", "--actor", "R100", "--role", "researcher",
                                 "--file", str(bad), env=env)
            assert refused.code == 2
            assert "checks" in refused.err and "summary: Field required" in refused.err
            assert "Traceback" not in refused.err

    async def test_case_list_and_unknown_case(self, client: Client, tmp_path: Path) -> None:
        """`case list --state` finds a new case; `case show` of an unknown ref says so."""
        async with running_worker(client, tmp_path) as worker:
            env = cli_env(client, worker.task_queue, tmp_path)
            ref = (await dvds("case", "start", "--file", "examples/application.json", "--actor", "OP1",
                              env=env)).out.strip()
            listed = await dvds("case", "list", "--state", "received", "--json", env=env)
            assert ref in [c["ref"] for c in json.loads(listed.out)]
            missing = await dvds("case", "show", "DVDS-2026-99999999", env=env)
            assert missing.code == 1 and "no case DVDS-2026-99999999" in missing.err

    async def test_task_list_prints_its_page_then_the_count(self, client: Client, tmp_path: Path) -> None:
        """A page of the tasks, then (only when there are more pages) how many cases the whole list holds."""
        async with running_worker(client, tmp_path) as worker:
            env = cli_env(client, worker.task_queue, tmp_path)
            for _ in range(3):
                started = await dvds("case", "start", "--file", "examples/application.json", "--actor", "OP1",
                                     env=env)
                assert started.code == 0, started.err
            paged = await dvds("task", "list", "--role", "researcher", "--limit", "2", env=env)
            assert paged.code == 0, paged.err
            lines = paged.out.strip().splitlines()
            assert lines[0].startswith("Pending tasks: the first 2 cases")
            assert lines[-1] == "In all: 3 cases waiting on the researcher role"
            assert paged.out.count("DVDS-") == 2 and "more: --page-token" in paged.err
            whole = await dvds("task", "list", "--role", "researcher", "--limit", "5", env=env)
            assert whole.out.count("DVDS-") == 3 and "In all" not in whole.out and "more:" not in whole.err


class TestCredentials:
    """`dvds staff enrol` and `revoke-key`, and commands that sign with what they made."""

    async def test_enrol_sign_and_revoke(self, client: Client, tmp_path: Path) -> None:
        """Enrolled members sign what they start and complete (a passphrase read from stdin); a member with no
        credential is told how to enrol; a revoked key signs nothing more; each refusal changes nothing."""
        staff = tmp_path / "staff.json"
        staff.write_text((ROOT / "examples" / "staff.json").read_text())
        credentials = tmp_path / "credentials"
        async with running_worker(client, tmp_path, staff_file=staff) as worker:
            env = {**cli_env(client, worker.task_queue, tmp_path), "DVDS_STAFF_FILE": str(staff),
                   "DVDS_CREDENTIALS_DIR": str(credentials)}
            enrolled = await dvds("staff", "enrol", "OP1", env=env)
            assert enrolled.code == 0, enrolled.err
            key_id = enrolled.out.split("key ")[1].split(";")[0]
            assert stat.S_IMODE((credentials / "OP1.pem").stat().st_mode) == 0o600
            assert [k["id"] for k in member(staff, "OP1")["public_keys"]] == [key_id]
            again = await dvds("staff", "enrol", "OP1", env=env)
            assert again.code == 2 and "already exists; rotate" in again.err
            with_passphrase = await dvds("staff", "enrol", "R100", "--passphrase-stdin", env=env,
                                         stdin="correct horse battery\ncorrect horse battery\n")
            assert with_passphrase.code == 0, with_passphrase.err
            assert b"ENCRYPTED PRIVATE KEY" in (credentials / "R100.pem").read_bytes()

            ref = (await dvds("case", "start", "--file", "examples/application.json", "--actor", "OP1",
                              env=env)).out.strip()
            done = await dvds("task", "complete", ref, "research", "--actor", "R100", "--role", "researcher",
                              "--file", f"{EXAMPLES}/research.json", "--passphrase-stdin", env=env,
                              stdin="correct horse battery\n")
            assert done.code == 0, done.err
            unenrolled = await dvds("task", "complete", ref, "risk_assessment", "--actor", "RA200", "--role",
                                    "risk_assessor", "--file", f"{EXAMPLES}/risk_assessment.json", env=env)
            assert unenrolled.code == 1 and "enrol with `dvds staff enrol RA200`" in unenrolled.err

            revoked = await dvds("staff", "revoke-key", "OP1", key_id, env=env)
            assert revoked.code == 0, revoked.err
            withdrawn = await dvds("task", "complete", ref, "withdrawal", "--actor", "OP1", "--role", "operator",
                                   "--file", f"{EXAMPLES}/withdrawal.json", env=env)
            assert withdrawn.code == 1 and "(rule key_revoked)" in withdrawn.err
            assert "Traceback" not in unenrolled.err + withdrawn.err
            shown = json.loads((await dvds("case", "show", ref, "--json", env=env)).out)
            assert shown["state"] == "researched" and shown["tasks_done"] == ["research"]


def member(staff: Path, staff_id: str) -> dict[str, Any]:
    return next(m for m in json.loads(staff.read_text())["staff"] if m["id"] == staff_id)


def test_schema_prints_the_model() -> None:
    """`dvds schema review` prints the review submission's JSON Schema."""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "dvds", "schema", "review"], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout)["properties"]["failure_type"]
