/* Loader for the organisation's pages: <script src="https://CHAT-GATEWAY/widget.js" async></script>
 *
 * It adds one iframe, served by the gateway, that holds the launcher and the chat. The host page cannot
 * read the chat (another origin) and the chat cannot touch the host page; they speak only through
 * postMessage, each checking the other's origin. This loader stores nothing and sends nothing: its one
 * power is the quick exit, replacing the top page with a neutral site so Back does not return here.
 */
(function () {
  "use strict";

  // currentScript is null when a tag manager injected us late; then find our tag by its path.
  var script = document.currentScript || document.querySelector('script[src$="/widget.js"]');
  if (!script || !script.src) return;
  var gateway = new URL(script.src).origin;
  if (document.querySelector("iframe[data-stodchat]")) return; // included twice: one chat is enough

  var frame = document.createElement("iframe");
  var exitUrl = null;
  var open = false;
  var closedSize = { width: 0, height: 0 };
  var escapeAt = 0;
  var leaving = false;
  var MARGIN = 16;

  frame.setAttribute("data-stodchat", "");
  frame.src = gateway + "/chat?host=" + encodeURIComponent(window.location.origin);
  frame.referrerPolicy = "no-referrer"; // the chat need not know which page the child was reading
  frame.title = "";
  var s = frame.style;
  s.position = "fixed";
  s.zIndex = "2147483000";
  s.border = "0";
  s.margin = "0";
  s.padding = "0";
  s.background = "transparent";
  s.colorScheme = "normal";
  s.visibility = "hidden";
  s.width = "480px"; // roomy until the chat reports its launcher's size, so it measures unwrapped
  s.height = "200px";
  s.maxWidth = "100%";
  s.maxHeight = "100%";
  var startSide = document.documentElement.dir === "rtl" ? "left" : "right";
  s[startSide] = MARGIN + "px";
  s.bottom = MARGIN + "px";

  function layout() {
    var phone = window.innerWidth <= 520 || window.innerHeight <= 520;
    s.visibility = "visible";
    if (!open) {
      // The launcher brings its own padding (room for its focus ring), so it sits closer to the edge.
      s.top = "auto";
      s.left = startSide === "left" ? MARGIN / 2 + "px" : "auto";
      s.right = startSide === "right" ? MARGIN / 2 + "px" : "auto";
      s.bottom = MARGIN / 2 + "px";
      s.width = closedSize.width + "px";
      s.height = closedSize.height + "px";
      s.borderRadius = "0";
      s.boxShadow = "none";
    } else if (phone) {
      // A phone, or a desktop at 200% zoom: the chat takes the whole screen.
      s.top = "0";
      s.left = "0";
      s.right = "0";
      s.bottom = "0";
      s.width = "100%";
      s.height = "100%";
      s.borderRadius = "0";
      s.boxShadow = "none";
    } else {
      s.top = "auto";
      s.left = startSide === "left" ? MARGIN + "px" : "auto";
      s.right = startSide === "right" ? MARGIN + "px" : "auto";
      s.bottom = MARGIN + "px";
      s.width = Math.min(400, window.innerWidth - 2 * MARGIN) + "px";
      s.height = Math.min(680, window.innerHeight - 2 * MARGIN) + "px";
      s.borderRadius = "16px";
      s.boxShadow = "0 12px 40px rgba(31, 42, 46, 0.25)";
    }
  }

  function safeUrl(value) {
    try {
      var url = new URL(String(value));
      return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
    } catch (e) {
      return null;
    }
  }

  function leave() {
    if (leaving || !exitUrl) return;
    leaving = true;
    try {
      frame.contentWindow.postMessage({ type: "stodchat:leaving" }, gateway);
    } catch (e) {
      /* the frame is going anyway */
    }
    // Hide at once: the neutral site may take a moment to load.
    document.documentElement.style.visibility = "hidden";
    try {
      window.top.location.replace(exitUrl);
    } catch (e) {
      window.location.replace(exitUrl);
    }
  }

  window.addEventListener("message", function (event) {
    if (event.origin !== gateway || event.source !== frame.contentWindow) return;
    var data = event.data;
    if (!data || typeof data !== "object") return;
    if (data.type === "stodchat:ready") {
      exitUrl = safeUrl(data.exitUrl) || exitUrl;
      if (typeof data.title === "string") frame.title = data.title.slice(0, 200);
    } else if (data.type === "stodchat:layout") {
      open = Boolean(data.open);
      closedSize = {
        width: Math.min(Math.max(Number(data.width) || 0, 0), 600),
        height: Math.min(Math.max(Number(data.height) || 0, 0), 400)
      };
      layout();
    } else if (data.type === "stodchat:exit") {
      leave();
    }
  });

  // Escape twice on the host page: ask the chat to end and wipe itself, and leave even if it cannot.
  document.addEventListener(
    "keydown",
    function (event) {
      if (event.key !== "Escape") return;
      var now = Date.now();
      if (now - escapeAt < 1500 && exitUrl) {
        frame.contentWindow.postMessage({ type: "stodchat:quick-exit" }, gateway);
        window.setTimeout(leave, 800);
      }
      escapeAt = now;
    },
    true
  );

  window.addEventListener("resize", function () {
    if (s.visibility === "visible") layout();
  });

  function mount() {
    document.body.appendChild(frame);
  }
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();
