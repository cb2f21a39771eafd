"""Pages, exports and the API on stored runs (no worker needed): status, plot data, exports = stored numbers."""

import csv
import io
import json
import re
import time

import pytest
from django.test import Client

from nmt_site.dashboard.models import BenchmarkResult, BenchmarkRun

from .reports import SIG_BLEU, SYSTEMS, TEST_ID, make_report, stored_run

pytestmark = pytest.mark.django_db


def script_json(html: str, element_id: str):
    match = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', html, re.S)
    assert match, f"no {element_id} block in the page"
    return json.loads(match.group(1))


def test_overview_shows_the_newest_finished_run_with_plot_data_and_protocol():
    run = stored_run()
    resp = Client().get("/dashboard/")
    assert resp.status_code == 200
    html = resp.content.decode()
    assert "Measurement protocol" in html and "paired bootstrap" in html
    assert "chart-4.6.1.umd.min.js" in html and "cdn" not in html.lower()
    data = script_json(html, "pareto-data")[TEST_ID]
    assert {p["label"] for p in data["points"]} == {s[0] for s in SYSTEMS}
    assert {p["family"] for p in data["points"]} == {"AR", "NAR"}
    # Hand-checked frontier (BLEU vs p50 latency): cmlm-1 (10 ms), cmlm-4 (30), ar beam=1 (50), ar beam=4 (100);
    # cmlm-10 (120 ms, 28.0) is beaten by ar beam=4 (100 ms, 30.0).
    assert data["front_latency"] == ["cmlm iterations=1", "cmlm iterations=4", "ar-teacher beam=1", "ar-teacher beam=4"]
    assert "cmlm iterations=10" not in data["front_throughput"]
    assert str(run.id) in html and "Test CPU" in html


def test_run_page_tables_signatures_marks_sweep_and_buckets():
    run = stored_run()
    resp = Client().get(f"/dashboard/runs/{run.id}/")
    assert resp.status_code == 200
    html = resp.content.decode()
    assert SIG_BLEU in html
    assert "▼" in html  # cmlm iterations=1: p=0.001 and worse than the baseline
    sweeps = script_json(html, "sweep-data")
    ((name, points),) = sweeps.items()
    assert name.startswith("cmlm on en-de/toy") and [p["iterations"] for p in points] == [1, 4, 10]
    buckets = script_json(html, "bucket-data")[TEST_ID]
    assert buckets["buckets"] == ["1-10", "11-20"] and len(buckets["systems"]) == len(SYSTEMS)


def test_segments_page_shows_sources_references_outputs_and_scores():
    run = stored_run()
    resp = Client().get(f"/dashboard/runs/{run.id}/segments?test_set={TEST_ID}")
    assert resp.status_code == 200
    html = resp.content.decode()
    assert "D E F G H I J K L M N O P" in html and "d e f g h i j k l m n o p" in html
    assert "BLEU 100.0" in html  # the AR outputs equal the references here


def test_results_exports_parse_back_to_the_stored_numbers():
    run = stored_run()
    client = Client()
    as_json = client.get(f"/dashboard/runs/{run.id}/export/results.json").json()
    as_csv = list(
        csv.DictReader(io.StringIO(client.get(f"/dashboard/runs/{run.id}/export/results.csv").content.decode()))
    )
    stored = {r.system: r for r in BenchmarkResult.objects.filter(run=run)}
    assert len(as_json["rows"]) == len(as_csv) == len(stored) == len(SYSTEMS)
    for jrow, crow in zip(as_json["rows"], as_csv, strict=False):
        r = stored[jrow["system"]]
        for field in (
            "bleu",
            "bleu_ci_low",
            "bleu_ci_high",
            "chrf",
            "latency_p50_ms",
            "latency_p95_ms",
            "throughput16_sps",
            "throughput64_sps",
            "throughput64_wps",
            "repeated_token_rate",
        ):
            assert jrow[field] == getattr(r, field)
            assert float(crow[field]) == getattr(r, field)
        assert jrow["bleu_signature"] == crow["bleu_signature"] == r.bleu_signature
        assert (jrow["bleu_p"] is None and crow["bleu_p"] == "") or float(crow["bleu_p"]) == jrow["bleu_p"] == r.bleu_p
    for table in ("speedups", "buckets", "environment", "segments"):
        j = client.get(f"/dashboard/runs/{run.id}/export/{table}.json").json()
        c = list(csv.reader(io.StringIO(client.get(f"/dashboard/runs/{run.id}/export/{table}.csv").content.decode())))
        assert c[0] == j["columns"] and len(c) - 1 == len(j["rows"]) > 0, table
    buckets = client.get(f"/dashboard/runs/{run.id}/export/buckets.json").json()["rows"]
    first = next(b for b in buckets if b["system"] == "ar-teacher beam=4" and b["bucket"] == "1-10")
    assert first["bleu"] == 35.0 and first["latency_p50_ms"] == 80.0


