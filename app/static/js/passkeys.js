// Passkeys and security keys (WebAuthn): adding one on the account page, and using one at the
// second step of signing in. Loaded only by those two pages. The server makes the options and
// checks the answer; this file only carries them between it and the browser's authenticator.
(function () {
  "use strict";
  var supported = !!(window.PublicKeyCredential && PublicKeyCredential.parseCreationOptionsFromJSON);

  function csrfToken() {
    return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"];
  }
  function post(url, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin", body: JSON.stringify(body || {}),
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken() },
    }).then(function (response) {
      return response.json().then(function (data) {
        if (response.status === 403 && data.confirm) window.location.assign(data.confirm);  // confirm it's you first
        if (!response.ok) throw new Error(data.error || "Fieldline could not check it. Try again.");
        return data;
      });
    });
  }
  function sayer(button) {
    var status = document.getElementById(button.getAttribute("aria-describedby"));
    return function (text) { if (status) status.textContent = text; };
  }
  function problem(error) {
    // The person closed the browser's prompt, or no key answered in time.
    if (error && error.name === "NotAllowedError") return "Nothing was saved: the request was cancelled or timed out.";
    return (error && error.message) || "That did not work. Try again.";
  }

  document.querySelectorAll("[data-passkey-add]").forEach(function (button) {
    button.hidden = !supported;
    var say = sayer(button);
    button.addEventListener("click", function () {
      var name = document.querySelector("[data-passkey-name]");
      say("Follow your browser's prompt…");
      post(button.dataset.options).then(function (options) {
        return navigator.credentials.create({ publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options) });
      }).then(function (credential) {
        return post(button.dataset.save, { credential: credential.toJSON(), name: name ? name.value : "" });
      }).then(function (data) { window.location.assign(data.next); }, function (error) { say(problem(error)); });
    });
  });

  document.querySelectorAll("[data-passkey-sign-in]").forEach(function (button) {
    button.hidden = !supported;
    var say = sayer(button);
    button.addEventListener("click", function () {
      var remember = document.querySelector("input[name=remember]");
      say("Follow your browser's prompt…");
      post(button.dataset.options).then(function (options) {
        return navigator.credentials.get({ publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options) });
      }).then(function (credential) {
        return post(button.dataset.verify, { credential: credential.toJSON(), remember: !!(remember && remember.checked) });
      }).then(function (data) { window.location.assign(data.next); }, function (error) { say(problem(error)); });
    });
  });
})();
