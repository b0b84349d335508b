"""Secrets at rest: AES-256-GCM with the console's key, bound to what they belong to (associated data).

Threat: a Redis dump or backup (or a replica) in the wrong hands. A TOTP secret in it would let the
holder make codes for every account; sealed, it is useless without `CONSOLE_SECRET_KEY`, which lives
with the console process and never in Redis. The associated data (e.g. the account name) stops someone
with write access to Redis from moving one account's sealed secret to another account.
"""

from __future__ import annotations

import base64
import binascii
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_BYTES = 32
NONCE_BYTES = 12
# Versioned, so a future key rotation or algorithm can tell old values from new ones.
PREFIX = "v1:"


class SealError(ValueError):
    """A sealed value cannot be opened: another key sealed it, it belongs to something else, or it is damaged."""


class SecretBox:
    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise ValueError(f"the key must be {KEY_BYTES} bytes")
        self._aead = AESGCM(key)

    @classmethod
    def from_hex(cls, text: str) -> SecretBox:
        return cls(bytes.fromhex(text))

    def seal(self, plaintext: str, *, context: str) -> str:
        # A random 96-bit nonce per value: far below the birthday bound for the few secrets we keep.
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), context.encode())
        return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()

    def open(self, value: str, *, context: str) -> str:
        if not is_sealed(value):
            raise SealError("not a sealed value")
        try:
            raw = base64.urlsafe_b64decode(value[len(PREFIX) :].encode())
            return self._aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], context.encode()).decode()
        except (InvalidTag, binascii.Error, ValueError):
            raise SealError("cannot open: another key, another owner, or damaged") from None


def is_sealed(value: str) -> bool:
    return value.startswith(PREFIX)
