// The register on a group session's page (loaded by that page only). "Everyone here" marks every
// attendee attended in one tap; saving goes through the outbox (offline.js) like any offline form;
// each attendee's line says whether their mark is only on this phone or has reached the server.
// Marks are kept in memory only: the outbox item is the one copy on the phone.
(function () {
  "use strict";

  var form = document.querySelector("form[data-register]");
  var Outbox = window.FieldlineOutbox;
  if (!form) return;

  var everyone = form.querySelector("[data-register-all]");
  if (everyone) {
    everyone.hidden = false;
    everyone.addEventListener("click", function () {
      form.querySelectorAll("input[type=radio][value=attended]").forEach(function (radio) {
        var chosen = form.querySelector("input[name='" + radio.name + "']:checked");
        if (!chosen) radio.checked = true;
      });
    });
  }

  var action = new URL(form.action, location.href).pathname;
  var pending = null; // {personId: [mark, label]} sent from this page and not yet seen on the server

  function labelOf(radio) {
    var span = radio.closest("label").querySelector("span");
    return span ? span.textContent.trim() : radio.value;
  }

  function chosenMarks() {
    var marks = {};
    form.querySelectorAll("input[type=radio]:checked").forEach(function (radio) {
      marks[radio.name.replace("mark-", "")] = [radio.value, labelOf(radio)];
    });
    return marks;
  }

  function show(personId, text, tone) {
    var line = form.querySelector("[data-register-status='" + personId + "']");
    if (!line) return;
    var tag = document.createElement("span");
    tag.className = "tag tag--" + tone;
    tag.textContent = text;
    line.textContent = "";
    line.appendChild(tag);
  }

  // After offline.js keeps the register and resets the form, put the marks back on screen.
  form.addEventListener("reset", function () {
    if (!pending) return;
    var marks = pending;
    setTimeout(function () {
      Object.keys(marks).forEach(function (id) {
        var radio = form.querySelector("input[name='mark-" + id + "'][value='" + marks[id][0] + "']");
        if (radio) radio.checked = true;
      });
    }, 0);
  });

  form.addEventListener("submit", function () {
    pending = chosenMarks();
    var offline = navigator.onLine === false;
    Object.keys(pending).forEach(function (id) {
      show(id, (offline ? "On this phone only: " : "Sending: ") + pending[id][1], "warn");
    });
  });

  // The register has left the outbox: ask the server what it holds, and say so mark by mark.
  function confirm() {
    return fetch(form.getAttribute("data-marks-url"), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (held) {
        if (!held || !pending) return;
        Object.keys(pending).forEach(function (id) {
          var there = held[id];
          if (there && there.mark === pending[id][0]) {
            show(id, "On the server: " + there.label + " (" + there.at + ")", "ok");
            delete pending[id];
          }
        });
        if (!Object.keys(pending).length) pending = null;
      }, function () { /* still no signal: the next outbox change asks again */ });
  }

  function check() {
    if (!pending || !Outbox) return;
    Outbox.summary().then(function (s) {
      var mine = s.items.filter(function (item) { return item.url === action; });
      if (mine.some(function (item) { return item.state === "attention"; })) {
        Object.keys(pending).forEach(function (id) { show(id, "Not accepted: open the Outbox to fix it", "danger"); });
      } else if (!mine.length) {
        confirm();
      }
    });
  }

  window.addEventListener("fieldline:outbox", check);
  // The service worker sends the outbox too (Background Sync) and says so on this channel.
  if (Outbox && Outbox.channel) Outbox.channel.addEventListener("message", check);
  window.addEventListener("online", function () { setTimeout(check, 500); });
})();
