// ESLint for the widget's and the console's JavaScript (chatbot/static, console/static): run by scripts/test
// next to ruff, zero findings.
// The recommended rules, browser globals, and a few that keep the code modern and safe to move between
// modules: no var, const where nothing reassigns, nothing used before it is defined (no TDZ surprises).
import js from "@eslint/js";
import globals from "globals";

const rules = {
  "no-var": "error",
  "prefer-const": "error",
  "no-use-before-define": ["error", { functions: false, classes: true, variables: false }],
  eqeqeq: ["error", "always", { null: "ignore" }],
  "no-implicit-globals": "error",
};

export default [
  js.configs.recommended,
  {
    files: ["chatbot/static/**/*.js"],
    languageOptions: { ecmaVersion: 2022, sourceType: "module", globals: { ...globals.browser } },
    rules,
  },
  {
    // The loader runs on other sites' pages as a classic script; the socket.io client is global there.
    files: ["chatbot/static/widget.js"],
    // ES5 on purpose: it must not break an old browser on the organisation's own pages.
    languageOptions: { sourceType: "script" },
    rules: { "no-var": "off", "prefer-const": "off", "no-unused-vars": ["error", { caughtErrors: "none" }] },
  },
  {
    files: ["chatbot/static/chat/**/*.js"],
    languageOptions: { globals: { io: "readonly" } },
  },
  {
    // The console's pages load these as classic scripts (each wraps itself; nothing global is meant).
    files: ["console/static/**/*.js"],
    languageOptions: { ecmaVersion: 2022, sourceType: "script", globals: { ...globals.browser, io: "readonly" } },
    rules,
  },
  {
    files: ["console/static/case.js"],
    languageOptions: { sourceType: "module" },
  },
  {
    // The child's-eye preview: ES modules served next to the widget's own (console/preview_pages.py).
    files: ["console/static/preview/**/*.js"],
    languageOptions: { sourceType: "module" },
  },
];
