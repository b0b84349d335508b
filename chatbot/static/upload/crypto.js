// The SCUP v1 upload format in the browser: hash and encrypt a child's file before it leaves the device,
// and open the private key file and decrypt in the analyst's browser. WebCrypto only, no libraries.
// The byte layout is docs/upload-crypto.md; chatbot/upload/crypto.py is the Python twin, and
// tests/upload/test_crypto_browser.py holds the two to each other.

export const VERSION = 1;
export const CHUNK_SIZE = 64 * 1024;
export const KEM = Object.freeze({ X25519: 1, P256: 2 });

const MAGIC = new Uint8Array([0x53, 0x43, 0x55, 0x50]); // "SCUP"
const TAG = 16;
const NONCE_PREFIX = 7;
const KEY_ID = 8;
const WRAPPED = 48;
const FIXED = 17;
const META_INDEX = 0xffffffff; // never a chunk index, so the metadata nonce never equals a chunk nonce
const META_FLAG = 2;
const META_PAD = 256;
const MAX_RECIPIENTS = 16;
const MAX_META = 64 * 1024;
const MIN_CHUNK = 1024;
const MAX_CHUNK = 4 * 1024 * 1024;
const MAX_NAME_BYTES = 1024; // UTF-8 bytes of the file name; writers shorten longer names
const MAX_TYPE_BYTES = 255;
// eslint-disable-next-line no-control-regex -- the point: control characters are refused in a name
const CONTROL = /[\u0000-\u001f\u007f]/;
const TYPE = /^[\u0020-\u007e]*$/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const MIN_KDF_ITERATIONS = 100000;
const KEY_FILE_FORMAT = "stodchat-upload-private-key";
const WRAP_INFO = new TextEncoder().encode("stodchat upload v1 wrap");
const LABELS = { x25519: KEM.X25519, p256: KEM.P256 };
const PUBLIC_LEN = { [KEM.X25519]: 32, [KEM.P256]: 65 };

const subtle = globalThis.crypto.subtle;

/** A typed failure; `code` matches the Python implementation's error codes. */
export class UploadCryptoError extends Error {
  constructor(code, message) {
    super(message);
    this.name = "UploadCryptoError";
    this.code = code;
  }
}

const fail = (code, message) => {
  throw new UploadCryptoError(code, message);
};

// --- bytes ---------------------------------------------------------------------------------------------

export function b64urlEncode(bytes) {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  }
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function b64urlDecode(text) {
  if (typeof text !== "string" || !/^[A-Za-z0-9_-]*$/.test(text)) fail("malformed_key", "not base64url");
  const padded = text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4);
  const binary = atob(padded);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

function concat(parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

function u32(value) {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value);
  return out;
}

function indexFlag(index, flag) {
  const out = new Uint8Array(5);
  new DataView(out.buffer).setUint32(0, index);
  out[4] = flag;
  return out;
}

async function sha256(bytes) {
  return new Uint8Array(await subtle.digest("SHA-256", bytes));
}

function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

async function readSlice(blob, start, end) {
  return new Uint8Array(await blob.slice(start, end).arrayBuffer());
}

// --- public keys ---------------------------------------------------------------------------------------

/** "x25519:BASE64URL,p256:BASE64URL" (the UPLOAD_PUBLIC_KEYS setting) to recipient records. */
export async function parsePublicKeys(text) {
  const keys = [];
  for (const part of String(text).split(",")) {
    const item = part.trim();
    if (!item) continue;
    const colon = item.indexOf(":");
    const kem = LABELS[item.slice(0, colon).toLowerCase()];
    if (colon < 0 || !kem) fail("malformed_key", "a public key looks like x25519:BASE64URL or p256:BASE64URL");
    const raw = b64urlDecode(item.slice(colon + 1));
    if (raw.length !== PUBLIC_LEN[kem]) fail("malformed_key", "a public key has the wrong length");
    keys.push({ kem, raw, keyId: await keyId(kem, raw) });
  }
  return keys;
}

async function keyId(kem, raw) {
  return (await sha256(concat([new Uint8Array([kem]), raw]))).slice(0, KEY_ID);
}

let x25519Support = null;

/** Whether this browser's WebCrypto has X25519 (else files are wrapped to the P-256 keys only). */
export function supportsX25519() {
  if (x25519Support === null) {
    x25519Support = subtle
      .generateKey({ name: "X25519" }, false, ["deriveBits"])
      .then(() => true)
      .catch(() => false);
  }
  return x25519Support;
}

