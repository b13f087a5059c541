"""`dvds up` serves the staff inbox beside the worker, on loopback at DVDS_WEB_PORT."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.helpers.ports import free_port
from tests.helpers.processes import dvds_up


async def test_dvds_up_serves_the_inbox_on_its_port(tmp_path: Path) -> None:
    """With `dvds up` running, the inbox answers on DVDS_WEB_PORT and sends strangers to sign in."""
    port, web_port = free_port(), free_port()
    env = {
        "DVDS_HOME": str(tmp_path / "home"),
        "DVDS_SERVER_PORT": str(port),
        "DVDS_UI_PORT": str(free_port()),
        "DVDS_WEB_PORT": str(web_port),
        "TEMPORAL_ADDRESS": f"127.0.0.1:{port}",
    }
    async with dvds_up(env), httpx.AsyncClient(base_url=f"http://127.0.0.1:{web_port}") as web:
        inbox = await web.get("/inbox")
        assert inbox.status_code == 303 and inbox.headers["location"] == "/sign-in?next=/inbox"
        sign_in = await web.get("/sign-in")
        assert sign_in.status_code == 200 and 'name="csrf_token"' in sign_in.text
    assert (tmp_path / "home" / "web-session-secret").stat().st_mode & 0o777 == 0o600
