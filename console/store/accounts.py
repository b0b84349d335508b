"""Staff accounts and staff sessions in Redis; the only code knowing their layout."""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis

from console.store import keys
from console.store.sealing import SealError, SecretBox, is_sealed

_CREATE_ACCOUNT = """
-- KEYS: account, accounts ; ARGV: role, pw_hash, totp_secret, display, capacity, now_ms, ttl, setup
-- setup 'new': the password is a one-time one and no authenticator is enrolled (the first sign-in does both).
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'role', ARGV[1], 'pw', ARGV[2], 'totp', ARGV[3], 'display', ARGV[4],
  'capacity', ARGV[5], 'created', ARGV[6], 'totp_step', '0', 'setup', ARGV[8])
redis.call('EXPIRE', KEYS[1], ARGV[7])
redis.call('SADD', KEYS[2], string.match(KEYS[1], ':acct:(.*)$'))
redis.call('EXPIRE', KEYS[2], ARGV[7])
return 1
"""

_USE_TOTP_STEP = """
-- A TOTP code is good once: a step at or before the last one used is a replay (shoulder-surfed code).
-- KEYS: account ; ARGV: step, ttl
local last = tonumber(redis.call('HGET', KEYS[1], 'totp_step') or '0')
if tonumber(ARGV[1]) <= last then return 0 end
redis.call('HSET', KEYS[1], 'totp_step', ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
return 1
"""

_RESEAL = """
-- KEYS: account ; ARGV: expected, sealed. Replaces a plaintext TOTP secret only if it is still that one.
if redis.call('HGET', KEYS[1], 'totp') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'totp', ARGV[2])
return 1
"""

_ADMIN = """
-- An administrator's change to an account, and the end of all its sessions, in one step: a login that
-- races a disable either finishes first (and its session is ended here) or is refused by _START.
-- KEYS: account, accounts, user_sessions
-- ARGV: action (disable/enable/reset/remove), name, session key format, pw_hash, totp (reset only)
-- Returns the number of sessions ended, or -1 when there is no such account.
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local ended = 0
if ARGV[1] ~= 'enable' then
  for _, hashed in ipairs(redis.call('SMEMBERS', KEYS[3])) do
    ended = ended + redis.call('DEL', string.format(ARGV[3], hashed))
  end
  redis.call('DEL', KEYS[3])
end
if ARGV[1] == 'disable' then
  redis.call('HSET', KEYS[1], 'disabled', '1')
elseif ARGV[1] == 'enable' then
  redis.call('HDEL', KEYS[1], 'disabled')
elseif ARGV[1] == 'reset' then
  redis.call('HSET', KEYS[1], 'pw', ARGV[4], 'totp', ARGV[5], 'totp_step', '0', 'setup', 'new')
elseif ARGV[1] == 'remove' then
  redis.call('DEL', KEYS[1])
  redis.call('SREM', KEYS[2], ARGV[2])
end
return ended
"""

_START_SESSION = """
-- KEYS: session, user_sessions, account
-- ARGV: token_hash, account, role, csrf, created, seen, idle_s, lifetime_s, language, stage
-- Refused (0) when the account is gone or disabled, checked in the same step as the session is made.
if redis.call('EXISTS', KEYS[3]) == 0 or redis.call('HGET', KEYS[3], 'disabled') == '1' then return 0 end
redis.call('HSET', KEYS[1], 'account', ARGV[2], 'role', ARGV[3], 'csrf', ARGV[4], 'created', ARGV[5], 'seen', ARGV[6],
  'lang', ARGV[9], 'stage', ARGV[10])
redis.call('EXPIRE', KEYS[1], ARGV[7])
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('EXPIRE', KEYS[2], ARGV[8])
return 1
"""

_USE_ONE_TIME = """
-- The one-time password works once: the first sign-in with it moves the account from 'new' to 'used'
-- in the step that checks it, so a second sign-in with the same password (even at once) is refused.
-- KEYS: account
if redis.call('HGET', KEYS[1], 'setup') ~= 'new' then return 0 end
redis.call('HSET', KEYS[1], 'setup', 'used')
return 1
"""

