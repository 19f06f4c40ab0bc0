// Staff console behaviour: login, logout, live queue, acknowledge and resolve.
// Served from our own origin (CSP script-src 'self'); text is always set with textContent.
(function () {
  "use strict";

  var TIERS = { emergency: "Emergency", call_provider: "Call provider", callback: "Callback request" };
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  function api(method, url, body) {
    var headers = { "Accept": "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (method !== "GET") headers["X-CSRF-Token"] = csrf;
    return fetch(url, {
      method: method, headers: headers, credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body)
    }).then(function (response) {
      // Any answered request but a 401 reset the server's idle timer (session.js counts on it).
      if (response.status !== 401) document.dispatchEvent(new Event("aftercare:activity"));
      if (response.status === 204) return { ok: true, status: 204, data: null };
      return response.json().catch(function () { return null; }).then(function (data) {
        return { ok: response.ok, status: response.status, data: data };
      });
    });
  }

  function errorText(result, fallback) {
    return (result.data && result.data.error && result.data.error.message) || fallback;
  }

  // After an expired session, log in again and come back to the same page (a relative
  // /staff/ path only: never an open redirect).
  function toLogin(expired) {
    var back = expired && /^\/staff\/[\w\/-]*$/.test(location.pathname) ? "&next=" + encodeURIComponent(location.pathname) : "";
    window.location.assign("/staff/login" + (expired ? "?expired=1" + back : ""));
  }

  function nextPage() {
    var next = new URLSearchParams(location.search).get("next") || "";
    return /^\/staff\/[\w\/-]*$/.test(next) ? next : "/staff/";
  }

  // Shared with admin.js and session.js (loaded after this file).
  window.AftercareStaff = { api: api, errorText: errorText, toLogin: toLogin };

  function waited(iso) {
    var minutes = Math.max(0, Math.floor((Date.now() - new Date(iso).getTime()) / 60000));
    if (minutes < 1) return "<1 min";
    if (minutes < 60) return minutes + " min";
    if (minutes < 1440) return Math.floor(minutes / 60) + " h " + (minutes % 60) + " min";
    return Math.floor(minutes / 1440) + " d " + Math.floor((minutes % 1440) / 60) + " h";
  }

  function refreshTimes() {
    document.querySelectorAll("time[data-waiting]").forEach(function (el) { el.textContent = waited(el.dateTime); });
    document.querySelectorAll("time[data-ago]").forEach(function (el) {
      if (el.dateTime) el.textContent = waited(el.dateTime) + " ago";
    });
  }

  function localTimes() {
    document.querySelectorAll("time[data-local]").forEach(function (el) {
      el.textContent = new Date(el.dateTime).toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
    });
  }

  // --- login ---------------------------------------------------------------------------
  function setupLogin() {
    var form = document.getElementById("login-form");
    var error = document.getElementById("login-error");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      error.textContent = "";
      var button = form.querySelector("button");
      button.disabled = true;
      api("POST", "/api/v1/staff/session", { email: form.email.value, password: form.password.value })
        .then(function (result) {
          if (result.ok) { window.location.assign(nextPage()); return; }
          error.textContent = errorText(result, "Login failed.");
          button.disabled = false;
          form.password.value = "";
          form.password.focus();
        })
        .catch(function () { error.textContent = "The server could not be reached."; button.disabled = false; });
    });
  }

  function setupLogout() {
    var button = document.getElementById("logout");
    if (!button) return;
    button.addEventListener("click", function () {
      api("DELETE", "/api/v1/staff/session").then(function () { toLogin(false); });
    });
  }

  // --- live queue ----------------------------------------------------------------------
  function setupQueue() {
    var table = document.getElementById("queue");
    var rows = document.getElementById("queue-rows");
    var empty = document.getElementById("queue-empty");
    var announcer = document.getElementById("announcer");
    var total = document.getElementById("queue-total");
    var state = document.getElementById("live-state");
    var stateText = document.getElementById("live-text");
    var tab = table.dataset.status;
    var live = table.dataset.live !== "off";  // a filtered or later page is not re-sorted live
    function inTab(status) { return tab === status || tab === "all" || (tab === "active" && status !== "resolved"); }

    function setLive(name, text) { state.dataset.state = name; stateText.textContent = text; }

    function buildRow(data) {
      var row = document.getElementById("row-template").content.firstElementChild.cloneNode(true);
      row.dataset.id = data.escalation_id;
      row.dataset.priority = String(data.priority);
      row.dataset.tier = data.tier;
      row.dataset.created = data.created_at;
      var badge = row.querySelector('[data-field="tier"]');
      badge.className = "badge badge-" + data.tier;
      badge.textContent = TIERS[data.tier] || data.tier;
      row.querySelector('[data-field="signs"]').textContent =
        (data.signs || []).map(function (s) { return s.replace(/_/g, " "); }).join(", ") ||
        (data.tier === "callback" ? "asked to talk to a person" : "—");
      var when = row.querySelector('[data-field="when"]');
      when.dateTime = data.status === "resolved" ? (data.resolved_at || new Date().toISOString()) : data.created_at;
      row.querySelector('[data-field="reports"]').textContent = String(data.report_count || 1);
      row.querySelector('[data-field="held"]').textContent = data.held_by || "—";
      if (data.overdue) markOverdue(row);
      row.querySelector('[data-field="state"]').textContent = data.status === "open" ? "Open"
        : (data.status === "acknowledged" ? "Acknowledged by " : "Resolved by ") + (data.by || "another nurse");
      row.querySelector('[data-field="link"]').href = "/staff/escalations/" + encodeURIComponent(data.escalation_id);
      row.querySelector('[data-field="link-label"]').textContent = " " + (TIERS[data.tier] || data.tier).toLowerCase() + " escalation";
      return row;
    }

    // Open and acknowledged tabs: priority, then oldest first. Resolved: newest on top.
    function insert(row) {
      if (tab === "resolved") { rows.insertBefore(row, rows.firstElementChild); return; }
      var before = Array.prototype.find.call(rows.children, function (other) {
        var p = Number(other.dataset.priority), q = Number(row.dataset.priority);
        return p > q || (p === q && Date.parse(other.dataset.created) > Date.parse(row.dataset.created));
      });
      rows.insertBefore(row, before || null);
    }

    // The per-tier counts above the table follow the rows the stream adds and removes.
    function setCount(tier, n) {
      var badge = document.querySelector('[data-count="' + CSS.escape(tier) + '"]');
      if (!badge) return;
      badge.dataset.n = String(Math.max(0, n));
      badge.textContent = (TIERS[tier] || tier) + ": " + badge.dataset.n;
    }

    function countTier(tier, change) {
      var badge = document.querySelector('[data-count="' + CSS.escape(tier) + '"]');
      if (badge) setCount(tier, Number(badge.dataset.n || 0) + change);
    }

    function markOverdue(row) {
      row.classList.add("is-overdue");
      var tag = row.querySelector('[data-field="overdue"]');
      if (tag) tag.hidden = false;
    }

    function onEvent(event) {
      var data = JSON.parse(event.data);
      show(data, event.type);
      // For live_alerts.js (tab title, sound): what changed, whatever the tab shows.
      document.dispatchEvent(new CustomEvent("aftercare:escalation", { detail: data }));
    }

    function show(data, type) {
      var label = TIERS[data.tier] || data.tier;
      var existing = rows.querySelector('tr[data-id="' + CSS.escape(data.escalation_id) + '"]');
      if (type === "escalation.overdue") {
        if (existing) markOverdue(existing);
        announcer.textContent = label + " escalation is overdue.";
        return;
      }
      if (!live) { announcer.textContent = label + " escalation changed; reload to see it."; return; }
      var wasOverdue = existing && existing.classList.contains("is-overdue");
      var raised = existing && Number(existing.dataset.priority) > Number(data.priority);
      if (existing) {
        existing.remove();
        total.textContent = Math.max(0, Number(total.textContent) - 1);
        countTier(existing.dataset.tier, -1);
      }
      if (inTab(data.status)) {
        var row = buildRow(data);
        row.classList.add("is-new");
        if (wasOverdue) markOverdue(row);
        insert(row);
        total.textContent = Number(total.textContent) + 1;
        countTier(data.tier, 1);
      }
      empty.hidden = rows.children.length > 0;
      refreshTimes();
      announcer.textContent = raised ? "A case was raised to " + label + "."
        : type === "escalation.updated" && data.change === "contact" ? "Callback number confirmed in a " + label + " case."
        : type === "escalation.updated" ? "New report in a " + label + " case."
        : data.status === "open" ? "New " + label + " escalation in the queue."
        : label + " escalation " + data.status + (data.by ? " by " + data.by : "") + ".";
    }

    // After a gap the stream could not replay (too long a gap, or a new connection: also the
    // first, as a case raised between the page's rendering and the stream's start is in neither),
    // the queue is read again: rows raised meanwhile appear, rows taken meanwhile go.
    function reloadQueue() {
      if (!live) return Promise.resolve();  // a filtered or later page: the nurse reloads it
      return api("GET", "/api/v1/escalations?limit=200&status=" + encodeURIComponent(tab)).then(function (result) {
        if (!result.ok) { if (result.status === 401) toLogin(true); return; }
        var known = {};
        Array.prototype.forEach.call(rows.children, function (row) { known[row.dataset.id] = true; });
        var items = result.data.items.map(function (item) {
          var by = item.status === "resolved" ? item.resolved_by : item.acknowledged_by;
          return { escalation_id: item.id, tier: item.tier, priority: item.priority, signs: item.signs,
            created_at: item.created_at, resolved_at: item.resolved_at, status: item.status, by: by && by.name,
            report_count: item.report_count, held_by: item.assigned_to && item.assigned_to.name, overdue: item.overdue };
        });
        rows.replaceChildren();
        items.forEach(function (data) {
          var row = buildRow(data);
          if (!known[data.escalation_id]) row.classList.add("is-new");
          rows.appendChild(row);
        });
        total.textContent = result.data.total;
        Object.keys(result.data.counts || {}).forEach(function (tier) { setCount(tier, result.data.counts[tier]); });
        empty.hidden = rows.children.length > 0;
        refreshTimes();
        var fresh = items.filter(function (data) { return !known[data.escalation_id]; });
        if (fresh.length) announcer.textContent = fresh.length + " new escalation" + (fresh.length > 1 ? "s" : "") + " in the queue.";
        var freshIds = fresh.map(function (data) { return data.escalation_id; });
        document.dispatchEvent(new CustomEvent("aftercare:queue-reloaded", { detail: { tab: tab, items: items, fresh: freshIds } }));
      });
    }

    function connect() {
      var source = new EventSource("/api/v1/escalations/stream");
      source.addEventListener("ready", function (event) {
        var resumed = false;
        try { resumed = JSON.parse(event.data).resumed === true; } catch (e) { /* an old server */ }
        state.dataset.resumed = String(resumed); // replayed from Last-Event-ID, or re-read below
        if (!resumed) reloadQueue();
        setLive("live", "on");
      });
      ["escalation.created", "escalation.updated", "escalation.acknowledged", "escalation.resolved",
        "escalation.overdue"].forEach(function (name) {
        source.addEventListener(name, onEvent);
      });
      source.addEventListener("session-ended", function () { source.close(); toLogin(true); });
      source.onerror = function () {
        setLive("offline", "reconnecting…");
        if (source.readyState !== EventSource.CLOSED) return;  // the browser retries by itself
        // Closed for good (e.g. 401): is the session still alive? Then retry; else log in again.
        api("GET", "/api/v1/staff/session").then(function (result) {
          if (result.status === 401) toLogin(true); else setTimeout(connect, 5000);
        }, function () { setTimeout(connect, 5000); });
      };
    }
    connect();
  }

  // --- one escalation ------------------------------------------------------------------
  function setupConversation() {
    var id = document.getElementById("escalation").dataset.id;
    var error = document.getElementById("action-error");
    var status = document.getElementById("action-status");
    var statusText = document.getElementById("status-text");
    var ackSection = document.getElementById("ack-section");
    var form = document.getElementById("resolve-form");
    var base = "/api/v1/escalations/" + encodeURIComponent(id);
    // A half-written note survives an expired session and the login after it: this tab's
    // sessionStorage only (never localStorage: it is patient-related text), keyed by case.
    var draftKey = "aftercare-note:" + id;
    if (!form.hidden && !form.note.value && sessionStorage.getItem(draftKey)) {
      form.note.value = sessionStorage.getItem(draftKey);
      status.textContent = "Your unsent note was restored.";
    }
    if (!document.getElementById("resolved-section").hidden) sessionStorage.removeItem(draftKey);
    form.note.addEventListener("input", function () {
      if (form.note.value) sessionStorage.setItem(draftKey, form.note.value); else sessionStorage.removeItem(draftKey);
    });

    function fail(result) {
      if (result.status === 401) { toLogin(true); return; }
      error.textContent = errorText(result, "That did not work; please try again.");
    }

    // A further report in this case (the patient wrote again): say so, with a link to re-read it.
    if (window.EventSource && document.getElementById("resolved-section").hidden) {
      var source = new EventSource("/api/v1/escalations/stream");
      source.addEventListener("ready", function () { document.getElementById("case-changed").dataset.live = "on"; });
      source.addEventListener("escalation.updated", function (event) {
        var data = JSON.parse(event.data);
        if (data.escalation_id !== id) return;
        document.getElementById("case-changed-text").textContent = data.change === "contact"
          ? "The patient confirmed a callback number in the chat."
          : "A new report arrived in this case (" + (TIERS[data.tier] || data.tier).toLowerCase() + ").";
        document.getElementById("case-changed").hidden = false;
      });
      source.addEventListener("session-ended", function () { source.close(); });
    }

    // Holding changes what the page offers (assign, release, resolve): re-read it after a change.
    ["assign", "release"].forEach(function (action) {
      var button = document.getElementById(action);
      if (!button) return;
      button.addEventListener("click", function () {
        error.textContent = "";
        button.disabled = true;
        api("POST", base + "/" + action).then(function (result) {
          if (!result.ok) { button.disabled = false; fail(result); return; }
          window.location.reload();
        }, function () { button.disabled = false; error.textContent = "The server could not be reached."; });
      });
    });

    document.getElementById("acknowledge").addEventListener("click", function (event) {
      var button = event.currentTarget;
      error.textContent = "";
      button.disabled = true;
      api("POST", base + "/acknowledge").then(function (result) {
        button.disabled = false;
        if (!result.ok) { fail(result); return; }
        statusText.textContent = "Acknowledged";
        document.getElementById("ack-by").textContent = result.data.acknowledged_by.name;
        if (result.data.assigned_to) {  // acknowledging an unheld case holds it
          document.getElementById("held-by").textContent = result.data.assigned_to.name;
          var assign = document.getElementById("assign");
          if (assign) {
            var held = document.createElement("p");
            held.textContent = "You hold this case.";
            assign.replaceWith(held);
          }
        }
        ackSection.hidden = true;
        form.hidden = false;
        status.textContent = "Acknowledged. Call the patient, then record what was done.";
        document.dispatchEvent(new CustomEvent("aftercare:case-status", { detail: "acknowledged" }));
        form.note.focus();
      }, function () { button.disabled = false; error.textContent = "The server could not be reached."; });
    });

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      error.textContent = "";
      if (!form.note.value.trim()) { error.textContent = "Please write a note saying what was done."; form.note.focus(); return; }
      var button = form.querySelector("button");
      button.disabled = true;
      api("POST", base + "/resolve", { note: form.note.value }).then(function (result) {
        button.disabled = false;
        if (!result.ok) { fail(result); return; }
        sessionStorage.removeItem(draftKey);
        statusText.textContent = "Resolved";
        document.getElementById("resolved-by").textContent = result.data.resolved_by.name;
        document.getElementById("resolution-note").textContent = form.note.value.trim();
        form.hidden = true;
        document.getElementById("resolved-section").hidden = false;
        status.textContent = "Resolved.";
        document.dispatchEvent(new CustomEvent("aftercare:case-status", { detail: "resolved" }));
        status.focus();
      }, function () { button.disabled = false; error.textContent = "The server could not be reached."; });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var page = document.body.dataset.page;
    setupLogout();
    localTimes();
    refreshTimes();
    setInterval(refreshTimes, 30000);
    if (page === "login") setupLogin();
    if (page === "queue") setupQueue();
    if (page === "conversation") setupConversation();
  });
})();
