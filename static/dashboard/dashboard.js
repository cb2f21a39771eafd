// Dashboard charts (Chart.js, vendored) and live run state. Data comes from json_script blocks in the page.
(function () {
  "use strict";
  const COLORS = { AR: "#2f6fde", NAR: "#d9480f" };
  const read = (id) => { const el = document.getElementById(id); return el ? JSON.parse(el.textContent) : null; };
  const charts = {};

  function draw(id, config) {
    const canvas = document.getElementById(id);
    if (!canvas || typeof Chart === "undefined") return;
    if (charts[id]) charts[id].destroy();
    charts[id] = new Chart(canvas, config);
  }

  // Scatter of systems (AR/NAR coloured apart) with CI whiskers drawn as short lines, plus the frontier line.
  function paretoChart(id, data, xKey, xTitle, frontKey) {
    const byLabel = Object.fromEntries(data.points.map((p) => [p.label, p]));
    const datasets = ["AR", "NAR"].map((family) => ({
      type: "scatter", label: family, backgroundColor: COLORS[family], pointRadius: 5,
      data: data.points.filter((p) => p.family === family).map((p) => ({ x: p[xKey], y: p.bleu, label: p.label, ci: p.bleu_ci })),
    }));
    datasets.push({
      type: "line", label: "Pareto frontier", borderColor: "#667085", borderDash: [5, 4], pointRadius: 0, fill: false,
      data: data[frontKey].map((l) => ({ x: byLabel[l][xKey], y: byLabel[l].bleu })),
    });
    datasets.push({
      type: "line", label: "95 % CI", borderColor: "rgba(102,112,133,.45)", pointRadius: 0, showLine: true, spanGaps: false,
      data: data.points.flatMap((p) => [{ x: p[xKey], y: p.bleu_ci[0] }, { x: p[xKey], y: p.bleu_ci[1] }, { x: null, y: null }]),
    });
    draw(id, {
      data: { datasets },
      options: {
        animation: false, parsing: true,
        aspectRatio: 1.6,
        scales: {
          // Log axis labelled at 1-2-5 steps only: the default labels every minor tick and they overlap.
          x: { type: "logarithmic", title: { display: true, text: xTitle },
               ticks: { callback: (v) => [1, 2, 5].includes(Number((v / 10 ** Math.floor(Math.log10(v))).toFixed(6))) ? v : "" } },
          y: { title: { display: true, text: "BLEU" } } },
        plugins: { tooltip: { callbacks: { label: (c) => c.raw.label ? `${c.raw.label}: BLEU ${c.raw.y} [${c.raw.ci}], ${c.raw.x}` : "" } } },
      },
    });
  }

  function pareto() {
    const all = read("pareto-data");
    const picker = document.getElementById("testset-picker");
    if (!all || !Object.keys(all).length) {  // no finished run yet: empty axes, so the page shows what will come
      paretoChart("pareto-latency", { points: [], front_latency: [] }, "latency_p50_ms", "latency p50, ms (batch 1)", "front_latency");
      paretoChart("pareto-throughput", { points: [], front_throughput: [] }, "throughput64_sps", "sentences/s (batch 64)", "front_throughput");
      return;
    }
    const show = (testSet) => {
      paretoChart("pareto-latency", all[testSet], "latency_p50_ms", "latency p50, ms (batch 1)", "front_latency");
      paretoChart("pareto-throughput", all[testSet], "throughput64_sps", "sentences/s (batch 64)", "front_throughput");
      if (picker) picker.querySelectorAll("a").forEach((a) => a.style.fontWeight = a.dataset.ts === testSet ? "700" : "400");
      buckets(testSet);
    };
    if (picker) {
      picker.innerHTML = "<span class='small muted'>Test set:</span>";
      Object.keys(all).forEach((ts) => {
        const a = document.createElement("a"); a.href = "#"; a.textContent = ts; a.dataset.ts = ts; a.className = "small";
        a.onclick = (e) => { e.preventDefault(); history.replaceState(null, "", "#ts=" + encodeURIComponent(ts)); show(ts); };
        picker.appendChild(a);
      });
    }
    // A link may name the test set to show first (#ts=en-de/libreoffice); else the one with most systems,
    // a LibreOffice one on a tie (the in-domain software text the models are for), not the first by name.
    const wanted = decodeURIComponent((location.hash.match(/^#ts=(.+)$/) || [])[1] || "");
    const size = (ts) => all[ts].points.length + (/libreoffice/.test(ts) ? 0.5 : 0);
    show(all[wanted] ? wanted : Object.keys(all).reduce((best, ts) => (size(ts) > size(best) ? ts : best)));
  }

  function buckets(testSet) {
    const all = read("bucket-data");
    if (!all || !all[testSet]) return;
    const d = all[testSet];
    const sets = (key) => d.systems.map((s, i) => ({
      label: s.label, data: d.buckets.map((b) => s[key][b] ?? null), borderColor: COLORS[s.family],
      backgroundColor: COLORS[s.family], borderDash: i % 2 ? [4, 3] : [], tension: 0,
    }));
    const opts = (y) => ({ animation: false, aspectRatio: 1.8, scales: { x: { title: { display: true, text: "source words" } }, y: { title: { display: true, text: y } } } });
    draw("bucket-bleu", { type: "line", data: { labels: d.buckets, datasets: sets("bleu") }, options: opts("BLEU") });
    draw("bucket-latency", { type: "line", data: { labels: d.buckets, datasets: sets("latency") }, options: opts("latency p50 ms") });
  }

  function sweeps() {
    const all = read("sweep-data");
    const box = document.getElementById("sweeps");
    if (!all || !box) return;
    Object.entries(all).forEach(([name, points], i) => {
      const fig = document.createElement("figure");
      fig.innerHTML = `<canvas id="sweep-${i}" height="260"></canvas><figcaption>${name.replace(/</g, "&lt;")}: BLEU (left) and batch-1 latency p50 (right) vs mask-predict iterations.</figcaption>`;
      box.appendChild(fig);
      draw(`sweep-${i}`, {
        type: "line",
        data: { labels: points.map((p) => p.iterations), datasets: [
          { label: "BLEU", data: points.map((p) => p.bleu), borderColor: COLORS.NAR, yAxisID: "y" },
          { label: "latency p50 ms", data: points.map((p) => p.latency_p50_ms), borderColor: "#667085", borderDash: [5, 4], yAxisID: "y1" },
        ] },
        options: { animation: false, aspectRatio: 1.8, scales: { x: { title: { display: true, text: "iterations" } },
          y: { position: "left", title: { display: true, text: "BLEU" } },
          y1: { position: "right", grid: { drawOnChartArea: false }, title: { display: true, text: "ms" } } } },
      });
    });
  }

  function csrf() { const m = document.cookie.match(/csrftoken=([^;]+)/); return m ? m[1] : ""; }

  // Live state of one run (run page): websocket pushes; reload once it is done to show the tables.
  function liveRun() {
    const box = document.getElementById("run-state");
    if (!box) return;
    const id = box.dataset.run;
    const apply = (run) => {
      box.querySelector(".state").textContent = run.state;
      // "done" as the message of a done run would read "State: done done".
      box.querySelector(".progress-message").textContent =
        run.progress_message && run.progress_message !== run.state ? run.progress_message : "";
      box.querySelector("progress").value = run.progress;
      const err = box.querySelector(".run-error"); err.hidden = !run.error; err.textContent = run.error || "";
      const cancel = document.getElementById("cancel-run");
      if (cancel && !["queued", "running"].includes(run.state)) cancel.remove();
      if (run.state === "done" && box.dataset.state !== "done") location.reload();
      box.dataset.state = run.state;
    };
    const cancel = document.getElementById("cancel-run");
    if (cancel) cancel.onclick = () => fetch(`/api/benchmarks/${id}/cancel`, { method: "POST", headers: { "X-CSRFToken": csrf() } })
      .then((r) => r.json()).then((d) => d.run && apply(d.run));
    if (!["queued", "running"].includes(box.dataset.state)) return;
    const proto = location.protocol === "https:" ? "wss" : "ws";
    const connect = () => {
      const ws = new WebSocket(`${proto}://${location.host}/ws/dashboard/${id}/`);
      ws.onmessage = (e) => { const m = JSON.parse(e.data); if (m.type === "run") apply(m.run); };
      ws.onclose = () => { if (["queued", "running"].includes(box.dataset.state)) setTimeout(() => {
        fetch(`/api/benchmarks/${id}`).then((r) => r.json()).then((d) => d.run && apply(d.run)).finally(connect); }, 2000); };
    };
    connect();
  }

  // Start-run form (overview): one system per translator and per ';'-separated option set.
  function runForm() {
    const form = document.getElementById("run-form");
    if (!form) return;
    const msg = document.getElementById("form-message");
    form.onsubmit = (e) => {
      e.preventDefault();
      const systems = [];
      form.querySelectorAll("input[name=translator]:checked").forEach((box) => {
        const raw = form.querySelector(`[name="options-${box.value}"]`).value.trim();
        (raw ? raw.split(";") : [""]).forEach((opts) => systems.push(opts.trim() ? `${box.value}:${opts.trim()}` : box.value));
      });
      const body = {
        systems, test_sets: [...form.querySelectorAll("input[name=test_set]:checked")].map((b) => b.value),
        limit: form.limit.value || null, threads: form.threads.value || null, device: form.device.value, label: form.label.value,
      };
      msg.textContent = "queueing…"; msg.className = "small";
      fetch("/api/benchmarks", { method: "POST", headers: { "Content-Type": "application/json", "X-CSRFToken": csrf() }, body: JSON.stringify(body) })
        .then((r) => r.json().then((d) => ({ ok: r.ok, d })))
        .then(({ ok, d }) => {
          if (!ok) { msg.textContent = d.error ? d.error.message : "Could not queue the run."; msg.className = "small error"; return; }
          location.href = `/dashboard/runs/${d.run.id}/`;
        })
        .catch(() => { msg.textContent = "The server did not answer."; msg.className = "small error"; });
    };
  }

  // Overview: the runs table follows every run's state.
  function liveList() {
    const table = document.querySelector("table.runs");
    if (!table) return;
    const proto = location.protocol === "https:" ? "wss" : "ws";
    try {
      const ws = new WebSocket(`${proto}://${location.host}/ws/dashboard/`);
      ws.onmessage = (e) => {
        const m = JSON.parse(e.data); if (m.type !== "run") return;
        const row = table.querySelector(`tr[data-run="${m.run.id}"] .state`);
        if (row) row.textContent = m.run.state === "running" ? `running ${Math.round(m.run.progress * 100)} %` : m.run.state;
      };
    } catch (err) { /* no socket: the list is still right as of the page load */ }
  }

  pareto(); sweeps(); liveRun(); runForm(); liveList();
  if (!document.getElementById("testset-picker")) { const b = read("bucket-data"); if (b) buckets(Object.keys(b)[0]); }
})();
