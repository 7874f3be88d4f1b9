/* Campus admin: a small Markdown toolbar, confirmation prompts and Flask-Admin's link buttons. */
(function () {
  "use strict";
  var TOOLS = [
    ["B", "Bold", "**", "**"],
    ["I", "Italic", "_", "_"],
    ["H2", "Heading", "\n## ", ""],
    ["• List", "Bulleted list", "\n- ", ""],
    ["Link", "Link", "[", "](https://)"],
    ["Cut", "End of the free preview", "\n\n<!-- more -->\n\n", ""]
  ];
  function wrap(area, before, after) {
    var start = area.selectionStart, end = area.selectionEnd;
    var text = area.value, chosen = text.slice(start, end);
    area.value = text.slice(0, start) + before + chosen + after + text.slice(end);
    area.focus();
    area.selectionStart = start + before.length;
    area.selectionEnd = start + before.length + chosen.length;
  }
  document.querySelectorAll("textarea.markdown-editor").forEach(function (area) {
    var bar = document.createElement("div");
    bar.className = "md-toolbar";
    bar.setAttribute("role", "toolbar");
    bar.setAttribute("aria-label", "Markdown formatting");
    TOOLS.forEach(function (tool) {
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = tool[0];
      button.title = tool[1];
      button.addEventListener("click", function () { wrap(area, tool[2], tool[3]); });
      bar.appendChild(button);
    });
    var count = document.createElement("span");
    count.className = "md-count";
    function update() {
      var words = area.value.trim() ? area.value.trim().split(/\s+/).length : 0;
      count.textContent = words + " words · about " + Math.max(1, Math.round(words / 220)) + " min";
    }
    area.addEventListener("input", update);
    update();
    bar.appendChild(count);
    area.parentNode.insertBefore(bar, area);
  });
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
    });
  });
  // Flask-Admin's pages use links as buttons. The CSP refuses inline handlers and javascript:
  // URLs, so what their onclick did is done here, and such a link never navigates.
  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("a") : null;
    if (!link) { return; }
    var href = (link.getAttribute("href") || "").trim().toLowerCase();
    if (href === "#" || href.indexOf("javascript:") === 0) { event.preventDefault(); }
    if (link.hasAttribute("data-model-action") && window.modelActions) {
      window.modelActions.execute(link.getAttribute("data-model-action"));
    } else if (link.hasAttribute("data-inline-add") && window.faForm) {
      window.faForm.addInlineField(link, link.getAttribute("data-inline-add"));
    }
  }, true);
})();
