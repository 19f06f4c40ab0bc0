// Session timeouts in the staff console: a warning two minutes before the idle limit with a
// "Stay signed in" button (GET /api/v1/staff/session extends the idle timer), and a queue page
// that someone is watching (visible tab) keeps its session alive, up to the absolute limit,
// which only a new login resets.
(function () {
  "use strict";

  var WARN_MS = 2 * 60 * 1000;

  function setup() {
    var body = document.body;
    var idleMs = Number(body.dataset.idleSeconds || 0) * 1000;
    if (!idleMs || !window.AftercareStaff) return;  // not signed in (login, set-password)
    var hardEnd = body.dataset.sessionEnds ? Date.parse(body.dataset.sessionEnds) : Infinity;
    var idleEnd = Date.now() + idleMs;  // the page load itself was a request
    var box = document.getElementById("idle-warning");
    var stay = document.getElementById("stay-signed-in");
    var text = document.getElementById("idle-text");
    var staff = window.AftercareStaff;

    document.addEventListener("aftercare:activity", function () { idleEnd = Date.now() + idleMs; check(); });

    function keepAlive() {
      return staff.api("GET", "/api/v1/staff/session").then(function (result) {
        if (result.status === 401) staff.toLogin(true);
      }, function () { /* offline: the next tick tries again */ });
    }

    function minutes(ms) {
      var s = Math.max(0, Math.round(ms / 1000));
      return s >= 60 ? Math.ceil(s / 60) + " minute" + (Math.ceil(s / 60) === 1 ? "" : "s") : s + " seconds";
    }

    function check() {
      var now = Date.now();
      var end = Math.min(idleEnd, hardEnd);
      if (now >= end) { staff.toLogin(true); return; }
      if (end - now > WARN_MS) { box.hidden = true; return; }
      var absolute = hardEnd <= idleEnd;
      stay.hidden = absolute;  // no button can extend the 8-hour limit
      text.textContent = absolute
        ? "Your session reaches its time limit in " + minutes(end - now) + ": save your work and log in again."
        : "You will be signed out in " + minutes(end - now) + " without activity.";
      if (box.hidden) {
        box.hidden = false;
        if (!absolute) stay.focus();
      }
    }

    stay.addEventListener("click", function () { keepAlive().then(function () { box.hidden = true; }); });
    setInterval(check, 5000);

    if (body.dataset.page === "queue") {
      // A nurse watching the queue is working: ping while the tab is visible.
      var every = Math.max(idleMs / 3, 60000);
      setInterval(function () { if (document.visibilityState === "visible") keepAlive(); }, every);
      document.addEventListener("visibilitychange", function () {
        if (document.visibilityState === "visible") keepAlive();
      });
    }
  }

  document.addEventListener("DOMContentLoaded", setup);
})();
