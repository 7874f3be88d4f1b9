/* Read out the messages carried to this page (flashes such as "Profile saved").
   A live region that already holds its text when the page loads is not announced by most
   screen readers, so the server shows the messages as plain text and renders two live regions
   empty; once the page has loaded, this repeats each message into one of them: errors into the
   alert region, everything else into the polite status region. Without this script the
   messages are still on the page, where a reader finds them at the top of the content. */
(function () {
  "use strict";
  // At the top of the page, or where a form says its outcome (the directory's contact box).
  var messages = document.querySelectorAll("[data-announce]");
  if (!messages.length) { return; }
  var regions = {
    alert: document.getElementById("announce-alert"),
    status: document.getElementById("announce-status")
  };
  // A moment after load, so the screen reader has met the empty regions before they change.
  window.setTimeout(function () {
    Array.prototype.forEach.call(messages, function (message) {
      var region = regions[message.getAttribute("data-announce")] || regions.status;
      if (!region) { return; }
      var line = document.createElement("p");
      line.textContent = message.textContent.trim();
      region.appendChild(line);
    });
  }, 500);
}());
