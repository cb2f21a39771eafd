"""Markdown table of an evaluate report (the README's results tables are pasted from this, never typed).

.venv/bin/python benchmarks/report_table.py benchmarks/results/en-de-models.json
"""

from __future__ import annotations

import json
import sys


def table(report: dict) -> str:
    baseline = report["baseline"]
    lines = [
        "| system | test set | BLEU [95 % CI] | chrF | latency p50 / p95 ms | speed-up p50 vs baseline | sent/s @16 | sent/s @64 | repeated tokens |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for test_id in report["test_sets"]:
        for system in report["systems"]:
            r = system["results"][test_id]
            speedup = r["speedup"].get(baseline, {}).get("latency_p50", "")
            lines.append(
                f"| {system['label']} | {test_id} ({report['test_sets'][test_id]['sentences']}) | "
                f"{r['bleu']:.2f} [{r['bleu_ci95'][0]:.1f}, {r['bleu_ci95'][1]:.1f}] | {r['chrf']:.1f} | "
                f"{r['latency_ms']['p50']:.1f} / {r['latency_ms']['p95']:.1f} | {speedup}× | "
                f"{r['throughput']['16']['sentences_per_s']:.1f} | {r['throughput']['64']['sentences_per_s']:.1f} | "
                f"{r['repeated_token_rate']:.3f} |"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    print(table(json.loads(open(sys.argv[1]).read())))
