"""Settings for both processes, read once from the environment into one frozen object."""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class SettingsError(ValueError):
    """A setting from the environment has a value we cannot use."""


class Secret:
    """A string that never shows its value in a repr, a log line or a traceback."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __bool__(self) -> bool:
        return bool(self._value)


_DURATION = re.compile(r"^\s*(\d+)\s*([smhd]?)\s*$")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> int:
    """'90', '90s', '15m', '12h' or '7d' to seconds."""
    match = _DURATION.match(text)
    if not match:
        raise SettingsError(f"not a duration: {text!r} (use e.g. 90s, 15m, 12h, 7d)")
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def _number(name: str, raw: str, low: float, high: float) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from None
    if not low <= value <= high:
        raise SettingsError(f"{name} must be between {low:g} and {high:g}, got {value:g}")
    return value


_CSP_SOURCE = re.compile(r"^(?:'self'|'none'|https?:|https?://[A-Za-z0-9.*-]+(?::\d{1,5})?)$")


def _frame_ancestors(text: str) -> tuple[str, ...]:
    """FRAME_ANCESTORS as CSP sources; anything else could smuggle a directive into the chat's policy."""
    sources = _split(text) or ("'self'",)
    for source in sources:
        if not _CSP_SOURCE.match(source):
            raise SettingsError(
                f"FRAME_ANCESTORS: {source!r} is not an origin like https://www.example.org, or 'self'"
            )
    return sources


def _exit_url(text: str) -> str:
    """EXIT_URL must be an absolute http(s) URL: quick exit replaces the page with it."""
    url = text.strip()
    if not re.match(r"^https?://[^/\s\"'<>]+(?:/[^\s\"'<>]*)?$", url):
        raise SettingsError(f"EXIT_URL must be an absolute http:// or https:// URL, got {text!r}")
    return url


_ORIGIN = re.compile(r"^https?://(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$")


def _origin(name: str, text: str) -> str:
    """An origin exactly as a browser sends it: scheme://host[:port], no path, no trailing slash."""
    value = text.strip()
    if value and not _ORIGIN.match(value):
        raise SettingsError(f"{name} must be an origin like https://chat.example.org, got {value!r}")
    return value


