// The child's upload client: hash and encrypt each file in the browser, then send only ciphertext, in
// resumable pieces, to the gateway's /upload/v1 endpoints (docs/upload-crypto.md). No UI here: the
// widget calls `uploadFiles` and shows progress, errors and the case code in the child's language.
// Nothing is kept on the device: no IndexedDB, no Cache Storage, no object URLs, fetch with no-store.

import { createEncryptor, hashFile, parsePublicKeys } from "./crypto.js";
import { pdqFromImage } from "./pdq.js";

/** A failure the widget can explain; `code` is the server's or crypto.js's stable error code. */
export class UploadError extends Error {
  constructor(code, message, info = {}) {
    super(message);
    this.name = "UploadError";
    this.code = code;
    this.info = info;
  }
}

// A wait that a cancel cuts short (the caller checks the signal after it).
const sleep = (ms, signal) =>
  new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    if (signal) signal.addEventListener("abort", () => { clearTimeout(timer); resolve(); }, { once: true });
  });
const cancelled = () => new UploadError("cancelled", "the upload was cancelled");

async function request(base, method, path, { token, json, body, signal } = {}) {
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (json !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(base + path, {
      method,
      headers,
      body: json !== undefined ? JSON.stringify(json) : body,
      cache: "no-store",
      credentials: "omit",
      referrerPolicy: "no-referrer",
      signal,
    });
  } catch {
    if (signal && signal.aborted) throw cancelled();
    throw new UploadError("network", "the connection dropped", { retry: true });
  }
  const data = (response.headers.get("Content-Type") || "").includes("json") ? await response.json() : null;
  if (!response.ok) {
    const { error, detail, ...info } = data || {};
    // 5xx and gateway hiccups are worth retrying; the typed 4xx errors are answers.
    throw new UploadError(error || `http_${response.status}`, detail || "", { ...info, retry: response.status >= 500 && !error });
  }
  return data;
}

/** The organisation's public keys and limits, from the gateway's settings. */
export async function fetchUploadConfig(base = "") {
  return request(base, "GET", "/upload/v1/keys");
}

/**
 * Upload `files` (File objects) with a one-time `grant`. Returns {caseCode}.
 * options: base (gateway origin, default same origin), ageBand ("under_13" | "13_15" | "16_17"),
 * consent (must be true), publicKeys (default: fetched), onProgress({phase, done, total, file}),
 * maxRetries (per piece, default 8), retryDelayMs (first back-off, default 500), chunkBytes (override),
 * signal (an AbortSignal: cancels, discards what the server has, and throws UploadError "cancelled").
 * Phases: "hashing" and "uploading" (file = its index; uploading adds fileDone and fileTotal, in
 * ciphertext bytes), "retrying" (the connection dropped; waiting before asking the server where it
 * stands), "done".
 */
export async function uploadFiles(grant, files, options = {}) {
  const base = options.base ?? "";
  const onProgress = options.onProgress ?? (() => {});
  const maxRetries = options.maxRetries ?? 8;
  const retryDelay = options.retryDelayMs ?? 500;
  const signal = options.signal;
  const check = () => {
    if (signal && signal.aborted) throw cancelled();
  };
  const keyText = options.publicKeys ?? (await fetchUploadConfig(base)).keys.join(",");
  const keys = await parsePublicKeys(keyText);
  const list = Array.from(files);

  const prepared = [];
  const plainTotal = list.reduce((n, f) => n + f.size, 0);
  let hashed = 0;
  for (const [fileIndex, file] of list.entries()) {
    check();
    const hashes = await hashFile(file, {
      onProgress: (done) => onProgress({ phase: "hashing", done: hashed + done, total: plainTotal, file: fileIndex }),
    });
    hashed += file.size;
    // A perceptual hash only for images this browser can decode; videos and others carry none.
    const pdq = (file.type || "").startsWith("image/") ? await pdqFromImage(file) : null;
    const encryptor = await createEncryptor(file, keys);
    const entry = { size: encryptor.size, ...hashes };
    if (pdq) Object.assign(entry, { pdq: pdq.hash, pdq_quality: pdq.quality });
    prepared.push({ encryptor, entry });
  }

  check();
  const started = await request(base, "POST", "/upload/v1/start", {
    json: { grant, age_band: options.ageBand, consent: options.consent === true, files: prepared.map((p) => p.entry) },
    signal,
  });
  const token = started.upload;
  try {
    return await send(base, token, started, prepared, { onProgress, maxRetries, retryDelay, signal, check, chunkBytes: options.chunkBytes });
  } catch (error) {
    if (error.code === "cancelled") {
      // Best effort: what arrived is discarded now; otherwise the retention sweep removes it.
      await request(base, "DELETE", "/upload/v1", { token }).catch(() => {});
    }
    throw error;
  }
}

