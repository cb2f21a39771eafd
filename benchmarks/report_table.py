"""Markdown results tables of evaluate reports (the README's tables come from here, never typed by hand).

.venv/bin/python benchmarks/report_table.py benchmarks/results/en-de-models.json   # every test set of a report
.venv/bin/python benchmarks/report_table.py --write README.md    # the README's section: one table per pair
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from translator.report import EvaluationReport  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
# The engine race (docs/engine-race.md), one run per pair: every shipped model, in torch, CTranslate2 and ONNX Runtime.
# The models' runs on more test sets (en-de-models.json, en-pt-models.json) are on the dashboard.
# en-de-ctc-broad.json: the en→de CTC-GLAT shipped now (continued on the broad corpus) beside the teacher and its
# previous weights, on LibreOffice and the multi-source gettext set (every test set of that report is shown).
README_REPORTS = ("engine-race-en-de.json", "engine-race-en-pt.json", "en-de-ctc-broad.json")
ALL_TEST_SETS = {"en-de-ctc-broad.json"}
START = "<!-- results:start (python benchmarks/report_table.py --write README.md) -->"
END = "<!-- results:end -->"


def table(report: EvaluationReport, test_ids: list[str] | None = None) -> str:
    lines = [
        "| system | test set | BLEU [95 % CI] | chrF | latency p50 / p95 ms | speed-up p50 vs baseline "
        "| sent/s @16 | sent/s @64 | repeated tokens |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for test_id, info in report.test_sets.items():
        if test_ids is not None and test_id not in test_ids:
            continue
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


def readme_section() -> str:
    """One table per shipped report (its first test set, or all of them), with where it was measured."""
    parts = []
    for name in README_REPORTS:
        report = EvaluationReport.load(RESULTS / name)
        test_ids = list(report.test_sets) if name in ALL_TEST_SETS else [next(iter(report.test_sets))]
        env = report.environment
        commit = (env.git_commit or "unknown")[:7]
        sets = ", ".join(f"`{t}` ({report.test_sets[t].sentences} sentences)" for t in test_ids)
        parts.append(
            f"**{report.pair}**, {sets}, from "
            f"`benchmarks/results/{name}`: {env.cpu}, {env.threads} thread(s), torch {env.torch}, commit {commit}, "
            f"{env.date[:10]}. Baseline: {report.baseline}.\n\n{table(report, test_ids)}\n"
        )
    return "\n".join(parts)


def replace_section(text: str, section: str) -> str:
    head, start, rest = text.partition(START)
    _, end, tail = rest.partition(END)
    if not start or not end:
        raise ValueError("the results markers are missing")
    return f"{head}{START}\n{section}{END}{tail}"


def main(argv: list[str]) -> int:
    if argv[:1] == ["--write"]:
        path = Path(argv[1])
        path.write_text(replace_section(path.read_text(), readme_section()))
    else:
        print(table(EvaluationReport.load(argv[0])))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
