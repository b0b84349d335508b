"""The SCUP format in Python: round trips for both key types and a typed error for every kind of damage."""

from __future__ import annotations

import io
import json
import struct
from pathlib import Path

import pytest

from chatbot.upload import crypto
from chatbot.upload.crypto import Kem, PrivateKey, PublicKey

SMALL = 1024  # small chunks make multi-chunk files cheap to build in tests


@pytest.fixture(scope="module", params=[Kem.X25519, Kem.P256], ids=["x25519", "p256"])
def key(request: pytest.FixtureRequest) -> PrivateKey:
    return PrivateKey.generate(request.param)


@pytest.mark.parametrize("size", [0, 1, SMALL - 1, SMALL, SMALL + 1, 5 * SMALL, 5 * SMALL + 17])
def test_round_trip_at_every_chunk_boundary(key: PrivateKey, size: int) -> None:
    data = bytes(range(256)) * (size // 256) + bytes(size % 256)
    blob = crypto.encrypt(data, [key.public], name="bild.jpg", type="image/jpeg", chunk_size=SMALL)
    meta, plain = crypto.decrypt(blob, [key])
    assert plain == data
    assert meta == crypto.Metadata("bild.jpg", "image/jpeg", size)
    header = crypto.read_header(io.BytesIO(blob))
    assert len(blob) == crypto.ciphertext_size(header.length, size, SMALL)


def test_default_chunk_is_64_kib_and_plaintext_never_appears(key: PrivateKey) -> None:
    data = b"PLAINTEXT-MARKER" * 20_000
    blob = crypto.encrypt(data, [key.public], name="secret-name.mp4", type="video/mp4")
    assert crypto.read_header(io.BytesIO(blob)).chunk_size == 64 * 1024
    assert b"PLAINTEXT-MARKER" not in blob
    assert b"secret-name" not in blob and b"video/mp4" not in blob
    assert crypto.decrypt(blob, [key])[1] == data


def test_several_recipients_each_can_decrypt() -> None:
    keys = [PrivateKey.generate(Kem.X25519), PrivateKey.generate(Kem.P256)]
    blob = crypto.encrypt(b"hello", [k.public for k in keys])
    for k in keys:
        assert crypto.decrypt(blob, [k])[1] == b"hello"


def test_name_length_is_padded(key: PrivateKey) -> None:
    short = crypto.read_header(io.BytesIO(crypto.encrypt(b"x", [key.public], name="a")))
    longer = crypto.read_header(io.BytesIO(crypto.encrypt(b"x", [key.public], name="a" * 100)))
    assert len(short.meta_ct) == len(longer.meta_ct) == 256 + 16


def test_wrong_key(key: PrivateKey) -> None:
    blob = crypto.encrypt(b"data", [key.public])
    with pytest.raises(crypto.WrongKey):
        crypto.decrypt(blob, [PrivateKey.generate(key.kem)])


def test_every_flipped_byte_is_tampering_or_a_named_error(key: PrivateKey) -> None:
    blob = crypto.encrypt(b"abc" * 1000, [key.public], name="n", chunk_size=SMALL)
    for position in range(len(blob)):
        damaged = bytearray(blob)
        damaged[position] ^= 0x01
        with pytest.raises(crypto.UploadCryptoError) as caught:
            crypto.decrypt(bytes(damaged), [key])
        assert type(caught.value) in (
            crypto.Tampered,
            crypto.Malformed,
            crypto.UnsupportedVersion,
            crypto.WrongKey,
            crypto.Truncated,
        ), position


def test_payload_damage_is_tampered(key: PrivateKey) -> None:
    blob = bytearray(crypto.encrypt(b"abc" * 1000, [key.public], chunk_size=SMALL))
    blob[-5] ^= 0x80
    with pytest.raises(crypto.Tampered):
        crypto.decrypt(bytes(blob), [key])


def test_reordered_chunks_are_tampered(key: PrivateKey) -> None:
    data = bytes(3 * SMALL)
    blob = crypto.encrypt(data, [key.public], chunk_size=SMALL)
    hlen = crypto.read_header(io.BytesIO(blob)).length
    frame = SMALL + 16
    c0, c1 = blob[hlen : hlen + frame], blob[hlen + frame : hlen + 2 * frame]
    swapped = blob[:hlen] + c1 + c0 + blob[hlen + 2 * frame :]
    with pytest.raises(crypto.Tampered):
        crypto.decrypt(swapped, [key])


@pytest.mark.parametrize("cut", [1, 16, SMALL + 16, 2 * (SMALL + 16)])
def test_truncated(key: PrivateKey, cut: int) -> None:
    blob = crypto.encrypt(bytes(3 * SMALL + 5), [key.public], chunk_size=SMALL)
    with pytest.raises(crypto.Truncated):
        crypto.decrypt(blob[:-cut], [key])


def test_truncated_inside_header(key: PrivateKey) -> None:
    blob = crypto.encrypt(b"x", [key.public])
    with pytest.raises(crypto.Truncated):
        crypto.decrypt(blob[:30], [key])


def test_appended_bytes_are_tampered(key: PrivateKey) -> None:
    blob = crypto.encrypt(b"x" * 3000, [key.public], chunk_size=SMALL)
    with pytest.raises(crypto.Tampered):
        crypto.decrypt(blob + b"\0", [key])


def test_unsupported_version_and_not_an_upload(key: PrivateKey) -> None:
    blob = bytearray(crypto.encrypt(b"x", [key.public]))
    blob[4] = 2
    with pytest.raises(crypto.UnsupportedVersion):
        crypto.decrypt(bytes(blob), [key])
    with pytest.raises(crypto.Malformed):
        crypto.decrypt(b"GIF89a" + bytes(100), [key])


def test_header_field_offsets_match_the_documentation(key: PrivateKey) -> None:
    blob = crypto.encrypt(b"x", [key.public])
    assert blob[0:4] == b"SCUP" and blob[4] == 1 and blob[5] == 1
    (chunk_size,) = struct.unpack(">I", blob[13:17])
    assert chunk_size == 65536
    assert blob[17] == key.kem
    assert blob[18:26] == key.public.key_id
    epk_end = 26 + key.kem.public_len
    assert blob[epk_end + 48 : epk_end + 52] == struct.pack(">I", 256 + 16)


def test_public_key_text_round_trip_and_errors(key: PrivateKey) -> None:
    text = str(key.public)
    assert PublicKey.parse(text) == key.public
    assert crypto.parse_public_keys(f" {text} , {text}") == (key.public, key.public)
    for bad in ["", "x25519", "rsa:AAAA", "x25519:AAAA", "p256:" + "A" * 87]:
        with pytest.raises(crypto.MalformedKey):
            PublicKey.parse(bad)


def test_key_file_round_trip_and_wrong_passphrase() -> None:
    keys = [PrivateKey.generate(Kem.X25519), PrivateKey.generate(Kem.P256)]
    data = crypto.dump_key_file(keys, "correct horse", iterations=100_000)
    assert b"correct horse" not in data
    for k in keys:
        assert crypto.b64e(k.raw()).encode() not in data
    loaded = crypto.load_key_file(data, "correct horse")
    assert [k.public for k in loaded] == [k.public for k in keys]
    with pytest.raises(crypto.WrongPassphrase):
        crypto.load_key_file(data, "wrong horse")
    document = json.loads(data)
    document["kdf"]["iterations"] = 1000
    with pytest.raises(crypto.MalformedKey):
        crypto.load_key_file(json.dumps(document).encode(), "correct horse")
    with pytest.raises(crypto.MalformedKey):
        crypto.load_key_file(b"not json", "x")


# --- the metadata rules and the recipient table: shared vectors, the same in crypto.js ---------------------

VECTORS = json.loads((Path(__file__).parent / "vectors" / "metadata.json").read_text(encoding="utf-8"))


def vector_bytes(vector: dict[str, object]) -> bytes:
    if "hex" in vector:
        return bytes.fromhex(str(vector["hex"]))
    return str(vector["text"]).encode("utf-8", "surrogatepass")


@pytest.mark.parametrize("vector", VECTORS["reading"], ids=lambda v: v["description"])
def test_metadata_reading_vectors(vector: dict[str, object]) -> None:
    data = vector_bytes(vector)
    if vector["valid"]:
        assert crypto.Metadata.decode(data) == crypto.Metadata(**vector["expect"])  # type: ignore[arg-type]
    else:
        with pytest.raises(crypto.Malformed):
            crypto.Metadata.decode(data)


@pytest.mark.parametrize("vector", VECTORS["writing"], ids=lambda v: v["description"])
def test_metadata_writing_vectors(key: PrivateKey, vector: dict[str, object]) -> None:
    name, type_ = str(vector["name"]), str(vector["type"])
    written = crypto.Metadata.for_writing(name, type_, 3)
    assert {"name": written.name, "type": written.type} == vector["written"]
    meta, _ = crypto.decrypt(crypto.encrypt(b"abc", [key.public], name=name, type=type_), [key])
    assert meta == written  # what the writer makes, its own reader reads


def test_a_changed_key_type_in_the_recipient_table_is_tampering(key: PrivateKey) -> None:
    blob = bytearray(crypto.encrypt(b"abc", [key.public]))
    blob[17] = 3  # the first section's kem_id: v1 has no key type 3
    with pytest.raises(crypto.Tampered):
        crypto.decrypt(bytes(blob), [key])
    blob = bytearray(crypto.encrypt(b"abc", [key.public]))
    blob[5] = 2  # one more recipient than there are
    with pytest.raises(crypto.Tampered):
        crypto.decrypt(bytes(blob), [key])


def first_section_unusable(first: PrivateKey, second: PrivateKey, monkeypatch: pytest.MonkeyPatch) -> bytes:
    """A file whose first section (for `first`) was wrapped wrongly by its writer; the second is fine.

    The header authenticates as written, so only the unwrap of the first section fails."""
    real = crypto._kek
    calls: list[int] = []

    def kek(kem: Kem, shared: bytes, epk: bytes, recipient: bytes) -> bytes:
        calls.append(1)
        return bytes(32) if len(calls) == 1 else real(kem, shared, epk, recipient)

    with monkeypatch.context() as patch:
        patch.setattr(crypto, "_kek", kek)
        return crypto.encrypt(b"evidence", [first.public, second.public], name="a.png")


def test_a_second_section_for_our_keys_is_tried_when_the_first_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = PrivateKey.generate(Kem.X25519), PrivateKey.generate(Kem.P256)
    blob = first_section_unusable(first, second, monkeypatch)
    assert crypto.decrypt(blob, [first, second])[1] == b"evidence"
    with pytest.raises(crypto.Tampered):  # only the unusable section is for our keys
        crypto.decrypt(blob, [first])
