"""A payload the worker would not let in: what its codec makes of anything not encrypted under
the key ring, so the case refuses it by rule instead of failing a workflow task.

Pure: the codec (dvds/connection/worker_codec.py) decides, this module only names the rules.
The reason never carries the payload or its key id: a refused payload is someone else's data.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class PayloadRule(StrEnum):
    not_encrypted = "payload_not_encrypted"
    key_unknown = "payload_key_unknown"
    does_not_decrypt = "payload_does_not_decrypt"


_RULE_TEXT: dict[PayloadRule, str] = {
    PayloadRule.not_encrypted: "the data is not encrypted under the key ring",
    PayloadRule.key_unknown: "the data is encrypted under a key the worker's key ring does not hold",
    PayloadRule.does_not_decrypt: "the data does not decrypt: the key is wrong or the data was altered",
}


@dataclass(frozen=True)
class RefusedPayload:
    """Stands in for a refused payload wherever a workflow input, update or signal argument was."""

    rule: PayloadRule

    @property
    def message(self) -> str:
        return f"refused: {_RULE_TEXT[self.rule]} (rule {self.rule})"
