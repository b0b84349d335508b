"""`python -m console keys generate` and `case decrypt` as an operator runs them, in a subprocess."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from chatbot.store import keys
from chatbot.upload import crypto
from tests.chatbot.upload import helpers

ROOT = Path(__file__).resolve().parents[3]
PASSPHRASE = "a long test passphrase"


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if k != "UPLOAD_KEY_PASSPHRASE"}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "console", *args],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_generate_then_decrypt(tmp_path: Path) -> None:
    secret = tmp_path / "pass.txt"
    secret.write_text(PASSPHRASE + "\n")
    key_file = tmp_path / "upload-key.json"
    done = run("keys", "generate", "--out", str(key_file), "--passphrase-file", str(secret))
    assert done.returncode == 0, done.stderr
    assert key_file.stat().st_mode & 0o777 == 0o600
    line = next(x for x in done.stdout.splitlines() if x.startswith("UPLOAD_PUBLIC_KEYS="))
    publics = crypto.parse_public_keys(line.split("=", 1)[1])
    assert [p.kem for p in publics] == [crypto.Kem.X25519, crypto.Kem.P256]

    again = run("keys", "generate", "--out", str(key_file), "--passphrase-file", str(secret))
    assert again.returncode == 2 and "refusing to overwrite" in again.stderr

    good = tmp_path / "good.scup"
    good.write_bytes(
        crypto.encrypt(b"picture bytes", [publics[1]], name="../../evil/bild.jpg", type="image/jpeg")
    )
    bad = tmp_path / "bad.scup"
    bad.write_bytes(crypto.encrypt(b"video bytes", [publics[0]], name="v.mp4")[:-3])
    out = tmp_path / "out"
    done = run(
        "case",
        "decrypt",
        "--key",
        str(key_file),
        "--in",
        str(good),
        "--in",
        str(bad),
        "--out",
        str(out),
        env={"UPLOAD_KEY_PASSPHRASE": PASSPHRASE},
    )
    assert done.returncode == 1
    assert "truncated" in done.stderr
    (decrypted,) = out.iterdir()  # the truncated file left nothing behind
    assert decrypted.name == "_.._evil_bild.jpg"  # the child-chosen name cannot leave --out
    assert decrypted.read_bytes() == b"picture bytes"
    assert decrypted.stat().st_mode & 0o777 == 0o600  # plaintext is for its owner only
    assert out.stat().st_mode & 0o777 == 0o700


def test_wrong_passphrase_is_a_clear_error(tmp_path: Path) -> None:
    key_file = tmp_path / "k.json"
    key_file.write_bytes(crypto.dump_key_file([crypto.PrivateKey.generate(crypto.Kem.X25519)], PASSPHRASE))
    blob = tmp_path / "a.scup"
    blob.write_bytes(b"SCUP")
    done = run(
        "case",
        "decrypt",
        "--key",
        str(key_file),
        "--in",
        str(blob),
        "--out",
        str(tmp_path / "o"),
        env={"UPLOAD_KEY_PASSPHRASE": "not the passphrase"},
    )
    assert done.returncode == 1
    assert "wrong_passphrase" in done.stderr
    assert not (tmp_path / "o").exists()


async def test_list_export_and_verify_against_redis(redis: Any, settings: Any, tmp_path: Path) -> None:
    from tests.chatbot.upload.helpers import file_entry, open_conversation, services, upload_settings

    svc = services(redis, upload_settings(settings, tmp_path / "uploads"))
    plain = b"image bytes"
    blob = crypto.encrypt(plain, [k.public for k in helpers.KEYS])
    await open_conversation(redis, "conv-cli")
    grant = await svc.uploads.issue_grant("conv-cli", topic="spreading")
    started = await svc.uploads.start(
        grant.token, age_band="under_13", consent=True, files=[file_entry(blob, plain)]
    )
    await svc.uploads.write(started.token, 0, 0, blob)
    await svc.uploads.finish(started.token)
    env = {"REDIS_URL": settings.redis_url, "UPLOAD_DIR": str(tmp_path / "uploads")}

    listed = await asyncio.to_thread(run, "case", "list", env=env)
    assert listed.returncode == 0, listed.stderr
    assert "received" in listed.stdout and "under_13" in listed.stdout and "topic=spreading" in listed.stdout

    exported = await asyncio.to_thread(run, "case", "export-hashes", "--format", "json", env=env)
    (row,) = json.loads(exported.stdout)
    assert row["sha256"] == hashlib.sha256(plain).hexdigest() and row["md5"] == hashlib.md5(plain).hexdigest()
    as_csv = await asyncio.to_thread(run, "case", "export-hashes", env=env)
    assert as_csv.stdout.splitlines()[0] == "case_id,file_id,sha256,md5,pdq,pdq_quality,age_band,received"

    verified = await asyncio.to_thread(run, "case", "verify-audit", env=env)
    assert (verified.returncode, verified.stdout.strip()) == (0, "audit log intact: 1 entries")
    (entry,) = await svc.audit.entries()
    await redis.xdel(keys.AUDIT, entry.id)
    broken = await asyncio.to_thread(run, "case", "verify-audit", env=env)
    assert broken.returncode == 1 and "broken" in broken.stderr


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT, signal.SIGTERM], ids=["kill", "int", "term"])
def test_a_signal_mid_file_leaves_no_plaintext(tmp_path: Path, sig: signal.Signals) -> None:
    """A real process, stopped halfway through a 4 MiB file that it reads from a pipe we feed."""
    key = crypto.PrivateKey.generate(crypto.Kem.X25519)
    key_file = tmp_path / "k.json"
    key_file.write_bytes(crypto.dump_key_file([key], PASSPHRASE))
    marker = b"PLAINTEXT-EVIDENCE-"
    plain = (marker * (4 * 1024 * 1024 // len(marker) + 1))[: 4 * 1024 * 1024]
    blob = crypto.encrypt(plain, [key.public], name="film.mp4")
    fifo = tmp_path / "in.scup"
    os.mkfifo(fifo)
    out = tmp_path / "out"
    env = {k: v for k, v in os.environ.items()} | {"UPLOAD_KEY_PASSPHRASE": PASSPHRASE}
    process = subprocess.Popen(
        [sys.executable, "-m", "console", "case", "decrypt", "--key", str(key_file)]  # noqa: RUF005
        + ["--in", str(fifo), "--out", str(out)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # As from a terminal: a shell that starts jobs in the background makes them ignore Ctrl-C.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        with fifo.open("wb") as feed:
            # A pipe holds 64 KiB: once this write returns, the process has read (and authenticated)
            # about 2 MiB of chunks and waits for the rest.
            feed.write(blob[: len(blob) // 2])
            feed.flush()
            assert [p.name for p in out.iterdir()] == []  # nothing named holds plaintext mid-file
            process.send_signal(sig)
            _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == {signal.SIGKILL: -9, signal.SIGINT: 130, signal.SIGTERM: 143}[sig], stderr
    if sig is not signal.SIGKILL:
        assert "interrupted; no plaintext" in stderr
    assert [p.name for p in out.iterdir()] == []
    leftovers = b"".join(p.read_bytes() for p in tmp_path.rglob("*") if p.is_file() and p != fifo)
    assert marker not in leftovers
