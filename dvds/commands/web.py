"""`dvds web`: the staff inbox on its own, against a server that is already running
(`dvds up` also starts it, beside the worker)."""

from __future__ import annotations

import asyncio
import signal

import typer

from dvds.connection import connect
from dvds.keys import KeysError
from dvds.output import fail
from dvds.settings import Settings
from dvds.staff_file import StaffFile, StaffFileError
from web.serve import WebServerError, start_web_server, stop_web_server, web_app, web_server
from web.settings import WebSettings


def web() -> None:
    """Serve the staff inbox (http://127.0.0.1:8000, DVDS_WEB_PORT) until Ctrl-C."""
    settings, web_settings = Settings(), WebSettings()
    try:
        staff = StaffFile(settings.staff_path)
        asyncio.run(_serve(settings, web_settings, staff))
    except (KeysError, StaffFileError, WebServerError) as err:
        fail(str(err))


async def _serve(settings: Settings, web_settings: WebSettings, staff: StaffFile) -> None:
    client = await connect()
    server = web_server(web_app(client, settings, staff, web_settings), web_settings.host, web_settings.port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    task = await start_web_server(server)
    typer.echo(f"Staff inbox: http://{web_settings.host}:{web_settings.port} (Ctrl-C stops it)")
    try:
        await stop.wait()
    finally:
        await stop_web_server(server, task)
        typer.echo("Stopped.")
