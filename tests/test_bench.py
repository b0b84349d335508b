"""Smoke tests of the benchmark tools: the echo yardstick answers like the gateway's clients expect."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import socketio
from aiohttp import web

from chatbot.nlu import rasa_process
from tests.conftest import served

BENCH = Path(__file__).resolve().parent.parent / "bench"


def _load_echo() -> Any:
    spec = importlib.util.spec_from_file_location("bench_echo_server", BENCH / "echo_server.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@contextlib.asynccontextmanager
async def connected(app: web.Application) -> AsyncIterator[tuple[socketio.AsyncClient, asyncio.Queue[Any]]]:
    """The app on a free loopback port and a real client connected to it, with every event it receives."""
    client = socketio.AsyncClient(reconnection=False)
    events: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

    @client.on("*")
    async def record(event: str, data: Any = None) -> None:
        await events.put((event, data))

    async with served(app) as url:
        try:
            await client.connect(url, transports=["websocket"], wait_timeout=5)
            yield client, events
        finally:
            await client.disconnect()


async def test_echo_server_answers_one_bot_uttered_per_message() -> None:
    async with connected(_load_echo().create_app()) as (client, events):
        await client.emit("session_request", {"session_id": None})
        event, session_id = await asyncio.wait_for(events.get(), 5)
        assert event == "session_confirm" and isinstance(session_id, str) and len(session_id) == 43
        await client.emit("user_uttered", {"message": "hej", "client_id": "m1"})
        assert await asyncio.wait_for(events.get(), 5) == ("bot_uttered", {"text": "hej"})
        await asyncio.sleep(0.2)
        assert events.empty()  # one answer, no ack, nothing else


async def test_wire_server_sends_the_gateways_events_for_a_message() -> None:
    """The wire floor answers as the gateway does on the compact protocol: one `turn` frame with the ack
    and the answer's bubbles in seq."""
    from chatbot.content.library import ContentLibrary

    root = BENCH.parent
    expected = ContentLibrary.load(root / "content", root / "locales").replies("greet", "sv")
    async with connected(_load_echo().create_app("wire", "greet")) as (client, events):
        for turn in (1, 2):
            await client.emit("user_uttered", {"message": "hej", "client_id": f"m{turn}"})
            event, frame = await asyncio.wait_for(events.get(), 5)
            assert event == "turn"
            ack = frame["ack"]
            assert ack["client_id"] == f"m{turn}" and not ack["duplicate"]
            assert len(frame["entries"]) == len(expected)
            for i, (reply, bubble) in enumerate(zip(expected, frame["entries"], strict=True), 1):
                assert bubble["seq"] == ack["seq"] + i
                assert bubble["text"] == reply.text and bubble["role"] == "bot"
                assert len(bubble.get("quick_replies", [])) == len(reply.quick_replies)
        assert ack["seq"] == 2 + len(expected)  # seqs continue across turns, as in the log
        await asyncio.sleep(0.2)
        assert events.empty()


def test_load_script_documents_its_options() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH / "load.py"), "--help"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "--saturation-clients" in done.stdout and "--paced-clients" in done.stdout
    assert "echo" in done.stdout


