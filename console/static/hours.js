// The opening-hours editor, enhanced: add and remove times and exceptions in the page. Without this script
// the form works as it is (plain posts): every day and the exception list keep an empty row to fill in.
(function () {
  "use strict";
  const form = document.getElementById("hours-form");
  if (!form) { return; }
  const texts = form.dataset;

  function button(text, onClick) {
    const made = document.createElement("button");
    made.type = "button";
    made.className = "small";
    made.textContent = text;
    made.addEventListener("click", onClick);
    return made;
  }

  function isBlank(row) {
    const inputs = row.querySelectorAll("input[type=time]");
    for (let i = 0; i < inputs.length; i++) {
      if (inputs[i].value || inputs[i].getAttribute("aria-invalid")) { return false; }
    }
    return true;
  }

  function nextIndex(group) {
    let most = -1;
    group.querySelectorAll("[data-span] input").forEach(function (input) {
      const found = /-s(\d+)-/.exec(input.name);
      if (found) { most = Math.max(most, parseInt(found[1], 10)); }
    });
    return most + 1;
  }

  function withRemove(row) {
    // Before the error, if any: the error takes a line of its own under the row.
    row.insertBefore(button(texts.removeSpan, function () {
      const group = row.parentNode;
      if (group.querySelectorAll("[data-span]").length > 1) {
        row.remove();
      } else {
        row.querySelectorAll("input").forEach(function (input) { input.value = ""; });
      }
      group.querySelector("[data-add]").focus();
    }), row.querySelector(".field-error"));
  }

  function newRow(group) {
    const owner = group.getAttribute("data-spans");
    const index = nextIndex(group);
    const row = group.querySelector("[data-span]").cloneNode(true);
    row.querySelectorAll(".field-error, button").forEach(function (node) { node.remove(); });
    const inputs = row.querySelectorAll("input");
    inputs.forEach(function (input) {
      const end = input.name.split("-").pop();
      input.name = owner + "-s" + index + "-" + end;
      input.id = "hours-" + input.name;
      input.value = "";
      input.removeAttribute("aria-invalid");
      input.removeAttribute("aria-describedby");
    });
    row.querySelectorAll("label").forEach(function (label, k) { label.htmlFor = inputs[k].id; });
    withRemove(row);
    return row;
  }

  form.querySelectorAll("[data-spans]").forEach(function (group) {
    const rows = group.querySelectorAll("[data-span]");
    // The empty row kept for browsers without this script goes when the day has another.
    if (rows.length > 1 && isBlank(rows[rows.length - 1])) { rows[rows.length - 1].remove(); }
    group.querySelectorAll("[data-span]").forEach(withRemove);
    const add = button(texts.addSpan, function () {
      const row = newRow(group);
      group.insertBefore(row, add);
      row.querySelector("input").focus();
    });
    add.setAttribute("data-add", "");
    group.appendChild(add);
  });

  // A closed day's times are out of the way (still sent, and ignored, so unticking brings them back).
  form.querySelectorAll(".closed input[type=checkbox]").forEach(function (box) {
    const group = box.closest("fieldset").querySelector("[data-spans]");
    function follow() { group.hidden = box.checked; }
    box.addEventListener("change", follow);
    follow();
  });

  form.querySelectorAll("[data-exception]").forEach(function (row) {
    const date = row.querySelector("input[type=date]");
    if (!date.value) { return; }
    row.appendChild(button(texts.removeException, function () {
      // Emptied, it is left out when the form is saved; hidden, it is out of the way until then.
      row.querySelectorAll("input").forEach(function (input) {
        if (input.type === "checkbox") { input.checked = false; } else { input.value = ""; }
      });
      row.hidden = true;
      form.querySelector("button[type=submit]").focus();
    }));
  });
}());
