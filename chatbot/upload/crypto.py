"""The SCUP v1 upload format: encrypt to the organisation's public keys, decrypt with its private key file.

The byte layout and the threat model are in docs/upload-crypto.md; chatbot/static/upload/crypto.js is
the browser's implementation of the same format and tests/chatbot/upload/test_crypto_browser.py holds them to
each other. The server itself never calls `decrypt`: it holds no private key.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import struct
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, x25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

MAGIC = b"SCUP"
VERSION = 1
CHUNK_SIZE = 64 * 1024
TAG = 16
NONCE_PREFIX = 7
KEY_ID = 8
WRAPPED = 32 + TAG
META_INDEX = 0xFFFFFFFF  # never a chunk index: the metadata nonce cannot collide with a chunk's
META_FLAG = 2
MAX_RECIPIENTS = 16
MAX_META = 64 * 1024
MIN_CHUNK, MAX_CHUNK = 1024, 4 * 1024 * 1024
META_PAD = 256  # the name's length shows only to the next 256 bytes
MAX_NAME_BYTES = 1024  # UTF-8 bytes of the file name (writers shorten longer names)
MAX_TYPE_BYTES = 255
MAX_SIZE = 2**53 - 1  # what JavaScript holds exactly
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_TYPE = re.compile(r"[\x20-\x7e]*")
WRAP_INFO = b"stodchat upload v1 wrap"
_FIXED = struct.Struct(">4sBB7sI")  # magic, version, recipient count, nonce prefix, chunk size

KEY_FILE_FORMAT = "stodchat-upload-private-key"
KDF_ITERATIONS = 600_000
MIN_KDF_ITERATIONS = 100_000


class Kem(IntEnum):
    """How a file key is wrapped to one recipient public key."""

    X25519 = 1
    P256 = 2

    @property
    def label(self) -> str:
        return "x25519" if self is Kem.X25519 else "p256"

    @property
    def public_len(self) -> int:
        return 32 if self is Kem.X25519 else 65

    @classmethod
    def from_label(cls, label: str) -> Kem:
        for kem in cls:
            if kem.label == label:
                return kem
        raise MalformedKey(f"unknown key type {label!r} (use x25519 or p256)")


class UploadCryptoError(Exception):
    """Base of every typed failure; `code` is stable for the wire and the CLI."""

    code = "crypto_error"


class Malformed(UploadCryptoError):
    """Not a SCUP file at all (wrong magic, impossible field values)."""

    code = "malformed"


class UnsupportedVersion(UploadCryptoError):
    """A SCUP file of a version or key type this code does not know."""

    code = "unsupported_version"


class WrongKey(UploadCryptoError):
    """None of the file's recipients is a key we hold."""

    code = "wrong_key"


class Tampered(UploadCryptoError):
    """A byte was changed, chunks were reordered, or data was appended: authentication failed."""

    code = "tampered"


class Truncated(UploadCryptoError):
    """The file ends before its last chunk."""

    code = "truncated"


class WrongPassphrase(UploadCryptoError):
    code = "wrong_passphrase"


class MalformedKey(UploadCryptoError):
    code = "malformed_key"


