// The editors' draft page: the guideline check runs as the editor types, and each finding is shown
// beside the bubble it concerns (the server runs the real check on the whole graph the draft produces).
(function () {
  "use strict";
  const token = document.querySelector('meta[name="csrf-token"]').content;
  document.querySelectorAll("form.draft-form").forEach(function (form) {
    let timer = null;
    function show(list, findings) {
      list.textContent = "";
      findings.forEach(function (f) {
        const item = document.createElement("li");
        item.className = "finding " + f.level;
        const label = document.createElement("strong");
        label.textContent = f.level === "violation" ? form.dataset.violation : form.dataset.warning;
        item.appendChild(label);
        item.appendChild(document.createTextNode(" "));
        const rule = document.createElement("span");
        rule.className = "rule";
        rule.textContent = f.title;
        item.appendChild(rule);
        item.appendChild(document.createTextNode(": " + f.message));
        list.appendChild(item);
      });
    }
    function check() {
      const body = new FormData(form);
      fetch(form.dataset.check, { method: "POST", body: body, headers: { "X-CSRF-Token": token }, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (!data || !data.bubbles) { return; }
          form.querySelectorAll("ul[data-findings]").forEach(function (list) {
            const i = Number(list.dataset.findings);
            show(list, data.bubbles[i] || []);
          });
          form.dataset.checked = String(Date.now());
        });
    }
    form.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(check, 400);
    });
  });
})();
