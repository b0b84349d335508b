// The child's language: strings from the widget catalog (locales/), applied to the page, switched on demand.
import { config, el, state } from "./context.js";
import { reportLayout, tellHost } from "./host.js";
import { whoLabel } from "./transcript.js";
import { showGrantStrings } from "./upload-panel.js";
import { showPlace } from "./queue.js";

export function t(key, params) {
  let text = state.catalog.messages[key];
  if (typeof text !== "string") text = key;
  if (params) {
    text = text.replace(/\{(\w+)\}/g, function (whole, name) {
      return Object.prototype.hasOwnProperty.call(params, name) ? String(params[name]) : whole;
    });
  }
  return text;
}

export function applyStrings() {
  const catalog = state.catalog;
  document.documentElement.lang = catalog.locale;
  document.documentElement.dir = catalog.dir;
  document.querySelectorAll("[data-i18n]").forEach(function (node) {
    node.textContent = t(node.getAttribute("data-i18n"));
  });
  document.querySelectorAll("[data-i18n-label]").forEach(function (node) {
    node.setAttribute("aria-label", t(node.getAttribute("data-i18n-label")));
  });
  document.querySelectorAll("[data-i18n-placeholder]").forEach(function (node) {
    node.setAttribute("placeholder", t(node.getAttribute("data-i18n-placeholder")));
  });
  el.language.textContent = "";
  catalog.languages.forEach(function (language) {
    const option = document.createElement("option");
    option.value = language.code;
    option.lang = language.code;
    option.dir = language.dir;
    option.textContent = language.name;
    option.selected = language.code === catalog.locale;
    el.language.appendChild(option);
  });
  el.log.querySelectorAll("[data-who]").forEach(function (node) {
    node.textContent = whoLabel(node.getAttribute("data-who"), node.getAttribute("data-author")) + ": ";
  });
  el.log.querySelectorAll("[data-status]").forEach(function (node) {
    node.textContent = t(node.getAttribute("data-status"));
  });
  el.input.maxLength = config.maxChars;
  const statusKey = el.status.getAttribute("data-status-key");
  if (statusKey) el.status.textContent = t(statusKey);
  showGrantStrings();
  showPlace();
  tellHost({ type: "stodchat:ready", title: t("app.frame_title"), exitUrl: config.exitUrl });
  reportLayout();
}

export function switchLanguage(code) {
  if (code === state.catalog.locale) return Promise.resolve();
  const url = config.catalogUrl.replace("{locale}", encodeURIComponent(code));
  return fetch(url, { credentials: "omit", cache: "no-store" })
    .then(function (response) {
      if (!response.ok) throw new Error("catalog " + response.status);
      return response.json();
    })
    .then(function (catalog) {
      state.catalog = catalog;
      state.locale = catalog.locale;
      applyStrings();
    });
}
