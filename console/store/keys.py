"""Every Redis key the console writes, in one place; each one has a TTL (see docs/console-api.md)."""

from __future__ import annotations

from chatbot.store import keys as chatbot_keys
from chatbot.store.keys import CHAT, PREFIX, tagged

# Accounts, sessions and sign-in counters are their own hash-slot group (see chatbot/store/keys.py); a
# counsellor's shift, connections and chats are moved with the queue by the chat's scripts, so they are
# in the chat's group.
STAFF = f"{tagged('staff')}:staff"
SHIFTS = f"{CHAT}:staff"

# Accounts that nobody logs into for a year expire: an old account is a door nobody watches.
ACCOUNT_RETENTION = 365 * 86400
# Failed-login counters live for this window; the client part is only a keyed hash, never an address.
LOGIN_WINDOW = 15 * 60
# A shift record outlives any real shift; a counsellor who vanished is off shift by the next morning.
SHIFT_RETENTION = 16 * 3600

ACCOUNTS = f"{STAFF}:accounts"
"""Set of account names (for `user list` and the supervisor overview); same TTL as the newest account."""


def account(name: str) -> str:
    return f"{STAFF}:acct:{name}"


def session(token_hash: str) -> str:
    return f"{STAFF}:sess:{token_hash}"


def reauth(session_hash: str) -> str:
    """When this session last re-entered a TOTP code to open case files (ms); lives the re-auth window."""
    return f"{STAFF}:reauth:{session_hash}"


def user_sessions(name: str) -> str:
    """Set of the session hashes of one account, so they can all be ended at once (disable, reset, remove)."""
    return f"{STAFF}:usersess:{name}"


REVOKED = f"{PREFIX}:staff:revoked"
"""Channel: an account name whose sessions were just ended; every console drops that account's sockets."""


LOGIN_FAILURES = f"{STAFF}:loginfail:"
"""Prefix of the failed-sign-in counters (hashes: `n` failures, `until` ms, the end of the window). The rest
of the key is the counter's member (as listed in BLOCKED_CLIENTS / BLOCKED_NAMES): `client:{hmac}`, `pair:{subject}:{hmac}` or
`name:{subject}`, where the subject is the account name, or `~{hmac}` for a name no account has (it could
be a password typed into the wrong field). Clients are only ever a keyed hash, never an address."""

BLOCKED_CLIENTS = f"{STAFF}:loginblocks:clients"
"""Sorted set of the `client:` and `pair:` counters at their limit, scored by the end of their window (ms):
the supervisors' list of sign-in blocks reads it, so nothing scans the keyspace."""

BLOCKED_NAMES = f"{STAFF}:loginblocks:names"
"""The same for `name:` counters over the ceiling (slowed names), apart so a flood of blocked clients
never hides them from the list."""


def login_failures(member: str) -> str:
    return LOGIN_FAILURES + member


def step_up_failures(session_hash: str) -> str:
    """Wrong step-up codes of one staff session (same shape as the login counters; not in the index)."""
    return f"{STAFF}:stepupfail:{session_hash}"


def shift(name: str) -> str:
    """Hash: status (available/away), capacity, display name, and while no console of theirs is
    connected, `disconnected` (ms) and `grace_until` (ms: when their chats go back to the queue)."""
    return f"{SHIFTS}:shift:{name}"


ON_SHIFT = f"{SHIFTS}:onshift"
"""Set of counsellor names with a shift record (available or away)."""


def connections(name: str) -> str:
    """Sorted set of a counsellor's live console sockets (process:sid), scored by when each goes stale (ms).

    Kept fresh by every console process's heartbeat, so a process that crashes leaves members that go
    stale on their own, and any other process sees the counsellor as gone (see `HandoffStore.sweep`).
    """
    return f"{SHIFTS}:conns:{name}"


def assigned(name: str) -> str:
    """Set of conversation ids a counsellor has now."""
    return f"{SHIFTS}:assigned:{name}"


def to_categorise(name: str) -> str:
    """Set of conversation ids whose child left while this counsellor had the chat, waiting for her
    categorisation (the queue page lists them); an id goes when she categorises; TTL the retention."""
    return f"{SHIFTS}:tocategorise:{name}"


def stats_day(day: str) -> str:
    """Hash of counters for one day (YYYY-MM-DD, Stockholm): aggregates only, never a conversation id.
    The gateway counts `contacts` into it too, so the key is defined on the chatbot side."""
    return chatbot_keys.stats_day(day)


def stats_waits(day: str) -> str:
    """Sorted set of wait times (ms) of one day's hand-offs, members random: for percentiles only."""
    return f"{CHAT}:stats:waits:{day}"


# The editors' drafts (console/store/drafts.py): each lives DRAFT_RETENTION after its last change, and the
# index of drafts as long as its newest member. Published content versions are chatbot's (sc:{content}:cv:*).
DRAFT_RETENTION = 90 * 86400
DRAFTS = f"{tagged('content')}:content:drafts"


# Drafts scheduled to publish or to revert, scored by when they are next due (ms); lives as the drafts do.
SCHEDULES = f"{tagged('content')}:content:schedules"


def draft(draft_id: str) -> str:
    return f"{tagged('content')}:content:draft:{draft_id}"


# Overrules of the guideline gate (console/store/overrules.py): a hash of id → JSON (a sentence from a draft,
# the rule, the label a person gave it, the reason, a staff account name; never a child's words). It lives
# OVERRULE_RETENTION after the newest overrule: long enough for a developer to run `python -m console
# content-overrules`, which writes them into content/guidelines/bank/overrules.yml, where git keeps them.
OVERRULE_RETENTION = 365 * 86400
OVERRULES = f"{tagged('content')}:content:overrules"
