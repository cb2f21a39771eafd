// Documents page: upload over HTTP (multipart, CSRF token), then watch each document over the websocket
// (progress bar, ETA, queue position), with an HTTP fetch as the fallback after a lost connection.
(function () {
  "use strict";
  const translators = JSON.parse(document.getElementById("translators-data").textContent);
  const initial = JSON.parse(document.getElementById("documents-data").textContent);
  const limits = JSON.parse(document.getElementById("limits-data").textContent);
  const $ = (id) => document.getElementById(id);
  const form = $("upload-form"), pairSel = $("pair"), trSel = $("translator"), filesInput = $("files");
  const uploadBtn = $("upload"), errorBox = $("error"), tbody = document.querySelector("#documents tbody");
  const conn = $("connection");
  const FINISHED = ["done", "failed", "cancelled"];
  const docs = new Map();  // id -> latest document dict
  let socket = null, retryMs = 500, pollTimer = null;

  const link = document.createElement("link");
  link.rel = "stylesheet";
  link.href = "/static/documents/documents.css";
  document.head.appendChild(link);

  const langName = { en: "English", pt: "Portuguese", de: "German" };
  for (const pair of [...new Set(translators.map((t) => t.pair))].sort()) {
    const [s, t] = pair.split("-");
    pairSel.add(new Option(`${langName[s] || s} → ${langName[t] || t}`, pair));
  }
  function fillTranslators() {
    trSel.innerHTML = "";
    for (const t of translators.filter((t) => t.pair === pairSel.value)) trSel.add(new Option(`${t.name} (${t.family})`, t.name));
  }
  pairSel.addEventListener("change", fillTranslators);
  fillTranslators();

  function showError(message) { errorBox.textContent = message || ""; errorBox.hidden = !message; }
  function eta(seconds) {
    if (seconds == null) return "";
    if (seconds < 60) return `about ${Math.max(1, Math.round(seconds))} s left`;
    return `about ${Math.round(seconds / 60)} min left`;
  }
  const rank = { queued: 0, running: 1, done: 2, failed: 2, cancelled: 2 };

  function render(doc) {
    const prev = docs.get(doc.id);
    // Frames can arrive twice or late (socket + fetch): never go back to an earlier state or progress.
    if (prev && (rank[doc.state] < rank[prev.state] ||
        (doc.state === prev.state && doc.progress.done < prev.progress.done))) return;
    docs.set(doc.id, doc);
    let row = document.getElementById(`doc-${doc.id}`);
    if (!row) {
      row = document.createElement("tr");
      row.id = `doc-${doc.id}`;
      row.innerHTML = "<td class='name'></td><td class='state'></td><td class='progress'></td><td class='actions'></td>";
      tbody.prepend(row);
    }
    row.querySelector(".name").textContent = doc.name;
    if (doc.notice) {
      const note = document.createElement("div");
      note.className = "notice";
      note.textContent = doc.notice;
      row.querySelector(".name").appendChild(note);
    }
    const state = row.querySelector(".state");
    if (doc.state === "queued") state.textContent = doc.queue_position ? `Queued (position ${doc.queue_position})` : "Queued";
    else if (doc.state === "running") state.textContent = `Translating… ${eta(doc.eta_seconds)}`;
    else if (doc.state === "done") state.textContent = `Done in ${Math.round((new Date(doc.finished_at) - new Date(doc.queued_at)) / 100) / 10} s`;
    else state.textContent = doc.state === "failed" ? `Failed: ${doc.error}` : "Cancelled";
    const p = doc.progress;
    const cell = row.querySelector(".progress");
    cell.innerHTML = "";
    const bar = document.createElement("progress");
    bar.max = Math.max(1, p.total);
    bar.value = p.done;
    cell.appendChild(bar);
    cell.appendChild(document.createTextNode(` ${p.done}/${p.total} sentences`));
    const actions = row.querySelector(".actions");
    actions.innerHTML = "";
    if (doc.state === "done" && doc.download_url) {
      const a = document.createElement("a");
      a.href = doc.download_url;
      a.className = "button";
      a.textContent = "Download";
      actions.appendChild(a);
    } else if (!FINISHED.includes(doc.state)) {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "secondary";
      b.textContent = "Cancel";
      b.addEventListener("click", () => cancel(doc.id));
      actions.appendChild(b);
    }
  }

  function subscribe(id) {
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: "subscribe", document: id }));
  }
  function active() { return [...docs.values()].filter((d) => !FINISHED.includes(d.state)).map((d) => d.id); }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    socket = new WebSocket(`${scheme}://${location.host}/ws/documents/`);
    socket.onopen = () => { retryMs = 500; conn.textContent = ""; stopPolling(); active().forEach(subscribe); };
    socket.onmessage = (event) => {
      const msg = JSON.parse(event.data);
      if (msg.type === "document") render(msg.document);
      else if (msg.type === "error") showError(msg.message);
    };
    socket.onclose = () => {
      conn.textContent = "Live updates disconnected; reconnecting…";
      if (active().length) startPolling();
      setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, 10000);
    };
  }
  async function fetchDoc(id) {
    try {
      const resp = await fetch(`/api/documents/${id}`, { credentials: "same-origin" });
      const data = await resp.json();
      if (resp.ok) render(data.document);
    } catch (e) { /* offline: the next poll or reconnect tries again */ }
  }
  function startPolling() { if (!pollTimer) pollTimer = setInterval(() => active().forEach(fetchDoc), 2000); }
  function stopPolling() { clearInterval(pollTimer); pollTimer = null; }

  function csrfToken() {
    const input = form.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }
  async function cancel(id) {
    const resp = await fetch(`/api/documents/${id}/cancel`, {
      method: "POST", credentials: "same-origin", headers: { "X-CSRFToken": csrfToken() },
    });
    const data = await resp.json();
    if (resp.ok) render(data.document); else showError(data.error.message);
  }

  // Each refused file with its own reason (the messages start with the file's name).
  function refusedText(refused) {
    return `Not translated (${refused.length} of the files): ` + refused.map((r) => r.message).join(" · ");
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showError("");
    if (!filesInput.files.length) { showError("Choose at least one file."); return; }
    if (filesInput.files.length > limits.max_files) {
      showError(`You chose ${filesInput.files.length} files; at most ${limits.max_files} can be uploaded at once.`);
      return;
    }
    const body = new FormData();
    for (const f of filesInput.files) body.append("file", f);
    const [source_lang, target_lang] = pairSel.value.split("-");
    body.append("source_lang", source_lang);
    body.append("target_lang", target_lang);
    body.append("translator", trSel.value);
    uploadBtn.disabled = true;
    try {
      const resp = await fetch("/api/documents", {
        method: "POST", credentials: "same-origin", headers: { "X-CSRFToken": csrfToken() }, body,
      });
      let data = null;
      try { data = await resp.json(); } catch (e) { /* e.g. a proxy's HTML error page */ }
      if (!resp.ok) {
        const refused = data && data.error && data.error.refused;
        showError(refused ? refusedText(refused) : data && data.error ? data.error.message : `Upload failed (${resp.status}).`);
      } else {
        if (data.refused && data.refused.length) showError(refusedText(data.refused));
        for (const doc of data.documents) { render(doc); subscribe(doc.id); }
        if (!socket || socket.readyState !== WebSocket.OPEN) startPolling();
        filesInput.value = "";
      }
    } catch (e) {
      showError("The server could not be reached. Try again.");
    } finally {
      uploadBtn.disabled = false;
    }
  });

  initial.slice().reverse().forEach(render);
  connect();
})();
