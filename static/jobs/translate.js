// Translate page. Jobs are submitted over HTTP and their state is pushed over the websocket; on a reconnect
// the page re-reads its jobs over HTTP and resubscribes, so no update is lost. Several jobs can be in flight
// (compare mode sends one per translator); every socket frame is routed by job id.
(function () {
  "use strict";
  const translators = JSON.parse(document.getElementById("translators-data").textContent);
  const maxChars = JSON.parse(document.getElementById("max-chars").textContent);
  const $ = (id) => document.getElementById(id);
  const form = $("translate-form"), srcSel = $("source"), tgtSel = $("target"), trSel = $("translator");
  const text = $("text"), counter = $("counter"), submit = $("submit"), output = $("output");
  const status = $("status"), latency = $("latency"), errorBox = $("error"), copyBtn = $("copy");
  const conn = $("connection"), detectedBox = $("detected"), live = $("live");
  const compareToggle = $("compare-toggle"), compareList = $("compare-list"), compareResults = $("compare-results");
  const refineToggle = $("refine-toggle"), refineBox = $("refinement"), refineSteps = $("refinement-steps");
  const FINISHED = ["done", "failed", "cancelled"];
  const rank = { queued: 0, running: 1, done: 2, failed: 2, cancelled: 2 };
  const langName = { en: "English", pt: "Portuguese", de: "German", es: "Spanish", fr: "French" };
  const name = (c) => langName[c] || c;
  const jobs = new Map();    // id -> {kind: "main"|"compare", sentAt, last, translator}
  let socket = null, retryMs = 500, pollTimer = null, debounceTimer = null, detected = null, generation = 0;

  // --- languages and translators, from the registry ------------------------------------------------------
  const sources = [...new Set(translators.map((t) => t.source_lang))].sort();
  const targets = [...new Set(translators.map((t) => t.target_lang))].sort();
  srcSel.add(new Option("Detect language", "auto"));
  for (const c of sources) srcSel.add(new Option(name(c), c));
  for (const c of targets) tgtSel.add(new Option(name(c), c));

  function sourceLang() { return srcSel.value === "auto" ? (detected && detected.language) : srcSel.value; }
  function pairTranslators() {
    const s = sourceLang();
    return translators.filter((t) => t.target_lang === tgtSel.value && (!s || t.source_lang === s));
  }
  function fillTranslators(keep) {
    const previous = keep || trSel.value;
    trSel.innerHTML = "";
    for (const t of pairTranslators()) trSel.add(new Option(`${t.name} (${t.family})${loadingNote(t)}`, t.name));
    if ([...trSel.options].some((o) => o.value === previous)) trSel.value = previous;
    fillCompareList();
    showTranslatorInfo();
  }
  const iterative = (t) => t && t.decoding_defaults && "iterations" in t.decoding_defaults;
  function showTranslatorInfo() {
    const t = translators.find((t) => t.name === trSel.value);
    const params = t && t.parameters ? ` · ${(t.parameters / 1e6).toFixed(1)}M parameters` : "";
    $("translator-info").textContent = t ? `${t.family} · ${t.architecture}${params}` : "No translator for this pair.";
    $("translator-loading").hidden = !(t && t.status === "loading");
    refineToggle.disabled = !iterative(t);
    if (!iterative(t)) refineToggle.checked = false;
    refineToggle.parentElement.title = iterative(t) ? "" : "Only iterative (mask-predict) translators refine.";
    updateCounter();
  }
  // The workers warm every translator in the background when they start; until one is warm its first job waits.
  const loadingNote = (t) => (t.status === "loading" ? " — loading…" : "");
  async function refreshStatuses() {
    try {
      const resp = await fetch("/api/translators", { headers: { Accept: "application/json" } });
      if (!resp.ok) return;
      const fresh = new Map((await resp.json()).translators.map((t) => [t.name, t.status]));
      for (const t of translators) t.status = fresh.get(t.name);
      fillTranslators();
    } catch (e) { /* offline: try again on the next tick */ }
    if (translators.some((t) => t.status === "loading")) setTimeout(refreshStatuses, 2000);
  }
  if (translators.some((t) => t.status === "loading")) setTimeout(refreshStatuses, 2000);
  function fillCompareList() {
    const chosen = new Set([...compareList.querySelectorAll("input:checked")].map((i) => i.value));
    compareList.querySelectorAll("label").forEach((l) => l.remove());
    const pair = pairTranslators();
    // After a pair change none of the ticked translators may belong to the new pair: tick them all then,
    // or compare mode would send nothing.
    if (!pair.some((t) => chosen.has(t.name))) chosen.clear();
    for (const t of pair) {
      const label = document.createElement("label");
      label.className = "check";
      const box = document.createElement("input");
      box.type = "checkbox";
      box.value = t.name;
      box.checked = chosen.size ? chosen.has(t.name) : true;
      label.append(box, ` ${t.name} (${t.family})${loadingNote(t)}`);
      compareList.append(label);
    }
  }
  srcSel.addEventListener("change", () => { detected = null; fillTranslators(); saveState(); schedule(); });
  tgtSel.addEventListener("change", () => { fillTranslators(); saveState(); schedule(); });
  trSel.addEventListener("change", () => { showTranslatorInfo(); saveState(); schedule(); });
  compareToggle.addEventListener("change", () => { compareList.hidden = !compareToggle.checked; saveState(); });
  refineToggle.addEventListener("change", saveState);

  function swap() {
    const s = sourceLang(), t = tgtSel.value;
    if (!s || ![...tgtSel.options].some((o) => o.value === s) || !sources.includes(t)) {
      showError("These languages cannot be swapped: no translator goes the other way.");
      return;
    }
    srcSel.value = t;
    tgtSel.value = s;
    detected = null;
    detectedBox.textContent = "";
    const out = output.dataset.state === "done" ? output.textContent : "";
    if (out) text.value = out;
    fillTranslators();
    saveState();
    updateCounter();
    schedule();
  }
  $("swap").addEventListener("click", swap);

  // --- shareable URL: the page state lives in the query string -------------------------------------------
  function saveState() {
    const p = new URLSearchParams();
    p.set("source", srcSel.value);
    p.set("target", tgtSel.value);
    if (trSel.value) p.set("translator", trSel.value);
    if (text.value) p.set("q", text.value.slice(0, 2000));
    if (compareToggle.checked) p.set("compare", "1");
    if (refineToggle.checked) p.set("refine", "1");
    history.replaceState(null, "", `${location.pathname}?${p}`);
  }
  function loadState() {
    const p = new URLSearchParams(location.search);
    const pick = (sel, v) => { if (v && [...sel.options].some((o) => o.value === v)) sel.value = v; };
    pick(srcSel, p.get("source"));
    pick(tgtSel, p.get("target") || (targets.includes("pt") ? "pt" : targets[0]));
    if (!p.get("source") && sources.includes("en")) srcSel.value = "en";
    fillTranslators(p.get("translator"));
    if (p.get("q")) text.value = p.get("q");
    compareToggle.checked = p.get("compare") === "1";
    compareList.hidden = !compareToggle.checked;
    if (p.get("refine") === "1" && !refineToggle.disabled) refineToggle.checked = true;
    return Boolean(p.get("q"));
  }
  $("share").addEventListener("click", () => {
    saveState();
    copyText(location.href, $("share"), "Link copied");
  });

  // --- character counter and limit -----------------------------------------------------------------------
  function updateCounter() {
    const n = text.value.length;
    counter.textContent = `${n} / ${maxChars}`;
    counter.classList.toggle("over", n > maxChars);
    submit.disabled = n > maxChars || !text.value.trim() || (!trSel.value && srcSel.value !== "auto");
  }
  text.addEventListener("input", () => { updateCounter(); saveState(); schedule(); });

  // Live translation: after a pause in typing, not on every key (each translation is a queued job).
  function schedule() {
    clearTimeout(debounceTimer);
    if (!live.checked || !text.value.trim() || text.value.length > maxChars) return;
    debounceTimer = setTimeout(() => translate(), 700);
  }

  // --- errors and rendering --------------------------------------------------------------------------------
  function showError(message) { errorBox.textContent = message; errorBox.hidden = !message; }
  const ms = (s) => (s == null ? "–" : `${Math.round(s * 1000)} ms`);

  function render(job) {
    const entry = jobs.get(job.id);
    if (!entry) return;
    // Updates may arrive twice or out of order (socket + fetch): never go back from a later state.
    const last = entry.last;
    if (last && (rank[job.state] < rank[last.state] ||
        (job.state === last.state && job.progress.done < last.progress.done))) return;
    entry.last = job;
    if (FINISHED.includes(job.state) && !entry.arrivedAt) entry.arrivedAt = performance.now();
    if (entry.kind === "compare") renderCompare(job, entry); else renderMain(job, entry);
    if ([...jobs.values()].every((e) => e.last && FINISHED.includes(e.last.state))) { stopPolling(); updateCounter(); }
  }
  function renderMain(job, entry) {
    output.dataset.state = job.state;
    if (job.state === "done") {
      output.textContent = job.output;
      copyBtn.disabled = false;
      status.textContent = `Done (${job.translator})`;
      const batch = job.batch && job.batch.jobs > 1 ? ` (its share of a batch of ${job.batch.jobs} texts)` : "";
      latency.textContent = `queue wait ${ms(job.queue_seconds)} · model ${ms(job.model_seconds)}${batch} · ` +
        `total ${ms(job.total_seconds)} · in the browser ${Math.round(entry.arrivedAt - entry.sentAt)} ms`;
      showError("");
    } else if (job.state === "failed" || job.state === "cancelled") {
      status.textContent = job.state === "failed" ? "Failed" : "Cancelled";
      showError(job.error || "The job did not finish.");
    } else {
      const p = job.progress;
      status.textContent = job.state === "queued" ? "Queued…" : `Translating… ${p.done}/${p.total} lines`;
      if (job.output) output.textContent = job.output;
    }
  }
  function renderCompare(job, entry) {
    const card = entry.card;
    card.dataset.state = job.state;
    const out = card.querySelector(".result"), lat = card.querySelector(".lat");
    if (job.state === "done") {
      out.textContent = job.output;
      lat.textContent = `${Math.round(entry.arrivedAt - entry.sentAt)} ms · model ${ms(job.model_seconds)}`;
      // Order of arrival is the point: finished cards move up, fastest first.
      const firstPending = [...compareResults.children].find((c) => !FINISHED.includes(c.dataset.state));
      compareResults.insertBefore(card, firstPending || null);
    } else if (FINISHED.includes(job.state)) {
      out.textContent = job.error || job.state;
      lat.textContent = job.state;
    } else {
      lat.textContent = job.state === "queued" ? "queued…" : "translating…";
    }
  }

  // Indexes of `b` words that are part of a longest common subsequence with `a`: the words this iteration
  // kept. Position-by-position comparison would mark every word after an inserted or merged one.
  function unchanged(a, b) {
    const dp = Array.from({ length: a.length + 1 }, () => new Array(b.length + 1).fill(0));
    for (let i = a.length - 1; i >= 0; i--)
      for (let j = b.length - 1; j >= 0; j--)
        dp[i][j] = a[i] === b[j] ? dp[i + 1][j + 1] + 1 : Math.max(dp[i + 1][j], dp[i][j + 1]);
    const kept = new Set();
    for (let i = 0, j = 0; i < a.length && j < b.length;) {
      if (a[i] === b[j]) { kept.add(j); i++; j++; } else if (dp[i + 1][j] >= dp[i][j + 1]) i++; else j++;
    }
    return kept;
  }

  // Refinement: one list item per iteration; words that differ from the previous iteration are marked.
  const seenSteps = new Set();
  function renderStep(jobId, step) {
    const entry = jobs.get(jobId);
    if (!entry || entry.kind !== "main" || !entry.refine) return;
    const key = `${step.line}:${step.iteration}`;
    if (seenSteps.has(key)) return;
    seenSteps.add(key);
    const previous = entry.steps[step.line] || [];
    const words = step.text.split(/\s+/).filter(Boolean);
    const li = document.createElement("li");
    li.className = "step";
    li.dataset.iteration = step.iteration;
    const head = document.createElement("span");
    head.className = "muted small";
    head.textContent = `iteration ${step.iteration}${step.line ? ` (line ${step.line + 1})` : ""} · ` +
      `${step.masked} token${step.masked === 1 ? "" : "s"} re-predicted: `;
    li.append(head);
    const kept = unchanged(previous, words);
    words.forEach((w, i) => {
      const el = document.createElement(kept.has(i) ? "span" : "mark");
      el.textContent = w;
      li.append(el, " ");
    });
    entry.steps[step.line] = words;
    refineSteps.append(li);
    if (output.dataset.state !== "done") output.textContent = step.text;
  }

  // --- websocket with reconnect; HTTP fetch as the fallback ---------------------------------------------
  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    socket = new WebSocket(`${scheme}://${location.host}/ws/jobs/`);
    socket.onopen = () => {
      retryMs = 500;
      conn.textContent = "";
      stopPolling();
      for (const [id, entry] of jobs) {
        if (entry.last && FINISHED.includes(entry.last.state)) continue;
        fetchJob(id);  // anything missed while disconnected
        socket.send(JSON.stringify({ type: "subscribe", job: id }));
      }
    };
    socket.onmessage = (event) => {
      const msg = JSON.parse(event.data);
      if (msg.type === "job" || msg.type === "accepted") render(msg.job);
      else if (msg.type === "refinement") renderStep(msg.job, msg.step);
      else if (msg.type === "error") showError(msg.message);
    };
    socket.onclose = () => {
      conn.textContent = "Live updates disconnected; reconnecting…";
      if ([...jobs.values()].some((e) => !(e.last && FINISHED.includes(e.last.state)))) startPolling();
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
    if (!pollTimer) pollTimer = setInterval(() => {
      for (const [id, e] of jobs) if (!(e.last && FINISHED.includes(e.last.state))) fetchJob(id);
    }, 1500);
  }
  function stopPolling() { clearInterval(pollTimer); pollTimer = null; }
  function csrfToken() {
    const m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  }

  // --- language detection (the /detect API, offline on the server) ----------------------------------------
  async function detectSource() {
    const resp = await fetch("/detect", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ q: text.value.slice(0, 1000) }),
    });
    const data = await resp.json();
    if (!resp.ok) throw new Error(data.error || "Language detection failed.");
    if (!data.length) throw new Error("Could not tell the language of this text; choose it.");
    detected = data[0];
    detectedBox.textContent = `Detected: ${name(detected.language)} (${Math.round(detected.confidence)} %)`;
    fillTranslators();
  }

  // --- submitting ----------------------------------------------------------------------------------------
  async function submitJob(body, entry) {
    entry.sentAt = performance.now();
    const resp = await fetch("/api/jobs", {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(body),
    });
    const data = await resp.json();
    if (!resp.ok) throw new Error(data.error ? data.error.message : `Request failed (${resp.status}).`);
    jobs.set(data.job.id, entry);
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify({ type: "subscribe", job: data.job.id }));
    } else {
      startPolling();
    }
    render(data.job);
    return data.job;
  }

  function clearResult() {
    jobs.clear();
    output.textContent = "";
    output.dataset.state = "empty";
    latency.textContent = "";
    status.textContent = "";
    compareResults.innerHTML = "";
    compareResults.hidden = true;
    refineSteps.innerHTML = "";
    refineBox.hidden = true;
  }

  async function translate() {
    clearTimeout(debounceTimer);
    if (!text.value.trim() || text.value.length > maxChars) return;
    const mine = ++generation;  // a newer translation (typing) supersedes this one's rendering
    showError("");
    submit.disabled = true;
    copyBtn.disabled = true;
    try {
      if (srcSel.value === "auto") await detectSource();
      if (mine !== generation) return;
      const s = sourceLang(), t = tgtSel.value;
      if (!trSel.value) {
        clearResult();  // the previous translation is of another text: it must not stay on screen
        throw new Error(srcSel.value === "auto"
          ? `Detected ${name(s)}, but no translator goes from ${name(s)} to ${name(t)}. ` +
            "Choose the source language, or another target."
          : `No translator for ${name(s)} → ${name(t)}.`);
      }
      if (compareToggle.checked && !compareList.querySelector("input:checked")) {
        throw new Error("Compare translators is on, but no translator is ticked: tick at least one.");
      }
      jobs.clear();
      seenSteps.clear();
      refineSteps.innerHTML = "";
      output.textContent = "";
      latency.textContent = "";
      status.textContent = "Sending…";
      const base = { text: text.value, source_lang: s, target_lang: t };
      const refine = refineToggle.checked && !refineToggle.disabled;
      refineBox.hidden = !refine;
      const pending = [submitJob({ ...base, translator: trSel.value, refine }, { kind: "main", refine, steps: {} })];
      compareResults.innerHTML = "";
      compareResults.hidden = !compareToggle.checked;
      if (compareToggle.checked) {
        for (const box of compareList.querySelectorAll("input:checked")) {
          const card = document.createElement("article");
          card.className = "card";
          card.dataset.translator = box.value;
          card.innerHTML = '<h3></h3><div class="result" lang=""></div><div class="lat muted small"></div>';
          card.querySelector("h3").textContent = box.value;
          compareResults.append(card);
          pending.push(submitJob({ ...base, translator: box.value }, { kind: "compare", card }));
        }
      }
      await Promise.all(pending);
    } catch (e) {
      showError(e.message || "The server could not be reached. Try again.");
      status.textContent = "";
      updateCounter();
    }
  }

  form.addEventListener("submit", (event) => { event.preventDefault(); translate(); });

  // --- copy ----------------------------------------------------------------------------------------------
  async function copyText(value, button, done) {
    const label = button.textContent;
    try {
      await navigator.clipboard.writeText(value);
      button.textContent = done;
    } catch (e) {
      // The clipboard API needs a secure context; select the output so Ctrl+C works instead.
      const range = document.createRange();
      range.selectNodeContents(output);
      const sel = window.getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
      button.textContent = "Press Ctrl+C";
    }
    setTimeout(() => (button.textContent = label), 1500);
  }
  copyBtn.addEventListener("click", () => copyText(output.textContent, copyBtn, "Copied"));

  // --- keyboard shortcuts ----------------------------------------------------------------------------------
  document.addEventListener("keydown", (event) => {
    if ((event.ctrlKey || event.metaKey) && event.key === "Enter") {
      event.preventDefault();
      if (!submit.disabled) translate();
    } else if (event.altKey && (event.key === "s" || event.key === "S")) {
      event.preventDefault();
      swap();
    } else if (event.altKey && (event.key === "c" || event.key === "C") && !copyBtn.disabled) {
      event.preventDefault();
      copyBtn.click();
    }
  });

  const hadText = loadState();
  updateCounter();
  connect();
  if (hadText && live.checked) schedule();
})();