def test_compare_two_runs_page_and_export():
    a = stored_run("A")
    slower = [(lbl, n, f, o, b + 1.0, p50 * 2, t, p) for (lbl, n, f, o, b, p50, t, p) in SYSTEMS]
    b = stored_run("B", make_report(slower))
    client = Client()
    resp = client.get(f"/dashboard/compare?a={a.id}&b={b.id}")
    assert resp.status_code == 200
    rows = client.get(f"/dashboard/compare/export.json?a={a.id}&b={b.id}").json()["rows"]
    assert len(rows) == len(SYSTEMS)
    assert all(r["bleu_delta"] == 1.0 and r["latency_ratio"] == 2.0 for r in rows)
    assert client.get(f"/dashboard/compare?a={a.id}").status_code == 400


def test_bad_requests_get_clear_4xx():
    client = Client()
    assert client.get("/dashboard/runs/not-a-uuid/").status_code == 404
    assert client.get("/dashboard/runs/00000000-0000-0000-0000-000000000000/").status_code == 404
    run = stored_run()
    resp = client.get(f"/dashboard/runs/{run.id}/export/results.xml")
    assert resp.status_code == 400 and "csv" in resp.json()["error"]["message"]
    assert client.get(f"/dashboard/runs/{run.id}/export/nope.csv").json()["error"]["code"] == "unknown_table"

    def post(body):
        return client.post("/api/benchmarks", data=json.dumps(body), content_type="application/json")

    cases = {
        "unknown_translator": {"systems": ["no-such-model"], "test_sets": ["en-pt/tiny"]},
        "unknown_test_set": {"systems": ["bergamot-en-pt"], "test_sets": ["en-pt/nope"]},
        "empty_test_set": {"systems": ["bergamot-en-pt"], "test_sets": ["en-pt/empty"]},
        "zero_sentences": {"systems": ["bergamot-en-pt"], "test_sets": ["en-pt/tiny"], "limit": 0},
        "no_systems": {"systems": [], "test_sets": ["en-pt/tiny"]},
        "bad_options": {"systems": ["bergamot-en-pt:beam=4"], "test_sets": ["en-pt/tiny"]},
        "test_set_pair": {"systems": ["bergamot-en-pt"], "test_sets": ["en-pt/tiny", "pt-en/tiny"]},
        "bad_threads": {"systems": ["bergamot-en-pt"], "test_sets": ["en-pt/tiny"], "threads": 999},
        "duplicate_system": {"systems": ["bergamot-en-pt", "bergamot-en-pt"], "test_sets": ["en-pt/tiny"]},
    }
    for code, body in cases.items():
        resp = post(body)
        assert resp.status_code == 400, (code, resp.content)
        assert resp.json()["error"]["code"] == code, resp.json()
        assert resp.json()["error"]["message"]
    bad = client.post("/api/benchmarks", data="{", content_type="application/json")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "bad_json"
    assert client.post("/api/benchmarks/00000000-0000-0000-0000-000000000000/cancel").status_code == 404
    assert BenchmarkRun.objects.count() == 1  # none of the bad requests created a run


def test_pages_stay_fast_with_50_runs():
    for i in range(50):
        stored_run(f"run {i}")
    client = Client()
    run = BenchmarkRun.objects.first()
    client.get("/dashboard/")  # template compilation and first imports are not what this measures
    for url in ("/dashboard/", f"/dashboard/runs/{run.id}/", "/dashboard/export/runs.json", "/api/benchmarks"):
        start = time.perf_counter()
        resp = client.get(url)
        elapsed = time.perf_counter() - start
        assert resp.status_code == 200
        assert elapsed < 1.5, f"{url} took {elapsed:.2f} s with 50 runs stored"
    assert len(client.get("/dashboard/export/runs.json").json()["rows"]) == 50
