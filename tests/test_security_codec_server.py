"""The codec server decodes for the Web UI only with the token."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from google.protobuf import json_format
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.client import Client

from dvds.cases.client import CaseClient
from dvds.connection.codec import EncryptionCodec
from dvds.settings import Settings
from dvds.web.codec_server import codec_server, load_codec_token, start_codec_server, stop_codec_server
from states.record import Actor, CaseInput
from states.roles import Role
from tests.helpers.cases import new_ref
from tests.helpers.keys import TEST_KEYS
from tests.helpers.ports import free_port
from tests.helpers.security import secret_application, staff_for_tests, staffed_worker
from tests.helpers.staff import SIGNER

TOKEN = "auditor-token-for-tests-0123456789"


@pytest.fixture
async def codec_url(tmp_path: Path) -> AsyncIterator[str]:
    settings = Settings(home=tmp_path, codec_port=free_port(), ui_port=18233)
    server = codec_server(EncryptionCodec(TEST_KEYS), TOKEN, settings)
    task = await start_codec_server(server)
    yield f"http://127.0.0.1:{settings.codec_port}"
    await stop_codec_server(server, task)


async def encrypted_history_payloads(client: Client, tmp_path: Path) -> tuple[dict[str, object], str]:
    """The raw (encrypted) start input of a real case, as the Web UI would send it, and the subject's name."""
    app = secret_application()
    async with staffed_worker(client, tmp_path, staff_for_tests()) as worker:
        cases = CaseClient(client, Settings(home=tmp_path, task_queue=worker.task_queue), signer=SIGNER)
        handle = await cases.start(CaseInput(ref=new_ref(), application=app,
                                             started_by=Actor(id="OP1", role=Role.operator)))
        first = await anext(aiter(client.get_workflow_handle(handle.id).fetch_history_events()))
    raw = first.workflow_execution_started_event_attributes.input
    return json_format.MessageToDict(raw), app.subject.name


class TestCodecServer:
    """/decode and /encode answer only with a valid token; CORS lets the Web UI call them."""

    async def test_refuses_without_a_valid_token(self, codec_url: str, client: Client, tmp_path: Path) -> None:
        """No token, a wrong token or a wrong scheme: 401, and nothing decoded in the answer."""
        body, name = await encrypted_history_payloads(client, tmp_path)
        async with httpx.AsyncClient() as http:
            attempts = [
                await http.post(f"{codec_url}/decode", json=body),
                await http.post(f"{codec_url}/decode", json=body, headers={"Authorization": "Bearer wrong-token"}),
                await http.post(f"{codec_url}/decode", json=body, headers={"Authorization": f"Basic {TOKEN}"}),
                await http.post(f"{codec_url}/t/wrong-token/decode", json=body),
                await http.post(f"{codec_url}/encode", json=body),
            ]
        assert [r.status_code for r in attempts] == [401] * len(attempts)
        assert all(name not in r.text for r in attempts)

    async def test_decodes_a_case_with_the_token(self, codec_url: str, client: Client, tmp_path: Path) -> None:
        """With the bearer token (or the token in the path, for the Web UI) the case's input is decoded."""
        body, name = await encrypted_history_payloads(client, tmp_path)
        async with httpx.AsyncClient() as http:
            for response in [
                await http.post(f"{codec_url}/decode", json=body, headers={"Authorization": f"Bearer {TOKEN}"}),
                await http.post(f"{codec_url}/t/{TOKEN}/decode", json=body),
            ]:
                assert response.status_code == 200, response.text
                decoded = json_format.ParseDict(response.json(), Payloads())
                assert decoded.payloads[0].metadata["encoding"] == b"json/plain"
                assert name.encode() in decoded.payloads[0].data

    async def test_encode_round_trips(self, codec_url: str) -> None:
        """What /encode returns is ciphertext under the current key that /decode turns back."""
        plain = Payloads(payloads=[Payload(metadata={"encoding": b"json/plain"}, data=b'"Jo Bloggs"')])
        auth = {"Authorization": f"Bearer {TOKEN}"}
        async with httpx.AsyncClient() as http:
            encoded = await http.post(f"{codec_url}/encode", json=json_format.MessageToDict(plain), headers=auth)
            assert encoded.status_code == 200 and "Jo Bloggs" not in encoded.text
            decoded = await http.post(f"{codec_url}/decode", json=encoded.json(), headers=auth)
        assert json_format.ParseDict(decoded.json(), Payloads()) == plain

    async def test_cors_allows_the_web_ui_only(self, codec_url: str) -> None:
        """A preflight from the Web UI's origin is allowed (with the Authorization header); another origin is not."""
        preflight = {"Access-Control-Request-Method": "POST",
                     "Access-Control-Request-Headers": "authorization,content-type,x-namespace"}
        async with httpx.AsyncClient() as http:
            ui = await http.options(f"{codec_url}/decode", headers={"Origin": "http://127.0.0.1:18233", **preflight})
            other = await http.options(f"{codec_url}/decode", headers={"Origin": "http://evil.example", **preflight})
        assert ui.status_code == 200
        assert ui.headers["access-control-allow-origin"] == "http://127.0.0.1:18233"
        assert "authorization" in ui.headers["access-control-allow-headers"].lower()
        assert "access-control-allow-origin" not in other.headers

    def test_token_created_owner_only(self, tmp_path: Path) -> None:
        """`dvds up` creates a long random token readable by its owner only, and reuses it."""
        settings = Settings(home=tmp_path, codec_token=None)
        token = load_codec_token(settings, create=True)
        assert len(token) >= 32 and (tmp_path / "codec-token").stat().st_mode & 0o777 == 0o600
        assert load_codec_token(settings, create=True) == token
