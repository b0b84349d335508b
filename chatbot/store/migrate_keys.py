"""Renames the keys of an installation from before the hash tags (`sc:conv:{id}`) to their tagged names.

Redis Cluster needs every key a script touches in one hash slot, so since the cluster work every key
carries its group's tag (`sc:{chat}:conv:<id>`, chatbot/store/keys.py). An installation that ran before
keeps its data by this one-off step on its single Redis (or Sentinel primary), with every gateway and
console stopped: RENAME keeps each key's value and TTL. It is idempotent (a second run finds nothing),
and reports instead of overwriting when a new name is already taken.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from redis.asyncio import Redis

from chatbot.store import keys

# The old helpers put the id in braces (`sc:conv:{id}`); the braces go, the tag in front decides the slot.
_BRACED = re.compile(
    r"^(conv|log|dedupe|rate|upload|uplock|case|caseact|audit:case|client):\{([^{}]*)\}(.*)$"
)
# A counsellor's shift, connections and chats are moved with the queue: the chat's group.
_SHIFT_PARTS = ("available", "shift", "onshift", "conns", "assigned", "tocategorise")


def group_of(rest: str) -> str:
    """The group of an old key by what follows `sc:` (the same groups as chatbot/store/keys.py)."""
    first, _, after = rest.partition(":")
    if first in ("cv", "content"):
        return "content"
    if first == "tr":
        return "tr"
    if first == "audit":
        return "audit"
    if first in ("flood", "client", "block"):
        return "flood"
    if first == "staff" and after.partition(":")[0] not in _SHIFT_PARTS:
        return "staff"
    return "chat"


def renamed(old: str) -> str | None:
    """The tagged name of an old key, or None when it is not an old key (already tagged, or not ours)."""
    start = keys.PREFIX + ":"
    if not old.startswith(start) or old.startswith(start + "{"):
        return None
    rest = old[len(start) :]
    braced = _BRACED.match(rest)
    if braced:
        rest = f"{braced.group(1)}:{braced.group(2)}{braced.group(3)}"
    return f"{keys.tagged(group_of(rest))}:{rest}"


@dataclass
class Migration:
    renamed: int = 0
    return_codes: int = 0
    conflicts: list[str] = field(default_factory=list)


async def migrate(redis: Redis, *, dry_run: bool = False) -> Migration:
    """Rename every old key (see the module docstring); `dry_run` only counts."""
    done = Migration()
    old_keys = [k.decode() async for k in redis.scan_iter(match=keys.PREFIX + ":*", count=1000)]
    for old in old_keys:
        new = renamed(old)
        if new is None:
            continue
        if await redis.exists(new):
            done.conflicts.append(old)
            continue
        # RENAMENX: a process started too early cannot lose what it wrote under the new name.
        if not dry_run and not await redis.renamenx(old, new):
            done.conflicts.append(old)
            continue
        done.renamed += 1
    # A held conversation names its return code's key in its hash (`return_key`): that name changes too.
    conv_prefix = keys.conversation("")
    async for key in redis.scan_iter(match=conv_prefix + "*", count=1000):
        stored = await redis.hget(key, "return_key")  # type: ignore[misc]
        new = renamed(stored.decode() if isinstance(stored, bytes) else str(stored)) if stored else None
        if new is not None:
            if not dry_run:
                await redis.hset(key, "return_key", new)  # type: ignore[misc]
            done.return_codes += 1
    return done
