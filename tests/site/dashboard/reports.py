"""Hand-built evaluate_systems reports (same shape as translator.evaluate's) for page and export tests."""

from __future__ import annotations

SIG_BLEU = "nrefs:1|bs:100|seed:12345|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0"
SIG_CHRF = "nrefs:1|bs:100|seed:12345|case:mixed|eff:yes|nc:6|nw:0|space:no|version:2.6.0"
TEST_ID = "en-de/toy"
SOURCES = ["a b c", "d e f g h i j k l m n o p", "q r"]
REFERENCES = ["A B C", "D E F G H I J K L M N O P", "Q R"]

# label, name, family, options, bleu, latency p50, throughput@64, p-value
SYSTEMS = [
    ("ar-teacher beam=4", "ar-teacher", "AR", {"beam": 4}, 30.0, 100.0, 20.0, None),
    ("ar-teacher beam=1", "ar-teacher", "AR", {"beam": 1}, 29.0, 50.0, 40.0, 0.2),
    ("cmlm iterations=1", "cmlm", "NAR", {"iterations": 1}, 20.0, 10.0, 200.0, 0.001),
    ("cmlm iterations=4", "cmlm", "NAR", {"iterations": 4}, 27.5, 30.0, 90.0, 0.01),
    ("cmlm iterations=10", "cmlm", "NAR", {"iterations": 10}, 28.0, 120.0, 30.0, 0.04),
]


def make_report(systems=SYSTEMS, test_id=TEST_ID) -> dict:
    out = []
    for label, name, family, options, bleu, p50, tput, p in systems:
        effective = {"length_beam": 3, **options} if family == "NAR" else options
        out.append(
            {
                "name": name,
                "label": label,
                "decoding": options,
                "decoding_effective": effective,
                "model": {"parameters": 1000, "size_mb": 0.01},
                "engine": {
                    "name": name,
                    "family": family,
                    "architecture": "cmlm" if family == "NAR" else "transformer",
                    "source_lang": "en",
                    "target_lang": "de",
                    "parameters": 1000,
                    "pair": "en-de",
                },
                "results": {
                    test_id: {
                        "latency_ms": {"p50": p50, "p95": p50 * 1.5, "mean": p50 * 1.1, "sentences": 3},
                        "throughput": {
                            "16": {"sentences_per_s": tput / 2, "target_words_per_s": tput * 3, "seconds": 0.1},
                            "64": {"sentences_per_s": tput, "target_words_per_s": tput * 6, "seconds": 0.05},
                        },
                        "peak_memory_mb": 123.4,
                        "repeated_token_rate": 0.05 if family == "NAR" else 0.0,
                        "length_buckets": {
                            "1-10": {"sentences": 2, "bleu": bleu + 5, "latency_p50_ms": p50 * 0.8},
                            "11-20": {"sentences": 1, "bleu": bleu - 5, "latency_p50_ms": p50 * 1.4},
                        },
                        "outputs": [s.upper() if family == "AR" else s for s in SOURCES],
                        "bleu": bleu,
                        "bleu_ci95": [bleu - 2.5, bleu + 2.5],
                        "bleu_p_vs_baseline": p,
                        "bleu_signature": SIG_BLEU,
                        "chrf": bleu + 20,
                        "chrf_ci95": [bleu + 18, bleu + 22],
                        "chrf_p_vs_baseline": p,
                        "chrf_signature": SIG_CHRF,
                        "speedup": {
                            "ar-teacher beam=4": {
                                "latency_p50": round(100.0 / p50, 2),
                                "throughput_16": round(tput / 20.0, 2),
                                "throughput_64": round(tput / 20.0, 2),
                            }
                        },
                    }
                },
            }
        )
    return {
        "protocol": "quality: ...; speed: ...",
        "baseline": systems[0][0],
        "environment": {
            "date": "2026-01-01T00:00:00+00:00",
            "cpu": "Test CPU",
            "cpu_count": 2,
            "gpu": None,
            "threads": 1,
            "torch": "2.x",
            "transformers": "5.x",
            "sacrebleu": "2.6.0",
            "git_commit": "abc",
        },
        "test_sets": {test_id: {"sentences": 3, "sha256": "0" * 64}},
        "systems": out,
        "segments": {test_id: {"sources": SOURCES, "references": REFERENCES}},
    }


def stored_run(label="hand-built run", report=None):
    """A finished run holding ``report`` as rows, stored through the real service."""
    from django.utils import timezone

    from nmt_site.dashboard.models import BenchmarkRun, RunState
    from nmt_site.dashboard.reports import store_reports
    from translator.report import EvaluationReport

    run = BenchmarkRun.objects.create(label=label, settings={"limit": None}, state=RunState.RUNNING)
    store_reports(run, [EvaluationReport.from_dict(report or make_report())])
    run.state, run.finished_at, run.progress = RunState.DONE, timezone.now(), 1.0
    run.save()
    return run
