/* eventsync's registration widget (docs/registration-links.md): in each element with the id
   eventsync-register or the class eventsync-register, a Register link to the signed link the
   association's website put in data-link; or, when the website says data-eligible="false" or
   eventsync's eligibility check answers that the member may not register, the reason instead. */
(function () {
  "use strict";

  function show(holder, node) {
    while (holder.firstChild) {
      holder.removeChild(holder.firstChild);
    }
    holder.appendChild(node);
  }

  function reason(text) {
    var paragraph = document.createElement("p");
    paragraph.className = "eventsync-not-eligible";
    paragraph.textContent = text;
    return paragraph;
  }

  /* /register/<connection>?… becomes /register/<connection>/eligibility?… */
  function eligibilityUrl(link) {
    var url = new URL(link, document.baseURI);
    url.pathname = url.pathname.replace(/\/+$/, "") + "/eligibility";
    return url.toString();
  }

  function render(holder) {
    if (holder.getAttribute("data-eventsync-rendered")) {
      return;
    }
    holder.setAttribute("data-eventsync-rendered", "true");
    if (holder.getAttribute("data-eligible") === "false") {
      show(holder, reason(holder.getAttribute("data-message") ||
        "You cannot register for this event."));
      return;
    }
    var link = holder.getAttribute("data-link");
    if (!link) {
      return;
    }
    var anchor = document.createElement("a");
    anchor.href = link;
    anchor.className = "eventsync-register-link";
    anchor.textContent = holder.getAttribute("data-label") || "Register";
    show(holder, anchor);
    if (!window.fetch || !window.URL) {
      return;
    }
    var url;
    try {
      url = eligibilityUrl(link);
    } catch (error) {
      return;
    }
    window.fetch(url, { credentials: "omit", cache: "no-store" })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (answer) {
        if (answer && answer.eligible === false && typeof answer.message === "string") {
          show(holder, reason(answer.message));
        }
      })
      .catch(function () {
        /* The link stays: the page it opens says what is wrong. */
      });
  }

  function renderAll() {
    var holders = document.querySelectorAll("#eventsync-register, .eventsync-register");
    for (var i = 0; i < holders.length; i += 1) {
      render(holders[i]);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", renderAll);
  } else {
    renderAll();
  }
}());
