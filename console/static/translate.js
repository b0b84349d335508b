// The checks as a translator types: the field is posted (with the session's CSRF header) a moment after
// the last key, and the findings the console words are listed under it. Nothing is saved until Save.
(function () {
  "use strict";
  const token = document.querySelector('meta[name="csrf-token"]');
  const locale = location.pathname.split("/")[2] || "";
  function show(list, findings) {
    list.textContent = "";
    findings.forEach(function (f) {
      const li = document.createElement("li");
      li.className = "finding-" + f.severity;
      li.setAttribute("data-code", f.code);
      li.textContent = f.text;
      list.appendChild(li);
    });
  }
  document.querySelectorAll("form.tr-form").forEach(function (form) {
    const area = form.querySelector("textarea");
    const list = form.querySelector(".findings");
    let timer = null;
    area.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        const body = new URLSearchParams();
        body.set("domain", form.elements.domain.value);
        body.set("key", form.elements.key.value);
        body.set("text", area.value);
        fetch("/translate/" + encodeURIComponent(locale) + "/check", {
          method: "POST",
          headers: { "X-CSRF-Token": token ? token.content : "" },
          body: body,
          credentials: "same-origin"
        }).then(function (r) { return r.ok ? r.json() : { findings: [] }; })
          .then(function (data) { show(list, data.findings); form.setAttribute("data-checked", area.value); });
      }, 300);
    });
  });
})();
