/* Lesson seat time: beat while the page is visible and in use; the server does the counting.
   The server credits each beat with the time since the previous one and nothing after a long
   pause, so this script only has to stop beating when the reader is away. */
(function () {
  "use strict";
  var box = document.querySelector("[data-heartbeat-url]");
  var tokenTag = document.querySelector('meta[name="csrf-token"]');
  if (!box || !tokenTag || !window.fetch) { return; }
  var url = box.getAttribute("data-heartbeat-url");
  var every = Math.max(1, parseInt(box.getAttribute("data-heartbeat-seconds"), 10) || 15) * 1000;
  var idleAfter = 5 * 60 * 1000;  // no input for five minutes: the reader has left
  var lastInput = Date.now();
  var timer = null;
  var lessonLeft = box.querySelector("[data-lesson-left]");
  var courseLeft = box.querySelector("[data-course-left]");
  var button = document.querySelector("[data-needs-time]");

  function show(data) {
    if (lessonLeft) {
      lessonLeft.textContent = data.lesson.remaining > 0
        ? data.lesson.remaining_text + " left on this lesson"
        : "Enough time on this lesson to mark it complete";
    }
    if (courseLeft) {
      courseLeft.textContent = data.course.remaining > 0
        ? data.course.remaining_text + " of study left before the final quiz opens"
        : "Enough study time for the final quiz";
    }
    if (button && data.lesson.remaining === 0) {
      button.disabled = false;
      button.removeAttribute("aria-disabled");
    }
  }
  function beat() {
    if (document.visibilityState !== "visible" || Date.now() - lastInput > idleAfter) {
      stop();
      return;
    }
    fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": tokenTag.getAttribute("content"), "Accept": "application/json" }
    }).then(function (response) {
      return response.ok ? response.json() : null;
    }).then(function (data) { if (data) { show(data); } }).catch(function () {});
  }
  function start() {
    if (timer === null && document.visibilityState === "visible") {
      beat();
      timer = window.setInterval(beat, every);
    }
  }
  function stop() {
    if (timer !== null) { window.clearInterval(timer); timer = null; }
  }
  function active() {
    lastInput = Date.now();
    start();
  }
  ["mousemove", "keydown", "scroll", "touchstart", "click"].forEach(function (name) {
    window.addEventListener(name, active, { passive: true });
  });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") { active(); } else { stop(); }
  });
  start();
})();
