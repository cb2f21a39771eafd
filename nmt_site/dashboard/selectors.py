"""Read-only queries and the pure routines behind the pages: tables, Pareto frontiers, significance marks,
sweeps and comparisons. Nothing here measures (translator.evaluate does) or writes."""

from __future__ import annotations

from django.core.paginator import Paginator

from translator.evaluate import sentence_scores
from translator.registry import list_engines

from . import testsets
from .errors import BenchmarkRequestError
from .models import BenchmarkResult, BenchmarkRun, RunState
from .services import get_run

ALPHA = 0.05
OVERVIEW_RUNS = 50


# --- pure routines (unit-tested on hand-checked examples) ----------------------------------------------------


def significance_mark(p_value: float | None, delta: float, alpha: float = ALPHA) -> str:
    """ "" for the baseline or no evidence; "▲"/"▼" when the paired bootstrap says better/worse at ``alpha``."""
    if p_value is None or p_value >= alpha or delta == 0:
        return ""
    return "▲" if delta > 0 else "▼"


def pareto_front(points: list[dict], x: str, y: str, x_lower_is_better: bool) -> list[dict]:
    """Points no other point beats on both axes (quality ``y`` higher is better), sorted along x.

    A point is dominated when another is at least as good on both axes and strictly better on one.
    """

    def better_or_equal(a, b):
        ax, bx = (a[x], b[x]) if not x_lower_is_better else (-a[x], -b[x])
        return ax >= bx and a[y] >= b[y] and (ax > bx or a[y] > b[y])

    front = [p for p in points if not any(better_or_equal(q, p) for q in points if q is not p)]
    return sorted(front, key=lambda p: p[x])


def iteration_sweeps(results: list[BenchmarkResult]) -> dict[str, list[dict]]:
    """Per translator × test set with 2+ systems differing only in ``iterations``: BLEU and latency vs iterations."""
    groups: dict[tuple, list[BenchmarkResult]] = {}
    for r in results:
        if "iterations" not in (r.decoding or {}):
            continue
        rest = tuple(sorted((k, str(v)) for k, v in r.decoding.items() if k != "iterations"))
        groups.setdefault((r.translator, r.test_set, rest), []).append(r)
    sweeps = {}
    for (translator, test_set, rest), rows in groups.items():
        if len({r.decoding["iterations"] for r in rows}) < 2:
            continue
        name = f"{translator} on {test_set}" + (f" ({', '.join(f'{k}={v}' for k, v in rest)})" if rest else "")
        sweeps[name] = sorted(
            (
                {
                    "iterations": r.decoding["iterations"],
                    "bleu": r.bleu,
                    "latency_p50_ms": r.latency_p50_ms,
                    "throughput64_sps": r.throughput64_sps,
                }
                for r in rows
            ),
            key=lambda d: d["iterations"],
        )
    return sweeps


# --- queries ------------------------------------------------------------------------------------------------


def recent_runs(limit: int = OVERVIEW_RUNS) -> list[BenchmarkRun]:
    return list(BenchmarkRun.objects.defer("protocol")[:limit])


def featured_run(run_id=None) -> BenchmarkRun | None:
    """The run the overview plots: the one asked for, else the newest finished run."""
    if run_id:
        return get_run(run_id)
    return BenchmarkRun.objects.filter(state=RunState.DONE).order_by("-finished_at").first()


def results_of(run: BenchmarkRun) -> list[BenchmarkResult]:
    return list(run.results.all().order_by("test_set", "position"))


def active_runs() -> list[BenchmarkRun]:
    return list(BenchmarkRun.objects.filter(state__in=(RunState.QUEUED, RunState.RUNNING)).order_by("queued_at"))


def form_choices() -> dict:
    return {
        "translators": [i.as_dict() for i in list_engines()],
        "test_sets": [{"id": t.id, "pair": t.pair} for t in testsets.available().values()],
    }


# --- tables (pages, CSV and JSON exports share them) --------------------------------------------------------

RESULT_COLUMNS = [
    "test_set",
    "system",
    "family",
    "baseline",
    "decoding",
    "sentences",
    "bleu",
    "bleu_ci_low",
    "bleu_ci_high",
    "bleu_p",
    "bleu_sig",
    "chrf",
    "chrf_ci_low",
    "chrf_ci_high",
    "chrf_p",
    "chrf_sig",
    "latency_p50_ms",
    "latency_p95_ms",
    "throughput16_sps",
    "throughput16_wps",
    "throughput64_sps",
    "throughput64_wps",
    "repeated_token_rate",
    "peak_memory_mb",
    "parameters",
    "model_size_mb",
    "bleu_signature",
    "chrf_signature",
]


