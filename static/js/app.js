/* Followthrough: small enhancements on top of forms that all work without this file. */
(function () {
  "use strict";

  function closest(node, selector) {
    return node && node.closest ? node.closest(selector) : null;
  }

  // Ctrl+Enter (Cmd+Enter on a Mac) sends the form being typed in.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey)) return;
    var form = closest(event.target, "form[data-submit-shortcut]");
    if (form) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  // Due time: typing an exact time chooses "Exact time"; choosing "Exact time" goes to the field.
  document.addEventListener("input", function (event) {
    var picker = closest(event.target, "[data-due-picker]");
    if (picker && event.target.type === "datetime-local") {
      var exact = picker.querySelector("input[name=due_choice][value=exact]");
      if (exact) exact.checked = true;
    }
  });
  document.addEventListener("change", function (event) {
    var picker = closest(event.target, "[data-due-picker]");
    if (picker && event.target.name === "due_choice" && event.target.value === "exact") {
      var field = picker.querySelector("input[type=datetime-local]");
      if (field) field.focus();
    }
  });

  // Copy buttons, e.g. the customer's status link.
  document.addEventListener("click", function (event) {
    var button = closest(event.target, "[data-copy]");
    if (!button) return;
    var source = document.querySelector(button.getAttribute("data-copy"));
    if (!source) return;
    var done = function () {
      var label = button.textContent;
      button.textContent = "Copied";
      setTimeout(function () { button.textContent = label; }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(source.value).then(done);
    } else {
      source.select();
      document.execCommand("copy");
      done();
    }
  });

  // A returning customer, found while the email or phone is typed, fills in the rest.
  function fill(id, value, onlyIfEmpty) {
    var input = document.getElementById(id);
    if (!input || !value) return;
    if (onlyIfEmpty && input.value) return;
    if (input.value && input.value !== value && !input.dataset.autofilled && id === "id_customer_name") return;
    input.value = value;
    input.dataset.autofilled = "1";
    input.classList.add("autofilled");
    setTimeout(function () { input.classList.remove("autofilled"); }, 1600);
  }
  document.addEventListener("htmx:afterSettle", function () {
    var data = document.getElementById("returning-customer");
    if (!data) return;
    var customer = JSON.parse(data.textContent);
    data.remove();
    fill("id_customer_name", customer.customer_name);
    fill("id_customer_timezone", customer.customer_timezone);
    fill("id_customer_email", customer.customer_email, true);
    fill("id_customer_phone", customer.customer_phone, true);
    var channel = document.querySelector("input[name=preferred_channel][value='" + customer.preferred_channel + "']");
    if (channel) channel.checked = true;
  });
})();

/* After a refused form (whole page or htmx panel), put the cursor in the first field to fix. */
(function () {
  "use strict";
  function focusFirstError(root) {
    var field = (root || document).querySelector(
      ".field-error input:not([type=radio]):not([type=hidden]), .field-error textarea, .field-error select"
    );
    if (field) field.focus({ preventScroll: false });
  }
  document.addEventListener("DOMContentLoaded", function () { focusFirstError(document); });
  document.addEventListener("htmx:afterSettle", function (event) { focusFirstError(event.target); });
})();
