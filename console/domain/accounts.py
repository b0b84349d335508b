"""Staff accounts and sessions: argon2id passwords, a mandatory TOTP second factor, rate-limited logins.

Threats named here: password guessing (failure limits per client and name, and per client, checked before
any hashing: `console.domain.throttle`, which also keeps a stranger from locking staff out), stolen Redis dumps (only argon2id hashes and token hashes are stored, TOTP secrets only sealed
with the console key: `console/store/sealing.py`), replayed TOTP codes (a
time step is accepted once), session fixation (a fresh token at every login) and forgotten open
sessions (idle and absolute timeouts, both checked against the injected clock).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import re
import secrets
from dataclasses import dataclass, replace
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.hazmat.primitives.hashes import SHA1
from cryptography.hazmat.primitives.twofactor import InvalidToken
from cryptography.hazmat.primitives.twofactor.totp import TOTP

from chatbot.clock import Clock
from chatbot.model import to_ms
from chatbot.settings import SettingsError
from console.domain.passwords import Weakness, WeakPassword, check_new_password
from console.domain.throttle import Locked, SignInThrottle
from console.store.accounts import AccountRecord, AccountStore, SessionRecord, SessionStore
from console.store.sealing import SealError

log = logging.getLogger(__name__)

ISSUER = "Stodchat console"
TOTP_STEP = 30
TOTP_DIGITS = 6
# Codes one step either side are accepted: phones' clocks drift, and a code typed at :29 arrives at :31.
TOTP_WINDOW = 1
# The steps of a first sign-in (after `user add` or `user reset`): an own password, then the authenticator.
SETUP_PASSWORD = "password"  # noqa: S105 (the name of a step, not a password)
SETUP_AUTHENTICATOR = "authenticator"
_NAME = re.compile(r"^[a-z][a-z0-9_.-]{1,31}$")
_CODE = re.compile(r"^\d{6}$")


class Role(StrEnum):
    COUNSELLOR = "counsellor"
    SUPERVISOR = "supervisor"
    EDITOR = "editor"
    TRANSLATOR = "translator"
    ANALYST = "analyst"
    ADMIN = "admin"


class AccountError(ValueError):
    """An account cannot be created as asked; the message says why."""


class LoginRefused(Exception):
    """Wrong name, password or code. One message for all, so a guesser learns nothing."""


class LoginLocked(Exception):
    """Too many failures from this client (for this name, or for all names); try again after the window."""


@dataclass(frozen=True)
class NewAccount:
    name: str
    role: Role
    password: str
    totp_uri: str


@dataclass(frozen=True)
class Staff:
    """Who is behind a request: the account, its role, and the session's CSRF token."""

    name: str
    role: Role
    csrf: str
    token_hash: str
    language: str = ""
    """The console language chosen on the account (empty: the default, Swedish)."""
    stage: str = ""
    """The first sign-in's step this session is at (SETUP_PASSWORD, SETUP_AUTHENTICATOR); '' when done."""


def is_account_name(value: object) -> bool:
    return isinstance(value, str) and bool(_NAME.match(value))


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_password() -> str:
    return secrets.token_urlsafe(18)


def _new_totp_secret() -> str:
    return base64.b32encode(secrets.token_bytes(20)).decode()


def _totp(secret_b32: str) -> TOTP:
    # SHA-1 because authenticator apps implement RFC 6238 with it; HMAC-SHA1 is not weakened by SHA-1 collisions.
    return TOTP(base64.b32decode(secret_b32), TOTP_DIGITS, SHA1(), TOTP_STEP, enforce_key_length=False)  # noqa: S303


