"""`dvds up`: the embedded Temporal server, a worker, the staff inbox and (with the Web
UI) the codec server, in one command: the one place that composes the library, the
worker and the web face. On first start it creates the key file, the codec token and the
inbox's signing key (mode 0600, the key listed in the staff directory) and copies the
example staff directory into the data folder."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from dvds.cli.context import settings

if TYPE_CHECKING:
    from dvds.connection.keys import KeyRing
    from dvds.settings import Settings
    from dvds.staff.directory import StaffFile


def up(
    ctx: typer.Context,
    ui: bool = typer.Option(True, "--ui/--no-ui", help="Serve the Temporal Web UI (and the codec server)"),
    web: bool = typer.Option(True, "--web/--no-web", help="Serve the staff inbox (DVDS_WEB_PORT, default 8000)"),
) -> None:
    """Start the embedded Temporal server (SQLite under $DVDS_HOME, default .dvds/) and a
    worker; print the Web UI address; stop both cleanly on Ctrl-C."""
    import asyncio

    from dvds.cli.output import fail
    from dvds.connection.keys import KeysError, load_keys
    from dvds.connection.server import ServerError
    from dvds.monitoring.serving import MetricsError
    from dvds.staff.credentials import CredentialError
    from dvds.staff.directory import StaffFile, StaffFileError
    from dvds.web.codec_server import CodecServerError, load_codec_token
    from dvds.web.serve import WebServerError

    config = settings(ctx)
    try:
        first_start(config, web)
        keys = load_keys(config)
        staff = StaffFile(config.staff_path)
        token = load_codec_token(config, create=True) if ui else None
    except (KeysError, StaffFileError, CredentialError) as err:
        fail(str(err))
    try:
        asyncio.run(_up(config, ui, keys, staff, token, web))
    except (CodecServerError, WebServerError, ServerError, MetricsError) as err:
        fail(str(err))


def first_start(config: Settings, web: bool = True) -> None:
    from dvds.connection.keys import ensure_key_file
    from dvds.staff.credentials import ensure_web_key
    from dvds.staff.directory import ensure_staff_file

    if ensure_key_file(config):
        typer.echo(f"Created the key file {config.key_path} (mode 0600): back it up; without it no case can be read.")
    if ensure_staff_file(config):
        typer.echo(f"Copied the example staff directory to {config.staff_path}: edit it to list your staff.")
    if web and not config.web_key_path.exists():
        key = ensure_web_key(config.web_key_path, config.staff_path)
        typer.echo(f"Made the staff inbox's signing key {config.web_key_path} (mode 0600) and listed it ({key.key_id}) "
                   f"in {config.staff_path}: the inbox signs each task its sign-in authenticated.")


async def _up(config: Settings, ui: bool, keys: KeyRing, staff: StaffFile, token: str | None, web: bool) -> None:
    import asyncio
    import contextlib
    import signal

    import structlog

    from dvds.audit.schedule import ensure_archive_schedule
    from dvds.connection.client import connect
    from dvds.connection.codec import EncryptionCodec
    from dvds.connection.server import EmbeddedServer
    from dvds.monitoring.serving import exposing_metrics, telemetry
    from dvds.web.codec_server import codec_server, start_codec_server, stop_codec_server
    from dvds.web.serve import serving_inbox
    from worker import case_workers

    logger = structlog.get_logger()
    codec = None
    if ui and token:
        codec = codec_server(EncryptionCodec(keys), token, config)
        codec_task = await start_codec_server(codec)
    codec_endpoint = f"http://127.0.0.1:{config.codec_port}" if codec else None
    server = EmbeddedServer(config, ui=ui, codec_endpoint=codec_endpoint)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    try:
        await server.start()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        found = telemetry(config)
        client = await connect(config, server.address, keys, runtime=found.runtime)
        await ensure_archive_schedule(client, config)
        async with (
            case_workers(client, config, staff=staff, metrics=found.metrics) as worker,
            serving_inbox(client, config, staff, web, metrics=found.metrics) as inbox,
            exposing_metrics(config, found, client) as metrics_address,
        ):
            typer.echo(f"Temporal server: {server.address} (data in {config.home})")
            if ui:
                typer.echo(f"Web UI: {server.ui_address}")
                where = "DVDS_CODEC_TOKEN" if config.codec_token else config.codec_token_path
                typer.echo(f"Codec server: {codec_endpoint} (token in {where}; see README)")
            if inbox:
                typer.echo(f"Staff inbox: {inbox} (sign in with a staff id; see README)")
            if metrics_address:
                typer.echo(f"Metrics: {metrics_address} (Prometheus; see README: Monitoring)")
            typer.echo(f"Closed cases archived daily into {config.archive_dir} (dvds audit verify)")
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
