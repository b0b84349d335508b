"""What every upload service stands on: one store, one ciphertext storage, one audit log, the clock, settings."""

from __future__ import annotations

from dataclasses import dataclass

from chatbot.clock import Clock
from chatbot.settings import Settings
from chatbot.store.audit import AuditLog
from chatbot.upload.storage import Storage
from chatbot.upload.store import UploadStore


@dataclass(frozen=True)
class UploadContext:
    """The parts the child's side, the cases and retention share (built once, in `wiring`)."""

    store: UploadStore
    storage: Storage
    audit: AuditLog
    clock: Clock
    settings: Settings


class UploadPart:
    """A service over the shared parts: each keeps them under the same names."""

    def __init__(self, context: UploadContext) -> None:
        self._store = context.store
        self._storage = context.storage
        self._audit = context.audit
        self._clock = context.clock
        self._settings = context.settings
