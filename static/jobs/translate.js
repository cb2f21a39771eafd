// Translate page: submit over HTTP, receive the job's state pushed over the websocket.
// On a reconnect the page re-reads the job over HTTP and resubscribes, so no update is lost.
(function () {
  "use strict";
  const translators = JSON.parse(document.getElementById("translators-data").textContent);
  const maxChars = JSON.parse(document.getElementById("max-chars").textContent);
  const $ = (id) => document.getElementById(id);
  const form = $("translate-form"), pairSel = $("pair"), trSel = $("translator"), text = $("text");
  const counter = $("counter"), submit = $("submit"), output = $("output"), status = $("status");
  const latency = $("latency"), errorBox = $("error"), copyBtn = $("copy"), conn = $("connection");
  const FINISHED = ["done", "failed", "cancelled"];
  let currentJob = null;     // id of the job whose result is shown
  let lastState = null;      // last job dict rendered for currentJob
  let socket = null, retryMs = 500, pollTimer = null;

  // --- language pair and translator choices, from the registry -------------------------------------
  const langName = { en: "English", pt: "Portuguese", de: "German" };
  const pairs = [...new Set(translators.map((t) => t.pair))].sort();
  for (const pair of pairs) {
    const [s, t] = pair.split("-");
    pairSel.add(new Option(`${langName[s] || s} → ${langName[t] || t}`, pair));
  }
  function fillTranslators() {
    trSel.innerHTML = "";
    for (const t of translators.filter((t) => t.pair === pairSel.value)) {
      trSel.add(new Option(`${t.name} (${t.family})`, t.name));
    }
    showTranslatorInfo();
  }
  function showTranslatorInfo() {
    const t = translators.find((t) => t.name === trSel.value);
    const params = t && t.parameters ? ` · ${(t.parameters / 1e6).toFixed(0)}M parameters` : "";
    $("translator-info").textContent = t ? `${t.family} · ${t.architecture}${params}` : "No translator installed.";
  }
  pairSel.addEventListener("change", fillTranslators);
  trSel.addEventListener("change", showTranslatorInfo);
  fillTranslators();

  // --- character counter and limit ---------------------------------------------------------------------
  function updateCounter() {
    const n = text.value.length;
    counter.textContent = `${n} / ${maxChars}`;
    counter.classList.toggle("over", n > maxChars);
    submit.disabled = n > maxChars || !text.value.trim() || !trSel.value;
  }
  text.addEventListener("input", updateCounter);
  updateCounter();

  // --- errors and results ------------------------------------------------------------------------------
  function showError(message) {
    errorBox.textContent = message;
    errorBox.hidden = !message;
  }
  const ms = (s) => (s == null ? "–" : `${Math.round(s * 1000)} ms`);
  const rank = { queued: 0, running: 1, done: 2, failed: 2, cancelled: 2 };

  function render(job) {
    if (!job || job.id !== currentJob) return;
    // Updates may arrive twice or out of order (socket + fetch): never go back from a later state.
    if (lastState && (rank[job.state] < rank[lastState.state] ||
        (job.state === lastState.state && job.progress.done < lastState.progress.done))) return;
    lastState = job;
    output.dataset.state = job.state;
    if (job.state === "done") {
      output.textContent = job.output;
      copyBtn.disabled = false;
      status.textContent = `Done (${job.translator})`;
      latency.textContent = `queue wait ${ms(job.queue_seconds)} · model ${ms(job.model_seconds)} · total ${ms(job.total_seconds)}`;
      showError("");
    } else if (job.state === "failed" || job.state === "cancelled") {
      status.textContent = job.state === "failed" ? "Failed" : "Cancelled";
      showError(job.error || "The job did not finish.");
    } else {
      const p = job.progress;
      status.textContent = job.state === "queued" ? "Queued…" : `Translating… ${p.done}/${p.total} lines`;
      if (job.output) output.textContent = job.output;
    }
    if (FINISHED.includes(job.state)) { submit.disabled = false; stopPolling(); updateCounter(); }
  }

  // --- websocket with reconnect; HTTP fetch as the fallback -----------------------------------------
  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    socket = new WebSocket(`${scheme}://${location.host}/ws/jobs/`);
    socket.onopen = () => {
      retryMs = 500;
      conn.textContent = "";
      stopPolling();
      if (currentJob) {
        fetchJob(currentJob);  // anything missed while disconnected
        socket.send(JSON.stringify({ type: "subscribe", job: currentJob }));
      }
    };
    socket.onmessage = (event) => {
      const msg = JSON.parse(event.data);
      if (msg.type === "job" || msg.type === "accepted") render(msg.job);
      else if (msg.type === "error") showError(msg.message);
    };
    socket.onclose = () => {
      conn.textContent = "Live updates disconnected; reconnecting…";
      if (currentJob && !(lastState && FINISHED.includes(lastState.state))) startPolling();
      setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, 10000);
    };
  }
  async function fetchJob(id) {
    try {
      const resp = await fetch(`/api/jobs/${id}`, { credentials: "same-origin" });
      const data = await resp.json();
      if (resp.ok) render(data.job); else showError(data.error.message);
    } catch (e) { /* offline: the next poll or reconnect tries again */ }
  }
  function startPolling() {
    if (!pollTimer) pollTimer = setInterval(() => currentJob && fetchJob(currentJob), 1500);
  }
  function stopPolling() { clearInterval(pollTimer); pollTimer = null; }

  function csrfToken() {
    const m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showError("");
    submit.disabled = true;
    copyBtn.disabled = true;
    const [source_lang, target_lang] = pairSel.value.split("-");
    let resp, data;
    try {
      resp = await fetch("/api/jobs", {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
        body: JSON.stringify({ text: text.value, source_lang, target_lang, translator: trSel.value }),
      });
      data = await resp.json();
    } catch (e) {
      showError("The server could not be reached. Try again.");
      updateCounter();
      return;
    }
    if (!resp.ok) {
      showError(data.error ? data.error.message : `Request failed (${resp.status}).`);
      updateCounter();
      return;
    }
    currentJob = data.job.id;
    lastState = null;
    output.textContent = "";
    latency.textContent = "";
    render(data.job);
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify({ type: "subscribe", job: currentJob }));
    } else {
      startPolling();
    }
  });

  copyBtn.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(output.textContent);
      copyBtn.textContent = "Copied";
    } catch (e) {
      // Clipboard API needs a secure context; select the text so Ctrl+C works instead.
      const range = document.createRange();
      range.selectNodeContents(output);
      const sel = window.getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
      copyBtn.textContent = "Press Ctrl+C";
    }
    setTimeout(() => (copyBtn.textContent = "Copy"), 1500);
  });

  connect();
})();