def b64e(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64d(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError):
        raise MalformedKey("not base64url") from None


@dataclass(frozen=True)
class PublicKey:
    """A recipient: `x25519:<base64url raw>` or `p256:<base64url uncompressed point>` in settings."""

    kem: Kem
    raw: bytes

    @classmethod
    def parse(cls, text: str) -> PublicKey:
        label, sep, value = text.strip().partition(":")
        if not sep:
            raise MalformedKey("a public key looks like x25519:BASE64URL or p256:BASE64URL")
        kem = Kem.from_label(label.lower())
        raw = b64d(value)
        if len(raw) != kem.public_len:
            raise MalformedKey(f"a {kem.label} public key has {kem.public_len} bytes, got {len(raw)}")
        try:
            _load_public(kem, raw)
        except ValueError:
            raise MalformedKey(f"not a valid {kem.label} public key") from None
        return cls(kem, raw)

    @property
    def key_id(self) -> bytes:
        return hashlib.sha256(bytes([self.kem]) + self.raw).digest()[:KEY_ID]

    def __str__(self) -> str:
        return f"{self.kem.label}:{b64e(self.raw)}"


def parse_public_keys(text: str | Iterable[str]) -> tuple[PublicKey, ...]:
    parts = text.split(",") if isinstance(text, str) else list(text)
    return tuple(PublicKey.parse(part) for part in parts if part.strip())


class PrivateKey:
    """One private key in memory (loaded from a key file; never written anywhere in clear)."""

    def __init__(self, kem: Kem, secret: x25519.X25519PrivateKey | ec.EllipticCurvePrivateKey) -> None:
        self.kem = kem
        self._secret = secret
        self.public = PublicKey(kem, _public_raw(secret))

    @classmethod
    def generate(cls, kem: Kem) -> PrivateKey:
        if kem is Kem.X25519:
            return cls(kem, x25519.X25519PrivateKey.generate())
        return cls(kem, ec.generate_private_key(ec.SECP256R1()))

    @classmethod
    def from_raw(cls, kem: Kem, raw: bytes) -> PrivateKey:
        if len(raw) != 32:
            raise MalformedKey("a private key has 32 bytes")
        if kem is Kem.X25519:
            return cls(kem, x25519.X25519PrivateKey.from_private_bytes(raw))
        try:
            return cls(kem, ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1()))
        except ValueError:
            raise MalformedKey("not a valid p256 private key") from None

    def raw(self) -> bytes:
        if isinstance(self._secret, x25519.X25519PrivateKey):
            return self._secret.private_bytes_raw()
        return self._secret.private_numbers().private_value.to_bytes(32, "big")

    def exchange(self, peer_raw: bytes) -> bytes:
        try:
            peer = _load_public(self.kem, peer_raw)
            if isinstance(self._secret, x25519.X25519PrivateKey):
                assert isinstance(peer, x25519.X25519PublicKey)
                return self._secret.exchange(peer)
            assert isinstance(peer, ec.EllipticCurvePublicKey)
            return self._secret.exchange(ec.ECDH(), peer)
        except ValueError:
            # A low-order or off-curve ephemeral key is a forged header.
            raise Tampered("the file's ephemeral key is not a valid point") from None

    def __repr__(self) -> str:
        return f"PrivateKey({self.public})"


def _load_public(kem: Kem, raw: bytes) -> x25519.X25519PublicKey | ec.EllipticCurvePublicKey:
    if kem is Kem.X25519:
        return x25519.X25519PublicKey.from_public_bytes(raw)
    return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)


def _public_raw(secret: x25519.X25519PrivateKey | ec.EllipticCurvePrivateKey) -> bytes:
    if isinstance(secret, x25519.X25519PrivateKey):
        return secret.public_key().public_bytes_raw()
    return secret.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)


def _kek(kem: Kem, shared: bytes, epk: bytes, recipient: bytes) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=epk + recipient, info=WRAP_INFO + bytes([kem]))
    return hkdf.derive(shared)


def _wrap_aad(kem: Kem, key_id: bytes) -> bytes:
    return MAGIC + bytes([VERSION, kem]) + key_id


def chunk_nonce(prefix: bytes, index: int, last: bool) -> bytes:
    return prefix + struct.pack(">IB", index, 1 if last else 0)


def chunk_aad(header_hash: bytes, index: int, last: bool) -> bytes:
    return header_hash + struct.pack(">IB", index, 1 if last else 0)


def meta_nonce(prefix: bytes) -> bytes:
    return prefix + struct.pack(">IB", META_INDEX, META_FLAG)


