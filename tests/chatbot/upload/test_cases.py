"""The organisation's side of a case (chatbot/upload/cases.py): actions, the child's status look-up, hash export."""

from __future__ import annotations

import csv
import io
import json

import pytest

from chatbot.upload import errors
from chatbot.upload.values import CaseStatus
from tests.chatbot.upload.helpers import (
    Services,
    encrypted,
    file_entry,
    make_case,
    upload_all,
)

# Every test here runs on one Redis and on a Redis Cluster of three primaries (tests/cluster.py).
pytestmark = pytest.mark.cluster


async def test_actions_move_the_status_the_child_sees(svc: Services) -> None:
    code, case_id = await make_case(svc)
    svc.clock.advance(3600)
    case = await svc.cases.record_action("analyst-1", case_id, "reported_police")
    assert case.status is CaseStatus.REPORTED
    case = await svc.cases.record_action("analyst-1", case_id, "reviewed")
    assert case.status is CaseStatus.REPORTED  # statuses never go back
    view = await svc.cases.child_status(code)
    assert view.status is CaseStatus.REPORTED and view.updated == svc.clock.now()
    await svc.cases.record_action("analyst-2", case_id, "removed")
    await svc.cases.record_action("analyst-2", case_id, "closed")
    assert (await svc.cases.child_status(code)).status is CaseStatus.CLOSED
    assert [a["action"] for a in await svc.cases.actions(case_id)] == [
        "reported_police",
        "reviewed",
        "removed",
        "closed",
    ]
    with pytest.raises(errors.BadAction):
        await svc.cases.record_action("analyst-1", case_id, "deleted_everything")
    actions = [e.action for e in await svc.audit.entries(case_id=case_id)]
    assert actions[1:] == ["action.reported_police", "action.reviewed", "action.removed", "action.closed"]


async def test_unknown_and_mistyped_codes(svc: Services) -> None:
    from chatbot.upload.codes import new_case_code

    with pytest.raises(errors.UnknownCase):
        await svc.cases.child_status(new_case_code())
    code, _ = await make_case(svc)
    typo = ("1" if code[0] != "1" else "2") + code[1:]
    with pytest.raises(errors.MistypedCaseCode):
        await svc.cases.child_status(typo)
    with pytest.raises(errors.MalformedCaseCode):
        await svc.cases.child_status("hello")


async def test_hash_export_csv_and_json(svc: Services) -> None:
    _, case_id = await make_case(svc)
    plain, blob = encrypted(3000)
    grant = await svc.uploads.issue_grant("conv1")
    entry = {**file_entry(blob, plain), "pdq": "ab" * 32, "pdq_quality": 87}
    started = await svc.uploads.start(grant.token, age_band="13_15", consent=True, files=[entry])
    await upload_all(svc, started.token, [blob])
    await svc.uploads.finish(started.token)
    rows = json.loads(await svc.cases.export_hashes("json"))
    (mine,) = [r for r in rows if r["case_id"] == case_id]
    assert len(mine["sha256"]) == 64 and mine["received"].endswith("Z") and mine["pdq"] == ""
    (image,) = [r for r in rows if r["case_id"] != case_id]
    assert (image["pdq"], image["pdq_quality"]) == ("ab" * 32, 87)
    parsed = list(csv.DictReader(io.StringIO(await svc.cases.export_hashes("csv"))))
    assert parsed == [{k: str(v) for k, v in row.items()} for row in rows]
    with pytest.raises(errors.BadRequest):
        await svc.cases.export_hashes("xml")
