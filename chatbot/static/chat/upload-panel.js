// The encrypted upload's panel: grant, form and its problems, progress per file, the case code (docs/widget.md).
import { config, el, state, up } from "./context.js";
import { t } from "./strings.js";
import { connect } from "./connection.js";
import { scrollToEnd, showNotice } from "./transcript.js";
import * as events from "./events.js";

export function openUpload() {
  if (state.ended || state.exiting) return;
  up.open = true;
  resetUploadForm();
  showUploadStep("form");
  el.conversation.hidden = true;
  el.upload.hidden = false;
  el.uploadTitle.focus();
  if (!grantUsable()) askForGrant();
}

export function askForGrant() {
  up.wanted = true;
  if (state.socket && state.ready) state.socket.emit(events.UPLOAD_REQUEST, {});
  else connect(); // sent from onSessionState once the session is back
}

export function grantUsable() {
  // A minute of margin: the grant must still be valid when the files have been hashed.
  return Boolean(up.grant) && Date.now() < up.grant.expires - 60000;
}

export function onUploadGrant(data) {
  if (!data || typeof data.grant !== "string" || typeof data.expires !== "number") return;
  up.wanted = false;
  up.grant = data;
  showGrantStrings();
  if (up.sendWhenGranted && up.open) {
    up.sendWhenGranted = false;
    sendUpload();
  }
}

export function showGrantStrings() {
  // The words that carry the grant's numbers; again after a switch of language.
  const data = up.grant;
  if (!data) return;
  el.uploadKeep.textContent = t("upload.intro.keep", { days: data.keep_days, hash_days: data.hash_days });
  el.uploadKeep.hidden = false;
  el.uploadLimits.textContent = t("upload.files.limits", { count: data.max_files, size: formatSize(data.max_file_bytes) });
}

export function uploadRefused(code) {
  up.wanted = false;
  up.sendWhenGranted = false;
  el.uploadSend.disabled = false;
  const text = code === "upload_limit" ? t("error.upload_limit") : code === "uploads_full" ? t("error.uploads_full") : t("error.uploads_unavailable");
  if (up.open) showUploadProblem(text);
  else showNotice(text);
}

export function resetUploadForm() {
  el.uploadForm.querySelectorAll('input[name="upload-age"]').forEach(function (radio) {
    radio.checked = false;
  });
  el.uploadConsent.checked = false;
  dropFiles();
  showUploadProblem("");
  el.uploadSend.disabled = false;
  el.uploadKeep.hidden = !up.grant;
}

export function dropFiles() {
  // The only references to the child's files: gone, and the picker forgets its selection.
  up.files = [];
  el.uploadFiles.value = "";
  el.uploadChosen.textContent = "";
}

export function showUploadStep(step) {
  el.uploadForm.hidden = step !== "form";
  el.uploadProgress.hidden = step !== "progress";
  el.uploadDone.hidden = step !== "done";
}

export function showUploadProblem(text) {
  el.uploadProblem.textContent = text;
  el.uploadProblem.hidden = !text;
}

export function formatSize(bytes) {
  const megabytes = Math.max(1, Math.round(Number(bytes) / (1024 * 1024)));
  let number;
  try {
    number = new Intl.NumberFormat(state.catalog.locale).format(megabytes);
  } catch {
    number = String(megabytes);
  }
  return t("upload.size_mb", { number: number });
}

export function onFilesChosen() {
  up.files = Array.prototype.slice.call(el.uploadFiles.files || []);
  el.uploadChosen.textContent = "";
  up.files.forEach(function (file) {
    const item = document.createElement("li");
    item.dir = "auto";
    item.textContent = file.name;
    el.uploadChosen.appendChild(item);
  });
  showUploadProblem(filesProblem() || "");
}

export function chosenAgeBand() {
  const checked = el.uploadForm.querySelector('input[name="upload-age"]:checked');
  return checked ? checked.value : "";
}

