"""The layer rules of docs/architecture.md, held by reading every module's imports (a rule only a document
states will drift): transport -> domain -> store, one direction; only the store knows Redis; the console
may import chatbot's domain, never the reverse."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("chatbot", "console")

# Where decisions live: no web framework, no socket, no Redis client.
DOMAIN = ("chatbot.domain", "console.domain", "chatbot.content", "chatbot.nlu", "chatbot.translation")
# Where Redis keys and scripts live.
STORE = ("chatbot.store", "console.store", "chatbot.upload.store")
TRANSPORT = ("aiohttp", "socketio", "engineio")
# The upload's services and their wiring: above its store and audit log, which must not import them.
UPLOAD_SERVICES = (
    "chatbot.upload.uploads",
    "chatbot.upload.cases",
    "chatbot.upload.retention",
    "chatbot.upload.wiring",
)
# Modules outside the store that may hold a Redis client, and why: they build the process (composition
# roots and their typed app keys), start a private server, or are a command line's own wiring.
REDIS_ALLOWED = {
    "chatbot.gateway.app": "builds the gateway: connects to Redis and hands it to the stores",
    "chatbot.gateway.appkeys": "types the app's Redis client key",
    "chatbot.gateway.assembly": "builds the bot's stores from the Redis client",
    "chatbot.upload.wiring": "builds the upload's stores from the Redis client",
    "chatbot.observability": "builds the queue gauge's store from the Redis client",
    "chatbot.redis_server": "starts a private redis-server for local runs and tests",
    "console.app": "builds the console: connects to Redis and hands it to the stores",
    "console.appkeys": "types the app's Redis client key",
    "console.case_pages": "hands the app's Redis client to chatbot/upload/wiring.py and the step-up store",
    "console.translation_pages": "builds the translators' store from the app's Redis client",
    "console.user_cli": "the command line's own wiring: connects, builds the account store",
    "console.upload_cli": "the command line's own wiring: connects, hands the client to chatbot/upload/wiring.py",
}


def modules() -> Iterator[tuple[str, Path]]:
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            yield name, path


def imports(path: Path) -> set[str]:
    """Every module this file imports, at the top or inside a function (a lazy import is still a dependency)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


MODULES = dict(modules())


def test_the_rules_see_the_code() -> None:
    # A rule over an empty set cannot fail: the packages it names exist and hold modules.
    assert sum(within(m, DOMAIN) for m in MODULES) > 20
    assert sum(within(m, STORE) for m in MODULES) > 8
    assert set(REDIS_ALLOWED) <= set(MODULES)
    assert set(UPLOAD_SERVICES) <= set(MODULES)


@pytest.mark.parametrize("name", [m for m in MODULES if within(m, DOMAIN)])
def test_the_domain_knows_no_transport_and_no_redis(name: str) -> None:
    wrong = {i for i in imports(MODULES[name]) if within(i, (*TRANSPORT, "redis"))}
    wrong |= {
        i
        for i in imports(MODULES[name])
        if within(i, ("chatbot.gateway", "console")) and not within(i, ("console.domain", "console.store"))
    }
    assert not wrong, f"{name} is domain code and imports {sorted(wrong)}"


@pytest.mark.parametrize("name", [m for m in MODULES if within(m, STORE)])
def test_the_store_never_imports_the_domain(name: str) -> None:
    above = (*DOMAIN, "chatbot.gateway", *UPLOAD_SERVICES, "console")
    wrong = {i for i in imports(MODULES[name]) if within(i, above) and not within(i, STORE)}
    wrong |= {i for i in imports(MODULES[name]) if within(i, TRANSPORT)}
    assert not wrong, f"{name} is the store and imports {sorted(wrong)}"


@pytest.mark.parametrize("name", list(MODULES))
def test_only_the_store_and_the_wiring_know_redis(name: str) -> None:
    if within(name, STORE) or name in REDIS_ALLOWED:
        return
    wrong = {i for i in imports(MODULES[name]) if within(i, ("redis",))}
    assert not wrong, (
        f"{name} imports {sorted(wrong)}: reach Redis through a store (or say why in REDIS_ALLOWED)"
    )


@pytest.mark.parametrize("name", [m for m in MODULES if m.startswith("console")])
def test_the_console_never_imports_the_gateway(name: str) -> None:
    wrong = {i for i in imports(MODULES[name]) if within(i, ("chatbot.gateway",))}
    assert not wrong, f"{name} imports the child gateway {sorted(wrong)}: use chatbot's domain"


@pytest.mark.parametrize("name", [m for m in MODULES if m.startswith("chatbot")])
def test_chatbot_never_imports_the_console(name: str) -> None:
    wrong = {i for i in imports(MODULES[name]) if within(i, ("console",))}
    assert not wrong, f"{name} imports the console {sorted(wrong)}"


def test_a_broken_rule_is_caught(tmp_path: Path) -> None:
    # The checker itself: a domain module that imports aiohttp and the store is found.
    bad = tmp_path / "bad.py"
    bad.write_text("from aiohttp import web\n\ndef f():\n    import redis.asyncio\n", encoding="utf-8")
    assert {"aiohttp", "redis.asyncio"} <= imports(bad)


@pytest.mark.parametrize("name", list(MODULES))
def test_only_the_metrics_modules_know_prometheus(name: str) -> None:
    # The domain is told what happened through callbacks; a metric never shapes a decision.
    if name in ("chatbot.metrics", "chatbot.observability"):
        return
    wrong = {i for i in imports(MODULES[name]) if within(i, ("prometheus_client",))}
    assert not wrong, f"{name} imports {sorted(wrong)}: pass it a callback from the wiring instead"