function algorithm(kem) {
  return kem === KEM.X25519 ? { name: "X25519" } : { name: "ECDH", namedCurve: "P-256" };
}

async function importPublic(kem, raw) {
  try {
    return await subtle.importKey("raw", raw, algorithm(kem), true, []);
  } catch {
    fail(kem === KEM.X25519 ? "malformed_key" : "tampered", "not a valid public key");
  }
}

async function deriveShared(kem, privateKey, publicKey) {
  try {
    const bits = await subtle.deriveBits({ name: algorithm(kem).name, public: publicKey }, privateKey, 256);
    return new Uint8Array(bits);
  } catch {
    // A low-order or off-curve ephemeral key is a forged header.
    fail("tampered", "the file's ephemeral key is not a valid point");
  }
}

async function kek(kem, shared, epk, recipientRaw, usage) {
  const ikm = await subtle.importKey("raw", shared, "HKDF", false, ["deriveKey"]);
  return subtle.deriveKey(
    {
      name: "HKDF",
      hash: "SHA-256",
      salt: concat([epk, recipientRaw]),
      info: concat([WRAP_INFO, new Uint8Array([kem])]),
    },
    ikm,
    { name: "AES-GCM", length: 256 },
    false,
    [usage],
  );
}

function wrapAad(kem, id) {
  return concat([MAGIC, new Uint8Array([VERSION, kem]), id]);
}

const chunkNonce = (prefix, index, last) => concat([prefix, indexFlag(index, last ? 1 : 0)]);
const chunkAad = (headerHash, index, last) => concat([headerHash, indexFlag(index, last ? 1 : 0)]);
const metaNonce = (prefix) => concat([prefix, indexFlag(META_INDEX, META_FLAG)]);

async function gcmEncrypt(key, iv, data, aad) {
  return new Uint8Array(await subtle.encrypt({ name: "AES-GCM", iv, additionalData: aad }, key, data));
}

async function gcmDecrypt(key, iv, data, aad, code, message) {
  try {
    return new Uint8Array(await subtle.decrypt({ name: "AES-GCM", iv, additionalData: aad }, key, data));
  } catch {
    fail(code, message);
  }
}

// --- hashing -------------------------------------------------------------------------------------------

/** Incremental MD5 (RFC 1321): hash-sharing programmes still take it, and WebCrypto has none. */
export class Md5 {
  constructor() {
    this.state = new Int32Array([0x67452301, 0xefcdab89 | 0, 0x98badcfe | 0, 0x10325476]);
    this.buffer = new Uint8Array(64);
    this.buffered = 0;
    this.length = 0; // bytes; exact up to 2^53
    this.words = new Int32Array(16);
  }

  update(bytes) {
    let at = 0;
    this.length += bytes.length;
    if (this.buffered) {
      const take = Math.min(64 - this.buffered, bytes.length);
      this.buffer.set(bytes.subarray(0, take), this.buffered);
      this.buffered += take;
      at = take;
      if (this.buffered < 64) return this;
      this.block(this.buffer, 0);
      this.buffered = 0;
    }
    for (; at + 64 <= bytes.length; at += 64) this.block(bytes, at);
    this.buffer.set(bytes.subarray(at), 0);
    this.buffered = bytes.length - at;
    return this;
  }

  digest() {
    const bits = this.length * 8;
    const padLength = this.buffered < 56 ? 56 - this.buffered : 120 - this.buffered;
    const tail = new Uint8Array(padLength + 8);
    tail[0] = 0x80;
    const view = new DataView(tail.buffer);
    view.setUint32(padLength, bits >>> 0, true);
    view.setUint32(padLength + 4, Math.floor(bits / 0x100000000), true);
    this.length -= tail.length; // update() adds it back; the length is already encoded
    this.update(tail);
    const out = new Uint8Array(16);
    const outView = new DataView(out.buffer);
    for (let i = 0; i < 4; i++) outView.setInt32(i * 4, this.state[i], true);
    return out;
  }

