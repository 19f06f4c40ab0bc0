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
 */
(function () {
  "use strict";

  const STORAGE_KEY = "marrow-aftercare:conversation";
  const SCRIPT = document.currentScript;
  const ASSET_BASE = SCRIPT ? new URL(".", SCRIPT.src).href : null;
  const RANK = { none: 0, call_provider: 1, emergency: 2 };
  const RETRY_DELAY_MS = 1500;

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
      this.build(document.body);
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
      this.launcher.setAttribute("aria-expanded", "true");
      this.input.focus();
      if (!this.historyLoaded) this.loadHistory();
    }

    close(returnFocus = true) {
      this.panel.hidden = true;
      this.launcher.setAttribute("aria-expanded", "false");
      if (returnFocus) this.launcher.focus();
    }

    // After a page reload in the same tab: show the conversation again, fetched from the API.
    async loadHistory() {
      this.historyLoaded = true;
      const id = conversationStore.get();
      if (!id) return;
      const generation = this.generation;
      try {
        const data = await this.client.request("GET", "/api/v1/conversations/" + encodeURIComponent(id) + "/messages");
        if (generation !== this.generation || this.log.childElementCount) return;
        for (const line of data.messages) this.addLine(line.role, line.text, line.triage_level !== "none");
      } catch (error) {
        if (error.status === 404) conversationStore.clear(); // another patient or a new login
      }
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
      return data.conversation_id;
    }

    showResult(result, question) {
      const level = (result.triage && result.triage.level) || "none";
      let after = question; // answers go under their question, even if more were typed since
      for (const reply of result.replies) {
        after = this.addLine("assistant", reply.text, reply.kind === "triage", after);
        this.addButtons(after, reply.buttons || []);
      }
      if (level !== "none") {
        const withPhone = result.replies.find((reply) => reply.phone);
        this.showAlert(level, withPhone ? withPhone.phone : null);
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

    addLine(role, text, isTriage, after) {
      const bubble = el("div", "ma-msg ma-msg--" + role + (isTriage ? " ma-msg--triage" : ""));
      bubble.append(el("span", "ma-visually-hidden", role === "patient" ? "You said: " : "Assistant: "));
      bubble.append(el("p", "ma-text", text));
      if (after) after.after(bubble);
      else this.log.appendChild(bubble);
      this.log.scrollTop = this.log.scrollHeight;
      return bubble;
    }

    addButtons(bubble, buttons) {
      if (!buttons.length) return;
      const group = el("div", "ma-buttons");
      for (const spec of buttons) {
        const title = String(spec.title || spec.payload || "");
        if (!title) continue;
        const button = el("button", "ma-choice", title);
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

    logout() {
      this.generation += 1;
      conversationStore.clear();
      this.client.token = null;
      this.log.replaceChildren();
      this.alert.replaceChildren();
      this.alert.className = "ma-alert";
      this.alertLevel = "none";
      this.input.value = "";
      this.historyLoaded = false;
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