async function send(base, token, started, prepared, { onProgress, maxRetries, retryDelay, signal, check, chunkBytes }) {
  const pieceBytes = Math.min(chunkBytes ?? started.max_chunk_bytes, started.max_chunk_bytes);
  const total = prepared.reduce((n, p) => n + p.entry.size, 0);
  let sentBefore = 0;

  for (const [index, { encryptor }] of prepared.entries()) {
    let offset = 0;
    let failures = 0;
    onProgress({ phase: "uploading", done: sentBefore, total, file: index, fileDone: 0, fileTotal: encryptor.size });
    while (offset < encryptor.size) {
      check();
      try {
        const piece = await collect(encryptor, offset, pieceBytes);
        const answer = await request(base, "PUT", `/upload/v1/files/${index}?offset=${offset}`, { token, body: piece, signal });
        offset = answer.received;
        failures = 0;
        onProgress({ phase: "uploading", done: sentBefore + offset, total, file: index, fileDone: offset, fileTotal: encryptor.size });
      } catch (error) {
        if (error.code === "offset_mismatch") {
          offset = error.info.offset; // the server knows best where this file stands
          continue;
        }
        if (!(error.info && error.info.retry) && error.code !== "upload_busy") throw error;
        if (++failures > maxRetries) throw error;
        onProgress({ phase: "retrying", done: sentBefore + offset, total, file: index });
        await sleep(retryDelay * 2 ** Math.min(failures - 1, 5), signal);
        check();
        // After a drop, ask where the server is: the last piece may or may not have arrived.
        try {
          const progress = await request(base, "GET", "/upload/v1/files", { token, signal });
          offset = progress.files[index].received;
          onProgress({ phase: "uploading", done: sentBefore + offset, total, file: index, fileDone: offset, fileTotal: encryptor.size });
        } catch (again) {
          if (!(again.info && again.info.retry)) throw again;
        }
      }
    }
    sentBefore += encryptor.size;
  }

  for (let attempt = 0; ; attempt++) {
    check();
    try {
      const done = await request(base, "POST", "/upload/v1/finish", { token, signal });
      onProgress({ phase: "done", done: total, total });
      return { caseCode: done.case_code };
    } catch (error) {
      // A finish retried after a lost answer returns the same code.
      if (!(error.info && error.info.retry) || attempt >= maxRetries) throw error;
      await sleep(retryDelay * 2 ** Math.min(attempt, 5), signal);
    }
  }
}

/** At most `limit` ciphertext bytes from `offset`, re-created on demand (nothing is kept). */
async function collect(encryptor, offset, limit) {
  const parts = [];
  let size = 0;
  for await (const part of encryptor.read(offset)) {
    const take = part.subarray(0, Math.min(part.length, limit - size));
    parts.push(take);
    size += take.length;
    if (size >= limit) break;
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** Ask about a case with its code: {status, updated} or an UploadError (unknown_case, mistyped_case_code…). */
export async function caseStatus(code, base = "") {
  return request(base, "POST", "/upload/v1/case-status", { json: { code } });
}
