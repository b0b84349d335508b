// The analyst's viewer: decrypt a case file in this browser and show it blurred and greyscale, revealed
// one at a time on purpose. The private key and passphrase never leave this page; the server only
// hands out ciphertext (and logs that it did). Framework-free DOM code for the console's case page,
// whose CSP must allow `img-src blob:` and `media-src blob:` for the decrypted media.

import { decryptUpload, openKeyFile } from "./crypto.js";

export const HIDDEN_FILTER = "blur(28px) grayscale(1)";

const shown = new Set(); // every live viewer on this page, so revealing one hides the rest

/** Open the private key file (a File from an <input type=file>) with its passphrase. */
export async function openKeys(keyFile, passphrase) {
  return openKeyFile(await keyFile.text(), passphrase);
}

/**
 * Fetch the ciphertext at `url`, decrypt it with `keys`, and put a hidden preview into `container`.
 * Returns {meta, element, reveal(), hide(), destroy()}. Throws the crypto errors (code: wrong_key,
 * tampered, truncated, …) or {code: "fetch_failed", status}; nothing is shown unless decryption fully succeeded.
 */
export async function showCaseFile({ url, keys, container, fetchOptions = {} }) {
  const response = await fetch(url, { cache: "no-store", credentials: "same-origin", ...fetchOptions });
  if (!response.ok) {
    const error = new Error(`could not fetch the file (${response.status})`);
    error.code = "fetch_failed";
    error.status = response.status; // 403: the server wants a fresh second factor first
    throw error;
  }
  const { meta, blob } = await decryptUpload(await response.blob(), keys);
  const kind = meta.type.startsWith("image/") ? "img" : meta.type.startsWith("video/") ? "video" : null;
  const figure = document.createElement("figure");
  figure.className = "case-file";
  const caption = document.createElement("figcaption");
  caption.textContent = `${meta.name || "(no name)"} · ${meta.type || "unknown type"} · ${meta.size} bytes`;
  let objectUrl = null;
  let element = null;
  if (kind) {
    objectUrl = URL.createObjectURL(blob);
    element = document.createElement(kind);
    if (kind === "video") {
      element.controls = true;
      element.muted = true;
      element.preload = "metadata";
    } else {
      element.alt = "";
    }
    element.src = objectUrl;
    element.style.filter = HIDDEN_FILTER;
    element.style.maxWidth = "100%";
    figure.append(element);
  }
  figure.append(caption);
  container.append(figure);

  const viewer = {
    meta,
    element,
    revealed: false,
    reveal() {
      for (const other of shown) if (other !== viewer) other.hide();
      if (element) element.style.filter = "none";
      viewer.revealed = true;
    },
    hide() {
      if (element) {
        element.style.filter = HIDDEN_FILTER;
        if (kind === "video") element.pause();
      }
      viewer.revealed = false;
    },
    destroy() {
      viewer.hide();
      shown.delete(viewer);
      if (element) element.removeAttribute("src");
      if (objectUrl) URL.revokeObjectURL(objectUrl); // the plaintext is unreachable from here on
      objectUrl = null;
      figure.remove();
    },
  };
  shown.add(viewer);
  return viewer;
}

/** Remove every preview and revoke every object URL (leaving the case page, locking the screen). */
export function destroyAll() {
  for (const viewer of [...shown]) viewer.destroy();
}
