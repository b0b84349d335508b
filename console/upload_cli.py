"""`python -m console keys generate` and `python -m console case decrypt`: the analyst's offline tools."""

from __future__ import annotations

import argparse
import asyncio
import errno
import getpass
import io
import os
import re
import secrets
import select
import shutil
import signal
import sys
import unicodedata
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, BinaryIO

from chatbot.settings import Settings, env_help
from chatbot.store import client
from chatbot.upload import crypto

PASSPHRASE_ENV = "UPLOAD_KEY_PASSPHRASE"  # noqa: S105 (the variable's name, not a secret)
MIN_PASSPHRASE = 12


def register(commands: Any) -> None:
    """Add the `keys` and `case` command groups to the console's subcommands."""
    keys = commands.add_parser("keys", help="upload key pairs", description="Upload key pairs.")
    key_commands = keys.add_subparsers(dest="keys_command", required=True, metavar="COMMAND")
    generate = key_commands.add_parser(
        "generate",
        help="make a key pair: private key file (passphrase-sealed) and public keys for settings",
        description=(
            "Make the organisation's upload key pair. The private key file is sealed with "
            "PBKDF2-SHA256 + AES-256-GCM under a passphrase; keep it off the server. The public keys "
            "are printed as the UPLOAD_PUBLIC_KEYS setting."
        ),
    )
    generate.add_argument("--out", required=True, type=Path, help="where to write the private key file")
    generate.add_argument(
        "--kem",
        default="x25519,p256",
        help="key types, comma-separated (default: x25519,p256: browsers without X25519 use P-256)",
    )
    _passphrase_options(generate)
    generate.set_defaults(handler=_generate)

    case = commands.add_parser("case", help="uploaded cases", description="Uploaded cases.")
    case_commands = case.add_subparsers(dest="case_command", required=True, metavar="COMMAND")
    decrypt = case_commands.add_parser(
        "decrypt",
        help="decrypt uploaded files offline with the private key file",
        description=(
            "Decrypt SCUP files. Plaintext gets a name in --out (mode 0600) only once the whole file has "
            "authenticated; a failure, Ctrl-C, SIGTERM or SIGKILL leaves no plaintext file behind."
        ),
    )
    decrypt.add_argument("--key", required=True, type=Path, help="the private key file")
    decrypt.add_argument(
        "--in", dest="inputs", required=True, action="append", type=Path, help="a .scup file (repeatable)"
    )
    decrypt.add_argument("--out", required=True, type=Path, help="directory for the decrypted files")
    _passphrase_options(decrypt)
    decrypt.set_defaults(handler=_decrypt)

    listing = case_commands.add_parser(
        "list", help="list cases (no content: status, age band, hashes, dates)", epilog=env_help()
    )
    listing.set_defaults(handler=_list)
    export = case_commands.add_parser(
        "export-hashes", help="hashes of every case's files for hash-sharing submissions", epilog=env_help()
    )
    export.add_argument("--format", choices=("csv", "json"), default="csv")
    export.set_defaults(handler=_export)
    verify = case_commands.add_parser(
        "verify-audit", help="check the audit log's hash chain", epilog=env_help()
    )
    verify.set_defaults(handler=_verify)


def _passphrase_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--passphrase-file",
        type=Path,
        help=f"read the passphrase from this file (else ${PASSPHRASE_ENV}, else a prompt)",
    )


def _passphrase(args: argparse.Namespace, *, confirm: bool) -> str:
    if args.passphrase_file is not None:
        return str(args.passphrase_file.read_text(encoding="utf-8").rstrip("\r\n"))
    if os.environ.get(PASSPHRASE_ENV):
        return os.environ[PASSPHRASE_ENV]
    first = getpass.getpass("passphrase: ")
    if confirm and getpass.getpass("again: ") != first:
        raise SystemExit("error: the passphrases differ")
    return first


