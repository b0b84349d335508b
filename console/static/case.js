// The case page's viewer: open the private key file in this browser, fetch one file's ciphertext (the
// server logs the view), decrypt it here and show it blurred and greyscale until the analyst reveals it
// (logged before it is shown). The keys are non-extractable WebCrypto keys held only in this module;
// nothing is stored, and every object URL is revoked on close, on "forget", on leaving the page and when
// the code confirmation runs out. Texts come from the page (#viewer-messages); never innerHTML.
import { destroyAll, openKeys, showCaseFile } from "/upload/viewer.js";

const root = document.getElementById("viewer");
if (root) start(root);

function start(root) {
  const caseId = root.dataset.case;
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const status = document.getElementById("viewer-status");
  const error = document.getElementById("viewer-error");
  const previews = document.getElementById("previews");
  const keyInput = document.getElementById("key-file");
  const passInput = document.getElementById("passphrase");
  const viewButtons = [...document.querySelectorAll("button.view-file")];
  const texts = {};
  for (const item of document.querySelectorAll("#viewer-messages li")) texts[item.dataset.code] = item.textContent;
  const text = (code) => texts[code] || texts.unknown;
  const open = new Map(); // file id -> {viewer, box, toggle}
  let keys = null;
  let busy = false;

  const say = (code) => {
    error.hidden = true;
    status.textContent = text(code);
    status.hidden = false;
  };
  const fail = (code) => {
    status.hidden = true;
    error.textContent = text(code);
    error.hidden = false;
  };
  const refresh = () => {
    for (const button of viewButtons) button.disabled = !keys || busy || open.has(button.dataset.file);
    for (const { viewer, toggle } of open.values()) toggle.textContent = text(viewer.revealed ? "hide" : "reveal");
  };

  function close(fileId) {
    const entry = open.get(fileId);
    if (!entry) return;
    entry.viewer.destroy(); // revokes the object URL: the plaintext is unreachable from here on
    entry.box.remove();
    open.delete(fileId);
    refresh();
  }

  function forget() {
    destroyAll();
    for (const { box } of open.values()) box.remove();
    open.clear();
    keys = null;
    passInput.value = "";
    keyInput.value = "";
    refresh();
  }

  document.getElementById("open-key").addEventListener("click", async () => {
    const file = keyInput.files[0];
    if (!file) return fail("no_key_file");
    say("opening");
    busy = true;
    refresh();
    try {
      keys = await openKeys(file, passInput.value);
    } catch (e) {
      keys = null;
      return fail(e && e.code ? e.code : "unknown");
    } finally {
      busy = false;
      refresh();
    }
    passInput.value = "";
    say("key_open");
    refresh();
  });

  document.getElementById("forget").addEventListener("click", () => {
    forget();
    status.hidden = error.hidden = true;
  });

  for (const button of viewButtons) {
    button.addEventListener("click", () => view(button.dataset.file));
  }

  async function view(fileId) {
    if (!keys || busy || open.has(fileId)) return;
    busy = true;
    refresh();
    say("decrypting");
    const box = document.createElement("div");
    box.className = "preview";
    box.dataset.file = fileId;
    previews.append(box);
    let viewer;
    try {
      viewer = await showCaseFile({
        url: `/cases/${caseId}/files/${fileId}`,
        keys,
        container: box,
        fetchOptions: { method: "POST", headers: { "X-CSRF-Token": csrf } },
      });
    } catch (e) {
      box.remove();
      const code = e && e.code === "fetch_failed" && e.status === 403 ? "reauth_required" : e && e.code;
      busy = false;
      refresh();
      return fail(code || "unknown");
    }
    const bar = document.createElement("p");
    const toggle = document.createElement("button");
    toggle.type = "button";
    toggle.className = "reveal";
    toggle.addEventListener("click", () => (viewer.revealed ? hide(fileId) : reveal(fileId)));
    const closer = document.createElement("button");
    closer.type = "button";
    closer.className = "close";
    closer.textContent = text("close");
    closer.addEventListener("click", () => close(fileId));
    bar.append(toggle, " ", closer);
    box.prepend(bar);
    open.set(fileId, { viewer, box, toggle });
    busy = false;
    status.hidden = true;
    refresh();
  }

  async function reveal(fileId) {
    const entry = open.get(fileId);
    if (!entry) return;
    // Logged first: if the log cannot be written, the file stays blurred.
    let ok;
    try {
      const response = await fetch(`/cases/${caseId}/files/${fileId}/revealed`, {
        method: "POST",
        headers: { "X-CSRF-Token": csrf },
        credentials: "same-origin",
        cache: "no-store",
      });
      ok = response.ok;
    } catch {
      ok = false;
    }
    if (!ok) return fail("reveal_failed");
    entry.viewer.reveal(); // hides every other file first: one at a time
    refresh();
  }

  function hide(fileId) {
    const entry = open.get(fileId);
    if (entry) entry.viewer.hide();
    refresh();
  }

  // The confirmation window bounds how long decrypted media stay in this page.
  const seconds = Number(root.dataset.freshSeconds) || 0;
  setTimeout(() => {
    forget();
    for (const button of viewButtons) button.disabled = true;
    fail("expired");
  }, Math.max(0, seconds) * 1000);
  window.addEventListener("pagehide", forget);
  refresh();
}