def _baseline_score(results: list[BenchmarkResult], test_set: str, field: str) -> float | None:
    return next((getattr(r, field) for r in results if r.test_set == test_set and r.is_baseline), None)


def results_table(results: list[BenchmarkResult]) -> dict:
    rows = []
    for r in results:
        base_bleu = _baseline_score(results, r.test_set, "bleu")
        base_chrf = _baseline_score(results, r.test_set, "chrf")
        rows.append(
            [
                r.test_set,
                r.system,
                r.family,
                r.is_baseline,
                " ".join(f"{k}={v}" for k, v in sorted(r.decoding.items())),
                r.sentences,
                r.bleu,
                r.bleu_ci_low,
                r.bleu_ci_high,
                r.bleu_p,
                "" if r.is_baseline or base_bleu is None else significance_mark(r.bleu_p, r.bleu - base_bleu),
                r.chrf,
                r.chrf_ci_low,
                r.chrf_ci_high,
                r.chrf_p,
                "" if r.is_baseline or base_chrf is None else significance_mark(r.chrf_p, r.chrf - base_chrf),
                r.latency_p50_ms,
                r.latency_p95_ms,
                r.throughput16_sps,
                r.throughput16_wps,
                r.throughput64_sps,
                r.throughput64_wps,
                r.repeated_token_rate,
                r.peak_memory_mb,
                r.parameters,
                r.model_size_mb,
                r.bleu_signature,
                r.chrf_signature,
            ]
        )
    return {"columns": RESULT_COLUMNS, "rows": rows}


def speedups_table(results: list[BenchmarkResult]) -> dict:
    rows = []
    for r in results:
        for ar, s in r.speedups.items():
            rows.append(
                [
                    r.test_set,
                    r.system,
                    r.family,
                    ar,
                    s.get("latency_p50"),
                    s.get("throughput_16"),
                    s.get("throughput_64"),
                ]
            )
    return {
        "columns": [
            "test_set",
            "system",
            "family",
            "vs_ar_system",
            "latency_p50_speedup",
            "throughput16_speedup",
            "throughput64_speedup",
        ],
        "rows": rows,
    }


def buckets_table(results: list[BenchmarkResult]) -> dict:
    rows = []
    for r in results:
        for bucket, b in r.length_buckets.items():
            rows.append([r.test_set, r.system, r.family, bucket, b["sentences"], b["bleu"], b["latency_p50_ms"]])
    return {"columns": ["test_set", "system", "family", "bucket", "sentences", "bleu", "latency_p50_ms"], "rows": rows}


def environment_table(run: BenchmarkRun) -> dict:
    env = dict(run.environment or {})
    tests = env.pop("test_sets", {}) or {}
    rows = [[k, v if not isinstance(v, (dict, list)) else str(v)] for k, v in sorted(env.items())]
    rows += [[f"test set {t}", f"{d['sentences']} sentences, sha256 {d['sha256'][:16]}…"] for t, d in tests.items()]
    return {"columns": ["key", "value"], "rows": rows}


def segments_table(run: BenchmarkRun, test_set: str | None = None) -> dict:
    columns = ["test_set", "index", "source", "reference", "system", "output", "sentence_bleu", "sentence_chrf"]
    rows = []
    for seg in run.segments.all() if test_set is None else run.segments.filter(test_set=test_set):
        for label, outputs in seg.outputs.items():
            for i, (score, out) in enumerate(zip(sentence_scores(outputs, seg.references), outputs, strict=False)):
                rows.append(
                    [seg.test_set, i, seg.sources[i], seg.references[i], label, out, score["bleu"], score["chrf"]]
                )
    return {"columns": columns, "rows": rows}


def runs_table(runs: list[BenchmarkRun]) -> dict:
    return {
        "columns": [
            "id",
            "label",
            "kind",
            "state",
            "queued_at",
            "finished_at",
            "device",
            "threads",
            "cpu",
            "git_commit",
        ],
        "rows": [
            [
                str(r.id),
                r.label,
                r.kind,
                r.state,
                r.queued_at.isoformat(),
                r.finished_at.isoformat() if r.finished_at else None,
                r.device,
                r.threads,
                (r.environment or {}).get("cpu"),
                (r.environment or {}).get("git_commit"),
            ]
            for r in runs
        ],
    }


RUN_TABLES = {"results": results_table, "speedups": speedups_table, "buckets": buckets_table}


def run_table(run: BenchmarkRun, name: str) -> dict:
    if name in RUN_TABLES:
        return RUN_TABLES[name](results_of(run))
    if name == "environment":
        return environment_table(run)
    if name == "segments":
        return segments_table(run)
    raise BenchmarkRequestError(
        "unknown_table", f"No table '{name}'. Tables: {', '.join([*RUN_TABLES, 'environment', 'segments'])}."
    )


