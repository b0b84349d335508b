"""Where ciphertext lives: a small interface, and a local directory implementation (the default).

Unfinished uploads are partial files; a finished one moves into its case's directory with one atomic
rename, so a case never holds half a file. Nothing here ever sees plaintext or a key.
"""

from __future__ import annotations

import os
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, Protocol

_ID = re.compile(r"^[A-Za-z0-9_-]{8,80}$")


class Storage(Protocol):
    """Blocking calls; the service runs them in a worker thread."""

    def write_at(self, upload_id: str, offset: int, data: bytes) -> None:
        """Write `data` at `offset` of the partial file, dropping anything after `offset` first."""

    def read_partial(self, upload_id: str) -> BinaryIO: ...

    def partial_size(self, upload_id: str) -> int: ...

    def commit(self, upload_id: str, case_id: str, file_id: str) -> None: ...

    def discard(self, upload_id: str) -> None: ...

    def open(self, case_id: str, file_id: str) -> BinaryIO: ...

    def delete_case(self, case_id: str) -> int:
        """Remove a case's files; returns how many there were."""

    def partials(self) -> list[str]: ...

    def cases(self) -> list[str]: ...

    def case_changed(self, case_id: str) -> datetime | None:
        """When the case's directory last changed (its mtime, aware UTC); None if it is gone."""


def _checked(value: str) -> str:
    # Ids come from our own random tokens, but a path is built from them: refuse anything else.
    if not _ID.match(value):
        raise ValueError("not a storage id")
    return value


class LocalStorage:
    """`root/partial/<upload>.part` while uploading, `root/cases/<case>/<file>.scup` when done."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._partial = root / "partial"
        self._cases = root / "cases"

    def _ensure(self) -> None:
        self._partial.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._cases.mkdir(parents=True, exist_ok=True, mode=0o700)

    def _part(self, upload_id: str) -> Path:
        return self._partial / f"{_checked(upload_id)}.part"

    def write_at(self, upload_id: str, offset: int, data: bytes) -> None:
        self._ensure()
        path = self._part(upload_id)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        with os.fdopen(fd, "r+b") as handle:
            # A write cut off earlier (crash, dropped connection) may have left bytes past the offset
            # Redis recorded; they are not part of the upload.
            handle.truncate(offset)
            handle.seek(offset)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())

    def read_partial(self, upload_id: str) -> BinaryIO:
        return self._part(upload_id).open("rb")

    def partial_size(self, upload_id: str) -> int:
        try:
            return self._part(upload_id).stat().st_size
        except FileNotFoundError:
            return 0

    def commit(self, upload_id: str, case_id: str, file_id: str) -> None:
        self._ensure()
        target_dir = self._cases / _checked(case_id)
        target_dir.mkdir(exist_ok=True, mode=0o700)
        os.replace(self._part(upload_id), target_dir / f"{_checked(file_id)}.scup")

    def discard(self, upload_id: str) -> None:
        self._part(upload_id).unlink(missing_ok=True)

    def open(self, case_id: str, file_id: str) -> BinaryIO:
        return (self._cases / _checked(case_id) / f"{_checked(file_id)}.scup").open("rb")

    def delete_case(self, case_id: str) -> int:
        directory = self._cases / _checked(case_id)
        if not directory.exists():
            return 0
        count = sum(1 for _ in directory.iterdir())
        shutil.rmtree(directory)
        return count

    def partials(self) -> list[str]:
        if not self._partial.exists():
            return []
        return sorted(p.stem for p in self._partial.glob("*.part"))

    def cases(self) -> list[str]:
        if not self._cases.exists():
            return []
        return sorted(p.name for p in self._cases.iterdir() if p.is_dir())

    def case_changed(self, case_id: str) -> datetime | None:
        try:
            mtime = (self._cases / _checked(case_id)).stat().st_mtime
        except FileNotFoundError:
            return None
        return datetime.fromtimestamp(mtime, UTC)