def _load_module(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_short_load_run_measures_the_gateway_and_the_echo() -> None:
    """The whole benchmark for a second with two children: servers, a load process, figures, the table."""
    import json

    done = subprocess.run(
        [sys.executable, str(BENCH / "load.py"), "--json", "--scenarios", "saturation",
         "--servers", "gateway", "echo", "--saturation-clients", "2", "--saturation-workers", "1",
         "--saturation-seconds", "1", "--warmup", "0", "--pause", "0"],
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout)
    assert set(report["results"]) == {"gateway/saturation", "echo/saturation"}
    for result in report["results"].values():
        assert result["clients"] == 2 and result["completed"] > 0
        assert (result["errors"], result["timeouts"], result["connect_failed"]) == (0, 0, 0)
        assert result["round_trips_per_s"] == result["completed"] / 1.0
        assert result["p50_ms"] <= result["p99_ms"] <= result["max_ms"]
    gateway, echo = report["results"]["gateway/saturation"], report["results"]["echo/saturation"]
    assert gateway["bot_uttered_per_message"] >= 1 and echo["bot_uttered_per_message"] == 1
    verdict = report["verdicts"]["saturation_rps_ratio"]
    assert verdict["value"] == round(gateway["round_trips_per_s"] / echo["round_trips_per_s"], 3)
    assert verdict["pass"] is (verdict["value"] >= 0.5)
    table = _load_module("load_report").render(report)
    assert "saturation (2 children, 1 s)" in table and "round trips / s" in table
    lines = {line.split("  ")[0]: line for line in table.splitlines()}
    assert ("PASS" if verdict["pass"] else "FAIL") in lines["saturation round trips/s ratio"]
    # Issue 17's verdict on CPU per message, when the echo's CPU was measurable in so short a run.
    if not echo["server_cpu_ms_per_round_trip"]:
        assert "saturation_cpu_ratio" not in report["verdicts"]
        return
    cpu = report["verdicts"]["saturation_cpu_ratio"]
    ratio = gateway["server_cpu_ms_per_round_trip"] / echo["server_cpu_ms_per_round_trip"]
    assert cpu["value"] == round(ratio, 3) and cpu["pass"] is (ratio <= 3.8)
    assert ("PASS" if cpu["pass"] else "FAIL") in lines["saturation CPU/message (issue 17)"]


def _clinc_sample(path: Path) -> Path:
    """A tiny file in CLINC150's layout: six intents with their own words, and out-of-scope chatter."""
    import json
    import random

    rng = random.Random(3)
    words = {
        name: [f"{name}{k}" for k in range(5)]
        for name in ("alpha", "bravo", "delta", "gamma", "kilo", "lima")
    }
    filler = ["please", "can", "you", "tell", "me", "now", "the", "my"]
    others = ["zebra", "violin", "pepper", "comet", "walrus", "quartz", "fjord", "tulip", "cactus", "nimbus"]

    def rows(n: int, oos: bool) -> list[list[str]]:
        out = []
        for _ in range(n):
            for name, vocab in words.items():
                if oos:
                    out.append([" ".join(rng.sample(others, 3) + rng.sample(filler, 2)), "oos"])
                else:
                    out.append([" ".join(rng.sample(vocab, 2) + rng.sample(filler, 2)), name])
        return out

    splits = {
        "train": rows(12, False), "oos_train": rows(2, True),
        "val": rows(3, False), "oos_val": rows(1, True),
        "test": rows(4, False), "oos_test": rows(2, True),
    }  # fmt: skip
    path.write_text(json.dumps(splits), encoding="utf-8")
    return path


def test_gate_bench_times_training_and_a_check_per_language() -> None:
    import json

    done = subprocess.run(
        [sys.executable, str(BENCH / "gate.py"), "--sentences", "5", "--json"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    assert figures["training_wall_s"] > 0
    for language in ("sv", "en"):
        timing = figures[f"check_{language}_ms"]
        assert 0 < timing["p50"] <= timing["p99"]


def test_nlu_speed_bench_times_each_part_and_compares_two_trees() -> None:
    """bench/nlu_speed.py measures this tree against another one (here: itself) in fresh processes."""
    import json

    done = subprocess.run(
        [
            sys.executable,
            str(BENCH / "nlu_speed.py"),
            "--against",
            str(BENCH.parent),
            "--rounds",
            "1",
            "--repetitions",
            "1",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)["per_message_cpu_us"]
    assert set(figures) >= {"understand_heldout_us", "crisis_heldout_us", "language_heldout_us"}
    for timing in figures.values():
        assert timing["before"] > 0 and timing["after"] > 0


def _clinc(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(BENCH / "clinc.py"), *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_clinc_bench_reports_the_papers_two_figures_from_a_file(tmp_path: Path) -> None:
    import json

    done = _clinc(str(_clinc_sample(tmp_path / "data_full.json")), "--json")
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)["embedded"]
    assert figures["intents"] == 7  # six and oos
    assert figures["top_intent"]["in_scope_accuracy"] >= 0.9
    chosen = figures["threshold_chosen_on_val"]
    assert 0.0 <= chosen["threshold"] <= 0.8
    assert chosen["oos_recall"] >= figures["top_intent"]["oos_recall"]
    assert figures["cpu_ms_per_message"] < 5


def test_clinc_bench_writes_yaml_that_nlu_evaluate_reads(tmp_path: Path) -> None:
    import json

    done = _clinc(str(_clinc_sample(tmp_path / "data_full.json")), "--write-yaml", str(tmp_path / "y"))
    assert done.returncode == 0, done.stderr
    folder = tmp_path / "y"
    command = [sys.executable, "-m", "chatbot", "nlu", "evaluate", "--json"]
    evaluated = subprocess.run(
        [*command, "--train", str(folder / "clinc-train.yml"), "--test", str(folder / "clinc-test.yml")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=BENCH.parent,
    )
    assert evaluated.returncode == 0, evaluated.stderr
    oos = json.loads(evaluated.stdout)["out_of_scope"]
    assert oos["intent"] == "oos" and oos["out_of_scope_examples"] == 12 and oos["in_scope_examples"] == 24


def test_clinc_bench_rejects_a_file_that_is_not_clinc(tmp_path: Path) -> None:
    bad = tmp_path / "x.json"
    bad.write_text('{"train": []}', encoding="utf-8")
    done = _clinc(str(bad))
    assert done.returncode == 2
    assert "expected the splits train, oos_train" in done.stderr
    assert _clinc(str(tmp_path / "missing.json")).returncode == 2


def test_clinc_encoder_bench_scores_the_tfidf_features_and_names_an_unknown_encoder(tmp_path: Path) -> None:
    """bench/clinc_encoder.py measures candidate sentence encoders (not project dependencies); with weight 0
    it scores the embedded model's TF-IDF features alone, which needs none of them."""
    import json

    sample = str(_clinc_sample(tmp_path / "data_full.json"))
    script = str(BENCH / "clinc_encoder.py")
    done = subprocess.run(
        [sys.executable, script, sample, "--weight", "0"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    assert figures["encoder"] is None
    in_scope, oos_recall = figures["top_intent"]
    assert in_scope >= 0.9 and 0.0 <= oos_recall <= 1.0
    threshold, _, chosen_recall = figures["threshold_chosen_on_val"]
    assert 0.0 <= threshold <= 0.8 and chosen_recall >= oos_recall
    unknown = subprocess.run(
        [sys.executable, script, sample, "--encoder", "nope"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert unknown.returncode != 0 and "unknown encoder 'nope'" in unknown.stderr


def test_the_rasa_bot_answers_every_intent_and_button_with_our_content() -> None:
    """bench/rasa_bot.py's project: each intent of content/nlu and each button's payload has a rule that
    utters exactly its answer's bubbles (as the gateway sends them), and every action is in the domain."""
    import yaml

    from chatbot.content.library import ContentLibrary

    root = BENCH.parent
    library = ContentLibrary.load(root / "content", root / "locales")
    rasa_bot = _load_module("rasa_bot")
    files = rasa_bot.project_files()
    assert {"config.yml", "domain.yml", "data/rules.yml"} <= set(files)
    domain = yaml.safe_load(files["domain.yml"])
    rules = {r["steps"][0]["intent"]: [s["action"] for s in r["steps"][1:]]
             for r in yaml.safe_load(files["data/rules.yml"])["rules"]}  # fmt: skip
    nlu_files = sorted((root / "content" / "nlu").glob("*.yml"))
    assert sorted(n for n in files if n.startswith("data/nlu/")) == [f"data/nlu/{p.name}" for p in nlu_files]
    assert not any("heldout" in name for name in files)
    assert set(domain["intents"]) | {"nlu_fallback"} == set(rules)
    greet = library.replies("greet", "sv")
    actions = rules["greet"]
    assert len(actions) == len(greet) >= 2
    for action, reply in zip(actions, greet, strict=True):
        (response,) = domain["responses"][action]
        assert response["text"] == reply.text
        assert [b["payload"] for b in response.get("buttons", [])] == [q.payload for q in reply.quick_replies]
    for answer in library.answers.values():
        for button in answer.buttons:
            assert button.name in rules, f"{answer.id}: the button {button.target} has no rule"
    assert rules["nlu_fallback"] == [
        f"utter_fallback_{i}" for i in range(len(library.get("fallback").bubbles))
    ]
    assert all(a in domain["responses"] for acts in rules.values() for a in acts)
    config = yaml.safe_load(files["config.yml"])
    assert config["policies"] == [{"name": "RulePolicy"}]
    assert config["pipeline"][-1]["name"] == "FallbackClassifier"
    assert rasa_bot.CREDENTIALS["socketio"]["bot_message_evt"] == "bot_uttered"


@pytest.mark.rasa
def test_a_short_load_run_measures_rasas_own_socketio_channel() -> None:
    """`--servers ... rasa`: the bot made from content/ is trained (cached), served with Rasa's socket.io
    channel, driven by plain Rasa clients, and compared with the gateway in the same run."""
    rasa_process.setup()  # Rasa's virtualenv, built if missing (minutes once; scripts/test has built it)
    import json

    done = subprocess.run(
        [sys.executable, str(BENCH / "load.py"), "--json", "--scenarios", "saturation",
         "--servers", "gateway", "echo", "rasa", "--saturation-clients", "2", "--saturation-workers", "1",
         "--saturation-seconds", "2", "--warmup", "0", "--pause", "0"],
        capture_output=True, text=True, timeout=1800,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout)
    rasa = report["results"]["rasa/saturation"]
    assert rasa["clients"] == 2 and rasa["completed"] > 0
    assert (rasa["errors"], rasa["timeouts"], rasa["connect_failed"]) == (0, 0, 0)
    # Rasa sends one bot_uttered per bubble; a round trip waited for all of them, so none is left over.
    assert rasa["bot_uttered_per_message"] >= 1 and float(rasa["bot_uttered_per_message"]).is_integer()
    assert rasa["server_cpu_ms_per_round_trip"] > 0
    verdict = report["verdicts"]["saturation_rps_vs_rasa"]
    gateway = report["results"]["gateway/saturation"]
    assert verdict["value"] == round(gateway["round_trips_per_s"] / rasa["round_trips_per_s"], 3)
    table = _load_module("load_report").render(report)
    assert "saturation, against Rasa 3.6 (2 children)" in table and "saturation gateway / rasa" in table


def test_idle_connections_are_held_and_measured_for_the_gateway_and_the_echo() -> None:
    """bench/idle.py with a few children: every one connected (from two loopback source addresses), its
    session answered, and the memory per connection reported for both servers."""
    import json

    done = subprocess.run(
        [sys.executable, str(BENCH / "idle.py"), "--children", "40", "--workers", "2", "--settle", "0.5",
         "--source-addresses", "2"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout[: done.stdout.rindex("}") + 1])
    for name in ("gateway", "echo"):
        assert (report[name]["connected"], report[name]["failed"]) == (40, 0)
        assert report[name]["rss_after_kib"] > 0
    assert report["ratio"] == round(
        report["gateway"]["kib_per_connection"] / report["echo"]["kib_per_connection"], 2
    )
    assert "idle children connected: gateway 40 of 40, echo 40" in done.stdout
