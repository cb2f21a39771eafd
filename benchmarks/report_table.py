"""Markdown results table of an evaluate report, one per language pair (the README's tables come from here).

.venv/bin/python benchmarks/report_table.py benchmarks/results/en-de-models.json
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from translator.report import EvaluationReport  # noqa: E402


def table(report: EvaluationReport) -> str:
    lines = [
        "| system | test set | BLEU [95 % CI] | chrF | latency p50 / p95 ms | speed-up p50 vs baseline "
        "| sent/s @16 | sent/s @64 | repeated tokens |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for test_id, info in report.test_sets.items():
        for system in report.systems:
            r = system.results[test_id]
            assert r.bleu is not None and r.bleu_ci95 is not None and r.chrf is not None, "a partial report"
            speedup = r.speedup.get(report.baseline)
            lines.append(
                f"| {system.label} | {test_id} ({info.sentences}) | "
                f"{r.bleu:.2f} [{r.bleu_ci95[0]:.1f}, {r.bleu_ci95[1]:.1f}] | {r.chrf:.1f} | "
                f"{r.latency_ms.p50:.1f} / {r.latency_ms.p95:.1f} | {speedup.latency_p50 if speedup else ''}× | "
                f"{r.throughput['16'].sentences_per_s:.1f} | {r.throughput['64'].sentences_per_s:.1f} | "
                f"{r.repeated_token_rate:.3f} |"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    print(table(EvaluationReport.load(sys.argv[1])))
