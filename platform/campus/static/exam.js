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
  // The visible clock is not a live region (it would talk every second): a screen reader hears
  // the time only at these marks, through a polite region that is empty when the page loads.
  var spoken = document.getElementById("exam-time-alert");
  var marks = [
    [600, "10 minutes left on the exam."],
    [300, "5 minutes left on the exam."],
    [60, "1 minute left on the exam. Your answers are saved as you choose them."]
  ];
  var startLeft = secondsLeft();
  marks = marks.filter(function (mark) { return mark[0] < startLeft; });

  function secondsLeft() {
    return Math.max(0, Math.round((ends - Date.now()) / 1000));
  }

  function say(text) {
    if (spoken) { spoken.textContent = text; }
  }

  function tick() {
    var left = secondsLeft();
    var due = null;
    strong.textContent = Math.floor(left / 60) + " min " + (left % 60) + " s";
    // A tab put to sleep may pass several marks at once: only the latest one is said.
    while (marks.length && left <= marks[0][0]) { due = marks.shift(); }
    if (left === 0) {
      say("Time is up. Your saved answers are being scored.");
      // Long enough for the sentence to be heard before the result page replaces this one.
      window.setTimeout(function () { window.location.reload(); }, 3000);
      return;
    }
    if (due) { say(due[1]); }
    window.setTimeout(tick, 1000);
  }
  tick();

  // Enter on an answer makes the browser submit the form (implicit submission): that sent the
  // whole exam, and spent an attempt, when a keyboard user only meant to choose. Only the
  // "Submit the exam" button sends it.
  form.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && event.target && event.target.type === "radio") {
      event.preventDefault();
    }
  });

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
          saved.textContent = data.saved + (data.saved === 1 ? " answer saved" : " answers saved");
        } else {
          saved.textContent = data.error ? data.error.message : "Not saved";
          if (response.status === 409) { window.location.reload(); }
        }
      });
    }).catch(function () { saved.textContent = "Not saved: check your connection"; });
  });
}());
