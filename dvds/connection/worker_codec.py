"""The worker's side of the codec: nothing unencrypted gets in.

A client's codec (dvds/connection/codec.py) lets a payload it cannot open fail loudly, with a
KeysError naming the key, because a person is there to read it. The worker has no person:
a payload that raised in its codec failed the whole workflow task, and the task retried
until the server dropped the update. So the worker's codec never raises. A payload that is
not encrypted under the ring (plaintext, a key id the ring lacks, a tag that does not
verify) becomes a marked "refused" payload; the converter turns that into a
`states.payloads.RefusedPayload`, and the payload gate (workflows/payload_gate.py) refuses
the update, drops the signal, or ends the workflow as refused, by rule.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any

import structlog
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.client import Client
from temporalio.converter import DataConverter, EncodingPayloadConverter

from dvds.connection.codec import (
    ENCODING,
    KEY_ID,
    CasePayloadConverter,
    EncryptionCodec,
    PayloadKeyError,
    case_data_converter,
)
from dvds.connection.keys import KeyRing, KeysError
from states.payloads import PayloadRule, RefusedPayload

logger = structlog.get_logger()
REFUSED_ENCODING = "dvds/refused"
_RULE = "refused-rule"


class RefusingCodec(EncryptionCodec):
    """Decrypts what the ring encrypted; marks everything else refused. Encodes as the client's does.

    `reload` re-reads the ring (the key file), at most every RELOAD_EVERY seconds, when a
    payload names a key the ring lacks: after `dvds keys rotate` a client encrypts under the
    new key before the worker has been restarted, and that is a case, not an attack."""

    RELOAD_EVERY = 5.0

    def __init__(self, keys: KeyRing, reload: Callable[[], KeyRing] | None = None) -> None:
        super().__init__(keys)
        self.reload = reload
        self._reloaded_at = -self.RELOAD_EVERY

    def decrypt(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCODING:
            return _refused(PayloadRule.not_encrypted)
        key_id = payload.metadata.get(KEY_ID, b"").decode(errors="replace")
        if key_id not in self._ciphers:
            self._reload()
        try:
            return super().decrypt(payload)
        except PayloadKeyError:
            return _refused(PayloadRule.does_not_decrypt if key_id in self._ciphers else PayloadRule.key_unknown)

    def _reload(self) -> None:
        now = time.monotonic()
        if self.reload is None or now - self._reloaded_at < self.RELOAD_EVERY:
            return
        self._reloaded_at = now
        try:
            ring = self.reload()
        except KeysError as err:
            logger.error("key ring not reloaded; keeping the one loaded", error=str(err))
            return
        if {k.id for k in ring.encryption_keys} >= set(self._ciphers):  # never drop a key it had
            self.keys = ring
            self._ciphers = {k.id: AESGCM(k.secret) for k in ring.encryption_keys}
            logger.info("key ring reloaded", keys=len(ring.encryption_keys))


def _refused(rule: PayloadRule) -> Payload:
    return Payload(metadata={"encoding": REFUSED_ENCODING.encode(), _RULE: str(rule).encode()})


class RefusedPayloadConverter(EncodingPayloadConverter):
    """Reads a refused payload as a RefusedPayload, whatever type was expected; never writes one."""

    @property
    def encoding(self) -> str:
        return REFUSED_ENCODING

    def to_payload(self, value: Any) -> Payload | None:
        return None

    def from_payload(self, payload: Payload, type_hint: type | None = None) -> Any:
        return RefusedPayload(PayloadRule(payload.metadata[_RULE].decode()))


class WorkerPayloadConverter(CasePayloadConverter):
    """The case converter, reading refused payloads too."""

    def __init__(self) -> None:
        super().__init__()
        self._set_converters(*self.converters.values(), RefusedPayloadConverter())


def worker_data_converter(keys: KeyRing, reload: Callable[[], KeyRing] | None = None) -> DataConverter:
    """The client's converter (every payload and failure encrypted), with the refusing codec."""
    return dataclasses.replace(
        case_data_converter(keys), payload_converter_class=WorkerPayloadConverter,
        payload_codec=RefusingCodec(keys, reload),
    )


def worker_client(client: Client, reload: Callable[[], KeyRing] | None = None) -> Client:
    """The same connection as `client`, with the worker's converter. A worker must hold the
    key ring: one without it could neither read a case nor tell plaintext from ciphertext."""
    codec = client.data_converter.payload_codec
    if not isinstance(codec, EncryptionCodec):
        raise KeysError("keys: a worker needs a client connected with the key ring (dvds.connection.client.connect)")
    config = client.config()
    config["data_converter"] = worker_data_converter(codec.keys, reload)
    return Client(**config)
