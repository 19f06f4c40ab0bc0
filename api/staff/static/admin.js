// Admin pages (accounts, audit trail) and the set-password page. Loaded after staff.js,
// whose api() sends the CSRF header; text is always set with textContent.
(function () {
  "use strict";

  var FLASH = "aftercare-admin-flash";  // survives the reload after an action, then removed

  function shared() { return window.AftercareStaff; }

  function setupAccounts() {
    var status = document.getElementById("admin-status");
    var error = document.getElementById("admin-error");

    var flash = sessionStorage.getItem(FLASH);
    sessionStorage.removeItem(FLASH);  // a set-password link is shown once, then gone
    if (flash) {
      flash = JSON.parse(flash);
      status.textContent = flash.message;
      if (flash.link) {
        document.getElementById("link-for").textContent = flash.link.name;
        document.getElementById("link-url").value = flash.link.url;
        document.getElementById("link-expires").textContent = new Date(flash.link.expires).toLocaleString();
        document.getElementById("link-panel").hidden = false;
      }
      status.focus();
    }

    function done(message, result) {
      var value = { message: message };
      if (result.data && result.data.set_password_url) {
        value.link = { name: result.data.account.name, url: result.data.set_password_url, expires: result.data.expires_at };
      }
      sessionStorage.setItem(FLASH, JSON.stringify(value));
      location.reload();
    }

    function run(method, url, body, message) {
      error.textContent = "";
      return shared().api(method, url, body).then(function (result) {
        if (result.status === 401) { shared().toLogin(true); return; }
        if (!result.ok) { error.textContent = shared().errorText(result, "That did not work."); return; }
        done(message, result);
      }, function () { error.textContent = "The server could not be reached."; });
    }

    document.querySelectorAll("tr[data-id] button[data-action]").forEach(function (button) {
      button.addEventListener("click", function () {
        var row = button.closest("tr");
        var name = row.dataset.name;
        var base = "/api/v1/staff/accounts/" + encodeURIComponent(row.dataset.id);
        var action = button.dataset.action;
        if (action === "role") {
          var role = row.querySelector("[data-role-select]").value;
          run("POST", base + "/role", { role: role }, name + " is now " + role + ".");
        } else if (action === "disable") {
          if (window.confirm("Disable " + name + "? Their sessions end at once.")) run("POST", base + "/disable", undefined, name + " is disabled.");
        } else if (action === "enable") {
          run("POST", base + "/enable", undefined, name + " is enabled again.");
        } else if (action === "reset-password") {
          if (window.confirm("Reset the password of " + name + "? Their old password stops working now.")) {
            run("POST", base + "/reset-password", undefined, "Password of " + name + " reset: give them the link below.");
          }
        }
      });
    });

    var form = document.getElementById("create-form");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var body = { name: form.name.value.trim(), email: form.email.value.trim(), role: form.role.value };
      if (!body.name || !body.email) { error.textContent = "Please give a name and an e-mail address."; return; }
      run("POST", "/api/v1/staff/accounts", body, "Account created for " + body.name + ": give them the link below.");
    });
  }

  function setupSetPassword() {
    var secret = location.hash.slice(1);
    // Out of the address bar and history at once (the fragment never reached the server).
    if (secret) history.replaceState(null, "", location.pathname);
    var form = document.getElementById("setpw-form");
    var error = document.getElementById("setpw-error");
    if (!secret) { document.getElementById("setpw-missing").hidden = false; form.hidden = true; return; }
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      error.textContent = "";
      if (form.password.value.length < 12) { error.textContent = "The password needs at least 12 characters."; form.password.focus(); return; }
      if (form.password.value !== form.repeat.value) { error.textContent = "The two passwords differ."; form.repeat.focus(); return; }
      shared().api("POST", "/api/v1/staff/set-password", { secret: secret, password: form.password.value }).then(function (result) {
        if (!result.ok) { error.textContent = shared().errorText(result, "That did not work."); return; }
        form.hidden = true;
        var doneText = document.getElementById("setpw-done");
        doneText.hidden = false;
        doneText.focus();
      }, function () { error.textContent = "The server could not be reached."; });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var page = document.body.dataset.page;
    if (page === "accounts") setupAccounts();
    if (page === "set-password") setupSetPassword();
  });
})();
