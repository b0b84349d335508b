"""Retention: deletes what has outlived its period (ciphertext, cases, orphans, partials, audit entries)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta

from chatbot.upload.context import UploadPart
from chatbot.upload.partials import discard_abandoned
from chatbot.upload.records import from_ms, read_case, to_ms

ORPHAN_GRACE_S = 3600  # files without a case record are left this long: a finish may be under way


@dataclass
class SweepReport:
    ciphertext_deleted: int = 0
    cases_deleted: int = 0
    orphans_deleted: int = 0
    partials_deleted: int = 0
    abandoned_deleted: int = 0
    audit_trimmed: int = 0


class RetentionSweeper(UploadPart):
    """Deletes what has outlived its period; run periodically, tested with an injected clock."""

    async def sweep_abandoned(self) -> int:
        """The frequent, cheap part: uploads without a chunk for `UPLOAD_ABANDON_AFTER`."""
        return await discard_abandoned(self._store, self._storage, self._clock.now(), self._settings)

    async def sweep(self) -> SweepReport:
        s = self._settings
        now = self._clock.now()
        report = SweepReport()
        known = set()
        for case_id in await self._store.case_ids():
            record = await self._store.case(case_id)
            if record is None:
                continue
            if "conv" in record:
                # Cases made before they stopped naming their conversation: cut the link on the way.
                await self._store.forget_conversation(case_id)
            case = read_case(case_id, record)
            if now >= case.created + timedelta(seconds=s.upload_hash_retention):
                await self._audit.append("retention", "case.deleted", case_id=case_id)
                await asyncio.to_thread(self._storage.delete_case, case_id)
                await self._store.delete_case(case_id, case.code_hash)
                report.cases_deleted += 1
                continue
            known.add(case_id)
            if case.ciphertext_deleted is None and (
                now >= case.created + timedelta(seconds=s.upload_max_age)
                or (
                    case.closed is not None
                    and now >= case.closed + timedelta(seconds=s.upload_delete_after_close)
                )
            ):
                await self._audit.append("retention", "ciphertext.deleted", case_id=case_id)
                await asyncio.to_thread(self._storage.delete_case, case_id)
                await self._store.update_case(case_id, {"deleted": to_ms(now)})
                report.ciphertext_deleted += 1
        for case_id in await asyncio.to_thread(self._storage.cases):
            # Files whose case record never came to be (a crash mid-finish) or is gone. The grace keeps
            # the sweep from racing a finish that is under way; it is measured on the sweep's clock.
            if case_id in known:
                continue
            changed = await asyncio.to_thread(self._storage.case_changed, case_id)
            if changed is not None and (now - changed).total_seconds() >= ORPHAN_GRACE_S:
                await asyncio.to_thread(self._storage.delete_case, case_id)
                report.orphans_deleted += 1
        report.abandoned_deleted = await discard_abandoned(self._store, self._storage, now, s)
        window = timedelta(seconds=s.upload_resume_window)
        for partial in await asyncio.to_thread(self._storage.partials):
            upload_hash = partial.rsplit("-", 1)[0]
            upload = await self._store.upload(upload_hash)
            if upload is None or now >= from_ms(upload.created_ms) + window:
                # An upload nobody finished within the resume window: its bytes go, its record too.
                await asyncio.to_thread(self._storage.discard, partial)
                await self._store.drop_upload(upload_hash)
                report.partials_deleted += 1
        report.audit_trimmed = await self._audit.trim(now - timedelta(seconds=s.audit_retention))
        return report