  block(bytes, at) {
    const x = this.words;
    for (let i = 0; i < 16; i++) {
      const j = at + i * 4;
      x[i] = bytes[j] | (bytes[j + 1] << 8) | (bytes[j + 2] << 16) | (bytes[j + 3] << 24);
    }
    const s = this.state;
    let a = s[0];
    let b = s[1];
    let c = s[2];
    let d = s[3];
    for (let i = 0; i < 64; i++) {
      let f;
      if (i < 16) f = (b & c) | (~b & d);
      else if (i < 32) f = (d & b) | (~d & c);
      else if (i < 48) f = b ^ c ^ d;
      else f = c ^ (b | ~d);
      const sum = (a + f + MD5_K[i] + x[MD5_G[i]]) | 0;
      const shift = MD5_S[i];
      a = d;
      d = c;
      c = b;
      b = (b + ((sum << shift) | (sum >>> (32 - shift)))) | 0;
    }
    s[0] = (s[0] + a) | 0;
    s[1] = (s[1] + b) | 0;
    s[2] = (s[2] + c) | 0;
    s[3] = (s[3] + d) | 0;
  }
}

const MD5_S = Int32Array.from([
  ...[7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22],
  ...[5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20],
  ...[4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23],
  ...[6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21],
]);
const MD5_K = Int32Array.from({ length: 64 }, (_, i) => Math.floor(Math.abs(Math.sin(i + 1)) * 0x100000000) | 0);
// Which message word each of the 64 steps reads (RFC 1321, section 3.4).
const MD5_G = Int32Array.from({ length: 64 }, (_, i) =>
  i < 16 ? i : i < 32 ? (5 * i + 1) % 16 : i < 48 ? (3 * i + 5) % 16 : (7 * i) % 16,
);

const READ_WINDOW = 1024 * 1024; // one file read per MiB: a read per 64 KiB chunk costs more than the crypto

/** SHA-256 (WebCrypto) and MD5 of a File or Blob, as lowercase hex. Holds the file in memory once. */
export async function hashFile(blob, { onProgress } = {}) {
  const whole = new Uint8Array(await blob.arrayBuffer());
  const md5 = new Md5();
  for (let start = 0; start < whole.length; start += READ_WINDOW) {
    md5.update(whole.subarray(start, start + READ_WINDOW));
    if (onProgress) onProgress(Math.min(whole.length, start + READ_WINDOW), whole.length);
    // Let the page paint its progress bar between mebibytes.
    if ((start / READ_WINDOW) % 8 === 7) await new Promise((resolve) => setTimeout(resolve, 0));
  }
  const sha = await sha256(whole);
  whole.fill(0);
  return { sha256: hex(sha), md5: hex(md5.digest()) };
}

// --- encryption ----------------------------------------------------------------------------------------

/**
 * Prepare a file's encryption: builds the header now, seals chunks on demand.
 * Every chunk's ciphertext is a pure function of the key, header and plaintext, so `read(offset)` can
 * start anywhere: an upload resumes after a dropped connection without the ciphertext being kept.
 * Options: name, type (default: the File's), chunkSize, kems (e.g. [KEM.P256] to force the fallback).
 */
