"""Every Redis key the system writes, in one place, so retention can be checked key by key."""

from __future__ import annotations

PREFIX = "sc"

# Redis Cluster: a script, a transaction and a multi-key command may only touch keys of one hash slot, so
# every key carries a hash tag naming its group (`sc:{chat}:conv:<id>`): only the part in braces decides
# the slot. The chat's scripts move one conversation atomically between the queue, the active, away, left
# and out-of-hours sets, a counsellor's assignment and the day's statistics, so all of that is one group,
# on one primary; features no chat script touches are groups of their own, so a cluster spreads them.
# tests/test_cluster_slots.py checks every script call; docs/deployment.md has the migration from the
# untagged names (`python -m chatbot migrate-keys`).
GROUPS = ("chat", "audit", "content", "tr", "flood", "staff")


def tagged(group: str) -> str:
    """The prefix of every key of one group: `sc:{group}`."""
    return f"{PREFIX}:{{{group}}}"


CHAT = tagged("chat")

NO_KEY = f"{CHAT}:none"
"""Passed where a chat script takes an optional key and there is none (a cluster refuses an empty name,
which is in another slot): never written, so a script may delete it without effect."""

# Writes announce themselves on the channel of the side that made them, named for the side that must
# hear them: the gateway's writes (children, bot) on NOTIFY_STAFF, the console's (counsellors) on
# NOTIFY_CHILDREN. Consoles listen to both (a chat may be open on another console process); gateways to
# NOTIFY_CHILDREN and their own process channel (notify_process): a gateway's write is also announced
# there to every *other* gateway process with a socket on the conversation (a child's second tab behind
# the load balancer), never to the writer itself. Each room's cursor turns a late announcement into a no-op.
NOTIFY_CHILDREN = f"{PREFIX}:notify:children"
NOTIFY_STAFF = f"{PREFIX}:notify:staff"
NOTIFY_PROCESS = f"{PREFIX}:notify:gw:"
# Typing indicators are live-only (never stored): "conv_id role 1|0", role child or counsellor.
NOTIFY_TYPING = f"{PREFIX}:notify:typing"
# A child left (any exit path): "conv_id". Only wakes the console; the truth is the LEFT outbox below.
NOTIFY_LEFT = f"{PREFIX}:notify:left"
# The crisis check hit: "conv_id". The console alerts the counsellor who has the chat (the urgent flag in
# the conversation's meta is the durable part; a dropped notification leaves the marker on her page).
NOTIFY_URGENT = f"{PREFIX}:notify:urgent"
# A content version was published: "<number>". Only wakes the processes; the truth is CONTENT_CURRENT.
NOTIFY_CONTENT = f"{PREFIX}:notify:content"

# Published content versions (chatbot/store/content_versions.py). Each lives CONTENT_VERSION_RETENTION
# after it was last current; the current one's keys are refreshed by every process's periodic check.
CONTENT_CURRENT = f"{tagged('content')}:cv:current"
CONTENT_COUNTER = f"{tagged('content')}:cv:counter"
CONTENT_NUMBERS = f"{tagged('content')}:cv:numbers"


def content_snapshot(number: int) -> str:
    return f"{tagged('content')}:cv:snap:{number}"


def content_meta(number: int) -> str:
    return f"{tagged('content')}:cv:meta:{number}"


def session(session_hash: str) -> str:
    return f"{CHAT}:sess:{session_hash}"


def conversation(conv_id: str) -> str:
    return f"{CHAT}:conv:{conv_id}"


def log(conv_id: str) -> str:
    return f"{CHAT}:log:{conv_id}"


def dedupe(conv_id: str) -> str:
    return f"{CHAT}:dedupe:{conv_id}"


def rate(conv_id: str) -> str:
    return f"{CHAT}:rate:{conv_id}"


def listeners(conv_id: str) -> str:
    """Hash: gateway process id -> its sockets on the conversation, so a write is announced to the other
    processes that deliver it and not back to the writer. TTL: the conversation retention, refreshed by
    every join and every write; a process that died stays in it harmlessly until then."""
    return f"{CHAT}:hear:{conv_id}"


def notify_process(process: str) -> str:
    """The channel of one gateway process: `conv_id seq` for entries another gateway process wrote."""
    return NOTIFY_PROCESS + process


def conversation_keys(conv_id: str) -> tuple[str, str, str, str]:
    return conversation(conv_id), log(conv_id), dedupe(conv_id), rate(conv_id)


QUEUE = f"{CHAT}:queue"
"""Sorted set of waiting conversation ids; urgent ones sort before every normal one."""

AWAY = f"{CHAT}:away"
"""Sorted set of conversation ids whose child has no socket open, scored by since when (ms). The console's
sweep ends those away longer than CHILD_GRACE (a closed tab); TTL: the conversation retention."""

ACTIVE = f"{CHAT}:active"
"""Sorted set of conversations not ended, scored by their last activity (ms), written with every entry:
the console's sweep ends those idle for almost the retention (expiry) before Redis forgets them, so the
end is recorded and the console told. TTL: the conversation retention."""

LEFT = f"{CHAT}:left"
"""Sorted set of conversations that ended (any exit path), scored by when (ms), that the console has not
settled yet (load, categorisation, statistics): an outbox, so a dropped notification loses nothing.
The console drains it every tick; TTL: the conversation retention."""

