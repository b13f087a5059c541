"""`dvds up`: the embedded Temporal server, a worker and (with the Web UI) the codec
server, in one command. On first start it creates the key file and the codec token
(mode 0600) and copies the example staff directory into the data folder."""

from __future__ import annotations

import asyncio
import contextlib
import signal

import structlog
import typer

from dvds.audit.archive import default_archive_dir
from dvds.audit.schedule import ensure_archive_schedule
from dvds.codec import EncryptionCodec
from dvds.codec_server import CodecServerError, codec_server, load_codec_token, start_codec_server, stop_codec_server
from dvds.connection import connect
from dvds.keys import KeyRing, KeysError, ensure_key_file, load_keys
from dvds.output import fail
from dvds.server import EmbeddedServer, ServerError
from dvds.settings import Settings
from dvds.staff_file import StaffFile, StaffFileError, ensure_staff_file
from web.serve import WebServerError, serving_inbox
from worker import build_worker

logger = structlog.get_logger()


def up(
    ui: bool = typer.Option(True, "--ui/--no-ui", help="Serve the Temporal Web UI (and the codec server)"),
    web: bool = typer.Option(True, "--web/--no-web", help="Serve the staff inbox (DVDS_WEB_PORT, default 8000)"),
) -> None:
    """Start the embedded Temporal server (SQLite under $DVDS_HOME, default .dvds/) and a
    worker; print the Web UI address; stop both cleanly on Ctrl-C."""
    settings = Settings()
    try:
        first_start(settings)
        keys = load_keys(settings)
        staff = StaffFile(settings.staff_path)
        token = load_codec_token(settings, create=True) if ui else None
    except (KeysError, StaffFileError) as err:
        fail(str(err))
    try:
        asyncio.run(_up(settings, ui, keys, staff, token, web))
    except (CodecServerError, WebServerError, ServerError) as err:
        fail(str(err))


def first_start(settings: Settings) -> None:
    if ensure_key_file(settings):
        typer.echo(f"Created the key file {settings.key_path} (mode 0600): back it up; without it no case can be read.")
    if ensure_staff_file(settings):
        typer.echo(f"Copied examples/staff.json to {settings.staff_path}: edit it to list your staff.")


async def _up(
    settings: Settings, ui: bool, keys: KeyRing, staff: StaffFile, token: str | None, web: bool = True
) -> None:
    codec = None
    if ui and token:
        codec = codec_server(EncryptionCodec(keys), token, settings)
        codec_task = await start_codec_server(codec)
    codec_endpoint = f"http://127.0.0.1:{settings.codec_port}" if codec else None
    server = EmbeddedServer(settings, ui=ui, codec_endpoint=codec_endpoint)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    try:
        await server.start()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        client = await connect(server.address, keys)
        worker = build_worker(client, settings, staff=staff)
        await ensure_archive_schedule(client, settings)
        async with worker, serving_inbox(client, settings, staff, web) as inbox:
            typer.echo(f"Temporal server: {server.address} (data in {settings.home})")
            if ui:
                typer.echo(f"Web UI: {server.ui_address}")
                where = "DVDS_CODEC_TOKEN" if settings.codec_token else settings.codec_token_path
                typer.echo(f"Codec server: {codec_endpoint} (token in {where}; see README)")
            if inbox:
                typer.echo(f"Staff inbox: {inbox} (sign in with a staff id; see README)")
            typer.echo(f"Closed cases archived daily into {default_archive_dir(settings)} (dvds audit verify)")
            typer.echo("Worker running. Ctrl-C stops both.")
            logger.info("dvds up", address=server.address, task_queue=worker.task_queue)
            await stop.wait()
            typer.echo("Stopping...")
    finally:
        with contextlib.suppress(Exception):
            server.stop()
        if codec:
            await stop_codec_server(codec, codec_task)
        typer.echo("Stopped.")
