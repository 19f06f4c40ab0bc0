// The queue page's attention signals for emergencies: the tab title counts open emergencies
// ("(1) EMERGENCY – Queue · …", seen from another tab), and an optional sound on a new one
// (off by default; the choice is this browser's, kept in localStorage: no patient data).
// Fed by staff.js's "aftercare:escalation" and "aftercare:queue-reloaded" events.
(function () {
  "use strict";

  var SOUND_KEY = "aftercare-emergency-sound";
  var openEmergencies = {};
  var baseTitle = document.title;
  var audio = null;

  function count() { return Object.keys(openEmergencies).length; }

  function updateTitle() {
    var n = count();
    document.title = n ? "(" + n + ") EMERGENCY – " + baseTitle : baseTitle;
  }

  function soundOn() {
    try { return localStorage.getItem(SOUND_KEY) === "on"; } catch (e) { return false; }
  }

  // Two short tones from the Web Audio API: no media file, nothing fetched.
  function beep() {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return;
    audio = audio || new Context();
    [0, 0.35].forEach(function (offset) {
      var oscillator = audio.createOscillator();
      var gain = audio.createGain();
      oscillator.frequency.value = 880;
      gain.gain.setValueAtTime(0.2, audio.currentTime + offset);
      gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + offset + 0.3);
      oscillator.connect(gain).connect(audio.destination);
      oscillator.start(audio.currentTime + offset);
      oscillator.stop(audio.currentTime + offset + 0.3);
    });
    document.documentElement.dataset.lastAlertSound = String(Date.now()); // for tests: it rang
  }

  // An emergency still open is counted; anything else (taken, resolved, downgraded) is not.
  function track(data, live) {
    var isNew = !openEmergencies[data.escalation_id];
    if (data.tier === "emergency" && data.status === "open") {
      openEmergencies[data.escalation_id] = true;
      if (isNew && live && soundOn()) beep();
    } else {
      delete openEmergencies[data.escalation_id];
    }
  }

  function addSoundToggle() {
    var head = document.querySelector(".queue-head");
    if (!head) return;
    var label = document.createElement("label");
    label.className = "sound-toggle";
    var box = document.createElement("input");
    box.type = "checkbox";
    box.id = "emergency-sound";
    box.checked = soundOn();
    box.addEventListener("change", function () {
      try { localStorage.setItem(SOUND_KEY, box.checked ? "on" : "off"); } catch (e) { /* this page only */ }
      if (box.checked) beep(); // a sample, and browsers allow audio after this click
    });
    label.append(box, " Sound on a new emergency");
    head.appendChild(label);
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (document.body.dataset.page !== "queue") return;
    var table = document.getElementById("queue");
    if (table && table.dataset.status === "open") {
      document.querySelectorAll('#queue-rows tr[data-priority="0"]').forEach(function (row) {
        openEmergencies[row.dataset.id] = true;
      });
    }
    addSoundToggle();
    updateTitle();
    document.addEventListener("aftercare:escalation", function (event) {
      track(event.detail, true);
      updateTitle();
    });
    // Every tab but "resolved" lists the open cases; the sound is for a case the page had not
    // shown yet (not for those already on the page when the first connect re-reads the queue).
    document.addEventListener("aftercare:queue-reloaded", function (event) {
      if (event.detail.tab !== "resolved") {
        var before = openEmergencies;
        var fresh = {};
        (event.detail.fresh || []).forEach(function (id) { fresh[id] = true; });
        openEmergencies = {};
        event.detail.items.forEach(function (data) {
          if (data.tier === "emergency" && data.status === "open") {
            openEmergencies[data.escalation_id] = true;
            if (!before[data.escalation_id] && fresh[data.escalation_id] && soundOn()) beep();
          }
        });
      }
      updateTitle();
    });
  });
})();