def _generate(args: argparse.Namespace) -> int:
    out: Path = args.out
    if out.exists():
        print(f"error: {out} exists; refusing to overwrite a private key", file=sys.stderr)
        return 2
    try:
        kems = [crypto.Kem.from_label(label.strip()) for label in args.kem.split(",") if label.strip()]
    except crypto.MalformedKey as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    passphrase = _passphrase(args, confirm=True)
    if len(passphrase) < MIN_PASSPHRASE:
        print(f"error: the passphrase needs at least {MIN_PASSPHRASE} characters", file=sys.stderr)
        return 2
    keys = [crypto.PrivateKey.generate(kem) for kem in kems]
    data = crypto.dump_key_file(keys, passphrase)
    # O_EXCL: never clobber, and the file is 0600 from the first byte.
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    print(f"private key file written to {out} (keep it off the server, with its passphrase apart)")
    print("public keys for the gateway's settings:")
    print("UPLOAD_PUBLIC_KEYS=" + ",".join(str(key.public) for key in keys))
    return 0


_UNSAFE = re.compile(r"[^\w .()+-]")


def safe_name(name: str, fallback: str) -> str:
    """A file name from the (child-chosen) metadata that cannot escape the output directory."""
    name = unicodedata.normalize("NFC", name).replace("/", "_").replace("\\", "_")
    name = _UNSAFE.sub("_", name).strip(" .")[:120]
    return name or fallback


class Terminated(BaseException):
    """SIGTERM, raised where the process is, so the same clean-up runs as for Ctrl-C."""


def _terminate(signum: int, frame: object) -> None:
    raise Terminated


def _decrypt(args: argparse.Namespace) -> int:
    try:
        keys = crypto.load_key_file(args.key.read_bytes(), _passphrase(args, confirm=False))
    except OSError as exc:
        print(f"error: cannot read the key file: {exc.strerror}", file=sys.stderr)
        return 2
    except crypto.UploadCryptoError as exc:
        print(f"error: {exc.code}: {exc}", file=sys.stderr)
        return 1
    out: Path = args.out
    out.mkdir(mode=0o700, parents=True, exist_ok=True)
    previous = signal.signal(signal.SIGTERM, _terminate)
    failures = 0
    current: Path | None = None
    try:
        for source in args.inputs:
            current = source
            try:
                target, meta = _decrypt_one(source, keys, out)
            except crypto.UploadCryptoError as exc:
                print(f"{source}: error: {exc.code}: {exc}", file=sys.stderr)
                failures += 1
                continue
            except OSError as exc:
                print(f"{source}: error: {exc.strerror}", file=sys.stderr)
                failures += 1
                continue
            print(f"{source}: {target.name} ({meta.type or 'unknown type'}, {meta.size} bytes)")
    except (KeyboardInterrupt, Terminated) as exc:
        print(f"{current}: interrupted; no plaintext of it was left on disk", file=sys.stderr)
        return 130 if isinstance(exc, KeyboardInterrupt) else 143
    finally:
        signal.signal(signal.SIGTERM, previous)
    return 1 if failures else 0


def _decrypt_one(source: Path, keys: list[crypto.PrivateKey], out: Path) -> tuple[Path, crypto.Metadata]:
    """Decrypt one file so that its plaintext gets a name in `out` only after it all authenticated.

    Chunks go into an anonymous file (O_TMPFILE: no name, mode 0600, freed by the kernel whenever the
    process ends, SIGKILL included), or into memory where the file system has no O_TMPFILE. Only after
    the last chunk authenticates is the plaintext given a name (see `_publish`).
    """
    fd = _anonymous_file(out)
    if fd is None:
        buffer = io.BytesIO()
        with _open_interruptible(source) as src:
            meta = crypto.decrypt_stream(src, keys, buffer)
        target = _publish(out, safe_name(meta.name, source.stem), buffer, None)
        return target, meta
    try:
        with _open_interruptible(source) as src, os.fdopen(fd, "r+b", closefd=False) as dst:
            meta = crypto.decrypt_stream(src, keys, dst)
            dst.seek(0)
            target = _publish(out, safe_name(meta.name, source.stem), dst, fd)
        return target, meta
    finally:
        os.close(fd)


# How long one read may wait for a pipe before Python looks at pending signals again.
SIGNAL_CHECK_S = 0.2