export async function createEncryptor(blob, publicKeys, options = {}) {
  const chunkSize = options.chunkSize ?? CHUNK_SIZE;
  if (!(chunkSize >= MIN_CHUNK && chunkSize <= MAX_CHUNK)) fail("malformed", "chunk size out of range");
  const haveX25519 = await supportsX25519();
  const recipients = publicKeys.filter(
    (key) =>
      (key.kem === KEM.P256 || haveX25519) && (!options.kems || options.kems.includes(key.kem)),
  );
  if (!recipients.length || recipients.length > MAX_RECIPIENTS) {
    fail("no_usable_key", "no public key this browser can encrypt to");
  }
  const fileKeyRaw = globalThis.crypto.getRandomValues(new Uint8Array(32));
  const fileKey = await subtle.importKey("raw", fileKeyRaw, "AES-GCM", false, ["encrypt"]);
  const prefix = globalThis.crypto.getRandomValues(new Uint8Array(NONCE_PREFIX));
  const parts = [MAGIC, new Uint8Array([VERSION, recipients.length]), prefix, u32(chunkSize)];
  try {
    for (const recipient of recipients) {
      const ephemeral = await subtle.generateKey(algorithm(recipient.kem), false, ["deriveBits"]);
      const epk = new Uint8Array(await subtle.exportKey("raw", ephemeral.publicKey));
      const shared = await deriveShared(
        recipient.kem,
        ephemeral.privateKey,
        await importPublic(recipient.kem, recipient.raw),
      );
      const wrapKey = await kek(recipient.kem, shared, epk, recipient.raw, "encrypt");
      shared.fill(0);
      const wrapped = await gcmEncrypt(wrapKey, new Uint8Array(12), fileKeyRaw, wrapAad(recipient.kem, recipient.keyId));
      parts.push(new Uint8Array([recipient.kem]), recipient.keyId, epk, wrapped);
    }
  } finally {
    fileKeyRaw.fill(0); // from here on the key lives only inside the non-extractable CryptoKey
  }
  const keyPart = concat(parts);
  const size = blob.size;
  const { name, type } = metadataForWriting(options.name ?? blob.name ?? "", options.type ?? blob.type ?? "", size);
  let metaPlain = new TextEncoder().encode(JSON.stringify({ name, type, size }));
  metaPlain = concat([metaPlain, new Uint8Array((META_PAD - (metaPlain.length % META_PAD)) % META_PAD).fill(0x20)]);
  const metaCt = await gcmEncrypt(fileKey, metaNonce(prefix), metaPlain, await sha256(keyPart));
  const header = concat([keyPart, u32(metaCt.length), metaCt]);
  const headerHash = await sha256(header);
  const chunkCount = Math.max(1, Math.ceil(size / chunkSize));
  const frame = chunkSize + TAG;
  const total = header.length + size + chunkCount * TAG;

  let windowStart = 0;
  let windowBytes = null;

  async function plainSlice(start, end) {
    if (!windowBytes || start < windowStart || end > windowStart + windowBytes.length) {
      const bytes = await readSlice(blob, start, Math.min(size, Math.max(end, start + READ_WINDOW)));
      // Swapped only after the read, and callers encrypt (WebCrypto copies) before any further await.
      if (windowBytes) windowBytes.fill(0);
      windowStart = start;
      windowBytes = bytes;
    }
    return windowBytes.subarray(start - windowStart, end - windowStart);
  }

  async function chunk(index) {
    const last = index === chunkCount - 1;
    const plain = await plainSlice(index * chunkSize, Math.min(size, (index + 1) * chunkSize));
    const sealed = await gcmEncrypt(fileKey, chunkNonce(prefix, index, last), plain, chunkAad(headerHash, index, last));
    if (last && windowBytes) {
      windowBytes.fill(0); // the file is done: drop its plaintext; a resumed read loads it again
      windowBytes = null;
    }
    return sealed;
  }

  /** Ciphertext from byte `offset` on, in pieces of at most one frame. */
  async function* read(offset = 0) {
    if (offset < header.length) yield header.subarray(offset);
    let index = Math.max(0, Math.floor((offset - header.length) / frame));
    for (; index < chunkCount; index++) {
      const sealed = await chunk(index);
      const start = header.length + index * frame;
      yield start < offset ? sealed.subarray(offset - start) : sealed;
    }
  }

  return { header, size: total, plaintextSize: size, chunkCount, chunk, read };
}

/** The whole SCUP file as one Uint8Array (small files and tests; uploads use `read`). */
export async function encryptToBytes(blob, publicKeys, options = {}) {
  const encryptor = await createEncryptor(blob, publicKeys, options);
  const pieces = [];
  for await (const piece of encryptor.read(0)) pieces.push(piece);
  return concat(pieces);
}

// --- the private key file and decryption (analyst's browser) -------------------------------------------