OUT_OF_HOURS = f"{CHAT}:ooh"
"""Sorted set of conversations left for the counsellors while the line was closed (state
`left_for_counsellor`), scored by when they were left (ms), urgent ones shifted before every other (as in
the queue). The console's tick moves them all into the queue in one step when the line opens; TTL: the
conversation retention after the last write."""


def return_code(code_hash: str) -> str:
    """A return code's keyed hash → the conversation it opens (never the code in clear). Its TTL follows
    the conversation's (every write refreshes both); every end of the conversation deletes it."""
    return f"{CHAT}:return:{code_hash}"


COUNSELLORS_AVAILABLE = f"{CHAT}:staff:available"
"""Hash of counsellor id → free chat slots, kept by the console; read here only to estimate waits."""


# Encrypted upload (chatbot/upload): grants, unfinished uploads, cases and the analysts' audit log.
# Tokens and case codes appear only as SHA-256 hashes; retention is in docs/upload-crypto.md.
def upload_grant(token_hash: str) -> str:
    return f"{CHAT}:upgrant:{token_hash}"


def upload(upload_hash: str) -> str:
    return f"{CHAT}:upload:{upload_hash}"


UPLOAD_QUOTA = f"{CHAT}:upquota"
"""Hash of the bytes unfinished uploads reserve on disk: `total`, and `u:<upload hash>` → its bytes."""


def upload_lock(upload_hash: str, index: int) -> str:
    return f"{CHAT}:uplock:{upload_hash}:{index}"


def case(case_id: str) -> str:
    return f"{CHAT}:case:{case_id}"


def case_actions(case_id: str) -> str:
    return f"{CHAT}:caseact:{case_id}"


def case_code(code_hash: str) -> str:
    return f"{CHAT}:casecode:{code_hash}"


CASES = f"{CHAT}:cases"
"""Sorted set of case ids by creation time (ms); the retention sweep removes members with their case."""

AUDIT = f"{tagged('audit')}:audit"
"""Stream of audit entries, hash-chained; trimmed by age by the retention sweep, never edited."""

AUDIT_HEAD = f"{tagged('audit')}:audit:head"
AUDIT_ANCHOR = f"{tagged('audit')}:audit:anchor"
"""Hash of the newest entry, and of the last entry trimmed away (where verification starts)."""


def audit_case(case_id: str) -> str:
    """List of one case's audit entry ids, oldest first; written with each entry, the trim removes an id
    with its entry, and the key expires AUDIT_RETENTION after the case's newest entry."""
    return f"{tagged('audit')}:audit:case:{case_id}"


def content_shown(day: str) -> str:
    """Hash answer id → how often it was shown that Stockholm day (counts only, never who or what was
    written); STATS_RETENTION."""
    return f"{CHAT}:stats:shown:{day}"


def stats_day(day: str) -> str:
    """Hash of one Stockholm day's aggregate counters (YYYY-MM-DD): the gateway counts `contacts` (every
    new conversation), the console everything else. Never a conversation id or any text; STATS_RETENTION."""
    return f"{CHAT}:stats:day:{day}"


HOURS = f"{CHAT}:hours"
"""Hash with the opening hours a supervisor set in the console (weekly, exceptions); overrides settings."""


# Flood limits (chatbot/domain/floods.py). A client is a keyed hash of its address (the key rotates
# daily and never reaches Redis); the address itself is never stored. Each key's TTL is in floods.
def client_of(conv_id: str) -> str:
    """The client hash that opened a conversation, so a supervisor can block it; TTL at most a day."""
    return f"{tagged('flood')}:client:{conv_id}"


def flood_bucket(kind: str, client_hash: str) -> str:
    """Token bucket of one client for `conv` (new conversations) or `queue` (queue joins)."""
    return f"{tagged('flood')}:flood:{kind}:{client_hash}"


def flood_minute(minute: int) -> str:
    """Count of new conversations across all clients in one minute (the under-pressure measure)."""
    return f"{tagged('flood')}:flood:minute:{minute}"


def client_block(client_hash: str) -> str:
    """A supervisor blocked this client hash from new conversations; TTL the block's length."""
    return f"{tagged('flood')}:block:{client_hash}"


# The translators' workspace (chatbot/store/translations.py). Kept deliberately, without a TTL, like the
# answers themselves: translations, review marks, glossaries and language settings are the line's content,
# not data about a child. Who translated or reviewed is a staff account name, as in the audit log.
TRANSLATIONS = f"{tagged('tr')}:tr:edits"
"""Hash 'locale␟domain␟key' -> JSON translation (text, the source it was made from, by, reviewed by)."""
TRANSLATION_SETTINGS = f"{tagged('tr')}:tr:languages"
"""Hash locale -> JSON language settings (serve unreviewed, switched on, started by)."""
TRANSLATIONS_VERSION = f"{tagged('tr')}:tr:version"
"""Counter raised by every change, so every process knows when to reread."""
NOTIFY_TRANSLATIONS = f"{PREFIX}:notify:translations"
"""'version' after a change: processes reread within a second instead of at their next poll."""


def glossary(locale: str) -> str:
    """Hash Swedish term -> JSON (target, note) of one language's glossary; kept like TRANSLATIONS."""
    return f"{tagged('tr')}:tr:glossary:{locale}"