class AccountService:
    def __init__(self, store: AccountStore, clock: Clock, throttle: SignInThrottle) -> None:
        self._store = store
        self._clock = clock
        self._throttle = throttle
        self._hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
        # Verified against when the name is unknown, so a missing account costs the same time as a wrong password.
        self._dummy = self._hasher.hash(secrets.token_urlsafe(16))

    async def account(self, name: str) -> AccountRecord | None:
        """One account as stored (its secrets still sealed), or None."""
        return await self._store.get(name)

    async def accounts(self) -> list[AccountRecord]:
        """Every account, by name."""
        found = [await self._store.get(name) for name in sorted(await self._store.names())]
        return [record for record in found if record is not None]

    @property
    def throttle(self) -> SignInThrottle:
        return self._throttle

    async def create(
        self, name: str, role: Role | str, *, display: str | None = None, capacity: int = 2
    ) -> NewAccount:
        if not is_account_name(name):
            raise AccountError("a name is 2-32 characters: a-z first, then a-z 0-9 _ . -")
        try:
            chosen = Role(role)
        except ValueError:
            raise AccountError(f"role must be one of {', '.join(r.value for r in Role)}") from None
        if not 1 <= capacity <= 10:
            raise AccountError("capacity (concurrent chats) must be between 1 and 10")
        password, secret = _new_password(), _new_totp_secret()
        hashed = await asyncio.to_thread(self._hasher.hash, password)
        record = AccountRecord(name, chosen.value, hashed, secret, display or name, capacity)
        if not await self._store.create(record, now_ms=to_ms(self._clock.now())):
            raise AccountError(f"an account named {name!r} exists already")
        uri = _totp(secret).get_provisioning_uri(name, ISSUER)
        log.info("account %s created with role %s", name, chosen.value)
        return NewAccount(name, chosen, password, uri)

    def client_hash(self, client: str) -> str:
        """A keyed hash of the client address, for the failure counters only; the address is never stored."""
        return self._throttle.client_hash(client)

    def shown_name(self, name: str, known: bool) -> str:
        """How a login name appears in the log: a real account's name, or for a name no account has, a
        keyed hash (an unknown name is often a password typed into the wrong field; never in clear)."""
        return name if known else "unknown:" + self._throttle.subject(name, known=False)[1:13]

    async def authenticate(self, name: object, password: object, code: object, client: str) -> AccountRecord:
        """The account when name, password and TOTP code are right; LoginRefused or LoginLocked otherwise.

        LoginLocked concerns this client only (see `console.domain.throttle`): the same name from another
        client is still checked, so a stranger cannot lock a counsellor out of her shift."""
        client_hash = self.client_hash(client)
        if not (is_account_name(name) and isinstance(password, str) and isinstance(code, str)):
            await self._admit(client_hash, None)
            log.info("login failed: malformed form")
            raise LoginRefused
        assert isinstance(name, str)
        record = await self._record(name)
        subject = self._throttle.subject(name, known=record is not None)
        attempt = await self._admit(client_hash, subject)
        ok = await asyncio.to_thread(self._verify, record.password_hash if record else self._dummy, password)
        if record is not None and ok and record.setup:
            return await self._first_sign_in(record, client_hash, subject)
        step = self._totp_step(record.totp_secret, code.strip()) if record and ok else None
        if record is None or not ok or step is None or not await self._store.use_totp_step(name, step):
            log.info(
                "login failed for %s (%d from this client in window)",
                self.shown_name(name, record is not None),
                attempt,
            )
            raise LoginRefused
        if record.disabled:
            # The same answer as a wrong code: whoever holds the password learns nothing from it.
            log.warning("login refused for %s: the account is disabled", name)
            raise LoginRefused
        await self._throttle.succeeded(client_hash, subject)
        await self._store.touch(name)
        if record.totp_plaintext_at_rest:
            await self._store.reseal(name, record.totp_secret)
            log.info("TOTP secret of %s sealed at login", name)
        log.info("login succeeded for %s", name)
        return record

    async def _first_sign_in(self, record: AccountRecord, client_hash: str, subject: str) -> AccountRecord:
        """The one-time password, right: it is spent now (once, even for two sign-ins at the same moment),
        and the session it opens can only set an own password and enrol the authenticator."""
        name = record.name
        if record.disabled or record.setup != "new" or not await self._store.use_one_time_password(name):
            # Spent already: by an unfinished first sign-in, or by someone else. Only `user reset` helps.
            log.warning("login refused for %s: the one-time password was used already", name)
            raise LoginRefused
        await self._throttle.succeeded(client_hash, subject)
        await self._store.touch(name)
        log.info("first sign-in of %s: one-time password used", name)
        return replace(record, setup="used")

    async def set_own_password(self, name: str, password: object, repeated: object) -> None:
        """The first sign-in's own password: checked (console.domain.passwords), never the one-time one."""
        record = await self._record_or_error(name)
        chosen = check_new_password(password, repeated, name=name)
        if await asyncio.to_thread(self._verify, record.password_hash, chosen):
            raise WeakPassword(Weakness.ONE_TIME)
        hashed = await asyncio.to_thread(self._hasher.hash, chosen)
        if not await self._store.setup_step(name, "password", hashed):
            raise AccountError(f"{name} is not in a first sign-in")
        log.info("first sign-in of %s: own password set", name)

    async def enrolment_uri(self, name: str) -> str:
        """The otpauth:// address the authenticator app scans (shown as a QR code the console draws)."""
        record = await self._record_or_error(name)
        return _totp(record.totp_secret).get_provisioning_uri(name, ISSUER)

    async def confirm_enrolment(self, name: str, code: object) -> None:
        """One current code from the newly enrolled app ends the first sign-in; LoginRefused if wrong."""
        record = await self._record_or_error(name)
        step = self._totp_step(record.totp_secret, code.strip()) if isinstance(code, str) else None
        if step is None or not await self._store.use_totp_step(name, step):
            log.info("enrolment code wrong for %s", name)
            raise LoginRefused
        if not await self._store.setup_step(name, "done"):
            raise AccountError(f"{name} is not in a first sign-in")
        log.info("first sign-in of %s: authenticator enrolled", name)

    async def _admit(self, client_hash: str, subject: str | None) -> int:
        try:
            return await self._throttle.admit(client_hash, subject)
        except Locked:
            raise LoginLocked from None

    async def set_language(self, name: str, language: str) -> None:
        """The console language of an account and of its open sessions (the caller checks it is offered)."""
        if not await self._store.set_language(name, language):
            raise AccountError(f"no account named {name!r}")

    async def confirm_code(self, name: str, code: object) -> None:
        """Step-up for a signed-in account: a current TOTP code, never one already used (login's included).

        LoginRefused when it is wrong; the caller (`console.domain.reauth`) counts failures per session,
        never against the account's sign-in."""
        record = await self._record(name)
        step = self._totp_step(record.totp_secret, code.strip()) if record and isinstance(code, str) else None
        if record is None or step is None or not await self._store.use_totp_step(name, step):
            log.info("code confirmation failed for %s", name)
            raise LoginRefused

    # Administration (the `user` commands) ----------------------------------------------------------

    async def disable(self, name: str) -> int:
        """No more logins; every session ends now (and its sockets, in every console). Sessions ended."""
        ended = await self._administer(name, "disable")
        log.info("account %s disabled; %d sessions ended", name, ended)
        return ended

    async def enable(self, name: str) -> None:
        await self._administer(name, "enable")
        log.info("account %s enabled", name)

    async def reset(self, name: str) -> tuple[NewAccount, int]:
        """A new one-time password and TOTP secret; every session ends. The new account data, sessions ended."""
        record = await self._record_or_error(name)
        password, secret = _new_password(), _new_totp_secret()
        hashed = await asyncio.to_thread(self._hasher.hash, password)
        ended = await self._administer(name, "reset", password_hash=hashed, totp_secret=secret)
        # The one they locked themselves out with is gone: let them sign in with the new one at once.
        await self._throttle.forget_account(name)
        log.info("account %s reset (new password and TOTP secret); %d sessions ended", name, ended)
        uri = _totp(secret).get_provisioning_uri(name, ISSUER)
        return NewAccount(name, Role(record.role), password, uri), ended

    async def remove(self, name: str) -> int:
        ended = await self._administer(name, "remove")
        await self._throttle.forget_account(name)
        log.info("account %s removed; %d sessions ended", name, ended)
        return ended

    async def _administer(self, name: str, action: str, **secrets_: str) -> int:
        if not is_account_name(name):
            raise AccountError(f"no account named {name!r}")
        ended = await self._store.administer(name, action, **secrets_)
        if ended < 0:
            raise AccountError(f"no account named {name!r}")
        return ended

    async def _record_or_error(self, name: str) -> AccountRecord:
        record = await self._record(name) if is_account_name(name) else None
        if record is None:
            raise AccountError(f"no account named {name!r}")
        return record

    async def check_key(self) -> None:
        """At start-up: the console's key must open every account's TOTP secret; legacy ones get sealed.

        A wrong key would otherwise show only as logins that fail for everyone; this says why, at once.
        """
        unreadable, sealed = await self._store.seal_all()
        if sealed:
            log.info("%d plaintext TOTP secrets sealed with the console key", sealed)
        if unreadable:
            shown = ", ".join(unreadable[:5]) + (" ..." if len(unreadable) > 5 else "")
            raise SettingsError(
                f"CONSOLE_SECRET_KEY cannot open the TOTP secrets of {len(unreadable)} account(s) ({shown}): "
                "it is not the key they were sealed with. Use that key, or `user reset` the accounts."
            )

    async def _record(self, name: str) -> AccountRecord | None:
        try:
            return await self._store.get(name)
        except SealError:
            # Only a wrong console key or a tampered record gets here; check_key refuses the first at start.
            log.error("the TOTP secret of %s cannot be opened with the console key", name)
            return None

    def _verify(self, hashed: str, password: str) -> bool:
        try:
            return self._hasher.verify(hashed, password)
        except (VerificationError, InvalidHashError):
            return False

    def _totp_step(self, secret: str, code: str) -> int | None:
        if not _CODE.match(code):
            return None
        now = int(self._clock.now().timestamp())
        totp = _totp(secret)
        for offset in range(-TOTP_WINDOW, TOTP_WINDOW + 1):
            moment = now + offset * TOTP_STEP
            try:
                totp.verify(code.encode(), moment)
            except InvalidToken:
                continue
            return moment // TOTP_STEP
        return None

    def code_at(self, secret: str, moment: int) -> str:
        """The code an authenticator app shows at `moment` (for the CLI's self-check and for tests)."""
        return _totp(secret).generate(moment).decode()