/** Open the JSON key file with its passphrase; returns non-extractable private keys. */
export async function openKeyFile(text, passphrase) {
  let document;
  try {
    document = JSON.parse(text);
  } catch {
    fail("malformed_key", "the key file does not parse");
  }
  if (!document || document.format !== KEY_FILE_FORMAT) fail("malformed_key", "not an upload private key file");
  if (document.version !== 1) fail("unsupported_version", "this key file version is not supported");
  const kdf = document.kdf || {};
  if (kdf.name !== "PBKDF2-SHA256" || !(kdf.iterations >= MIN_KDF_ITERATIONS)) {
    fail("malformed_key", "the key file's passphrase derivation is not PBKDF2-SHA256 ≥ 100,000");
  }
  const base = await subtle.importKey("raw", new TextEncoder().encode(passphrase), "PBKDF2", false, ["deriveKey"]);
  const sealKey = await subtle.deriveKey(
    { name: "PBKDF2", hash: "SHA-256", salt: b64urlDecode(kdf.salt), iterations: kdf.iterations },
    base,
    { name: "AES-GCM", length: 256 },
    false,
    ["decrypt"],
  );
  const keys = [];
  for (const entry of document.keys || []) {
    const [publicKey] = await parsePublicKeys(entry.public);
    if (!publicKey || LABELS[entry.kem] !== publicKey.kem) fail("malformed_key", "a key entry is inconsistent");
    const raw = await gcmDecrypt(
      sealKey,
      b64urlDecode(entry.nonce),
      b64urlDecode(entry.ciphertext),
      new TextEncoder().encode(entry.public),
      "wrong_passphrase",
      "wrong passphrase (or the key file was altered)",
    );
    const pub = publicKey.raw;
    const jwk =
      publicKey.kem === KEM.X25519
        ? { kty: "OKP", crv: "X25519", d: b64urlEncode(raw), x: b64urlEncode(pub) }
        : { kty: "EC", crv: "P-256", d: b64urlEncode(raw), x: b64urlEncode(pub.subarray(1, 33)), y: b64urlEncode(pub.subarray(33)) };
    raw.fill(0);
    let privateKey;
    try {
      privateKey = await subtle.importKey("jwk", jwk, algorithm(publicKey.kem), false, ["deriveBits"]);
    } catch {
      fail("malformed_key", "a private key does not match its public key");
    }
    keys.push({ ...publicKey, privateKey });
  }
  if (!keys.length) fail("malformed_key", "the key file holds no keys");
  return keys;
}

/** What a writer records (docs/upload-crypto.md, "Metadata record"): within the rules, never refused. */
export function metadataForWriting(name, type, size) {
  let clean = String(name).replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, "");
  // eslint-disable-next-line no-control-regex -- the point: control characters become "_"
  clean = clean.replace(/[\u0000-\u001f\u007f]/g, "_");
  const encoder = new TextEncoder();
  while (encoder.encode(clean).length > MAX_NAME_BYTES) clean = Array.from(clean).slice(0, -1).join("");
  const kind = String(type);
  return { name: clean, type: kind.length <= MAX_TYPE_BYTES && TYPE.test(kind) ? kind : "", size };
}

/** Numbers in the JSON text outside strings; JSON.parse would read 1.0 as 1, the rules refuse it. */
function jsonNumbersAreIntegers(text) {
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
    } else if (c === "." || c === "e" || c === "E") {
      // Outside strings: a fraction or exponent (or true/false, which no field may be either).
      return false;
    }
  }
  return true;
}

/** Check an authenticated metadata record against the rules; a bad one is a writer's fault: malformed. */
export function decodeMetadata(bytes) {
  let text;
  let record;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
    record = JSON.parse(text);
  } catch {
    fail("malformed", "the metadata record is not UTF-8 JSON");
  }
  if (!jsonNumbersAreIntegers(text)) fail("malformed", "the metadata record is not UTF-8 JSON with an integer size");
  if (!record || typeof record !== "object" || Array.isArray(record)) fail("malformed", "the metadata record must be an object");
  const fields = Object.keys(record).sort();
  if (fields.length !== 3 || fields[0] !== "name" || fields[1] !== "size" || fields[2] !== "type") {
    fail("malformed", "the metadata record must have exactly name, type and size");
  }
  const { name, type, size } = record;
  if (typeof name !== "string" || LONE_SURROGATE.test(name) || CONTROL.test(name)) {
    fail("malformed", "the metadata name must be text without control characters");
  }
  if (new TextEncoder().encode(name).length > MAX_NAME_BYTES) fail("malformed", "the metadata name is too long");
  if (typeof type !== "string" || type.length > MAX_TYPE_BYTES || !TYPE.test(type)) {
    fail("malformed", "the metadata type must be printable ASCII, at most 255 characters");
  }
  if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0) {
    fail("malformed", "the metadata size must be an integer from 0 to 2^53 - 1");
  }
  return { name, type, size };
}

