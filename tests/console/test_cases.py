"""Analysts' case pages against the real console and a private Redis: roles, CSRF, the fresh code, audit."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from chatbot.redis_server import RedisServer
from chatbot.settings import Settings
from chatbot.upload import codes, crypto
from chatbot.upload.store import UploadStore
from chatbot.upload.values import ACTIONS, CaseStatus
from console import security
from console.case_pages import ACTION_LABELS
from tests.chatbot.upload.helpers import (
    KEYS,
    Services,
    file_entry,
    open_conversation,
    services,
    upload_settings,
)
from tests.console.conftest import Console, Credentials, StaffClient

IMAGE = b"\x89PNG fake image bytes for the console tests " * 40
VIDEO = b"\x1aE\xdf\xa3 fake video bytes " * 200


@pytest.fixture
def settings(redis_server: RedisServer, tmp_path: Path) -> Settings:
    """The console and the upload services share Redis and the upload directory, as in production."""
    base = Settings(redis_url=redis_server.url, session_secret=Settings().session_secret)
    return upload_settings(base, tmp_path / "uploads")


@pytest.fixture
def svc(redis: Redis, settings: Settings) -> Services:
    return services(redis, settings)


async def make_case(
    svc: Services, redis: Redis, *, topic: str = "takedown", age_band: str = "13_15", with_video: bool = True
) -> tuple[str, str]:
    """A finished upload through the real UploadService: (case id, case code)."""
    public = [k.public for k in KEYS]
    files = [(IMAGE, crypto.encrypt(IMAGE, public, name="bild.png", type="image/png"))]
    if with_video:
        files.append((VIDEO, crypto.encrypt(VIDEO, public, name="film.webm", type="video/webm")))
    await open_conversation(redis, "conv-console-test")
    grant = await svc.uploads.issue_grant("conv-console-test", topic=topic)
    started = await svc.uploads.start(
        grant.token,
        age_band=age_band,
        consent=True,
        files=[file_entry(blob, plain) for plain, blob in files],
    )
    for index, (_, blob) in enumerate(files):
        await svc.uploads.write(started.token, index, 0, blob)
    code = await svc.uploads.finish(started.token)
    case_id = await UploadStore(redis).case_id_for(codes.code_hash(code))
    assert case_id is not None
    return case_id, code


async def analyst(
    make_account: Any, staff_factory: Any, name: str = "ana"
) -> tuple[StaffClient, Credentials]:
    creds: Credentials = await make_account(name, "analyst")
    client: StaffClient = staff_factory()
    assert await client.login(creds) == 303
    assert client.csrf
    return client, creds


def code_now(console: Console, creds: Credentials) -> str:
    return console.accounts.code_at(creds.secret, int(console.clock.now().timestamp()))


async def fetch_file(client: StaffClient, case_id: str, file_id: str, **headers: str) -> tuple[int, bytes]:
    sent = {security.CSRF_HEADER: client.csrf, **headers}
    async with client.http.post(f"/cases/{case_id}/files/{file_id}", headers=sent) as response:
        return response.status, await response.read()


def stored(settings: Settings, case_id: str, file_id: str) -> bytes:
    return (settings.upload_dir / "cases" / case_id / f"{file_id}.scup").read_bytes()


async def test_every_case_route_refuses_other_roles_and_strangers(
    console: Console, svc: Services, make_account: Any, staff_factory: Any, redis: Redis
) -> None:
    case_id, _ = await make_case(svc, redis)
    base = f"/cases/{case_id}"
    gets = ["/cases", base]
    posts = [
        f"{base}/reauth",
        f"{base}/actions",
        f"{base}/files/file-000",
        f"{base}/files/file-000/revealed",
        "/cases/export",
    ]
    for role in ("counsellor", "supervisor", "editor", "translator", "admin"):
        creds = await make_account(f"x{role[:7]}", role)
        client: StaffClient = staff_factory()
        assert await client.login(creds) == 303
        for path in gets:
            assert (await client.get(path))[0] == 403, (role, path)
        for path in posts:
            status, _ = await client.post(path, {"action": "closed", "format": "csv", "code": "123456"})
            assert status == 403, (role, path)
    stranger: StaffClient = staff_factory()
    for path in gets:
        assert (await stranger.get(path))[0] == 303  # to the login page
    for path in posts:
        assert (await stranger.post(path, {"action": "closed"}))[0] == 401
    # Nothing happened: the status stands and nobody but the child's upload is in the trail.
    assert (await svc.cases.get(case_id)).status is CaseStatus.RECEIVED
    assert await console.audit_trail(case_id) == [("child", "case.received", "")]


async def test_case_list_is_newest_first_with_hashes_topic_and_status_filter(
    console: Console, svc: Services, make_account: Any, staff_factory: Any, redis: Redis
) -> None:
    older, _ = await make_case(svc, redis, topic="sextortion", age_band="under_13", with_video=False)
    svc.clock.advance(3600)
    newer, _ = await make_case(svc, redis, topic="image_spreading", age_band="16_17")
    await svc.cases.record_action("ana", older, "reviewed")
    client, _ = await analyst(make_account, staff_factory)

    status, page = await client.get("/cases")
    assert status == 200
    rows = re.findall(r'<tr data-case="([0-9a-f]{24})">', page)
    assert rows == [newer, older]
    newer_row = page.split(f'data-case="{newer}"')[1].split("</tr>")[0]
    case = await svc.cases.get(newer)
    for f in case.files:
        assert f.sha256 in newer_row and f.md5 in newer_row
    assert '<td class="count">2</td>' in newer_row and "image spreading" in newer_row and "16–17" in newer_row
    assert "received" in newer_row

    status, page = await client.get("/cases?status=reviewed")
    assert re.findall(r'<tr data-case="([0-9a-f]{24})">', page) == [older]
    status, page = await client.get("/cases?status=closed")
    assert 'id="no-cases"' in page
    status, page = await client.get("/cases?status=<script>")  # unknown filter: everything, nothing echoed
    assert status == 200 and "<script>" not in page and len(re.findall(r"<tr data-case=", page)) == 2


async def test_case_page_shows_files_audit_and_only_it_may_load_blob_media(
    console: Console, svc: Services, make_account: Any, staff_factory: Any, redis: Redis
) -> None:
    case_id, _ = await make_case(svc, redis)
    client, _ = await analyst(make_account, staff_factory)
    async with client.http.get(f"/cases/{case_id}") as response:
        page = await response.text()
        csp = response.headers["Content-Security-Policy"]
    assert response.status == 200
    assert "img-src 'self' data: blob:" in csp and "media-src blob:" in csp
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp
    case = await svc.cases.get(case_id)
    for f in case.files:
        assert f.sha256 in page and f.md5 in page
    assert case.files[0].file_id in page and "case.received" in page
    assert 'id="reauth"' in page and 'id="viewer"' not in page  # no fresh code yet: no viewer
    for label in ACTION_LABELS.values():
        assert label in page
    # Every other page keeps the strict policy, and a handler cannot loosen it to anything else.
    for path in ("/cases", "/stats", "/"):
        async with client.http.get(path) as response:
            assert response.headers["Content-Security-Policy"] == security.CSP, path
    assert "blob:" not in security.CSP


async def test_unknown_or_malformed_cases_and_files_are_not_found(
    console: Console, svc: Services, make_account: Any, staff_factory: Any, redis: Redis
) -> None:
    case_id, _ = await make_case(svc, redis)
    client, creds = await analyst(make_account, staff_factory)
    assert (await client.get("/cases/0123456789abcdef01234567"))[0] == 404
    assert (await client.get("/cases/..%2F..%2Fetc"))[0] == 404
    console.clock.advance(30)
    status, _ = await client.post(f"/cases/{case_id}/reauth", {"code": code_now(console, creds)})
    assert status == 303
    assert (await fetch_file(client, case_id, "file-009"))[0] == 404
    assert (await fetch_file(client, case_id, "..%2Fx"))[0] == 404
    assert (await fetch_file(client, "0123456789abcdef01234567", "file-000"))[0] == 404
    assert [a for _, a, _ in await console.audit_trail(case_id)] == ["case.received"]


async def test_ciphertext_only_after_a_fresh_code_and_every_view_is_audited(
    console: Console, svc: Services, make_account: Any, staff_factory: Any, redis: Redis, settings: Settings
) -> None:
    case_id, _ = await make_case(svc, redis)
    client, creds = await analyst(make_account, staff_factory)

    status, body = await fetch_file(client, case_id, "file-000")
    assert status == 403 and json.loads(body)["error"] == "reauth_required"

    # The code the analyst signed in with is spent: replaying it here is refused.
    status, _ = await client.post(f"/cases/{case_id}/reauth", {"code": code_now(console, creds)})
    assert status == 303
    status, page = await client.get(f"/cases/{case_id}?msg=bad_code")
    assert "wrong or already used" in page and 'id="viewer"' not in page
    for wrong in ("000000", "12345", "abcdef"):  # four failures: one short of the lock
        await client.post(f"/cases/{case_id}/reauth", {"code": wrong})
    assert (await fetch_file(client, case_id, "file-000"))[0] == 403

    console.clock.advance(30)  # the authenticator shows the next code
    confirmed = await client.redirected(f"/cases/{case_id}/reauth", {"code": code_now(console, creds)})
    assert confirmed == f"/cases/{case_id}?msg=confirmed#files"
    status, page = await client.get(f"/cases/{case_id}")
    assert 'id="viewer"' in page and 'data-fresh-seconds="300"' in page and 'id="reauth"' not in page

    status, body = await fetch_file(client, case_id, "file-001")
    assert status == 200 and body == stored(settings, case_id, "file-001")
    meta, plain = crypto.decrypt(body, KEYS[:1])
    assert plain == VIDEO and meta.type == "video/webm"
    async with client.http.post(
        f"/cases/{case_id}/files/file-000", headers={security.CSRF_HEADER: client.csrf}
    ) as response:
        assert response.headers["Content-Type"] == "application/octet-stream"
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["Content-Security-Policy"] == security.CSP
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert await response.read() == stored(settings, case_id, "file-000")
    assert await console.audit_trail(case_id) == [
        ("child", "case.received", ""),
        ("ana", "file.viewed", "file-001"),
        ("ana", "file.viewed", "file-000"),
    ]
    assert await console.audit.verify() == 3

    # Fresh for the window only (CONSOLE_REAUTH_WINDOW, 5 minutes by default).
    console.clock.advance(settings.console_reauth_window - 1)
    assert (await fetch_file(client, case_id, "file-000"))[0] == 200
    console.clock.advance(1)
    assert (await fetch_file(client, case_id, "file-000"))[0] == 403
    status, page = await client.get(f"/cases/{case_id}")
    assert 'id="reauth"' in page
    assert len(await console.audit_trail(case_id)) == 4


async def test_the_fresh_code_belongs_to_one_session(
    console: Console, svc: Services, make_account: Any, staff_factory: Any, redis: Redis
) -> None:
    case_id, _ = await make_case(svc, redis)
    first, creds = await analyst(make_account, staff_factory)
    console.clock.advance(30)
    await first.post(f"/cases/{case_id}/reauth", {"code": code_now(console, creds)})
    assert (await fetch_file(first, case_id, "file-000"))[0] == 200
    console.clock.advance(30)
    second: StaffClient = staff_factory()
    assert await second.login(creds) == 303  # the same analyst, another browser
    assert (await fetch_file(second, case_id, "file-000"))[0] == 403
    # Signing out ends the session, and the freshness with it.
    await first.post("/logout")
    assert (await fetch_file(first, case_id, "file-000"))[0] == 401


async def test_wrong_codes_end_the_session_not_the_analysts_sign_in(
    console: Console, svc: Services, make_account: Any, staff_factory: Any, redis: Redis
) -> None:
    case_id, _ = await make_case(svc, redis, with_video=False)
    client, creds = await analyst(make_account, staff_factory)
    for _ in range(4):
        assert (await client.redirected(f"/cases/{case_id}/reauth", {"code": "000000"})).endswith(
            "msg=bad_code"
        )
    # The fifth wrong code ends this (perhaps stolen) session: no more guesses with it.
    ended = await client.redirected(f"/cases/{case_id}/reauth", {"code": "000000"})
    assert ended == "/login?why=step_up"
    assert (await fetch_file(client, case_id, "file-000"))[0] == 401
    console.clock.advance(30)
    assert (await client.post(f"/cases/{case_id}/reauth", {"code": code_now(console, creds)}))[0] == 401
    # The analyst signs in again (the account was never locked) and steps up as usual.
    console.clock.advance(30)
    again: StaffClient = staff_factory()
    assert await again.login(creds) == 303
    console.clock.advance(30)
    confirmed = await again.redirected(f"/cases/{case_id}/reauth", {"code": code_now(console, creds)})
    assert confirmed.endswith("msg=confirmed#files")
    assert (await fetch_file(again, case_id, "file-000"))[0] == 200


async def test_every_state_change_needs_the_csrf_token(
    console: Console, svc: Services, make_account: Any, staff_factory: Any, redis: Redis
) -> None:
    case_id, _ = await make_case(svc, redis)
    client, creds = await analyst(make_account, staff_factory)
    console.clock.advance(30)
    posts: list[tuple[str, dict[str, str]]] = [
        (f"/cases/{case_id}/reauth", {"code": code_now(console, creds)}),
        (f"/cases/{case_id}/actions", {"action": "closed"}),
        (f"/cases/{case_id}/files/file-000", {}),
        (f"/cases/{case_id}/files/file-000/revealed", {}),
        ("/cases/export", {"format": "csv"}),
    ]
    for path, form in posts:
        assert (await client.post(path, form, csrf=False))[0] == 403, path
        assert (await client.post(path, {**form, "csrf": "forged"}, csrf=False))[0] == 403, path
        status, _ = await client.post(path, form, headers={"Origin": "https://evil.example"})
        assert status == 403, path
    assert (await svc.cases.get(case_id)).status is CaseStatus.RECEIVED
    assert await console.audit_trail(case_id) == [("child", "case.received", "")]
    # The refused reauth did not spend the code either: it still confirms.
    status, _ = await client.post(f"/cases/{case_id}/reauth", {"code": code_now(console, creds)})
    assert (await fetch_file(client, case_id, "file-000"))[0] == 200


async def test_actions_move_the_status_the_child_sees_and_are_audited(
    console: Console, svc: Services, make_account: Any, staff_factory: Any, redis: Redis
) -> None:
    case_id, code = await make_case(svc, redis)
    client, _ = await analyst(make_account, staff_factory)
    assert set(ACTION_LABELS) == set(ACTIONS)  # a button for every action the service knows

    async def act(action: str) -> str:
        return await client.redirected(f"/cases/{case_id}/actions", {"action": action})

    assert await act("reviewed") == f"/cases/{case_id}?msg=recorded"
    assert (await svc.cases.child_status(code)).status is CaseStatus.REVIEWED
    await act("reported_police")
    assert (await svc.cases.child_status(code)).status is CaseStatus.REPORTED
    await act("reviewed")  # never back
    assert (await svc.cases.child_status(code)).status is CaseStatus.REPORTED
    assert await act("deleted_everything") == f"/cases/{case_id}?msg=bad_action"
    await act("closed")
    view = await svc.cases.child_status(code)
    assert view.status is CaseStatus.CLOSED and (await svc.cases.get(case_id)).closed is not None
    assert [a for _, a, _ in await console.audit_trail(case_id)] == [
        "case.received",
        "action.reviewed",
        "action.reported_police",
        "action.reviewed",
        "action.closed",
    ]
    _, page = await client.get(f"/cases/{case_id}?msg=recorded")
    assert 'id="case-status">closed<' in page and "The action is recorded." in page
    assert "action.reported_police" in page


async def test_reveals_are_audited(
    console: Console, svc: Services, make_account: Any, staff_factory: Any, redis: Redis
) -> None:
    case_id, _ = await make_case(svc, redis)
    client, _ = await analyst(make_account, staff_factory)
    async with client.http.post(
        f"/cases/{case_id}/files/file-001/revealed", headers={security.CSRF_HEADER: client.csrf}
    ) as response:
        assert response.status == 200 and (await response.json()) == {"ok": True}
    async with client.http.post(
        f"/cases/{case_id}/files/file-007/revealed", headers={security.CSRF_HEADER: client.csrf}
    ) as response:
        assert response.status == 404
    assert (await console.audit_trail(case_id))[1:] == [("ana", "file.revealed", "file-001")]


async def test_hash_export_as_csv_and_json_is_audited_per_case(
    console: Console, svc: Services, make_account: Any, staff_factory: Any, redis: Redis
) -> None:
    first, _ = await make_case(svc, redis, with_video=False)
    svc.clock.advance(60)
    second, _ = await make_case(svc, redis)
    await svc.cases.record_action("ana", second, "removed")
    client, _ = await analyst(make_account, staff_factory)

    async with client.http.post("/cases/export", data={"csrf": client.csrf, "format": "csv"}) as response:
        assert response.status == 200 and response.content_type == "text/csv"
        assert "attachment" in response.headers["Content-Disposition"]
        rows = list(csv.DictReader(io.StringIO(await response.text())))
    assert sorted((r["case_id"], r["file_id"]) for r in rows) == sorted(
        [(second, "file-000"), (second, "file-001"), (first, "file-000")]
    )
    one = await svc.cases.get(first)
    assert {r["sha256"] for r in rows if r["case_id"] == first} == {one.files[0].sha256}

    async with client.http.post(
        "/cases/export", data={"csrf": client.csrf, "format": "json", "status": "removed"}
    ) as response:
        assert response.content_type == "application/json"
        listed = json.loads(await response.text())
    assert {r["case_id"] for r in listed} == {second} and len(listed) == 2
    assert {"sha256", "md5", "pdq", "pdq_quality", "age_band", "received"} <= set(listed[0])

    async with client.http.post(
        "/cases/export", data={"csrf": client.csrf, "format": "json", "case": first}
    ) as response:
        assert {r["case_id"] for r in json.loads(await response.text())} == {first}
    assert (await client.post("/cases/export", {"format": "xml"}))[0] == 400
    assert (await client.post("/cases/export", {"format": "csv", "case": "0123456789abcdef01234567"}))[
        0
    ] == 404

    assert [a for _, a, _ in await console.audit_trail(first)] == [
        "case.received",
        "hashes.exported.csv",
        "hashes.exported.json",
    ]
    assert [a for _, a, _ in await console.audit_trail(second)] == [
        "case.received",
        "action.removed",
        "hashes.exported.csv",
        "hashes.exported.json",
    ]


async def test_files_deleted_by_retention_cannot_be_opened(
    console: Console, svc: Services, make_account: Any, staff_factory: Any, settings: Settings, redis: Redis
) -> None:
    case_id, _ = await make_case(svc, redis, with_video=False)
    svc.clock.advance(settings.upload_max_age + 1)
    report = await svc.sweeper.sweep()
    assert report.ciphertext_deleted == 1
    client, creds = await analyst(make_account, staff_factory)
    console.clock.advance(30)
    await client.post(f"/cases/{case_id}/reauth", {"code": code_now(console, creds)})
    status, body = await fetch_file(client, case_id, "file-000")
    assert status == 404 and "deleted" in json.loads(body)["detail"]
    status, page = await client.get(f"/cases/{case_id}")
    assert 'id="deleted"' in page and "view-file" not in page


async def test_the_viewer_code_is_served_same_origin(console: Console, staff_factory: Any) -> None:
    anyone: StaffClient = staff_factory()
    for name in ("viewer.js", "crypto.js"):
        async with anyone.http.get(f"/upload/{name}") as response:
            assert response.status == 200 and response.content_type == "text/javascript"
            assert "export" in await response.text()
    async with anyone.http.get("/upload/upload.js") as response:
        assert response.status == 404  # the child's upload client has no business here
    async with anyone.http.get("/static/case.js") as response:
        assert response.status == 200 and "showCaseFile" in await response.text()


def test_the_reauth_window_is_a_setting() -> None:
    assert Settings.from_env({"CONSOLE_REAUTH_WINDOW": "2m"}).console_reauth_window == 120
    assert Settings.from_env({}).console_reauth_window == 300
    assert timedelta(seconds=Settings().console_reauth_window) == timedelta(minutes=5)
