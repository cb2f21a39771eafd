"""Typed evaluate reports (translator.report) stored as a run's rows: one BenchmarkResult per system × test
set, one SegmentOutputs per test set."""

from __future__ import annotations

import dataclasses

from translator.report import EvaluationReport

from .models import BenchmarkResult, BenchmarkRun, SegmentOutputs


def store_reports(run: BenchmarkRun, reports: list[EvaluationReport]) -> None:
    """Flatten complete evaluate reports into BenchmarkResult and SegmentOutputs rows of ``run``."""
    run.environment = dataclasses.asdict(reports[0].environment) if reports else {}
    run.environment["device"] = run.device
    run.environment["test_sets"] = {}
    run.environment["limit"] = run.settings.get("limit")
    run.protocol = reports[0].protocol if reports else ""
    run.baselines = {}
    rows, position = [], 0
    for report in reports:
        run.environment["test_sets"].update({k: dataclasses.asdict(v) for k, v in report.test_sets.items()})
        run.baselines[report.pair] = report.baseline
        for system in report.systems:
            engine = system.engine
            for test_id, r in system.results.items():
                if not r.scored or r.bleu_ci95 is None or r.chrf_ci95 is None:
                    raise ValueError(f"{system.label} on {test_id} has no quality scores: a partial report")
                info = report.test_sets[test_id]
                rows.append(
                    BenchmarkResult(
                        run=run,
                        position=position,
                        system=system.label,
                        translator=system.name,
                        family=engine.family,
                        architecture=engine.architecture,
                        options=system.decoding,
                        decoding=system.decoding_effective or system.decoding,
                        is_baseline=system.label == report.baseline,
                        test_set=test_id,
                        test_sha256=info.sha256,
                        sentences=info.sentences,
                        bleu=r.bleu,
                        bleu_ci_low=r.bleu_ci95[0],
                        bleu_ci_high=r.bleu_ci95[1],
                        bleu_p=r.bleu_p_vs_baseline,
                        bleu_signature=r.bleu_signature or "",
                        chrf=r.chrf,
                        chrf_ci_low=r.chrf_ci95[0],
                        chrf_ci_high=r.chrf_ci95[1],
                        chrf_p=r.chrf_p_vs_baseline,
                        chrf_signature=r.chrf_signature or "",
                        latency_p50_ms=r.latency_ms.p50,
                        latency_p95_ms=r.latency_ms.p95,
                        latency_mean_ms=r.latency_ms.mean,
                        latency_sentences=r.latency_ms.sentences,
                        throughput16_sps=r.throughput["16"].sentences_per_s,
                        throughput16_wps=r.throughput["16"].target_words_per_s,
                        throughput64_sps=r.throughput["64"].sentences_per_s,
                        throughput64_wps=r.throughput["64"].target_words_per_s,
                        repeated_token_rate=r.repeated_token_rate,
                        peak_memory_mb=r.peak_memory_mb,
                        parameters=system.model.parameters if system.model else engine.parameters,
                        model_size_mb=system.model.size_mb if system.model else None,
                        speedups={label: dataclasses.asdict(s) for label, s in r.speedup.items()},
                        length_buckets={name: dataclasses.asdict(b) for name, b in r.length_buckets.items()},
                    )
                )
            position += 1
        for test_id in report.test_sets:
            segments = report.segments.get(test_id)
            SegmentOutputs.objects.update_or_create(
                run=run,
                test_set=test_id,
                defaults={
                    "sources": segments.sources if segments else [],
                    "references": segments.references if segments else [],
                    "outputs": {s.label: s.results[test_id].outputs for s in report.systems},
                },
            )
    BenchmarkResult.objects.bulk_create(rows)