_SETUP_STEP = """
-- A step of the first sign-in, only while the account is in it ('used'): the own password, then the end.
-- KEYS: account ; ARGV: what ('password' or 'done'), pw_hash
if redis.call('HGET', KEYS[1], 'setup') ~= 'used' then return 0 end
if ARGV[1] == 'password' then redis.call('HSET', KEYS[1], 'pw', ARGV[2]) end
if ARGV[1] == 'done' then redis.call('HDEL', KEYS[1], 'setup') end
return 1
"""

_SET_STAGE = """
-- KEYS: session ; ARGV: stage. Only an existing session (a write to an expired one would outlive its TTL).
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'stage', ARGV[1])
return 1
"""

_SET_LANGUAGE = """
-- The language a member of staff chose, on the account and on each of its open sessions at once.
-- Only keys that exist are written: a write to an expired key would make one without a TTL.
-- KEYS: account, user_sessions ; ARGV: language, session key format
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'lang', ARGV[1])
for _, hashed in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  local session = string.format(ARGV[2], hashed)
  if redis.call('EXISTS', session) == 1 then redis.call('HSET', session, 'lang', ARGV[1]) end
end
return 1
"""


@dataclass(frozen=True)
class AccountRecord:
    name: str
    role: str
    password_hash: str
    totp_secret: str
    """The base32 secret, in memory only: Redis holds it sealed with the console's key."""
    display: str
    capacity: int
    totp_plaintext_at_rest: bool = False
    """Stored before secrets were sealed (a legacy record): sealed at start-up or at the next login."""
    disabled: bool = False
    language: str = ""
    """The console language the member of staff chose; empty for the default."""
    setup: str = ""
    """'new': the one-time password is unused; 'used': the first sign-in is under way; '': set up."""


@dataclass(frozen=True)
class SessionRecord:
    account: str
    role: str
    csrf: str
    created_ms: int
    seen_ms: int
    language: str = ""
    stage: str = ""
    """The step of the first sign-in this session is at ('password', 'authenticator'), '' when done."""


def _context(name: str) -> str:
    # The account name is the associated data: a sealed secret opens only as the secret of its account.
    return f"totp:{name}"


