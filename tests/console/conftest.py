"""Console fixtures: the real console app on loopback with an injected clock, and signed-in staff clients."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from redis.asyncio import Redis
from yarl import URL

from chatbot.clock import FixedClock
from chatbot.redis_server import free_port
from chatbot.settings import Settings
from chatbot.store.audit import AuditLog
from console.app import create_app
from console.appkeys import ACCOUNTS, AUDIT
from console.domain.accounts import AccountService, NewAccount
from console.store import keys as staff_keys
from tests.browser import Tabs
from tests.conftest import START as START  # the shared test clock's start
from tests.conftest import connect


class Console:
    """The real console app on a loopback port."""

    def __init__(self, settings: Settings, clock: FixedClock) -> None:
        self.settings = settings
        self.clock = clock
        self.port = free_port()
        self.runner: web.AppRunner | None = None
        self.app: web.Application | None = None
        self.pauses: list[float] = []
        """Every delay the sign-in throttle asked for, in order; recorded, not waited (no real sleeps)."""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def accounts(self) -> AccountService:
        assert self.app is not None
        return self.app[ACCOUNTS]

    @property
    def audit(self) -> AuditLog:
        assert self.app is not None
        return self.app[AUDIT]

    async def audit_trail(self, case_id: str) -> list[tuple[str, str, str]]:
        """(actor, action, file) of each of a case's audit entries, oldest first."""
        return [(e.actor, e.action, e.file_id) for e in await self.audit.entries(case_id=case_id)]

    async def start(self) -> None:
        self.app = create_app(
            self.settings, redis=connect(self.settings), clock=self.clock, pause=self._pause
        )
        self.runner = web.AppRunner(self.app, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    async def _pause(self, seconds: float) -> None:
        self.pauses.append(seconds)

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None


@dataclass
class Credentials:
    account: NewAccount
    secret: str

    @property
    def name(self) -> str:
        return self.account.name


class StaffClient:
    """A browser-like HTTP client: keeps cookies (Secure ones too, on loopback) and the page's CSRF token."""

    def __init__(self, console: Console, headers: dict[str, str] | None = None) -> None:
        self.console = console
        jar = aiohttp.CookieJar(unsafe=True, treat_as_secure_origin=[URL(console.url)])
        self.http = aiohttp.ClientSession(base_url=console.url, cookie_jar=jar, headers=headers)
        self.csrf = ""

    async def get(self, path: str, **kwargs: Any) -> tuple[int, str]:
        async with self.http.get(path, allow_redirects=False, **kwargs) as response:
            text = await response.text()
            found = re.search(r'<meta name="csrf-token" content="([^"]*)"', text)
            if found and found.group(1):
                self.csrf = found.group(1)
            return response.status, text

    async def post(
        self, path: str, data: dict[str, Any] | None = None, *, csrf: bool = True, **kw: Any
    ) -> tuple[int, str]:
        form = dict(data or {})
        if csrf:
            form.setdefault("csrf", self.csrf)
        async with self.http.post(path, data=form, allow_redirects=False, **kw) as response:
            return response.status, await response.text()

    async def redirected(self, path: str, data: dict[str, Any]) -> str:
        """POST a form with the CSRF token; the answer must be a 303, and this is where it sends the page."""
        async with self.http.post(path, data={"csrf": self.csrf, **data}, allow_redirects=False) as response:
            assert response.status == 303
            return response.headers["Location"]

    async def login(self, creds: Credentials, *, code: str | None = None, password: str | None = None) -> int:
        async with self.http.get("/login") as response:
            page = await response.text()
        token = re.search(r'id="login-csrf" name="csrf" value="([^"]+)"', page)
        assert token
        moment = int(self.console.clock.now().timestamp())
        form = {
            "csrf": token.group(1),
            "name": creds.name,
            "password": password if password is not None else creds.account.password,
            "code": code if code is not None else self.console.accounts.code_at(creds.secret, moment),
        }
        async with self.http.post("/login", data=form, allow_redirects=False) as response:
            status = response.status
        if status == 303:
            await self.get("/")
            for path in ("/queue", "/stats"):
                status_page, _ = await self.get(path)
                if status_page == 200:
                    break
        return status

    def cookie(self, name: str) -> str | None:
        for cookie in self.http.cookie_jar:
            if cookie.key == name:
                return cookie.value
        return None

    async def close(self) -> None:
        await self.http.close()


@pytest.fixture
async def console_factory(redis: Redis) -> AsyncIterator[Any]:
    started: list[Console] = []

    async def make(settings: Settings, clock: FixedClock) -> Console:
        made = Console(settings, clock)
        await made.start()
        started.append(made)
        return made

    yield make
    for made in started:
        await made.stop()


@pytest.fixture
async def console(console_factory: Any, settings: Settings, clock: FixedClock) -> Console:
    made: Console = await console_factory(settings, clock)
    return made


async def finish_first_sign_in(redis: Redis, name: str) -> None:
    """Skip the first sign-in (test_first_sign_in.py walks it): the account as it is after it, with the
    created password as its own and the created TOTP secret enrolled, so tests can sign in at once."""
    await redis.hdel(staff_keys.account(name), "setup")  # type: ignore[misc]


@pytest.fixture
async def make_account(console: Console, redis: Redis) -> Any:
    async def make(name: str, role: str, *, language: str = "en", **kw: Any) -> Credentials:
        """An account as a member of staff has it after the first sign-in. The tests written before the
        console spoke Swedish choose English, as a member of staff can; Swedish tests pass language="sv"."""
        account = await console.accounts.create(name, role, **kw)
        await finish_first_sign_in(redis, name)
        secret = account.totp_uri.split("secret=")[1].split("&")[0]
        await console.accounts.set_language(name, language)
        return Credentials(account, secret)

    return make


@pytest.fixture
async def staff_factory(console: Console) -> AsyncIterator[Any]:
    made: list[StaffClient] = []

    def make() -> StaffClient:
        client = StaffClient(console)
        made.append(client)
        return client

    yield make
    for client in made:
        await client.close()


# Real-looking values for route parameters in the authorisation sweep.
ROOT_URLS: dict[str, str] = {
    "/conversations/{conv_id}": "/conversations/0123456789abcdef01234567",
    "/conversations/{conv_id}/{action}": "/conversations/0123456789abcdef01234567/claim",
    "/conversations/{conv_id}/done": "/conversations/0123456789abcdef01234567/done",
    "/cases/{case_id}": "/cases/0123456789abcdef01234567",
    "/cases/{case_id}/reauth": "/cases/0123456789abcdef01234567/reauth",
    "/cases/{case_id}/actions": "/cases/0123456789abcdef01234567/actions",
    "/cases/{case_id}/files/{file_id}": "/cases/0123456789abcdef01234567/files/file-000",
    "/cases/{case_id}/files/{file_id}/revealed": "/cases/0123456789abcdef01234567/files/file-000/revealed",
    "/content/drafts/{draft_id}": "/content/drafts/0123456789abcdef",
    "/content/drafts/{draft_id}/check": "/content/drafts/0123456789abcdef/check",
    "/content/drafts/{draft_id}/{action}": "/content/drafts/0123456789abcdef/save",
    "/content/drafts/{draft_id}/overrule": "/content/drafts/0123456789abcdef/overrule",
    "/content/history/{number}/rollback": "/content/history/1/rollback",
    "/translate/{locale}": "/translate/en",
    "/translate/{locale}/switch": "/translate/en/switch",
    "/translate/{locale}/serving": "/translate/en/serving",
    "/translate/{locale}/answers/{answer}": "/translate/en/answers/thanks",
    "/translate/{locale}/strings/{domain}": "/translate/en/strings/widget",
    "/translate/{locale}/save": "/translate/en/save",
    "/translate/{locale}/check": "/translate/en/check",
    "/translate/{locale}/review": "/translate/en/review",
    "/translate/{locale}/glossary": "/translate/en/glossary",
    "/translate/{locale}/exchange": "/translate/en/exchange",
    "/translate/{locale}/export/{domain}.po": "/translate/en/export/content.po",
    "/translate/{locale}/import": "/translate/en/import",
    "/content/drafts/{draft_id}/preview": "/content/drafts/0123456789abcdef/preview",
    "/content/drafts/{draft_id}/preview/chat": "/content/drafts/0123456789abcdef/preview/chat",
    "/translate/{locale}/answers/{answer}/preview": "/translate/en/answers/thanks/preview",
    "/translate/{locale}/answers/{answer}/preview/chat": "/translate/en/answers/thanks/preview/chat",
    "/preview/widget/{name}": "/preview/widget/main.js",
}


DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
async def tabs(browser: Any) -> AsyncIterator[Tabs]:
    """Staff pages in Chromium at desktop size, in Swedish. axe is injected by the tests only, so these
    contexts bypass the console's CSP (see test_widget_a11y); the machine's zone is not Stockholm's (UTC
    here): times on the pages must not follow it."""
    opened = Tabs(browser, viewport=DESKTOP, locale="sv-SE", bypass_csp=True, timezone_id="UTC")
    yield opened
    await opened.close()