def _split(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _networks(name: str, text: str) -> tuple[str, ...]:
    """Addresses or networks in CIDR notation, checked here so a typo stops the start, not a login."""
    parts = _split(text)
    for part in parts:
        try:
            ipaddress.ip_network(part, strict=False)
        except ValueError:
            raise SettingsError(f"{name}: {part!r} is not an IP address or network") from None
    return parts


def _sentinels(text: str, name: str = "REDIS_SENTINELS") -> tuple[tuple[str, int], ...]:
    """REDIS_SENTINELS (or REDIS_CLUSTER_NODES): host:port pairs, checked here so a typo stops the start,
    not a failover."""
    out: list[tuple[str, int]] = []
    for part in _split(text):
        host, _, port = part.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise SettingsError(f"{name}: {part!r} is not host:port")
        out.append((host.strip("[]"), int(port)))
    return tuple(out)


@dataclass(frozen=True)
class EnvVar:
    """One documented environment variable: the single source for parsing and for `--help`."""

    name: str
    default: str
    help: str


ENV_VARS: tuple[EnvVar, ...] = (
    EnvVar("REDIS_URL", "", "Redis to use, e.g. redis://127.0.0.1:6379/0 (required by `serve`)."),
    EnvVar(
        "REDIS_SENTINELS",
        "",
        "Sentinels to ask for the Redis primary, host:port,host:port (then REDIS_URL only gives the "
        "database number and password; docs/deployment.md).",
    ),
    EnvVar("REDIS_MASTER_NAME", "stodchat", "The service name the sentinels monitor."),
    EnvVar(
        "REDIS_CLUSTER_NODES",
        "",
        "Nodes of a Redis Cluster to learn the slot map from, host:port,host:port (then REDIS_URL only "
        "gives the password; docs/deployment.md).",
    ),
    EnvVar(
        "REDIS_ACK_REPLICAS",
        "0",
        "Acknowledge a message only once this many Redis replicas have it (1 with a replica; waits at "
        "most 1 s, then answers anyway).",
    ),
    EnvVar(
        "METRICS_PORT",
        "0",
        "Serve Prometheus metrics at /metrics on this port (0: off), apart from the public port.",
    ),
    EnvVar("METRICS_HOST", "127.0.0.1", "The address the metrics port listens on (keep it private)."),
    EnvVar("CONVERSATION_RETENTION", "7d", "How long a conversation is kept after its last activity."),
    EnvVar("MAX_MESSAGE_CHARS", "2000", "Longest message a child may send, in characters."),
    EnvVar("RATE_LIMIT_BURST", "8", "Messages a child may send in a quick burst."),
    EnvVar("RATE_LIMIT_PER_MINUTE", "30", "Sustained messages per minute per conversation."),
    EnvVar(
        "PUBLIC_ORIGIN",
        "",
        "The chat's own public origin, e.g. https://chat.example.org: browsers may open the child socket "
        "from it and ALLOWED_ORIGINS only (empty: only pages on a loopback address, for development).",
    ),
    EnvVar("ALLOWED_ORIGINS", "", "Extra origins (comma-separated) allowed to open the child socket."),
    EnvVar(
        "FRAME_ANCESTORS", "'self'", "Sites (CSP source list, comma-separated) allowed to embed the chat."
    ),
    EnvVar("EXIT_URL", "https://www.google.com/search?q=weather", "Neutral page that quick exit opens."),
    EnvVar("DEFAULT_LOCALE", "sv", "Language used when the child's is unknown or not translated."),
    EnvVar(
        "OFFERED_LOCALES",
        "sv,en,ar",
        "Languages the widget offers, comma-separated; only the safe-complete ones are shown (docs/languages.md).",
    ),
    EnvVar(
        "OPENING_HOURS",
        "mon-fri 09:00-16:00",
        "When counsellors answer, Europe/Stockholm, e.g. 'mon-thu 09:00-16:00; fri 09:00-15:00'.",
    ),
    EnvVar("OPENING_EXCEPTIONS", "", "Dates that differ, e.g. '2026-12-23 10:00-13:00; 2026-12-30 closed'."),
    EnvVar(
        "AVERAGE_CHAT_MINUTES",
        "15",
        "Typical length of a counsellor chat, for the wait a queued child is shown.",
    ),
    EnvVar(
        "RASA_URL", "", "Rasa HTTP API for intents, e.g. http://127.0.0.1:5005 (empty: embedded model only)."
    ),
    EnvVar("RASA_TIMEOUT", "2", "Seconds to wait for Rasa before the embedded model answers instead."),
    EnvVar(
        "NLU_THRESHOLD", "0.6", "Intent confidence (0-1) below which the bot asks again and offers a person."
    ),
    EnvVar(
        "GATEWAY_TRUSTED_PROXIES",
        "",
        "Gateway: proxy addresses or networks (comma-separated) whose X-Forwarded-For names the child's "
        "client for the flood limits (empty: the peer address). Only a keyed hash is ever kept.",
    ),
    EnvVar("NEW_CONVERSATIONS_BURST", "60", "New conversations one client (address) may open at once."),
    EnvVar("NEW_CONVERSATIONS_PER_HOUR", "240", "New conversations per hour one client may open, sustained."),
    EnvVar("QUEUE_JOINS_BURST", "20", "Queue joins one client may make at once."),
    EnvVar("QUEUE_JOINS_PER_HOUR", "60", "Queue joins per hour one client may make, sustained."),
    EnvVar(
        "BUSY_NEW_CONVERSATIONS_PER_MINUTE",
        "60",
        "New conversations a minute, all clients together, above which the chat is under pressure: then a "
        "client that opened BUSY_CLIENT_ALLOWANCE or more recently is asked to wait.",
    ),
    EnvVar("BUSY_CLIENT_ALLOWANCE", "3", "Under pressure: recent new conversations a client may still have."),
    EnvVar(
        "CLIENT_BLOCK", "24h", "How long a supervisor's block of a conversation's client lasts (at most)."
    ),
    EnvVar("LOG_LEVEL", "INFO", "Python logging level."),
    EnvVar(
        "SESSION_SECRET",
        "",
        "Key for the keyed hashes of abuse limits and return codes (random if unset: return codes then"
        " stop working when the process restarts; set it, the same in every gateway process).",
    ),
    EnvVar(
        "HSTS_MAX_AGE",
        "365d",
        "Both processes: how long browsers must use HTTPS only (Strict-Transport-Security, with "
        "includeSubDomains; 0 tells them to forget it).",
    ),
    EnvVar("CONSOLE_IDLE_TIMEOUT", "30m", "Console: a staff session ends after this long without a request."),
    EnvVar(
        "CONSOLE_SESSION_LIFETIME",
        "12h",
        "Console: a staff session ends this long after login, active or not.",
    ),
    EnvVar(
        "CONSOLE_TRUSTED_PROXIES",
        "",
        "Console: proxy addresses or networks (comma-separated, e.g. 10.0.0.5,172.18.0.0/16) whose "
        "X-Forwarded-For names the client for the login limit (empty: the peer address).",
    ),
    EnvVar(
        "CONSOLE_REAUTH_WINDOW",
        "5m",
        "Console: how long an analyst's re-entered TOTP code lets them open uploaded case files.",
    ),
    EnvVar(
        "CONSOLE_SECRET_KEY",
        "",
        "Console: key (64 hex digits, `openssl rand -hex 32`) that encrypts staff TOTP secrets; required.",
    ),
    EnvVar(
        "CONSOLE_SECRET_KEY_FILE",
        "",
        "Console: a file holding that key instead (scripts/run makes var/console-secret.key).",
    ),
    EnvVar(
        "HANDOFF_GRACE", "2m", "Console: a disconnected counsellor's chats go back to the queue after this."
    ),
    EnvVar(
        "CHILD_GRACE",
        "10m",
        "Console: a child with no chat open (closed tab) this long has left; the conversation ends.",
    ),
    EnvVar("STATS_RETENTION", "400d", "Console: how long daily aggregate statistics are kept."),
    EnvVar(
        "UPLOAD_PUBLIC_KEYS",
        "",
        "Upload: the organisation's public keys (printed by `python -m console keys generate`); empty: no uploads.",
    ),
    EnvVar("UPLOAD_DIR", "var/uploads", "Upload: directory for ciphertext (never plaintext, never a key)."),
    EnvVar("UPLOAD_GRANT_TTL", "30m", "Upload: how long a one-time upload grant offered in a chat is valid."),
    EnvVar("UPLOAD_MAX_FILES", "10", "Upload: most files in one upload."),
    EnvVar("UPLOAD_MAX_FILE_BYTES", "209715200", "Upload: largest encrypted file, in bytes."),
    EnvVar("UPLOAD_MAX_TOTAL_BYTES", "524288000", "Upload: largest upload (all files), in bytes."),
    EnvVar("UPLOAD_RESUME_WINDOW", "24h", "Upload: how long an unfinished upload can be resumed."),
    EnvVar(
        "UPLOAD_ABANDON_AFTER",
        "30m",
        "Upload: an unfinished upload with no chunk for this long is discarded (files and reservation).",
    ),
    EnvVar(
        "UPLOAD_PENDING_QUOTA",
        "5368709120",
        "Upload: most bytes all unfinished uploads together may reserve on disk (default 5 GiB).",
    ),
    EnvVar(
        "UPLOAD_DELETE_AFTER_CLOSE", "7d", "Upload: ciphertext is deleted this long after its case closes."
    ),
    EnvVar("UPLOAD_MAX_AGE", "90d", "Upload: ciphertext is deleted at this age, case closed or not."),
    EnvVar("UPLOAD_HASH_RETENTION", "730d", "Upload: how long a case's hashes, status and code are kept."),
    EnvVar("AUDIT_RETENTION", "1825d", "Upload: how long entries of the analysts' audit log are kept."),
    EnvVar(
        "CONTENT_VERSION_RETENTION",
        "3650d",
        "How long a published content version is kept after it was last current (docs/content.md).",
    ),
)


@dataclass(frozen=True)
class Settings:
    """Everything configurable, immutable after start-up."""

    redis_url: str = ""
    redis_sentinels: tuple[tuple[str, int], ...] = ()
    redis_master_name: str = "stodchat"
    redis_cluster_nodes: tuple[tuple[str, int], ...] = ()
    redis_ack_replicas: int = 0
    metrics_port: int = 0
    metrics_host: str = "127.0.0.1"
    conversation_retention: int = 7 * 86400
    max_message_chars: int = 2000
    rate_limit_burst: int = 8
    rate_limit_per_minute: int = 30
    public_origin: str = ""
    allowed_origins: tuple[str, ...] = ()
    frame_ancestors: tuple[str, ...] = ("'self'",)
    exit_url: str = "https://www.google.com/search?q=weather"
    default_locale: str = "sv"
    offered_locales: tuple[str, ...] = ("sv", "en", "ar")
    opening_hours: str = "mon-fri 09:00-16:00"
    opening_exceptions: str = ""
    average_chat_minutes: int = 15
    log_level: str = "INFO"
    gateway_trusted_proxies: tuple[str, ...] = ()
    new_conversations_burst: int = 60
    new_conversations_per_hour: int = 240
    queue_joins_burst: int = 20
    queue_joins_per_hour: int = 60
    busy_new_conversations_per_minute: int = 60
    pressure_allowance: int = 3
    client_block: int = 86400
    session_secret: Secret = field(default_factory=lambda: Secret(os.urandom(32).hex()))
    hsts_max_age: int = 365 * 86400
    console_idle_timeout: int = 30 * 60
    console_session_lifetime: int = 12 * 3600
    console_reauth_window: int = 5 * 60
    console_trusted_proxies: tuple[str, ...] = ()
    # Random per object for tests and tools; from the environment it is None until configured, and the
    # console refuses to start without it (console.app.MISSING_KEY).
    console_secret_key: Secret | None = field(default_factory=lambda: Secret(os.urandom(32).hex()))
    handoff_grace: int = 120
    child_grace: int = 600
    stats_retention: int = 400 * 86400
    upload_public_keys: tuple[str, ...] = ()
    upload_dir: Path = PROJECT_ROOT / "var" / "uploads"
    upload_grant_ttl: int = 30 * 60
    upload_max_files: int = 10
    upload_max_file_bytes: int = 200 * 1024 * 1024
    upload_max_total_bytes: int = 500 * 1024 * 1024
    upload_resume_window: int = 24 * 3600
    upload_abandon_after: int = 30 * 60
    upload_pending_quota: int = 5 * 1024 * 1024 * 1024
    upload_delete_after_close: int = 7 * 86400
    upload_max_age: int = 90 * 86400
    upload_hash_retention: int = 730 * 86400
    audit_retention: int = 1825 * 86400
    content_version_retention: int = 3650 * 86400
    rasa_url: str = ""
    rasa_timeout: float = 2.0
    nlu_threshold: float = 0.6
    content_dir: Path = PROJECT_ROOT / "content"
    locales_dir: Path = PROJECT_ROOT / "locales"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ

        def get(name: str) -> str:
            default = next(var.default for var in ENV_VARS if var.name == name)
            return env.get(name, default)

        def positive_int(name: str) -> int:
            raw = get(name)
            try:
                value = int(raw)
            except ValueError:
                raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None
            if value <= 0:
                raise SettingsError(f"{name} must be positive, got {value}")
            return value

        try:
            retention = parse_duration(get("CONVERSATION_RETENTION"))
        except SettingsError as exc:
            raise SettingsError(f"CONVERSATION_RETENTION: {exc}") from None
        durations: dict[str, int] = {}
        for name in (
            "HSTS_MAX_AGE",
            "CONSOLE_IDLE_TIMEOUT",
            "CONSOLE_SESSION_LIFETIME",
            "CONSOLE_REAUTH_WINDOW",
            "HANDOFF_GRACE",
            "CHILD_GRACE",
            "STATS_RETENTION",
            "CLIENT_BLOCK",
            "CONTENT_VERSION_RETENTION",
        ):
            try:
                durations[name] = parse_duration(get(name))
            except SettingsError as exc:
                raise SettingsError(f"{name}: {exc}") from None
        from chatbot.domain.hours import OpeningHours, ScheduleError

        try:
            OpeningHours.parse(get("OPENING_HOURS"), get("OPENING_EXCEPTIONS"))
        except ScheduleError as exc:
            raise SettingsError(f"OPENING_HOURS/OPENING_EXCEPTIONS: {exc}") from None
        upload = _upload_settings(get, positive_int)
        rasa_url = get("RASA_URL").strip()
        if rasa_url and not rasa_url.startswith(("http://", "https://")):
            raise SettingsError(f"RASA_URL must start with http:// or https://, got {rasa_url!r}")
        rasa_timeout = _number("RASA_TIMEOUT", get("RASA_TIMEOUT"), 0.05, 60.0)
        nlu_threshold = _number("NLU_THRESHOLD", get("NLU_THRESHOLD"), 0.0, 1.0)
        secret = get("SESSION_SECRET") or os.urandom(32).hex()
        metrics_port = int(_number("METRICS_PORT", get("METRICS_PORT"), 0, 65535))
        if get("REDIS_CLUSTER_NODES").strip() and (
            get("REDIS_SENTINELS").strip() or get("REDIS_ACK_REPLICAS").strip() not in ("", "0")
        ):
            # A cluster fails over by itself (no sentinels), and WAIT answers for one node only, while a
            # batch of writes spans several: neither is done on a cluster (docs/reliability.md).
            raise SettingsError("REDIS_CLUSTER_NODES: not with REDIS_SENTINELS or REDIS_ACK_REPLICAS")
        return cls(
            redis_url=get("REDIS_URL"),
            redis_sentinels=_sentinels(get("REDIS_SENTINELS")),
            redis_master_name=get("REDIS_MASTER_NAME").strip() or "stodchat",
            redis_cluster_nodes=_sentinels(get("REDIS_CLUSTER_NODES"), "REDIS_CLUSTER_NODES"),
            redis_ack_replicas=int(_number("REDIS_ACK_REPLICAS", get("REDIS_ACK_REPLICAS"), 0, 16)),
            metrics_port=metrics_port,
            metrics_host=get("METRICS_HOST").strip() or "127.0.0.1",
            conversation_retention=retention,
            max_message_chars=positive_int("MAX_MESSAGE_CHARS"),
            rate_limit_burst=positive_int("RATE_LIMIT_BURST"),
            rate_limit_per_minute=positive_int("RATE_LIMIT_PER_MINUTE"),
            public_origin=_origin("PUBLIC_ORIGIN", get("PUBLIC_ORIGIN")),
            allowed_origins=tuple(_origin("ALLOWED_ORIGINS", o) for o in _split(get("ALLOWED_ORIGINS"))),
            frame_ancestors=_frame_ancestors(get("FRAME_ANCESTORS")),
            exit_url=_exit_url(get("EXIT_URL")),
            default_locale=get("DEFAULT_LOCALE"),
            offered_locales=_split(get("OFFERED_LOCALES")),
            opening_hours=get("OPENING_HOURS"),
            opening_exceptions=get("OPENING_EXCEPTIONS"),
            average_chat_minutes=positive_int("AVERAGE_CHAT_MINUTES"),
            log_level=get("LOG_LEVEL").upper(),
            gateway_trusted_proxies=_networks("GATEWAY_TRUSTED_PROXIES", get("GATEWAY_TRUSTED_PROXIES")),
            new_conversations_burst=positive_int("NEW_CONVERSATIONS_BURST"),
            new_conversations_per_hour=positive_int("NEW_CONVERSATIONS_PER_HOUR"),
            queue_joins_burst=positive_int("QUEUE_JOINS_BURST"),
            queue_joins_per_hour=positive_int("QUEUE_JOINS_PER_HOUR"),
            busy_new_conversations_per_minute=positive_int("BUSY_NEW_CONVERSATIONS_PER_MINUTE"),
            pressure_allowance=positive_int("BUSY_CLIENT_ALLOWANCE"),
            client_block=durations["CLIENT_BLOCK"],
            session_secret=Secret(secret),
            hsts_max_age=durations["HSTS_MAX_AGE"],
            console_idle_timeout=durations["CONSOLE_IDLE_TIMEOUT"],
            console_session_lifetime=durations["CONSOLE_SESSION_LIFETIME"],
            console_reauth_window=durations["CONSOLE_REAUTH_WINDOW"],
            console_trusted_proxies=_networks("CONSOLE_TRUSTED_PROXIES", get("CONSOLE_TRUSTED_PROXIES")),
            console_secret_key=_console_key(get),
            handoff_grace=durations["HANDOFF_GRACE"],
            child_grace=durations["CHILD_GRACE"],
            stats_retention=durations["STATS_RETENTION"],
            content_version_retention=durations["CONTENT_VERSION_RETENTION"],
            rasa_url=rasa_url,
            rasa_timeout=rasa_timeout,
            nlu_threshold=nlu_threshold,
            **upload,
        )


def _console_key(get: Callable[[str], str]) -> Secret | None:
    """CONSOLE_SECRET_KEY, or the contents of CONSOLE_SECRET_KEY_FILE: 32 bytes as 64 hex digits."""
    text, path = get("CONSOLE_SECRET_KEY").strip(), get("CONSOLE_SECRET_KEY_FILE").strip()
    if text and path:
        raise SettingsError("set CONSOLE_SECRET_KEY or CONSOLE_SECRET_KEY_FILE, not both")
    source = "CONSOLE_SECRET_KEY"
    if path:
        source = f"CONSOLE_SECRET_KEY_FILE ({path})"
        try:
            text = Path(path).read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise SettingsError(f"{source} cannot be read: {exc.__class__.__name__}") from None
    if not text:
        return None
    if not re.fullmatch(r"[0-9a-fA-F]{64}", text):
        # The value itself is never echoed: it is a secret even when malformed.
        raise SettingsError(f"{source} must be 64 hex digits (32 random bytes: openssl rand -hex 32)")
    return Secret(text.lower())


def _upload_settings(get: Callable[[str], str], positive_int: Callable[[str], int]) -> dict[str, Any]:
    from chatbot.upload.crypto import MalformedKey, parse_public_keys

    try:
        keys = tuple(str(key) for key in parse_public_keys(get("UPLOAD_PUBLIC_KEYS")))
    except MalformedKey as exc:
        raise SettingsError(f"UPLOAD_PUBLIC_KEYS: {exc}") from None
    values: dict[str, Any] = {"upload_public_keys": keys}
    for name in (
        "UPLOAD_GRANT_TTL",
        "UPLOAD_RESUME_WINDOW",
        "UPLOAD_ABANDON_AFTER",
        "UPLOAD_DELETE_AFTER_CLOSE",
        "UPLOAD_MAX_AGE",
        "UPLOAD_HASH_RETENTION",
        "AUDIT_RETENTION",
    ):
        try:
            values[name.lower()] = parse_duration(get(name))
        except SettingsError as exc:
            raise SettingsError(f"{name}: {exc}") from None
    for name in (
        "UPLOAD_MAX_FILES",
        "UPLOAD_MAX_FILE_BYTES",
        "UPLOAD_MAX_TOTAL_BYTES",
        "UPLOAD_PENDING_QUOTA",
    ):
        values[name.lower()] = positive_int(name)
    directory = Path(get("UPLOAD_DIR"))
    values["upload_dir"] = directory if directory.is_absolute() else PROJECT_ROOT / directory
    return values


def env_help() -> str:
    """The environment variables as text for `--help`."""
    width = max(len(var.name) for var in ENV_VARS)
    lines = ["environment:"]
    for var in ENV_VARS:
        default = f" (default: {var.default})" if var.default else ""
        lines.append(f"  {var.name.ljust(width)}  {var.help}{default}")
    return "\n".join(lines)