class _Interruptible(io.RawIOBase):
    """Reads a file or a pipe so that Ctrl-C and SIGTERM act at once. A signal that lands between two
    reads of a pipe (inside one buffered read, in C) would otherwise be noticed only when more data came:
    the process would sit in read() with half a file, deaf to the operator. Each read here waits at most
    SIGNAL_CHECK_S in select(), and returns to Python (which runs pending handlers) in between."""

    def __init__(self, fd: int) -> None:
        super().__init__()
        self._fd = fd

    def readable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._fd

    def readinto(self, buffer: Any) -> int:
        while not select.select([self._fd], [], [], SIGNAL_CHECK_S)[0]:
            pass  # back in Python between waits: a pending KeyboardInterrupt or Terminated is raised here
        data = os.read(self._fd, len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            os.close(self._fd)
        super().close()


def _open_interruptible(source: Path) -> io.BufferedReader:
    return io.BufferedReader(_Interruptible(os.open(source, os.O_RDONLY)))


def _anonymous_file(directory: Path) -> int | None:
    flag = getattr(os, "O_TMPFILE", 0)
    if not flag:
        return None
    try:
        return os.open(directory, flag | os.O_RDWR, 0o600)
    except OSError as exc:
        if exc.errno in (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL, errno.ENOENT):
            return None  # the file system cannot: decrypt into memory instead
        raise


def _publish(out: Path, name: str, plaintext: BinaryIO, anonymous_fd: int | None) -> Path:
    """Give authenticated plaintext a free name in `out`, never replacing a file, mode 0600.

    First choice: link the anonymous file in (one atomic step: whole or nothing). Where the kernel
    refuses that (some sandboxes and file systems), copy into a hidden 0600 file made with O_EXCL and
    link that; the hidden file is removed on any exception, Ctrl-C or SIGTERM, and only a SIGKILL
    during this copy of an already authenticated file can leave it behind.
    """
    if anonymous_fd is not None:
        while True:
            target = _free_path(out, name)
            try:
                os.link(f"/proc/self/fd/{anonymous_fd}", target, follow_symlinks=True)
                return target
            except FileExistsError:
                continue  # the name was taken in between: the next free one
            except OSError:
                break  # no linking an anonymous file here: copy instead
    temporary = out / f".{secrets.token_hex(8)}.partial"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as dst:
            shutil.copyfileobj(plaintext, dst, 1024 * 1024)
        while True:
            target = _free_path(out, name)
            try:
                os.link(temporary, target)
                return target
            except FileExistsError:
                continue
    finally:
        temporary.unlink(missing_ok=True)


def _free_path(directory: Path, name: str) -> Path:
    candidate = directory / name
    stem, suffix = candidate.stem, candidate.suffix
    counter = 1
    while candidate.exists():
        candidate = directory / f"{stem} ({counter}){suffix}"
        counter += 1
    return candidate


def _with_services(work: Callable[[Any], Awaitable[int]]) -> int:
    """Run `work(cases_and_audit)` against the Redis in REDIS_URL; read-only commands only."""
    settings = Settings.from_env()
    if not (settings.redis_url or settings.redis_sentinels or settings.redis_cluster_nodes):
        print("error: REDIS_URL is not set", file=sys.stderr)
        return 2

    async def run() -> int:
        from chatbot.clock import SystemClock
        from chatbot.upload.wiring import build_uploads

        redis = client.connect(
            settings.redis_url,
            sentinels=settings.redis_sentinels,
            master_name=settings.redis_master_name,
            cluster_nodes=settings.redis_cluster_nodes,
        )
        try:
            uploads = build_uploads(settings, redis, SystemClock())
            return await work((uploads.cases, uploads.audit))
        finally:
            await redis.aclose()

    return asyncio.run(run())


def _list(args: argparse.Namespace) -> int:
    async def work(services: Any) -> int:
        cases, _ = services
        for case in await cases.list_cases():
            print(
                f"{case.case_id}  {case.status.value:<9} {case.age_band:<9} "
                f"{case.created:%Y-%m-%d}  files={len(case.files)}  topic={case.topic or '-'}"
                + ("  (ciphertext deleted)" if case.ciphertext_deleted else "")
            )
        return 0

    return _with_services(work)


def _export(args: argparse.Namespace) -> int:
    async def work(services: Any) -> int:
        cases, _ = services
        sys.stdout.write(await cases.export_hashes(args.format))
        return 0

    return _with_services(work)


def _verify(args: argparse.Namespace) -> int:
    from chatbot.store.audit import AuditBroken

    async def work(services: Any) -> int:
        _, audit = services
        try:
            count = await audit.verify()
        except AuditBroken as exc:
            print(f"error: audit log broken: {exc}", file=sys.stderr)
            return 1
        print(f"audit log intact: {count} entries")
        return 0

    return _with_services(work)
