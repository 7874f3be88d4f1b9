/* Program exam: show the server's remaining time and save each answer as it is chosen.
   The server keeps the deadline; this clock only displays it, and the server refuses answers
   that arrive late whatever this script does. */
(function () {
  "use strict";
  var form = document.getElementById("exam-form");
  var clock = document.getElementById("exam-clock");
  var saved = document.getElementById("exam-saved");
  var tokenTag = document.querySelector('meta[name="csrf-token"]');
  if (!form || !clock) { return; }
  var ends = Date.now() + (parseInt(clock.getAttribute("data-seconds"), 10) || 0) * 1000;
  var strong = clock.querySelector("strong");

  function tick() {
    var left = Math.max(0, Math.round((ends - Date.now()) / 1000));
    strong.textContent = Math.floor(left / 60) + " min " + (left % 60) + " s";
    if (left === 0) { window.location.reload(); return; }
    window.setTimeout(tick, 1000);
  }
  tick();

  if (!window.fetch || !tokenTag) { return; }
  form.addEventListener("change", function (event) {
    var input = event.target;
    if (!input || input.type !== "radio") { return; }
    var body = new URLSearchParams();
    body.append(input.name, input.value);
    fetch(form.getAttribute("data-save-url"), {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": tokenTag.getAttribute("content") },
      body: body
    }).then(function (response) {
      return response.json().then(function (data) {
        if (response.ok) {
          saved.textContent = data.saved + " answers saved";
        } else {
          saved.textContent = data.error ? data.error.message : "Not saved";
          if (response.status === 409) { window.location.reload(); }
        }
      });
    }).catch(function () { saved.textContent = "Not saved: check your connection"; });
  });
}());
