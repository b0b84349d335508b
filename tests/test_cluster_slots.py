"""Every script call's keys share one hash slot, so the store runs on Redis Cluster (read from the source).

Each call that passes `keys=` in the stores is found in the source and its key list evaluated with sample
values for the caller's variables; every key, and every argument that is a key name or a key pattern
(`keys.conversation("%s")`, which the script fills in), must hash to one slot. A new script whose keys
would land in two slots fails here, before any cluster refuses it.
"""

from __future__ import annotations

import ast
import contextlib
import importlib
from pathlib import Path
from typing import Any

import pytest
from redis.crc import key_slot

from chatbot.store import keys as chat_keys
from console.store import keys as console_keys

ROOT = Path(__file__).resolve().parent.parent
STORES = ("chatbot/store", "console/store", "chatbot/upload", "chatbot/translation")
# Pub/sub channels are no keys (a cluster broadcasts PUBLISH to every node), so they may be in any slot.
CHANNELS = {
    value
    for module in (chat_keys, console_keys)
    for name, value in vars(module).items()
    if isinstance(value, str) and (name.startswith("NOTIFY_") or name == "REVOKED")
}


class Sample(str):
    """Stands for any value a caller has at run time: a string (so it formats, joins and serialises), whose
    attributes and calls are samples too, and that iterates as two samples."""

    def __getattr__(self, name: str) -> Sample:
        return Sample(name)

    def __call__(self, *args: Any, **kwargs: Any) -> Sample:
        return Sample("called")

    def __iter__(self) -> Any:
        return iter([Sample("a"), Sample("b")])

    def __add__(self, other: Any) -> Any:
        return Sample(str(self) + str(other))

    def __radd__(self, other: Any) -> Any:
        return other + 1 if isinstance(other, int) else Sample(str(other) + str(self))

    def __floordiv__(self, other: Any) -> Sample:
        return Sample("n")

    def __mul__(self, other: Any) -> Sample:  # type: ignore[override]
        return Sample("n")


class Names(dict[str, Any]):
    """The module's names, and a sample for every other (the caller's variables)."""

    def __init__(self, module: Any) -> None:
        super().__init__()
        self.module = vars(module)

    def __missing__(self, name: str) -> Any:
        if name in self.module:
            return self.module[name]
        return Sample(name)


class Call:
    """One call with `keys=` in a store: where it is, its key and argument lists, and the assignments
    before it in its function (so `conv_key, log_key, ... = keys.conversation_keys(conv_id)` is known)."""

    def __init__(
        self, path: str, line: int, keys: ast.expr, args: ast.expr | None, before: list[ast.stmt]
    ) -> None:
        self.path = path
        self.line = line
        self.keys = keys
        self.args = args
        self.before = before

    def names(self) -> list[str]:
        """The key names (and key-like arguments) this call passes, for sample values of its variables."""
        module = importlib.import_module(self.path.removesuffix(".py").replace("/", "."))
        names = Names(module)
        for statement in self.before:
            # Each assignment alone, for sample inputs; one that cannot run on samples is left out.
            with contextlib.suppress(Exception):
                exec(compile(ast.Module([statement], []), self.path, "exec"), vars(module), names)
        found: list[Any] = []
        for expr in (self.keys, self.args):
            if expr is None:
                continue
            elements = expr.elts if isinstance(expr, ast.List | ast.Tuple) else [ast.Starred(expr)]
            for element in elements:
                inner = element.value if isinstance(element, ast.Starred) else element
                code = compile(ast.Expression(inner), self.path, "eval")
                try:
                    value = eval(code, vars(module), names)
                except Exception:
                    continue
                found.extend(
                    value if isinstance(element, ast.Starred) and not isinstance(value, str) else [value]
                )
        return [v for v in found if _key_like(v)]


def _calls() -> list[Call]:
    found = []
    for folder in STORES:
        for path in sorted((ROOT / folder).glob("*.py")):
            tree = ast.parse(path.read_text(), str(path))
            for function in ast.walk(tree):
                if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                    continue
                for node in ast.walk(function):
                    if not isinstance(node, ast.Call):
                        continue
                    before = sorted(
                        (
                            a
                            for a in ast.walk(function)
                            if isinstance(a, ast.Assign | ast.AnnAssign) and a.lineno < node.lineno
                        ),
                        key=lambda a: a.lineno,
                    )
                    where = str(path.relative_to(ROOT))
                    given = {k.arg: k.value for k in node.keywords}
                    if "keys" in given:
                        found.append(Call(where, node.lineno, given["keys"], given.get("args"), before))
                    elif _named(node.func, "run_together"):
                        # run_together(redis, [(script, keys, args) for ...]): each tuple is a call.
                        for tup in ast.walk(node.args[1]):
                            if isinstance(tup, ast.Tuple) and len(tup.elts) == 3:
                                found.append(Call(where, tup.lineno, tup.elts[1], tup.elts[2], before))
    return found


def _named(func: ast.expr, name: str) -> bool:
    return (isinstance(func, ast.Name) and func.id == name) or (
        isinstance(func, ast.Attribute) and func.attr == name
    )


CALLS = _calls()


def _key_like(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(chat_keys.PREFIX + ":") and value not in CHANNELS


def test_every_script_call_is_found() -> None:
    # Fails if the search stops finding the calls (a renamed keyword): this test would prove nothing then.
    assert len(CALLS) >= 40


@pytest.mark.parametrize("call", CALLS, ids=[f"{c.path}:{c.line}" for c in CALLS])
def test_script_keys_share_one_slot(call: Call) -> None:
    names = call.names()
    assert names, f"{call.path}:{call.line}: no key name evaluated"
    slots = {key_slot(name.encode()) for name in names}
    assert len(slots) == 1, f"{call.path}:{call.line}: keys in {len(slots)} slots: {names}"


def test_every_key_names_its_group() -> None:
    # Every key helper's name starts with a group's tag, so no key falls outside the groups by accident.
    tags = tuple(chat_keys.tagged(group) + ":" for group in chat_keys.GROUPS)
    for module in (chat_keys, console_keys):
        for name, value in vars(module).items():
            if name in ("CHAT", "STAFF", "SHIFTS", "LOGIN_FAILURES"):
                continue  # prefixes of keys, not keys
            if (
                name.isupper()
                and isinstance(value, str)
                and value.startswith("sc:")
                and value not in CHANNELS
            ):
                assert value.startswith(tags), f"{module.__name__}.{name} = {value!r}"
            elif callable(value) and getattr(value, "__module__", "") == module.__name__ and name != "tagged":
                made = value(*["x"] * value.__code__.co_argcount)
                for key in made if isinstance(made, tuple) else (made,):
                    if any(key.startswith(channel) for channel in CHANNELS):
                        continue  # a channel (a gateway process's own), which a cluster broadcasts
                    assert key.startswith(tags), f"{module.__name__}.{name}"


def test_no_script_writes_a_key_name_itself() -> None:
    # A key name built inside Lua ('sc:conv:' .. id) escapes the checks above and breaks when names change:
    # scripts take key patterns as arguments (keys.conversation("%s")) instead.
    for folder in STORES:
        for path in sorted((ROOT / folder).glob("*.py")):
            for node in ast.walk(ast.parse(path.read_text())):
                if (
                    isinstance(node, ast.Constant)
                    and isinstance(node.value, str)
                    and "redis.call" in node.value
                ):
                    assert f"'{chat_keys.PREFIX}:" not in node.value, f"{path}:{node.lineno}"
                    assert f'"{chat_keys.PREFIX}:' not in node.value, f"{path}:{node.lineno}"