export function filesProblem() {
  // Checked before a byte is read, against the grant's limits (the server checks them again).
  const files = up.files;
  if (!files.length) return t("upload.problem.no_files");
  for (let i = 0; i < files.length; i += 1) {
    const type = files[i].type || "";
    if (type && type.indexOf("image/") !== 0 && type.indexOf("video/") !== 0) return t("upload.error.not_media");
  }
  const limits = up.grant;
  if (!limits) return "";
  if (files.length > limits.max_files) return t("upload.error.too_many_files", { count: limits.max_files });
  let total = 0;
  for (let j = 0; j < files.length; j += 1) {
    if (files[j].size > limits.max_file_bytes) return t("upload.error.file_too_big", { size: formatSize(limits.max_file_bytes) });
    total += files[j].size;
  }
  if (total > limits.max_total_bytes) return t("upload.error.upload_too_big", { size: formatSize(limits.max_total_bytes) });
  return "";
}

export function formProblem() {
  if (!chosenAgeBand()) return { text: t("upload.problem.age"), focus: el.uploadForm.querySelector('input[name="upload-age"]') };
  if (!el.uploadConsent.checked) return { text: t("upload.problem.consent"), focus: el.uploadConsent };
  const files = filesProblem();
  return files ? { text: files, focus: el.uploadFiles } : null;
}

export function onSendClick() {
  const problem = formProblem();
  if (problem) {
    showUploadProblem(problem.text);
    problem.focus.focus();
    return;
  }
  showUploadProblem("");
  if (!grantUsable()) {
    up.grant = null;
    up.sendWhenGranted = true;
    el.uploadSend.disabled = true; // until the grant comes (or is refused)
    askForGrant();
    return;
  }
  sendUpload();
}

export function sendUpload() {
  const problem = formProblem(); // the limits may have come with the grant just now
  el.uploadSend.disabled = false;
  if (problem) {
    showUploadProblem(problem.text);
    problem.focus.focus();
    return;
  }
  const grant = up.grant;
  up.grant = null; // one upload spends it
  const files = up.files;
  const ageBand = chosenAgeBand();
  const rows = files.map(makeProgressRow);
  showUploadStep("progress");
  el.uploadTitle.focus();
  announce(t("upload.announce.start", { count: files.length }));
  const controller = new AbortController();
  up.controller = controller;
  loadUploadModule()
    .then(function (module) {
      return module.uploadFiles(grant.grant, files, {
        ageBand: ageBand,
        consent: true,
        signal: controller.signal,
        // About five minutes of patience for a dropped connection before giving up.
        maxRetries: 20,
        onProgress: function (progress) {
          showProgress(rows, progress);
        }
      });
    })
    .then(
      function (result) {
        if (up.controller !== controller) return;
        up.controller = null;
        dropFiles();
        showCaseCode(result.caseCode);
      },
      function (error) {
        if (up.controller !== controller) return; // cancelled: the panel is already closed
        up.controller = null;
        uploadFailed(error);
      }
    );
}

export function loadUploadModule() {
  // The upload code (crypto.js, pdq.js) loads only when a child sends something.
  if (!up.module) up.module = import(config.uploadUrl);
  return up.module;
}

export function makeProgressRow(file, index) {
  const item = document.createElement("li");
  item.className = "upload-file";
  const name = document.createElement("span");
  name.className = "upload-file-name";
  name.id = "upload-file-" + index;
  name.dir = "auto";
  name.textContent = file.name;
  const bar = document.createElement("progress");
  bar.max = 100;
  bar.setAttribute("aria-labelledby", name.id);
  const status = document.createElement("span");
  status.className = "upload-file-status";
  status.textContent = t("upload.phase.waiting");
  item.appendChild(name);
  item.appendChild(bar);
  item.appendChild(status);
  el.uploadList.appendChild(item);
  return { name: file.name, bar: bar, status: status, phase: "waiting" };
}

