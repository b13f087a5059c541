"""The codec server: Temporal's /encode and /decode over HTTP, so the Web UI can show a
case decrypted to someone holding the token (auditors) and ciphertext to anyone else.

Two ways to present the token:
- `Authorization: Bearer TOKEN` (programs, `temporal --codec-endpoint ... --codec-auth`);
- the token in the path, `http://HOST:PORT/t/TOKEN`, for the Web UI, which cannot add
  a header of its own: an auditor sets that URL as the UI's codec endpoint override.
`dvds up` passes the token-free address to the UI, so without the token it shows ciphertext.
"""

from __future__ import annotations

import asyncio
import hmac
import os
import secrets

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from google.protobuf import json_format
from starlette.middleware.cors import CORSMiddleware
from temporalio.api.common.v1 import Payloads

from dvds.connection.codec import EncryptionCodec
from dvds.connection.keys import KeysError
from dvds.settings import Settings
from dvds.web.serving import BackgroundServer, background_server, serve_in_background, stop_serving

_ACTIONS = ("encode", "decode")


def load_codec_token(settings: Settings, create: bool = False) -> str:
    """DVDS_CODEC_TOKEN, else $DVDS_HOME/codec-token (created, mode 0600, if `create`)."""
    if settings.codec_token is not None:
        return settings.codec_token.get_secret_value()
    path = settings.codec_token_path
    if create and not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(32) + "\n")
    try:
        token = path.read_text().strip()
    except FileNotFoundError:
        raise KeysError(f"codec: no token at {path} and DVDS_CODEC_TOKEN is not set") from None
    if len(token) < 16:
        raise KeysError(f"codec: the token in {path} is too short (at least 16 characters)")
    return token


def codec_app(codec: EncryptionCodec, token: str, ui_origins: list[str]) -> FastAPI:
    app = FastAPI(title="DVDS codec server", docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=ui_origins,
        allow_methods=["POST"],
        allow_headers=["Authorization", "Content-Type", "X-Namespace"],
        allow_credentials=True,
    )
    expected = token.encode()

    def valid(presented: str | None) -> bool:
        return presented is not None and hmac.compare_digest(presented.encode(), expected)

    async def convert(action: str, request: Request) -> JSONResponse:
        if action not in _ACTIONS:
            raise HTTPException(404, "no such codec action")
        try:
            payloads = json_format.Parse(await request.body(), Payloads())
        except json_format.ParseError:
            raise HTTPException(400, "body: must be Temporal payloads as JSON") from None
        try:
            done = await (codec.encode if action == "encode" else codec.decode)(payloads.payloads)
        except KeysError as err:
            raise HTTPException(422, str(err)) from None
        return JSONResponse(json_format.MessageToDict(Payloads(payloads=done)))

    @app.post("/{action}")
    async def with_header(action: str, request: Request) -> JSONResponse:
        scheme, _, presented = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not valid(presented.strip()):
            raise HTTPException(401, "a valid bearer token is required", headers={"WWW-Authenticate": "Bearer"})
        return await convert(action, request)

    @app.post("/t/{presented}/{action}")
    async def with_path_token(presented: str, action: str, request: Request) -> JSONResponse:
        if not valid(presented):
            raise HTTPException(401, "a valid token is required")
        return await convert(action, request)

    return app


def codec_server(codec: EncryptionCodec, token: str, settings: Settings) -> BackgroundServer:
    origins = [f"http://{host}:{settings.ui_port}" for host in ("127.0.0.1", "localhost")]
    # No access log (background_server): the path form carries the token.
    return background_server(codec_app(codec, token, origins), "127.0.0.1", settings.codec_port)


class CodecServerError(Exception):
    """The codec server could not start (e.g. its port is taken)."""


async def start_codec_server(server: BackgroundServer, within: float = 20.0) -> asyncio.Task[None]:
    """Serve in the background; return once it listens."""
    refusal = CodecServerError(f"codec: cannot serve on 127.0.0.1:{server.config.port} (DVDS_CODEC_PORT sets the port)")
    return await serve_in_background(server, refusal, within)


async def stop_codec_server(server: BackgroundServer, task: asyncio.Task[None]) -> None:
    await stop_serving(server, task)