def compare_table(a: BenchmarkRun, b: BenchmarkRun) -> dict:
    """Systems × test sets present in both runs, with the difference b − a (and speed ratios b / a)."""
    ra = {(r.system, r.test_set): r for r in results_of(a)}
    rows = []
    for r in results_of(b):
        old = ra.get((r.system, r.test_set))
        if old is None:
            continue
        rows.append(
            [
                r.test_set,
                r.system,
                r.family,
                old.bleu,
                r.bleu,
                round(r.bleu - old.bleu, 2),
                old.chrf,
                r.chrf,
                round(r.chrf - old.chrf, 2),
                old.latency_p50_ms,
                r.latency_p50_ms,
                round(r.latency_p50_ms / old.latency_p50_ms, 3) if old.latency_p50_ms else None,
                old.throughput64_sps,
                r.throughput64_sps,
                round(r.throughput64_sps / old.throughput64_sps, 3) if old.throughput64_sps else None,
            ]
        )
    return {
        "columns": [
            "test_set",
            "system",
            "family",
            "bleu_a",
            "bleu_b",
            "bleu_delta",
            "chrf_a",
            "chrf_b",
            "chrf_delta",
            "latency_p50_a",
            "latency_p50_b",
            "latency_ratio",
            "throughput64_a",
            "throughput64_b",
            "throughput_ratio",
        ],
        "rows": rows,
    }


# --- plot data -------------------------------------------------------------------------------------------------


def pareto_data(results: list[BenchmarkResult]) -> dict:
    """Per test set: points (quality vs batch-1 latency and vs batch-64 throughput) and both frontiers."""
    out = {}
    for test_set in dict.fromkeys(r.test_set for r in results):
        points = [
            {
                "label": r.system,
                "family": r.family,
                "bleu": r.bleu,
                "chrf": r.chrf,
                "bleu_ci": [r.bleu_ci_low, r.bleu_ci_high],
                "latency_p50_ms": r.latency_p50_ms,
                "throughput64_sps": r.throughput64_sps,
            }
            for r in results
            if r.test_set == test_set
        ]
        out[test_set] = {
            "points": points,
            "front_latency": [p["label"] for p in pareto_front(points, "latency_p50_ms", "bleu", True)],
            "front_throughput": [p["label"] for p in pareto_front(points, "throughput64_sps", "bleu", False)],
        }
    return out


def bucket_data(results: list[BenchmarkResult]) -> dict:
    out: dict[str, dict] = {}
    for r in results:
        entry = out.setdefault(r.test_set, {"buckets": [], "systems": []})
        for b in r.length_buckets:
            if b not in entry["buckets"]:
                entry["buckets"].append(b)
        entry["systems"].append(
            {
                "label": r.system,
                "family": r.family,
                "bleu": {k: v["bleu"] for k, v in r.length_buckets.items()},
                "latency": {k: v["latency_p50_ms"] for k, v in r.length_buckets.items()},
            }
        )
    for entry in out.values():
        entry["buckets"].sort(key=lambda b: int(b.split("-")[0].rstrip("+")))
    return out


def segment_page(run: BenchmarkRun, test_set: str | None, page: int, per_page: int = 25) -> dict:
    segs = {s.test_set: s for s in run.segments.all()}
    # A run imported from a report file (the shipped measurements) has its scores but no per-segment outputs.
    imported_from = run.settings.get("imported_from")
    if not segs:
        return {"test_sets": [], "test_set": None, "page": None, "items": [], "imported_from": imported_from}
    test_set = test_set if test_set in segs else next(iter(segs))
    seg = segs[test_set]
    paginator = Paginator(range(len(seg.sources)), per_page)
    page_obj = paginator.get_page(page)
    idx = list(page_obj.object_list)
    items = []
    labels = list(seg.outputs)
    scores = {
        label: sentence_scores([seg.outputs[label][i] for i in idx], [seg.references[i] for i in idx])
        for label in labels
    }
    for n, i in enumerate(idx):
        items.append(
            {
                "index": i,
                "source": seg.sources[i],
                "reference": seg.references[i],
                "outputs": [{"system": label, "text": seg.outputs[label][i], **scores[label][n]} for label in labels],
            }
        )
    return {
        "test_sets": list(segs),
        "test_set": test_set,
        "page": page_obj,
        "items": items,
        "has_outputs": bool(seg.sources) and any(seg.outputs.values()),
        "imported_from": imported_from,
    }