def _well_formed(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate, which JSON's \\u escapes can smuggle in
        return False
    return True


def _refuse_number(text: str) -> object:
    raise ValueError(f"not a JSON integer: {text[:20]}")


@dataclass(frozen=True)
class Metadata:
    """The metadata record; its rules are in docs/upload-crypto.md and tests/chatbot/upload/vectors/."""

    name: str
    type: str
    size: int

    @classmethod
    def for_writing(cls, name: str, type: str, size: int) -> Metadata:
        """What a writer records: the name and type brought within the rules, never refused."""
        name = "".join(c for c in name if _well_formed(c))
        name = _CONTROL.sub("_", name)
        while len(name.encode()) > MAX_NAME_BYTES:
            name = name[:-1]
        if len(type) > MAX_TYPE_BYTES or not _TYPE.fullmatch(type):
            type = ""
        return cls(name, type, size)

    def encode(self) -> bytes:
        raw = json.dumps({"name": self.name, "type": self.type, "size": self.size}, ensure_ascii=False)
        data = raw.encode()
        return data + b" " * (-len(data) % META_PAD)

    @classmethod
    def decode(cls, data: bytes) -> Metadata:
        """Only an authenticated record comes here, so a bad one is a non-conforming writer: Malformed."""
        try:
            record = json.loads(
                data.decode("utf-8"), parse_float=_refuse_number, parse_constant=_refuse_number
            )
        except (ValueError, UnicodeDecodeError):
            raise Malformed("the metadata record is not UTF-8 JSON with an integer size") from None
        if not isinstance(record, dict) or set(record) != {"name", "type", "size"}:
            raise Malformed("the metadata record must have exactly name, type and size")
        name, type_, size = record["name"], record["type"], record["size"]
        if not isinstance(name, str) or not _well_formed(name) or _CONTROL.search(name):
            raise Malformed("the metadata name must be text without control characters")
        if len(name.encode()) > MAX_NAME_BYTES:
            raise Malformed(f"the metadata name is longer than {MAX_NAME_BYTES} UTF-8 bytes")
        if not isinstance(type_, str) or len(type_) > MAX_TYPE_BYTES or not _TYPE.fullmatch(type_):
            raise Malformed("the metadata type must be printable ASCII, at most 255 characters")
        if not isinstance(size, int) or isinstance(size, bool) or not 0 <= size <= MAX_SIZE:
            raise Malformed("the metadata size must be an integer from 0 to 2^53 - 1")
        return cls(name, type_, size)


def ciphertext_size(header_len: int, plaintext_size: int, chunk_size: int = CHUNK_SIZE) -> int:
    chunks = max(1, -(-plaintext_size // chunk_size))
    return header_len + plaintext_size + chunks * TAG


# --- encryption (tests, tools; the browser's crypto.js is the production encryptor) -----------------


def encrypt(
    data: bytes,
    recipients: Sequence[PublicKey],
    *,
    name: str = "",
    type: str = "",
    chunk_size: int = CHUNK_SIZE,
) -> bytes:
    """The whole SCUP file for `data`."""
    return b"".join(encrypt_stream(data, recipients, name=name, type=type, chunk_size=chunk_size))


def encrypt_stream(
    data: bytes,
    recipients: Sequence[PublicKey],
    *,
    name: str = "",
    type: str = "",
    chunk_size: int = CHUNK_SIZE,
) -> Iterator[bytes]:
    if not recipients or len(recipients) > MAX_RECIPIENTS:
        raise ValueError(f"between 1 and {MAX_RECIPIENTS} recipients")
    if not MIN_CHUNK <= chunk_size <= MAX_CHUNK:
        raise ValueError("chunk size out of range")
    file_key = AESGCM.generate_key(bit_length=256)
    prefix = os.urandom(NONCE_PREFIX)
    head = bytearray(_FIXED.pack(MAGIC, VERSION, len(recipients), prefix, chunk_size))
    for recipient in recipients:
        ephemeral = PrivateKey.generate(recipient.kem)
        shared = ephemeral.exchange(recipient.raw)
        epk = ephemeral.public.raw
        kek = _kek(recipient.kem, shared, epk, recipient.raw)
        wrapped = AESGCM(kek).encrypt(bytes(12), file_key, _wrap_aad(recipient.kem, recipient.key_id))
        head += bytes([recipient.kem]) + recipient.key_id + epk + wrapped
    aead = AESGCM(file_key)
    meta = aead.encrypt(
        meta_nonce(prefix),
        Metadata.for_writing(name, type, len(data)).encode(),
        hashlib.sha256(head).digest(),
    )
    head += struct.pack(">I", len(meta)) + meta
    header_hash = hashlib.sha256(head).digest()
    yield bytes(head)
    count = max(1, -(-len(data) // chunk_size))
    for index in range(count):
        last = index == count - 1
        piece = data[index * chunk_size : (index + 1) * chunk_size]
        yield aead.encrypt(chunk_nonce(prefix, index, last), piece, chunk_aad(header_hash, index, last))


# --- reading -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Recipient:
    kem: Kem
    key_id: bytes
    epk: bytes
    wrapped: bytes


@dataclass(frozen=True)
class Header:
    """Everything before the first chunk; readable without a key (the server checks uploads with it)."""

    version: int
    nonce_prefix: bytes
    chunk_size: int
    recipients: tuple[Recipient, ...]
    key_part: bytes  # fixed fields + recipient sections: the metadata's AAD is its hash
    meta_ct: bytes
    length: int

    @property
    def hash(self) -> bytes:
        return hashlib.sha256(self.key_part + struct.pack(">I", len(self.meta_ct)) + self.meta_ct).digest()

    def key_ids(self) -> set[bytes]:
        return {r.key_id for r in self.recipients}


def _read_exact(src: BinaryIO, n: int, what: str) -> bytes:
    data = src.read(n)
    if len(data) != n:
        raise Truncated(f"the file ends inside the {what}")
    return data


def read_header(src: BinaryIO) -> Header:
    fixed = src.read(_FIXED.size)
    if len(fixed) >= 4 and fixed[:4] != MAGIC:
        raise Malformed("not an upload file (wrong magic)")
    if len(fixed) >= 5 and fixed[4] != VERSION:
        raise UnsupportedVersion(f"upload format version {fixed[4]} is not supported (only {VERSION})")
    if len(fixed) != _FIXED.size:
        raise Truncated("the file ends inside the header")
    _, version, count, prefix, chunk_size = _FIXED.unpack(fixed)
    # Past the magic and the version, v1 fixes every value: anything impossible was altered.
    if not 1 <= count <= MAX_RECIPIENTS:
        raise Tampered(f"impossible recipient count {count}")
    if not MIN_CHUNK <= chunk_size <= MAX_CHUNK:
        raise Tampered(f"impossible chunk size {chunk_size}")
    key_part = bytearray(fixed)
    recipients = []
    for _ in range(count):
        kem_byte = _read_exact(src, 1, "header")[0]
        try:
            kem = Kem(kem_byte)
        except ValueError:
            # v1 has key types 1 and 2 only (a new one comes with a new version): an altered table.
            raise Tampered(f"recipient table altered: key type {kem_byte} does not exist in v1") from None
        rest = _read_exact(src, KEY_ID + kem.public_len + WRAPPED, "header")
        key_part += bytes([kem_byte]) + rest
        key_id, epk, wrapped = rest[:KEY_ID], rest[KEY_ID:-WRAPPED], rest[-WRAPPED:]
        recipients.append(Recipient(kem, key_id, epk, wrapped))
    (meta_len,) = struct.unpack(">I", _read_exact(src, 4, "header"))
    if not TAG <= meta_len <= MAX_META:
        raise Tampered(f"impossible metadata length {meta_len}")
    meta_ct = _read_exact(src, meta_len, "header")
    return Header(
        version,
        prefix,
        chunk_size,
        tuple(recipients),
        bytes(key_part),
        meta_ct,
        len(key_part) + 4 + meta_len,
    )


def _unwrap(header: Header, keys: Sequence[PrivateKey]) -> bytes:
    by_id = {key.public.key_id: key for key in keys}
    failed = False
    for recipient in header.recipients:
        key = by_id.get(recipient.key_id)
        if key is None or key.kem is not recipient.kem:
            continue
        try:
            shared = key.exchange(recipient.epk)
            kek = _kek(key.kem, shared, recipient.epk, key.public.raw)
            return AESGCM(kek).decrypt(bytes(12), recipient.wrapped, _wrap_aad(key.kem, recipient.key_id))
        except (InvalidTag, Tampered):
            failed = True  # this section was altered; another one for our keys may still open
    if failed:
        raise Tampered("no wrapped file key for our keys authenticates")
    raise WrongKey("this file was not encrypted to any of the given keys")


def decrypt_stream(src: BinaryIO, keys: Sequence[PrivateKey], dst: BinaryIO) -> Metadata:
    """Decrypt `src` into `dst`. On any error `dst` holds unauthenticated bytes: the caller discards it."""
    header = read_header(src)
    file_key = _unwrap(header, keys)
    aead = AESGCM(file_key)
    try:
        meta_plain = aead.decrypt(
            meta_nonce(header.nonce_prefix), header.meta_ct, hashlib.sha256(header.key_part).digest()
        )
    except InvalidTag:
        raise Tampered("the metadata record does not authenticate") from None
    meta = Metadata.decode(meta_plain)
    header_hash = header.hash
    # The authenticated size fixes how many chunks follow and how long each is, so a short file is
    # told apart from a changed one; the last-chunk flag in every nonce backs this up.
    count = max(1, -(-meta.size // header.chunk_size))
    for index in range(count):
        last = index == count - 1
        length = (meta.size - index * header.chunk_size if last else header.chunk_size) + TAG
        frame = src.read(length)
        if len(frame) != length:
            raise Truncated("the file ends before its last chunk")
        try:
            plain = aead.decrypt(
                chunk_nonce(header.nonce_prefix, index, last), frame, chunk_aad(header_hash, index, last)
            )
        except InvalidTag:
            raise Tampered(f"chunk {index} does not authenticate") from None
        dst.write(plain)
    if src.read(1):
        raise Tampered("there are bytes after the last chunk")
    return meta


def decrypt(data: bytes, keys: Sequence[PrivateKey]) -> tuple[Metadata, bytes]:
    import io

    out = io.BytesIO()
    meta = decrypt_stream(io.BytesIO(data), keys, out)
    return meta, out.getvalue()


# --- the private key file -----------------------------------------------------------------------------


def _passphrase_key(passphrase: str, salt: bytes, iterations: int) -> bytes:
    return hashlib.pbkdf2_hmac("sha256", passphrase.encode(), salt, iterations, dklen=32)


def dump_key_file(keys: Sequence[PrivateKey], passphrase: str, *, iterations: int = KDF_ITERATIONS) -> bytes:
    """The JSON key file: each raw private key AES-256-GCM-sealed under PBKDF2-SHA256(passphrase)."""
    if not passphrase:
        raise ValueError("a passphrase is required")
    salt = os.urandom(16)
    aead = AESGCM(_passphrase_key(passphrase, salt, iterations))
    sealed = []
    for key in keys:
        nonce = os.urandom(12)
        public = str(key.public)
        sealed.append(
            {
                "kem": key.kem.label,
                "public": public,
                "nonce": b64e(nonce),
                "ciphertext": b64e(aead.encrypt(nonce, key.raw(), public.encode())),
            }
        )
    document = {
        "format": KEY_FILE_FORMAT,
        "version": 1,
        "kdf": {"name": "PBKDF2-SHA256", "iterations": iterations, "salt": b64e(salt)},
        "keys": sealed,
    }
    return (json.dumps(document, indent=2) + "\n").encode()


def load_key_file(data: bytes, passphrase: str) -> list[PrivateKey]:
    try:
        document = json.loads(data.decode())
        if document.get("format") != KEY_FILE_FORMAT:
            raise MalformedKey("not an upload private key file")
        if document.get("version") != 1:
            raise UnsupportedVersion(f"key file version {document.get('version')!r} is not supported")
        kdf = document["kdf"]
        iterations = int(kdf["iterations"])
        if kdf["name"] != "PBKDF2-SHA256" or iterations < MIN_KDF_ITERATIONS:
            raise MalformedKey("the key file's passphrase derivation is not PBKDF2-SHA256 ≥ 100,000")
        aead = AESGCM(_passphrase_key(passphrase, b64d(kdf["salt"]), iterations))
        keys = []
        for entry in document["keys"]:
            kem = Kem.from_label(entry["kem"])
            public = PublicKey.parse(entry["public"])
            try:
                raw = aead.decrypt(b64d(entry["nonce"]), b64d(entry["ciphertext"]), entry["public"].encode())
            except InvalidTag:
                raise WrongPassphrase("wrong passphrase (or the key file was altered)") from None
            key = PrivateKey.from_raw(kem, raw)
            if key.public != public:
                raise MalformedKey("a private key does not match its public key")
            keys.append(key)
    except UploadCryptoError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError):
        raise MalformedKey("the key file does not parse") from None
    if not keys:
        raise MalformedKey("the key file holds no keys")
    return keys