export function showProgress(rows, progress) {
  if (!progress) return;
  if (progress.phase === "done") {
    rows.forEach(function (row) {
      setRowPhase(row, "done", t("upload.phase.done"));
      row.bar.value = 100;
    });
    return;
  }
  const index = typeof progress.file === "number" ? progress.file : -1;
  const row = rows[index];
  if (!row) return;
  // Every file before this one is through the same phase.
  rows.slice(0, index).forEach(function (earlier) {
    if (progress.phase === "uploading" && earlier.phase !== "done") {
      earlier.bar.value = 100;
      setRowPhase(earlier, "done", t("upload.phase.done"));
    }
  });
  if (progress.phase === "hashing") {
    row.bar.removeAttribute("value"); // an indeterminate bar while the file is read and fingerprinted
    setRowPhase(row, "hashing", t("upload.phase.hashing"));
  } else if (progress.phase === "uploading") {
    const percent = progress.fileTotal ? Math.floor((100 * progress.fileDone) / progress.fileTotal) : 0;
    row.bar.value = percent;
    setRowPhase(row, "uploading", t("upload.phase.uploading", { percent: percent }));
  } else if (progress.phase === "retrying") {
    setRowPhase(row, "retrying", t("upload.phase.retrying"));
  }
}

export function setRowPhase(row, phase, text) {
  row.status.textContent = text;
  if (row.phase === phase) return;
  row.phase = phase;
  // Only changes of phase are read out, not every percent.
  announce(t("upload.announce.file", { name: row.name, status: phase === "uploading" ? t("upload.phase.sending") : text }));
}

export function announce(text) {
  el.uploadAnnounce.textContent = text;
}

export function showCaseCode(code) {
  el.uploadList.textContent = "";
  el.uploadCode.textContent = String(code);
  showUploadStep("done");
  el.uploadDone.querySelector(".upload-lead").focus();
}

export function uploadFailed(error) {
  const code = error && typeof error.code === "string" ? error.code : "";
  let text;
  if (code === "too_many_files" || code === "file_too_big" || code === "upload_too_big") {
    const limit = error.info && error.info.limit;
    text = code === "too_many_files" ? t("upload.error.too_many_files", { count: limit || "" }) : code === "file_too_big" ? t("upload.error.file_too_big", { size: formatSize(limit || 0) }) : t("upload.error.upload_too_big", { size: formatSize(limit || 0) });
  } else if (code === "uploads_full") {
    text = t("error.uploads_full");
  } else if (code === "grant_expired" || code === "grant_used" || code === "grant_invalid" || code === "conversation_ended") {
    text = t("upload.error.expired");
  } else if (code === "network" || code.indexOf("http_5") === 0) {
    text = t("upload.error.network");
  } else if (code === "uploads_disabled") {
    text = t("error.uploads_unavailable");
  } else {
    text = t("upload.error.failed");
  }
  el.uploadList.textContent = "";
  showUploadStep("form");
  showUploadProblem(text);
  el.uploadSend.focus();
}

export function closeUpload() {
  up.open = false;
  up.sendWhenGranted = false;
  dropFiles();
  el.uploadList.textContent = "";
  el.uploadCode.textContent = ""; // the code is on paper now, or nowhere
  announce("");
  el.upload.hidden = true;
  el.conversation.hidden = false;
  scrollToEnd();
  el.input.focus();
}

export function cancelUpload() {
  const running = up.controller;
  up.controller = null;
  if (running) {
    running.abort(); // upload.js stops and asks the server to discard what arrived
    closeUpload();
    showNotice(t("upload.cancelled"));
  } else {
    closeUpload();
  }
}

export function wipeUpload() {
  if (up.controller) up.controller.abort();
  up.controller = null;
  up.grant = null;
  up.wanted = false;
  if (up.open) closeUpload();
  dropFiles();
}
