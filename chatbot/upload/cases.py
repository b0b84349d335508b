"""The organisation's side of a case: the child's status look-up, and analysts' list, views and actions.

Every action and every view of ciphertext goes into the audit log before it takes effect.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections.abc import Sequence
from typing import Any, BinaryIO

from chatbot.upload import codes, errors
from chatbot.upload.context import UploadPart
from chatbot.upload.records import from_ms, read_case, to_ms
from chatbot.upload.values import ACTIONS, Case, CaseStatus, ChildCaseView

_ORDER = list(CaseStatus)


class CaseService(UploadPart):
    """The organisation's side: the child's status look-up, and analysts' list, views and actions."""

    async def child_status(self, code: object) -> ChildCaseView:
        """Intent `case_status`: typed errors for a malformed, mistyped or unknown code."""
        normalized = codes.normalize(code)
        case_id = await self._store.case_id_for(codes.code_hash(normalized))
        record = await self._store.case(case_id) if case_id else None
        if record is None:
            raise errors.UnknownCase("no case has this code (or it has been deleted)")
        return ChildCaseView(CaseStatus(record["status"]), from_ms(record["updated"]))

    async def get(self, case_id: str) -> Case:
        record = await self._store.case(case_id)
        if record is None:
            raise errors.UnknownCase("no such case")
        return read_case(case_id, record)

    async def list_cases(self) -> list[Case]:
        out = []
        for case_id in await self._store.case_ids():
            record = await self._store.case(case_id)
            if record is not None:
                out.append(read_case(case_id, record))
        return out

    async def record_action(self, analyst: str, case_id: str, action: str) -> Case:
        if action not in ACTIONS:
            raise errors.BadAction(f"action must be one of {', '.join(ACTIONS)}")
        case = await self.get(case_id)
        await self._audit.append(analyst, f"action.{action}", case_id=case_id)
        now = self._clock.now()
        target = ACTIONS[action]
        status = case.status
        if case.status is not CaseStatus.CLOSED and _ORDER.index(target) > _ORDER.index(case.status):
            status = target
        changes: dict[str, Any] = {"status": status.value, "updated": to_ms(now)}
        if status is CaseStatus.CLOSED and case.closed is None:
            changes["closed"] = to_ms(now)
        await self._store.add_action(
            case_id,
            {"by": analyst, "action": action, "at": to_ms(now)},
            self._settings.upload_hash_retention,
        )
        await self._store.update_case(case_id, changes)
        return await self.get(case_id)

    async def actions(self, case_id: str) -> list[dict[str, Any]]:
        return await self._store.actions(case_id)

    async def open_ciphertext(self, analyst: str, case_id: str, file_id: str) -> BinaryIO:
        """The ciphertext for the analyst's browser to decrypt; the view is logged before it is given."""
        case = await self.get(case_id)
        if file_id not in {f.file_id for f in case.files}:
            raise errors.UnknownCase("no such file in this case")
        if case.ciphertext_deleted is not None:
            raise errors.UnknownCase("this case's files have been deleted (retention)")
        await self._audit.append(analyst, "file.viewed", case_id=case_id, file_id=file_id)
        return await asyncio.to_thread(self._storage.open, case_id, file_id)

    async def export_hashes(self, fmt: str, case_ids: Sequence[str] | None = None) -> str:
        """Hashes for hash-sharing submissions, as CSV or JSON."""
        if fmt not in ("csv", "json"):
            raise errors.BadRequest("format must be csv or json")
        rows = []
        for case in await self.list_cases():
            if case_ids is not None and case.case_id not in case_ids:
                continue
            for f in case.files:
                rows.append(
                    {
                        "case_id": case.case_id,
                        "file_id": f.file_id,
                        "sha256": f.sha256,
                        "md5": f.md5,
                        "pdq": f.pdq,
                        "pdq_quality": f.pdq_quality if f.pdq else "",
                        "age_band": case.age_band,
                        "received": case.created.isoformat().replace("+00:00", "Z"),
                    }
                )
        if fmt == "json":
            return json.dumps(rows, indent=2) + "\n"
        out = io.StringIO()
        writer = csv.DictWriter(
            out,
            fieldnames=["case_id", "file_id", "sha256", "md5", "pdq", "pdq_quality", "age_band", "received"],
            lineterminator="\n",
        )
        writer.writeheader()
        writer.writerows(rows)
        return out.getvalue()