class StaffSessions:
    def __init__(self, store: SessionStore, clock: Clock, *, idle_s: int, lifetime_s: int) -> None:
        self._store = store
        self._clock = clock
        self.idle_s = idle_s
        self.lifetime_s = lifetime_s

    async def start(self, account: AccountRecord, *, replacing: str | None = None) -> str:
        """A fresh token for every login (never the one the browser came with: session fixation). A first
        sign-in's session starts at its first step and opens nothing else (console.security)."""
        if replacing:
            await self._store.delete(token_hash(replacing))
        token = secrets.token_urlsafe(32)
        now = to_ms(self._clock.now())
        stage = SETUP_PASSWORD if account.setup else ""
        record = SessionRecord(
            account.name, account.role, secrets.token_urlsafe(32), now, now, account.language, stage
        )
        if not await self._store.create(
            token_hash(token), record, idle_s=self.idle_s, lifetime_s=self.lifetime_s
        ):
            # Disabled or removed between the password check and now: no session.
            raise LoginRefused
        return token

    async def valid(self, token: str) -> bool:
        """Whether a session still holds, without counting as activity (for sockets that only listen)."""
        record = await self._store.get(token_hash(token))
        if record is None:
            return False
        now = to_ms(self._clock.now())
        return now - record.seen_ms <= self.idle_s * 1000 and now - record.created_ms < self.lifetime_s * 1000

    async def resolve(self, token: str | None) -> Staff | None:
        if not token or len(token) > 128:
            return None
        hashed = token_hash(token)
        record = await self._store.get(hashed)
        if record is None:
            return None
        now = to_ms(self._clock.now())
        if now - record.seen_ms > self.idle_s * 1000 or now - record.created_ms >= self.lifetime_s * 1000:
            await self._store.delete(hashed)
            log.info("session of %s expired", record.account)
            return None
        try:
            role = Role(record.role)
        except ValueError:
            return None
        await self._store.touch(hashed, seen_ms=now, idle_s=self.idle_s)
        return Staff(record.account, role, record.csrf, hashed, record.language, record.stage)

    async def advance(self, staff: Staff, stage: str) -> None:
        """The first sign-in moves on ('' when it is done: the session is an ordinary one from now on)."""
        await self._store.set_stage(staff.token_hash, stage)

    async def end(self, staff: Staff) -> None:
        await self._store.delete(staff.token_hash)
