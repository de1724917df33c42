// With no signal. The page the service worker shows in place of one it could not fetch is kept for
// anyone, so it holds no personal data: here it takes this worker's visit bar and Crisis details
// from the copy of Today the phone kept, so I'm safe and Crisis work from it too. And a Log contact
// link for one person (?person=N) chooses them on the kept Log contact page.
(function () {
  "use strict";

  function keptToday() {
    if (!window.caches || !window.DOMParser) return Promise.resolve(null);
    return caches.open("fieldline-pages").then(function (cache) { return cache.match("/"); })
      .then(function (response) { return response ? response.text() : null; })
      .then(function (html) { return html ? new DOMParser().parseFromString(html, "text/html") : null; });
  }

  function adopt(kept) {
    if (!kept || kept.body.getAttribute("data-signed-in") !== "yes") return;
    ["data-signed-in", "data-user", "hx-headers"].forEach(function (name) {
      var value = kept.body.getAttribute(name);
      if (value !== null) document.body.setAttribute(name, value);
    });
    var bar = kept.querySelector("[data-visit-bar]");
    var slot = document.querySelector("[data-kept-visit-bar]");
    if (bar && slot) slot.replaceWith(document.importNode(bar, true));
    var from = kept.querySelector("[data-crisis-hold]");
    var crisis = document.querySelector("[data-crisis-hold]");
    if (from && crisis) {
      ["data-worker", "data-duty-phone", "data-visit"].forEach(function (name) {
        if (from.hasAttribute(name)) crisis.setAttribute(name, from.getAttribute(name));
      });
    }
    window.dispatchEvent(new Event("fieldline:outbox")); // the header's "waiting to send" count
  }

  function choosePerson() {
    var person = new URLSearchParams(location.search).get("person");
    if (!person || !/^\d+$/.test(person) || document.querySelector("input[name=person_id]:checked")) return;
    var radio = document.querySelector("input[name=person_id][value='" + person + "']");
    if (radio) radio.checked = true;
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (document.body.hasAttribute("data-no-signal")) keptToday().then(adopt).catch(function () { return null; });
    choosePerson();
  });
})();
