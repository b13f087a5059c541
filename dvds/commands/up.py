"""`dvds up`: the embedded Temporal server and a worker, in one command."""

from __future__ import annotations

import asyncio
import contextlib
import signal

import structlog
import typer

from dvds.connection import connect
from dvds.server import EmbeddedServer
from dvds.settings import Settings
from worker import build_worker

logger = structlog.get_logger()


def up(
    ui: bool = typer.Option(True, "--ui/--no-ui", help="Serve the Temporal Web UI"),
) -> None:
    """Start the embedded Temporal server (SQLite under $DVDS_HOME, default .dvds/) and a
    worker; print the Web UI address; stop both cleanly on Ctrl-C."""
    settings = Settings()
    asyncio.run(_up(settings, ui))


async def _up(settings: Settings, ui: bool) -> None:
    server = EmbeddedServer(settings, ui=ui)
    await server.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        client = await connect(server.address)
        worker = build_worker(client, settings)
        async with worker:
            typer.echo(f"Temporal server: {server.address} (data in {settings.home})")
            if ui:
                typer.echo(f"Web UI: {server.ui_address}")
            typer.echo("Worker running. Ctrl-C stops both.")
            logger.info("dvds up", address=server.address, task_queue=worker.task_queue)
            await stop.wait()
            typer.echo("Stopping...")
    finally:
        with contextlib.suppress(Exception):
            server.stop()
        typer.echo("Stopped.")
