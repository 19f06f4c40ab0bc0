/* Marrow Aftercare patient chat widget. Plain JavaScript: no build step, no third-party code.
 *
 * One tag on the portal page (the token URL is the portal's own back end, same origin):
 *   <script src="https://aftercare.example.org/widget/widget.js" defer
 *           data-token-url="/portal/aftercare-token"></script>
 * or mounted from the portal's own script:
 *   const chat = MarrowAftercare.mount({apiBase: "https://aftercare.example.org",
 *                                       getToken: async () => "<fresh patient JWT>"});
 *   chat.logout();  // when the patient signs out of the portal
 *
 * Privacy (WEB-1): the transcript lives only in the page; the one thing stored is the
 * conversation id, in sessionStorage, and logout() removes it. Tokens stay in memory.
 * Server text is always set with textContent, never parsed as HTML.
 *
 * When a message cannot be sent, the widget shows the clinic's number (and the emergency number
 * if the unsent text has an emergency sign's words) from /widget/config.json, fetched when the
 * chat opens: public, the same for every patient, kept in memory only.
 */
(function () {
  "use strict";

  const STORAGE_KEY = "marrow-aftercare:conversation";
  const SCRIPT = document.currentScript;
  const ASSET_BASE = SCRIPT ? new URL(".", SCRIPT.src).href : null;
  const RANK = { none: 0, call_provider: 1, emergency: 2 };
  const RETRY_DELAY_MS = 1500;
  const CONFIG_MAX_AGE_MS = 10 * 60 * 1000; // the clinic's number changes with its opening hours
  const GREETING = "Hello. I answer questions about recovering from your bone marrow test. " +
    "Choose a question or type your own.";
  const SUGGESTIONS = ["When can I shower?", "What pain medicine can I take?",
    "What warning signs should I watch for?"];
  // Phone-like runs in reply text: a leading + or 7 or more digits with spaces, dots, dashes.
  const PHONE_PATTERN = /\+?\(?\d[\d\s().-]{5,}\d/g;

  // --- the conversation id: sessionStorage when the browser allows it, else memory ----------
  const conversationStore = {
    memory: null,
    get() {
      try { return window.sessionStorage.getItem(STORAGE_KEY); } catch (e) { return this.memory; }
    },
    set(id) {
      this.memory = id;
      try { window.sessionStorage.setItem(STORAGE_KEY, id); } catch (e) { /* memory only */ }
    },
    clear() {
      this.memory = null;
      try { window.sessionStorage.removeItem(STORAGE_KEY); } catch (e) { /* nothing stored */ }
    },
  };

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  // --- HTTP: bearer token from the portal, refreshed once on 401 ----------------------------
  class Client {
    constructor(apiBase, getToken) {
      this.apiBase = apiBase;
      this.getToken = getToken;
      this.token = null;
    }

    async freshToken() {
      const token = await this.getToken();
      if (typeof token !== "string" || !token) throw new ApiError(401, "no_token", "no patient token");
      this.token = token;
      return token;
    }

    async request(method, path, body) {
      for (let attempt = 0; ; attempt += 1) {
        const token = this.token || (await this.freshToken());
        const headers = { Authorization: "Bearer " + token, Accept: "application/json" };
        if (body !== undefined) headers["Content-Type"] = "application/json";
        const response = await fetch(this.apiBase + path, {
          method, headers, body: body === undefined ? undefined : JSON.stringify(body),
          credentials: "omit", cache: "no-store", referrerPolicy: "no-referrer",
        });
        if (response.status === 401 && attempt === 0) {
          this.token = null; // expired: ask the portal for a fresh token and try once more
          continue;
        }
        const data = await response.json().catch(() => null);
        if (!response.ok) {
          const error = (data && data.error) || {};
          throw new ApiError(response.status, error.code || "error", error.message || "request failed");
        }
        return data;
      }
    }

    // A long-lived GET (server-sent events) with the token in the header, never in the URL.
    async openStream(path, lastId, signal) {
      for (let attempt = 0; ; attempt += 1) {
        const token = this.token || (await this.freshToken());
        const headers = { Authorization: "Bearer " + token, Accept: "text/event-stream" };
        if (lastId) headers["Last-Event-ID"] = String(lastId);
        const response = await fetch(this.apiBase + path, {
          headers, signal, credentials: "omit", cache: "no-store", referrerPolicy: "no-referrer",
        });
        if (response.status === 401 && attempt === 0) { this.token = null; continue; }
        if (!response.ok || !response.body) throw new ApiError(response.status, "stream", "no live updates");
        return response;
      }
    }

    // Public and without a token: the number to call must not depend on the portal session.
    async config() {
      const response = await fetch(this.apiBase + "/widget/config.json", {
        credentials: "omit", cache: "no-store", referrerPolicy: "no-referrer",
      });
      if (!response.ok) throw new ApiError(response.status, "config", "no widget config");
      return response.json();
    }
  }

  // --- small DOM helpers ---------------------------------------------------------------------
  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text) node.textContent = text;
    return node;
  }

  function telHref(phone) {
    return "tel:" + String(phone).replace(/[^0-9+*#]/g, "");
  }

  function phoneLink(phone) {
    const link = el("a", "ma-phone", phone);
    link.href = telHref(phone);
    return link;
  }

  // Text with its phone numbers as tel: links. DOM nodes only: reply text is never HTML.
  function withPhoneLinks(text, knownNumbers) {
    const spans = [];
    for (const match of text.matchAll(PHONE_PATTERN)) {
      const digits = match[0].replace(/\D/g, "");
      if (match[0].startsWith("+") ? digits.length >= 3 : digits.length >= 7) {
        spans.push([match.index, match.index + match[0].length]);
      }
    }
    for (const number of knownNumbers) { // short ones (911, 999, 112) only when we know them
      if (!number) continue;
      const pattern = new RegExp("(^|[^\\d+])(" + number.replace(/[^0-9A-Za-z]/g, (c) => "\\" + c) + ")(?!\\d)", "g");
      for (const match of text.matchAll(pattern)) {
        const start = match.index + match[1].length;
        if (!spans.some(([a, b]) => start < b && start + match[2].length > a)) {
          spans.push([start, start + match[2].length]);
        }
      }
    }
    spans.sort((x, y) => x[0] - y[0]);
    const fragment = document.createDocumentFragment();
    let at = 0;
    for (const [start, end] of spans) {
      fragment.append(text.slice(at, start), phoneLink(text.slice(start, end).trim()));
      at = end;
    }
    fragment.append(text.slice(at));
    return fragment;
  }

  // The same reading of words as warning_signs.yml: lower case, "can't"/"cannot" as "can not".
  function normalise(text) {
    return " " + String(text).toLowerCase()
      .replace(/[\u2018\u2019]/g, "'")
      .replace(/\b(can't|cannot|cant)\b/g, "can not")
      .replace(/\bwon't\b/g, "will not")
      .replace(/n't\b/g, " not")
      .replace(/[^a-z0-9'-]+/g, " ")
      .replace(/\s+/g, " ")
      .trim() + " ";
  }

  // Plainer than the server's detector on purpose (no negation, no distance): a near miss
  // only means the emergency number is shown beside the clinic's.
  function mentionsEmergency(text, terms) {
    if (!terms) return false;
    const words = normalise(text);
    const has = (phrase) => words.includes(" " + phrase + " ");
    return (terms.phrases || []).some(has) ||
      (terms.pairs || []).some(([first, second]) => first.some(has) && second.some(has));
  }

  function wait(ms) {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }

  function ensureStylesheet() {
    if (!ASSET_BASE || document.querySelector("link[data-marrow-aftercare]")) return;
    const link = el("link");
    link.rel = "stylesheet";
    link.href = ASSET_BASE + "widget.css";
    link.setAttribute("data-marrow-aftercare", "");
    document.head.appendChild(link);
  }

  // --- the widget ------------------------------------------------------------------------------
  class Widget {
    constructor(options) {
      this.client = new Client(options.apiBase, options.getToken);
      this.queue = Promise.resolve(); // see schedule()
      this.generation = 0; // bumped by logout(): answers to a signed-out session are dropped
      this.pending = 0;
      this.alertLevel = "none";
      this.historyLoaded = false;
      this.settings = null; // /widget/config.json, once fetched
      this.settingsAt = 0;
      this.settingsLoading = null;
      this.lastStaffId = 0; // the newest care-team reply shown (the live feed resumes after it)
      this.feed = null; // AbortController of the running live feed
      this.build(document.body);
      this.checkin = null; // a check-in waiting for an answer: see watchCheckins()
      this.watchCheckins();
    }

    build(container) {
      const root = el("aside", "ma-root");
      root.setAttribute("aria-label", "Aftercare chat");

      const launcher = el("button", "ma-launcher", "Aftercare questions");
      launcher.type = "button";
      launcher.setAttribute("aria-expanded", "false");
      launcher.setAttribute("aria-controls", "ma-panel");
      launcher.addEventListener("click", () => (this.isOpen() ? this.close() : this.open()));

      const panel = el("section", "ma-panel");
      panel.id = "ma-panel";
      panel.hidden = true;
      panel.setAttribute("role", "dialog");
      panel.setAttribute("aria-labelledby", "ma-title");

      const header = el("div", "ma-header");
      const title = el("h2", "ma-title", "Aftercare assistant");
      title.id = "ma-title";
      const closeButton = el("button", "ma-close", "Close");
      closeButton.type = "button";
      closeButton.setAttribute("aria-label", "Close chat");
      closeButton.addEventListener("click", () => this.close());
      header.append(title, closeButton);

      const notice = el("p", "ma-notice",
        "Automated answers about your recovery, not a person. " +
        "In an emergency, call your local emergency number now.");

      this.alert = el("div", "ma-alert");
      this.alert.setAttribute("role", "alert");

      this.log = el("div", "ma-log");
      this.log.setAttribute("role", "log");
      this.log.setAttribute("aria-live", "polite");
      this.log.setAttribute("aria-label", "Conversation");
      this.log.tabIndex = 0; // scrollable region: reachable by keyboard

      this.typing = el("p", "ma-typing");
      this.typing.setAttribute("role", "status");

      const form = el("form", "ma-form");
      const label = el("label", "ma-label", "Your message");
      label.htmlFor = "ma-input";
      this.input = el("textarea", "ma-input");
      this.input.id = "ma-input";
      this.input.rows = 2;
      this.input.maxLength = 2000;
      this.input.setAttribute("aria-describedby", "ma-hint");
      const hint = el("p", "ma-hint", "Enter sends; Shift+Enter starts a new line.");
      hint.id = "ma-hint";
      const send = el("button", "ma-send", "Send");
      send.type = "submit";
      form.append(label, this.input, send, hint);
      form.addEventListener("submit", (event) => { event.preventDefault(); this.submit(); });
      this.input.addEventListener("keydown", (event) => {
        if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
          event.preventDefault();
          this.submit();
        }
      });

      panel.append(header, notice, this.alert, this.log, this.typing, form);
      root.append(panel, launcher);
      root.addEventListener("keydown", (event) => {
        if (event.key === "Escape" && this.isOpen()) { event.preventDefault(); this.close(); }
      });
      container.appendChild(root);
      Object.assign(this, { root, launcher, panel });
    }

    isOpen() { return !this.panel.hidden; }

    open() {
      this.panel.hidden = false;
      this.root.classList.add("ma-root--open");
      this.launcher.setAttribute("aria-expanded", "true");
      this.input.focus();
      this.loadSettings();
      if (this.checkin) this.openCheckin();
      else if (!this.historyLoaded) this.loadHistory();
      else this.startFeed();
    }

    // Resolves to the config or null; never throws, and retries on the next open after a failure.
    loadSettings() {
      if (this.settings && Date.now() - this.settingsAt < CONFIG_MAX_AGE_MS) return Promise.resolve(this.settings);
      if (!this.settingsLoading) {
        this.settingsLoading = this.client.config()
          .then((config) => { this.settings = config; this.settingsAt = Date.now(); return config; })
          .catch(() => this.settings) // keep an older copy: a number is better than none
          .finally(() => { this.settingsLoading = null; });
      }
      return this.settingsLoading;
    }

    phoneFor(level) {
      if (!this.settings) return null;
      return level === "emergency" ? this.settings.emergency_number : this.settings.clinic_phone;
    }

    knownNumbers() {
      const config = this.settings || {};
      return [config.emergency_number, config.clinic_phone];
    }

    close(returnFocus = true) {
      this.stopFeed();
      this.panel.hidden = true;
      this.root.classList.remove("ma-root--open");
      this.launcher.setAttribute("aria-expanded", "false");
      if (returnFocus) this.launcher.focus();
    }

    // After a page reload in the same tab: show the conversation again, fetched from the API.
    // The call-now banner comes back too, from the replies' triage levels (never downgraded).
    async loadHistory() {
      this.historyLoaded = true;
      this.stopFeed(); // the log is rebuilt (maybe for another conversation): so is the live feed
      this.lastStaffId = 0;
      const id = conversationStore.get();
      if (!id) { this.greet(); return; }
      const generation = this.generation;
      try {
        const [data] = await Promise.all([
          this.client.request("GET", "/api/v1/conversations/" + encodeURIComponent(id) + "/messages"),
          this.loadSettings(), // the banner's phone number
        ]);
        if (generation !== this.generation || this.log.childElementCount) return;
        for (const line of data.messages) {
          if (line.role === "staff") { this.showStaffLine(line); continue; }
          const bubble = this.addLine(line.role, null, line.triage_level !== "none");
          this.fillText(bubble, line.text, line.role);
          if (line.role === "assistant" && line.triage_level !== "none") {
            this.showAlert(line.triage_level, this.phoneFor(line.triage_level));
          }
        }
        if (!data.messages.length) this.greet();
        this.startFeed();
      } catch (error) {
        if (error.status === 404) { conversationStore.clear(); this.greet(); } // another patient or a new login
      }
    }

    // A new conversation starts with a hello and three questions to tap (sent as typed).
    greet() {
      if (this.log.childElementCount) return;
      const greeting = el("div", "ma-greeting");
      greeting.append(el("span", "ma-visually-hidden", "Assistant: "), el("p", "ma-text", GREETING));
      this.log.appendChild(greeting);
      this.addButtons(greeting, SUGGESTIONS.map((title) => ({ title, payload: title })), "ma-suggestion");
    }

    submit() {
      const text = this.input.value.trim();
      if (!text) return;
      this.input.value = "";
      this.enqueue(text, text);
    }

    // `shown` is what the patient sees in the transcript; `text` is what is sent (a button payload).
    enqueue(text, shown) {
      const bubble = this.addLine("patient", shown, false);
      this.schedule(bubble, text);
    }

    // One message at a time, in the order typed; a bug in one delivery never blocks the next.
    schedule(bubble, text) {
      const generation = this.generation;
      this.queue = this.queue
        .then(() => this.deliver(bubble, text, generation))
        .catch((error) => console.error("marrow-aftercare: delivery failed:", error && error.name));
    }

    async deliver(bubble, text, generation) {
      if (generation !== this.generation) return; // typed before logout(): never sent
      this.setStatus(bubble, "Sending…");
      this.setTyping(+1);
      try {
        const result = await this.sendWithRetry(bubble, text, generation);
        if (generation !== this.generation) return;
        this.setStatus(bubble, null);
        const help = bubble.querySelector(".ma-call");
        if (help) help.remove(); // sent after all: the reply says who to call, if anyone
        this.showResult(result, bubble);
      } catch (error) {
        if (generation !== this.generation) return;
        this.showFailed(bubble, text, error);
      } finally {
        if (generation === this.generation) this.setTyping(-1);
      }
    }

    async sendWithRetry(bubble, text, generation) {
      try {
        return await this.post(text, generation);
      } catch (error) {
        const transient = !error.status || error.status >= 502;
        if (!transient || generation !== this.generation) throw error;
        this.setStatus(bubble, "Sending failed. Trying again…");
        await wait(RETRY_DELAY_MS);
        return await this.post(text, generation);
      }
    }

    async post(text, generation) {
      let id = await this.conversation(generation);
      const path = () => "/api/v1/conversations/" + encodeURIComponent(id) + "/messages";
      try {
        return await this.client.request("POST", path(), { text });
      } catch (error) {
        if (error.status !== 404) throw error;
        conversationStore.clear(); // not this patient's (e.g. after a new login): start afresh
        id = await this.conversation(generation);
        return await this.client.request("POST", path(), { text });
      }
    }

    async conversation(generation) {
      const stored = conversationStore.get();
      if (stored) return stored;
      const data = await this.client.request("POST", "/api/v1/conversations", {});
      if (generation !== this.generation) throw new ApiError(0, "signed_out", "signed out");
      conversationStore.set(data.conversation_id); // after logout() it must not come back
      this.startFeed();
      return data.conversation_id;
    }

    showResult(result, question) {
      const level = (result.triage && result.triage.level) || "none";
      let after = question; // answers go under their question, even if more were typed since
      for (const reply of result.replies) {
        after = this.addLine("assistant", null, reply.kind === "triage", after);
        this.fillText(after, reply.text, "assistant", reply.phone);
        this.addSources(after, reply.source_links || []);
        this.addButtons(after, reply.buttons || []);
      }
      if (level !== "none") {
        const withPhone = result.replies.find((reply) => reply.phone);
        this.showAlert(level, withPhone ? withPhone.phone : this.phoneFor(level));
      }
      // Show the question and the start of its answer: a long answer is read from the top.
      this.log.scrollTop = question.offsetTop - 8;
    }

    showFailed(bubble, text, error) {
      const why = error.status === 429 ? "Not sent: too many messages. Wait a minute, then retry."
        : error.status === 422 ? "Not sent: " + error.message
          : error.status === 401 || error.status === 403 ? "Not sent: your portal session may have ended."
            : "Not sent. Check your connection, then retry.";
      const status = this.setStatus(bubble, why);
      status.classList.add("ma-status--failed");
      this.showWhoToCall(bubble, text);
      if (!this.settings) { // not fetched yet: show the generic words now, the numbers when known
        const generation = this.generation;
        this.loadSettings().then(() => {
          if (this.settings && generation === this.generation && bubble.querySelector(".ma-call")) {
            this.showWhoToCall(bubble, text);
          }
        });
      }
      if (error.status === 422) return; // retrying the same text cannot help
      const retry = el("button", "ma-retry", "Retry");
      retry.type = "button";
      retry.setAttribute("aria-label", "Retry sending this message");
      retry.addEventListener("click", () => {
        this.input.focus(); // the button goes away: keep focus somewhere useful
        retry.remove();
        status.classList.remove("ma-status--failed");
        this.schedule(bubble, text);
      });
      status.append(" ", retry);
    }

    // Every failed send, whatever its words: the clinic's number; with an emergency sign's
    // words, the emergency number first. A report must never wait on a Retry button.
    showWhoToCall(bubble, text) {
      const old = bubble.querySelector(".ma-call");
      if (old) old.remove();
      const config = this.settings;
      const help = el("div", "ma-call");
      if (mentionsEmergency(text, config && config.emergency_terms)) {
        const line = el("p", "ma-call-line ma-call-line--emergency", "If this is an emergency, call ");
        line.append(phoneLink(config.emergency_number), " now.");
        help.append(line);
      }
      const line = el("p", "ma-call-line");
      if (config && config.clinic_phone) {
        line.append("Worried about a symptom? Call " + config.clinic_name + ": ", phoneLink(config.clinic_phone), ".");
      } else {
        line.textContent = "Worried about a symptom? Call your care team. In an emergency, call your local emergency number.";
      }
      help.append(line);
      const status = bubble.querySelector(".ma-status");
      if (status) status.after(help);
      else bubble.appendChild(help);
      this.reveal(bubble);
    }

    // Scroll the log just enough to show the whole message (its top, if it is taller than the log).
    reveal(bubble) {
      const bottom = bubble.offsetTop + bubble.offsetHeight + 8 - this.log.clientHeight;
      this.log.scrollTop = Math.max(this.log.scrollTop, Math.min(bottom, bubble.offsetTop - 8));
    }

    addLine(role, text, isTriage, after) {
      const bubble = el("div", "ma-msg ma-msg--" + role + (isTriage ? " ma-msg--triage" : ""));
      bubble.append(el("span", "ma-visually-hidden", role === "patient" ? "You said: " : "Assistant: "));
      bubble.append(el("p", "ma-text", text));
      if (after) after.after(bubble);
      else this.log.appendChild(bubble);
      this.log.scrollTop = this.log.scrollHeight;
      return bubble;
    }

    // Assistant text with tel: links; the patient's own words stay plain text.
    fillText(bubble, text, role, phone) {
      const paragraph = bubble.querySelector(".ma-text");
      if (role !== "assistant") { paragraph.textContent = text; return; }
      paragraph.replaceChildren(withPhoneLinks(String(text), [phone, ...this.knownNumbers()]));
    }

    // The reply's sources, by name; a link only for a checked https address.
    addSources(bubble, links) {
      if (!links.length) return;
      const list = el("p", "ma-sources", "Sources: ");
      links.forEach((source, index) => {
        if (index) list.append("; "); // names hold commas
        const name = String(source.name || source.id);
        if (typeof source.url === "string" && source.url.startsWith("https://")) {
          const link = el("a", "ma-source", name);
          link.href = source.url;
          link.target = "_blank";
          link.rel = "noopener noreferrer";
          list.append(link);
        } else {
          list.append(name);
        }
      });
      bubble.appendChild(list);
    }

    addButtons(bubble, buttons, className) {
      if (!buttons.length) return;
      const group = el("div", "ma-buttons");
      for (const spec of buttons) {
        const title = String(spec.title || spec.payload || "");
        if (!title) continue;
        const button = el("button", className || "ma-choice", title);
        button.type = "button";
        button.addEventListener("click", () => {
          group.remove();
          this.enqueue(String(spec.payload || title), title);
          this.input.focus();
        });
        group.appendChild(button);
      }
      bubble.appendChild(group);
    }

    setStatus(bubble, text) {
      let status = bubble.querySelector(".ma-status");
      if (!text) { if (status) status.remove(); return null; }
      if (!status) { status = el("p", "ma-status"); bubble.appendChild(status); }
      status.textContent = text;
      return status;
    }

    setTyping(delta) {
      this.pending += delta;
      this.typing.textContent = this.pending > 0 ? "The assistant is writing…" : "";
    }

    // --- the care team's replies, live (the conversation's event feed) -------------------------
    // Runs while the panel is open and a conversation exists; reconnects after a drop, resuming
    // after the newest reply shown, so a reply written meanwhile still arrives.
    startFeed() {
      if (this.feed || !this.isOpen() || !conversationStore.get()) return;
      const controller = new AbortController();
      this.feed = controller;
      this.runFeed(controller, this.generation);
    }

    stopFeed() {
      if (this.feed) this.feed.abort();
      this.feed = null;
    }

    async runFeed(controller, generation) {
      let delay = 1000;
      while (!controller.signal.aborted && generation === this.generation) {
        const id = conversationStore.get();
        if (!id) break;
        try {
          const path = "/api/v1/conversations/" + encodeURIComponent(id) + "/events?after_id=" + this.lastStaffId;
          const response = await this.client.openStream(path, this.lastStaffId, controller.signal);
          delay = 1000;
          await this.readFeed(response, generation);
        } catch (error) {
          if (controller.signal.aborted) break;
          if (error.status === 404) break; // not this patient's conversation any more
        }
        if (controller.signal.aborted) break;
        await wait(delay);
        delay = Math.min(delay * 2, 15000);
      }
      if (this.feed === controller) this.feed = null;
    }

    async readFeed(response, generation) {
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, "\n");
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const fields = { event: "message", data: "" };
          for (const line of block.split("\n")) {
            const colon = line.indexOf(":");
            if (colon <= 0) continue;
            const name = line.slice(0, colon);
            const text = line.slice(colon + 1).replace(/^ /, "");
            fields[name] = name === "data" && fields.data ? fields.data + "\n" + text : text;
          }
          if (fields.event === "staff-message" && generation === this.generation) {
            this.showStaffLine(JSON.parse(fields.data), true);
          }
        }
      }
    }

    // A care-team reply: labelled with the nurse's name, numbers as tel: links, shown once.
    showStaffLine(line, live) {
      if (line.id <= this.lastStaffId) return;
      this.lastStaffId = line.id;
      const bubble = el("div", "ma-msg ma-msg--staff");
      bubble.dataset.messageId = String(line.id);
      const who = (line.author || "Your care team") + ", care team";
      bubble.append(el("span", "ma-visually-hidden", who + " said: "));
      const author = el("p", "ma-author", who);
      author.setAttribute("aria-hidden", "true");
      const paragraph = el("p", "ma-text");
      paragraph.append(withPhoneLinks(String(line.text), this.knownNumbers()));
      bubble.append(author, paragraph);
      this.log.appendChild(bubble);
      if (live) this.reveal(bubble);
      else this.log.scrollTop = this.log.scrollHeight;
    }

    // The prominent call-now banner. An emergency is never replaced by a lesser warning.
    showAlert(level, phone) {
      if ((RANK[level] || 0) < RANK[this.alertLevel]) return;
      this.alertLevel = level;
      const emergency = level === "emergency";
      this.alert.className = "ma-alert ma-alert--" + (emergency ? "emergency" : "call");
      this.alert.replaceChildren(el("p", "ma-alert-title",
        emergency ? "This may be an emergency. Call now." : "Call your care team now."));
      if (phone) {
        const link = el("a", "ma-alert-phone", "Call " + phone);
        link.href = telHref(phone);
        this.alert.appendChild(link);
      }
    }

    // --- proactive check-ins: the clinic asked first --------------------------------------------
    // When the portal page loads, ask whether a check-in waits for this patient. If one does, the
    // launcher shows a badge; opening the chat shows the check-in's conversation (its questions are
    // the first assistant message) with buttons for the usual answers. A button sends its words as
    // the patient's message, triaged like anything typed. Failing to ask hides nothing: no badge.
    async watchCheckins() {
      const generation = this.generation;
      try {
        const data = await this.client.request("GET", "/api/v1/checkins/waiting");
        if (generation !== this.generation || !data.checkins.length) return;
        this.checkin = data.checkins[0]; // the newest: older ones share the same questions
        this.showCheckinBadge();
        if (this.isOpen()) this.openCheckin();
      } catch (error) {
        console.error("marrow-aftercare: check-in lookup failed:", error && error.name);
      }
    }

    showCheckinBadge() {
      if (this.launcher.querySelector(".ma-badge")) return;
      const badge = el("span", "ma-badge", "1");
      badge.setAttribute("aria-hidden", "true");
      this.launcher.append(badge, el("span", "ma-visually-hidden ma-badge-text", ": a check-in from your clinic is waiting"));
    }

    clearCheckin() {
      this.checkin = null;
      for (const node of this.launcher.querySelectorAll(".ma-badge, .ma-badge-text")) node.remove();
    }

    async openCheckin() {
      const checkin = this.checkin;
      this.clearCheckin(); // shown once: after this it is an ordinary conversation
      if (!this.historyLoaded || conversationStore.get() !== checkin.conversation_id) {
        conversationStore.set(checkin.conversation_id);
        this.log.replaceChildren();
        await this.loadHistory();
      }
      const lines = this.log.querySelectorAll(".ma-msg--assistant");
      const questions = lines[lines.length - 1]; // the check-in, or its reminder below it
      if (questions && !this.log.querySelector(".ma-checkin-answers")) {
        this.addButtons(questions, checkin.buttons || [], "ma-choice ma-checkin-answer");
        const group = questions.querySelector(".ma-buttons:last-child");
        if (group) {
          group.classList.add("ma-checkin-answers");
          group.setAttribute("role", "group");
          group.setAttribute("aria-label", "Quick answers to your check-in");
        }
        this.reveal(questions);
      }
    }

    logout() {
      this.stopFeed();
      this.lastStaffId = 0;
      this.generation += 1;
      this.clearCheckin();
      conversationStore.clear();
      this.client.token = null;
      this.log.replaceChildren();
      this.alert.replaceChildren();
      this.alert.className = "ma-alert";
      this.alertLevel = "none";
      this.input.value = "";
      this.historyLoaded = false; // the next open greets a new conversation
      this.pending = 0;
      this.setTyping(0);
      if (this.isOpen()) this.close(false); // the portal's sign-out keeps its own focus
    }
  }

  // --- public API --------------------------------------------------------------------------
  let instance = null;

  function mount(options) {
    if (instance) return instance;
    if (!options || typeof options.getToken !== "function") {
      throw new TypeError("MarrowAftercare.mount needs a getToken function");
    }
    const base = options.apiBase || (SCRIPT ? new URL(SCRIPT.src).origin : window.location.origin);
    ensureStylesheet();
    instance = new Widget({ ...options, apiBase: String(base).replace(/\/+$/, "") });
    return instance;
  }

  function logout() {
    if (instance) instance.logout();
    else conversationStore.clear();
  }

  // The one-tag form: a token URL on the portal's own origin, posted with the portal's cookie.
  function tokenFromUrl(url) {
    return async function () {
      const response = await fetch(url, { method: "POST", credentials: "same-origin", cache: "no-store",
        headers: { Accept: "application/json" } });
      if (!response.ok) throw new ApiError(response.status, "token", "the portal gave no token");
      return (await response.json()).token;
    };
  }

  window.MarrowAftercare = { mount, logout };

  if (SCRIPT && SCRIPT.dataset.tokenUrl) {
    const auto = () => mount({ apiBase: SCRIPT.dataset.apiBase, getToken: tokenFromUrl(SCRIPT.dataset.tokenUrl) });
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", auto);
    else auto();
  }
})();