/** Parse everything before the first chunk; no key needed. */
export async function readHeader(blob) {
  const fixed = await readSlice(blob, 0, FIXED);
  if (fixed.length >= 4 && !MAGIC.every((b, i) => fixed[i] === b)) fail("malformed", "not an upload file");
  if (fixed.length >= 5 && fixed[4] !== VERSION) fail("unsupported_version", "this upload format version is not supported");
  if (fixed.length < FIXED) fail("truncated", "the file ends inside the header");
  const view = new DataView(fixed.buffer);
  const count = fixed[5];
  const prefix = fixed.slice(6, 13);
  const chunkSize = view.getUint32(13);
  // Past the magic and the version, v1 fixes every value: anything impossible was altered.
  if (count < 1 || count > MAX_RECIPIENTS) fail("tampered", "impossible recipient count");
  if (chunkSize < MIN_CHUNK || chunkSize > MAX_CHUNK) fail("tampered", "impossible chunk size");
  let at = FIXED;
  const recipients = [];
  const need = async (n) => {
    const bytes = await readSlice(blob, at, at + n);
    if (bytes.length !== n) fail("truncated", "the file ends inside the header");
    at += n;
    return bytes;
  };
  for (let i = 0; i < count; i++) {
    const kem = (await need(1))[0];
    // v1 has key types 1 and 2 only (a new one comes with a new version): an altered table.
    if (!PUBLIC_LEN[kem]) fail("tampered", "the recipient table was altered");
    const rest = await need(KEY_ID + PUBLIC_LEN[kem] + WRAPPED);
    recipients.push({
      kem,
      keyId: rest.slice(0, KEY_ID),
      epk: rest.slice(KEY_ID, KEY_ID + PUBLIC_LEN[kem]),
      wrapped: rest.slice(KEY_ID + PUBLIC_LEN[kem]),
    });
  }
  const keyPart = await readSlice(blob, 0, at);
  const metaLen = new DataView((await need(4)).buffer).getUint32(0);
  if (metaLen < TAG || metaLen > MAX_META) fail("tampered", "impossible metadata length");
  const metaCt = await need(metaLen);
  return { prefix, chunkSize, recipients, keyPart, metaCt, length: at, hash: await sha256(await readSlice(blob, 0, at)) };
}

const sameBytes = (a, b) => a.length === b.length && a.every((v, i) => v === b[i]);

/** Decrypt a SCUP Blob with keys from `openKeyFile`. Returns {meta, blob}; nothing before full success. */
export async function decryptUpload(blob, keys) {
  const header = await readHeader(blob);
  let fileKey = null;
  let failed = false;
  for (const recipient of header.recipients) {
    const key = keys.find((k) => k.kem === recipient.kem && sameBytes(k.keyId, recipient.keyId));
    if (!key) continue;
    try {
      const shared = await deriveShared(key.kem, key.privateKey, await importPublic(key.kem, recipient.epk));
      const unwrapKey = await kek(key.kem, shared, recipient.epk, key.raw, "decrypt");
      shared.fill(0);
      const raw = await gcmDecrypt(
        unwrapKey,
        new Uint8Array(12),
        recipient.wrapped,
        wrapAad(key.kem, recipient.keyId),
        "tampered",
        "the wrapped file key does not authenticate",
      );
      fileKey = await subtle.importKey("raw", raw, "AES-GCM", false, ["decrypt"]);
      raw.fill(0);
      break;
    } catch (error) {
      // A forged ephemeral key (not a point) or a wrap that fails its tag: this section was altered.
      if (error.code !== "tampered" && error.code !== "malformed_key") throw error;
      failed = true; // this section was altered; another one for our keys may still open
    }
  }
  if (!fileKey && failed) fail("tampered", "no wrapped file key for our keys authenticates");
  if (!fileKey) fail("wrong_key", "this file was not encrypted to any of the given keys");
  const metaPlain = await gcmDecrypt(
    fileKey,
    metaNonce(header.prefix),
    header.metaCt,
    await sha256(header.keyPart),
    "tampered",
    "the metadata record does not authenticate",
  );
  const meta = decodeMetadata(metaPlain);
  // The authenticated size fixes the number and length of chunks: short means truncated.
  const count = Math.max(1, Math.ceil(meta.size / header.chunkSize));
  const parts = [];
  let at = header.length;
  for (let index = 0; index < count; index++) {
    const last = index === count - 1;
    const length = (last ? meta.size - index * header.chunkSize : header.chunkSize) + TAG;
    const frame = await readSlice(blob, at, at + length);
    if (frame.length !== length) fail("truncated", "the file ends before its last chunk");
    at += length;
    parts.push(
      await gcmDecrypt(
        fileKey,
        chunkNonce(header.prefix, index, last),
        frame,
        chunkAad(header.hash, index, last),
        "tampered",
        `chunk ${index} does not authenticate`,
      ),
    );
  }
  if (blob.size > at) fail("tampered", "there are bytes after the last chunk");
  return { meta: { name: meta.name, type: meta.type, size: meta.size }, blob: new Blob(parts, { type: meta.type }) };
}
