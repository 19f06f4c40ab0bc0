// The case page's "Message the patient" form (_staff_reply.html): posts the reply, adds it to
// the transcript on the page, and shows or hides itself as the case is taken or resolved.
(function () {
  "use strict";

  document.addEventListener("DOMContentLoaded", function () {
    var section = document.getElementById("reply-section");
    var form = document.getElementById("reply-form");
    if (!section || !form || !window.AftercareStaff) return;
    var staff = window.AftercareStaff;
    var id = document.getElementById("escalation").dataset.id;
    var error = document.getElementById("reply-error");
    var status = document.getElementById("reply-status");

    document.addEventListener("aftercare:case-status", function (event) {
      section.hidden = event.detail !== "acknowledged";
    });

    function addToTranscript(line) {
      var item = document.createElement("li");
      item.className = "msg msg-staff";
      var meta = document.createElement("p");
      meta.className = "msg-meta";
      var who = document.createElement("span");
      who.className = "who";
      who.textContent = (line.author || "Care team") + " (care team)";
      var when = document.createElement("time");
      when.dateTime = line.created_at;
      when.textContent = new Date(line.created_at).toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
      meta.append(who, " ", when);
      var text = document.createElement("p");
      text.className = "msg-text";
      text.textContent = line.text;
      item.append(meta, text);
      document.getElementById("transcript").appendChild(item);
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      error.textContent = "";
      status.textContent = "";
      var text = form.text.value.trim();
      if (!text) { error.textContent = "Please write a message."; form.text.focus(); return; }
      var button = form.querySelector("button");
      button.disabled = true;
      staff.api("POST", "/api/v1/escalations/" + encodeURIComponent(id) + "/messages", { text: text })
        .then(function (result) {
          button.disabled = false;
          if (result.status === 401) { staff.toLogin(true); return; }
          if (!result.ok) { error.textContent = staff.errorText(result, "Not sent; please try again."); return; }
          form.text.value = "";
          addToTranscript(result.data.message);
          status.textContent = "Sent. The patient sees it in their chat.";
        }, function () { button.disabled = false; error.textContent = "The server could not be reached."; });
    });
  });
})();