class AccountStore:
    def __init__(self, redis: Redis, box: SecretBox) -> None:
        self._redis = redis
        self._box = box
        self._reseal = redis.register_script(_RESEAL)
        self._admin = redis.register_script(_ADMIN)
        self._create = redis.register_script(_CREATE_ACCOUNT)
        self._use_step = redis.register_script(_USE_TOTP_STEP)
        self._set_language = redis.register_script(_SET_LANGUAGE)
        self._use_one_time = redis.register_script(_USE_ONE_TIME)
        self._setup_step = redis.register_script(_SETUP_STEP)

    async def create(self, record: AccountRecord, *, now_ms: int, setup: str = "new") -> bool:
        """False when the name is taken (nothing is changed then)."""
        created = await self._create(
            keys=[keys.account(record.name), keys.ACCOUNTS],
            args=[
                record.role,
                record.password_hash,
                self._box.seal(record.totp_secret, context=_context(record.name)),
                record.display,
                record.capacity,
                now_ms,
                keys.ACCOUNT_RETENTION,
                setup,
            ],
        )
        return bool(created)

    async def get(self, name: str) -> AccountRecord | None:
        """The account with its TOTP secret opened; SealError if the console's key cannot open it."""
        raw = {_text(k): _text(v) for k, v in (await self._redis.hgetall(keys.account(name))).items()}
        if "role" not in raw:
            return None
        stored = raw["totp"]
        legacy = not is_sealed(stored)
        secret = stored if legacy else self._box.open(stored, context=_context(name))
        return AccountRecord(
            name,
            raw["role"],
            raw["pw"],
            secret,
            raw.get("display", name),
            int(raw.get("capacity", "2")),
            legacy,
            raw.get("disabled") == "1",
            raw.get("lang", ""),
            raw.get("setup", ""),
        )

    async def use_one_time_password(self, name: str) -> bool:
        return bool(await self._use_one_time(keys=[keys.account(name)]))

    async def setup_step(self, name: str, what: str, password_hash: str = "") -> bool:
        return bool(await self._setup_step(keys=[keys.account(name)], args=[what, password_hash]))

    async def administer(
        self, name: str, action: str, *, password_hash: str = "", totp_secret: str = ""
    ) -> int:
        """disable, enable, reset (new password hash and TOTP secret) or remove an account; every action
        but enable ends all its sessions. Returns how many sessions ended, -1 for an unknown account."""
        sealed = self._box.seal(totp_secret, context=_context(name)) if totp_secret else ""
        ended = await self._admin(
            keys=[
                keys.account(name),
                keys.ACCOUNTS,
                keys.user_sessions(name),
            ],
            args=[action, name, keys.session("%s"), password_hash, sealed],
        )
        if int(ended) >= 0 and action != "enable":
            # Live sockets of the account, in every console process, are dropped on this signal.
            await self._redis.publish(keys.REVOKED, name)
        return int(ended)

    async def reseal(self, name: str, plaintext: str) -> bool:
        """Seal a legacy plaintext TOTP secret in place (unless it changed meanwhile)."""
        sealed = self._box.seal(plaintext, context=_context(name))
        return bool(await self._reseal(keys=[keys.account(name)], args=[plaintext, sealed]))

    async def seal_all(self) -> tuple[list[str], int]:
        """Every account's secret with this key: (names it cannot open, legacy secrets it sealed now)."""
        unreadable, sealed = [], 0
        for name in await self.names():
            stored = _text(await self._redis.hget(keys.account(name), "totp"))  # type: ignore[misc]
            if not stored:
                continue
            if not is_sealed(stored):
                sealed += int(await self.reseal(name, stored))
                continue
            try:
                self._box.open(stored, context=_context(name))
            except SealError:
                unreadable.append(name)
        return unreadable, sealed

    async def names(self) -> list[str]:
        members = await self._redis.smembers(keys.ACCOUNTS)  # type: ignore[misc]
        found = sorted(_text(m) for m in members)
        return [n for n in found if await self._redis.exists(keys.account(n))]

    async def update(self, name: str, **fields: str | int) -> None:
        await self._redis.hset(keys.account(name), mapping=dict(fields))  # type: ignore[misc,arg-type]

    async def set_language(self, name: str, language: str) -> bool:
        """The account's language, and its open sessions'; False when there is no such account."""
        done = await self._set_language(
            keys=[keys.account(name), keys.user_sessions(name)], args=[language, keys.session("%s")]
        )
        return bool(done)

    async def use_totp_step(self, name: str, step: int) -> bool:
        return bool(await self._use_step(keys=[keys.account(name)], args=[step, keys.ACCOUNT_RETENTION]))

    async def touch(self, name: str) -> None:
        """A login keeps an account alive for another retention period."""
        await self._redis.expire(keys.account(name), keys.ACCOUNT_RETENTION)
        await self._redis.expire(keys.ACCOUNTS, keys.ACCOUNT_RETENTION)


class SessionStore:
    """Server-side staff sessions: Redis holds only the token's hash; the TTL is the idle timeout."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._start = redis.register_script(_START_SESSION)
        self._set_stage = redis.register_script(_SET_STAGE)

    async def create(self, token_hash: str, record: SessionRecord, *, idle_s: int, lifetime_s: int) -> bool:
        """False (and nothing stored) when the account is gone or disabled."""
        started = await self._start(
            keys=[
                keys.session(token_hash),
                keys.user_sessions(record.account),
                keys.account(record.account),
            ],
            args=[
                token_hash,
                record.account,
                record.role,
                record.csrf,
                record.created_ms,
                record.seen_ms,
                idle_s,
                lifetime_s,
                record.language,
                record.stage,
            ],
        )
        return bool(started)

    async def get(self, token_hash: str) -> SessionRecord | None:
        raw = {_text(k): _text(v) for k, v in (await self._redis.hgetall(keys.session(token_hash))).items()}
        if "account" not in raw:
            return None
        return SessionRecord(
            raw["account"],
            raw["role"],
            raw["csrf"],
            int(raw["created"]),
            int(raw["seen"]),
            raw.get("lang", ""),
            raw.get("stage", ""),
        )

    async def set_stage(self, token_hash: str, stage: str) -> bool:
        return bool(await self._set_stage(keys=[keys.session(token_hash)], args=[stage]))

    async def touch(self, token_hash: str, *, seen_ms: int, idle_s: int) -> None:
        key = keys.session(token_hash)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, "seen", seen_ms)
            pipe.expire(key, idle_s)
            await pipe.execute()

    async def delete(self, token_hash: str) -> None:
        await self._redis.delete(keys.session(token_hash))


def _text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode()
    return "" if value is None else str(value)
