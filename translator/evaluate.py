"""``python -m translator evaluate``: the one measuring routine (quality and speed), written as JSON.

Protocol (shared DESIGN.md §4, WMT efficiency-task style):
- quality: sacreBLEU BLEU and chrF with signatures, 95 % bootstrap CIs, and paired bootstrap
  significance of every system against the baseline (the first system), per test set and per
  source-length bucket;
- speed: a fixed thread count; each engine is warmed up first; wall clock around
  ``Engine.translate_batch`` (tokenization and detokenization included). Latency = one sentence at
  a time (p50/p95 ms); throughput = the test set sorted by length in batches of 16 and 64
  (sentences/s and output words/s). Quality is scored on the batch-64 outputs. Speed-ups are
  ratios between systems of the same run only.
The dashboard calls :func:`evaluate_systems`; nothing else measures.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import platform
import statistics
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .corpus import read_parallel
from .engine import Engine

LENGTH_BUCKETS = [(1, 10), (11, 20), (21, 40), (41, 10_000)]  # source words
THROUGHPUT_BATCHES = (16, 64)


@dataclass
class System:
    """An engine plus decoding options; ``label`` names it in tables (e.g. "ar-teacher-en-de beam=4")."""

    name: str
    engine: Engine
    options: dict = field(default_factory=dict)
    precision: str | None = None  # a load option (int8 weights on the CPU), not a decoding option

    @property
    def label(self) -> str:
        opts = " ".join(f"{k}={v}" for k, v in sorted(self.options.items()))
        return " ".join(filter(None, [self.name, opts, self.precision]))


@dataclass
class TestSet:
    id: str
    sources: list[str]
    references: list[str]

    @property
    def sha256(self) -> str:
        digest = hashlib.sha256()
        for s, r in zip(self.sources, self.references):
            digest.update(f"{s}\t{r}\n".encode())
        return digest.hexdigest()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def repeated_token_rate(outputs: list[str]) -> float:
    """Share of output words equal to the word before them (the NAR failure mode)."""
    repeats = total = 0
    for text in outputs:
        words = text.split()
        total += len(words)
        repeats += sum(1 for a, b in zip(words, words[1:]) if a == b)
    return repeats / total if total else 0.0


def bucket_of(sentence: str) -> str:
    n = len(sentence.split())
    for lo, hi in LENGTH_BUCKETS:
        if lo <= n <= hi:
            return f"{lo}-{hi}" if hi < 10_000 else f"{lo}+"
    return "0"


def measure_latency(system: System, sources: list[str]) -> list[float]:
    times = []
    for sentence in sources:
        start = time.perf_counter()
        system.engine.translate_batch([sentence], **system.options)
        times.append((time.perf_counter() - start) * 1000)
    return times


def measure_throughput(system: System, sources: list[str], batch_size: int) -> tuple[list[str], dict]:
    order = sorted(range(len(sources)), key=lambda i: len(sources[i]))
    outputs = [""] * len(sources)
    start = time.perf_counter()
    for begin in range(0, len(order), batch_size):
        chunk = order[begin : begin + batch_size]
        result = system.engine.translate_batch([sources[i] for i in chunk], **system.options)
        for i, out in zip(chunk, result.outputs):
            outputs[i] = out
    seconds = time.perf_counter() - start
    words = sum(len(o.split()) for o in outputs)
    return outputs, {
        "sentences_per_s": round(len(sources) / seconds, 2),
        "target_words_per_s": round(words / seconds, 1),
        "seconds": round(seconds, 3),
    }


def quality(test: TestSet, hyps_by_label: dict[str, list[str]], n_bootstrap: int) -> dict:
    """BLEU/chrF with CIs and paired bootstrap p-values against the first system."""
    from sacrebleu.metrics import BLEU, CHRF
    from sacrebleu.significance import PairedTest

    labels = list(hyps_by_label)
    systems = [(label, hyps_by_label[label]) for label in labels]
    metrics = {"BLEU": BLEU(), "chrF": CHRF()}
    if len(systems) == 1:  # PairedTest needs a baseline and at least one other system
        systems = systems + [("_copy", systems[0][1])]
    signatures, scores = PairedTest(systems, metrics, [test.references], test_type="bs", n_samples=n_bootstrap)()
    out = {}
    for index, label in enumerate(labels):
        entry = {}
        for metric_name, key in (("BLEU", "bleu"), ("chrF", "chrf")):
            metric_key = next(k for k in scores if k.lower().startswith(metric_name.lower()))
            result = scores[metric_key][index]
            entry[key] = round(float(result.score), 2)
            entry[f"{key}_ci95"] = [round(float(result.mean - result.ci), 2), round(float(result.mean + result.ci), 2)]
            entry[f"{key}_p_vs_baseline"] = None if result.p_value is None else round(float(result.p_value), 4)
            entry[f"{key}_signature"] = str(signatures[metric_key])
        out[label] = entry
    return out


def bucket_scores(test: TestSet, hyps: list[str], latencies: dict[int, float]) -> dict:
    from sacrebleu.metrics import BLEU

    buckets: dict[str, list[int]] = {}
    for i, source in enumerate(test.sources):
        buckets.setdefault(bucket_of(source), []).append(i)
    out = {}
    for name, idx in sorted(buckets.items()):
        lat = [latencies[i] for i in idx if i in latencies]
        out[name] = {
            "sentences": len(idx),
            "bleu": round(BLEU().corpus_score([hyps[i] for i in idx], [[test.references[i] for i in idx]]).score, 2),
            "latency_p50_ms": round(percentile(lat, 0.5), 2) if lat else None,
        }
    return out


def _reset_peak_memory(engine: Engine) -> None:
    """Start a fresh peak for the next measurement: CUDA allocator stats, or the process's peak RSS (Linux)."""
    device = getattr(engine, "device", None)
    if getattr(device, "type", None) == "cuda":
        import torch

        torch.cuda.reset_peak_memory_stats(device)
        return
    try:
        # "5" resets VmHWM (peak resident set size) of this process; harmless where unsupported.
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def _peak_memory_mb(engine: Engine) -> float | None:
    """Peak memory since the last reset: GPU memory allocated by torch on CUDA, else the process's peak RSS."""
    device = getattr(engine, "device", None)
    if getattr(device, "type", None) == "cuda":
        import torch

        return round(torch.cuda.max_memory_allocated(device) / 2**20, 1)
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except (OSError, ValueError, IndexError):
        pass
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # kB on Linux


def footprint(engine: Engine) -> dict:
    """Parameters and in-memory size of the model: counted for torch models, else the engine's own figure.

    Sizes come from the state dict, so int8-quantized layers (packed weights, not Parameters) count at their
    real size; a tensor shared under several names (tied embeddings) counts once."""
    model = getattr(engine, "model", None)
    if model is not None and hasattr(model, "state_dict"):
        seen: set[int] = set()
        size = sum(_tensor_bytes(value, seen) for value in model.state_dict(keep_vars=True).values())
        params = engine.info.parameters or sum(p.numel() for p in model.parameters())
        return {"parameters": int(params), "size_mb": round(size / 2**20, 2)}
    return {"parameters": engine.info.parameters, "size_mb": None}


def _tensor_bytes(value, seen: set[int]) -> int:
    import torch

    if isinstance(value, (tuple, list)):  # packed int8 Linear params: (weight, bias)
        return sum(_tensor_bytes(v, seen) for v in value)
    if not isinstance(value, torch.Tensor) or value.data_ptr() in seen:
        return 0
    seen.add(value.data_ptr())
    return value.numel() * value.element_size()


def sentence_scores(hyps: list[str], refs: list[str]) -> list[dict]:
    """Per-segment sentence BLEU and chrF (for drill-down display only; corpus scores come from quality())."""
    from sacrebleu.metrics import BLEU, CHRF

    bleu, chrf = BLEU(effective_order=True), CHRF()
    return [
        {"bleu": round(bleu.sentence_score(h, [r]).score, 2), "chrf": round(chrf.sentence_score(h, [r]).score, 2)}
        for h, r in zip(hyps, refs)
    ]


def environment(threads: int) -> dict:
    import sacrebleu
    import torch
    import transformers

    try:
        commit = (
            subprocess.run(
                ["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=Path(__file__).parent, timeout=5
            ).stdout.strip()
            or None
        )
    except (OSError, subprocess.SubprocessError):
        commit = None
    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "threads": threads,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "sacrebleu": sacrebleu.__version__,
        "git_commit": commit,
    }


def evaluate_systems(
    systems: list[System],
    test_sets: list[TestSet],
    threads: int = 1,
    latency_sentences: int = 200,
    n_bootstrap: int = 1000,
    progress: Callable[[str, float], None] | None = None,
) -> dict:
    """Measure every system on every test set in one run. The first system is the baseline."""
    import torch

    torch.set_num_threads(threads)
    progress = progress or (lambda message, fraction: None)
    report = {
        "protocol": __doc__.split("Protocol")[1].split("The dashboard")[0].strip(),
        "environment": environment(threads),
        "baseline": systems[0].label,
        "test_sets": {},
        "systems": [],
    }
    for test in test_sets:
        report["test_sets"][test.id] = {"sentences": len(test.sources), "sha256": test.sha256}
    results: dict[str, dict] = {
        s.label: {
            "name": s.name,
            "label": s.label,
            "engine": s.engine.info.as_dict(),
            "decoding": s.options,
            "precision": s.precision or "default",
            # what actually ran: the engine's defaults overridden by the options
            "decoding_effective": {**s.engine.info.decoding_defaults, **s.options},
            "model": footprint(s.engine),
            "results": {},
        }
        for s in systems
    }
    steps = len(systems) * len(test_sets)
    done = 0
    for test in test_sets:
        if not test.sources:
            raise ValueError(f"test set {test.id} has no sentences")
        hyps_by_label = {}
        for system in systems:
            progress(f"{system.label} on {test.id}", done / steps)
            system.engine.warm_up()
            _reset_peak_memory(system.engine)
            latency_subset = test.sources[:latency_sentences]
            latencies = measure_latency(system, latency_subset)
            entry = {
                "latency_ms": {
                    "p50": round(percentile(latencies, 0.5), 2),
                    "p95": round(percentile(latencies, 0.95), 2),
                    "mean": round(statistics.fmean(latencies), 2),
                    "sentences": len(latencies),
                },
                "throughput": {},
            }
            outputs = None
            for k, batch_size in enumerate(THROUGHPUT_BATCHES):
                # Progress between phases too: the callback may raise to stop a cancelled run early.
                progress(
                    f"{system.label} on {test.id}: throughput at batch {batch_size}",
                    (done + (k + 1) / (len(THROUGHPUT_BATCHES) + 1)) / steps,
                )
                outputs, entry["throughput"][str(batch_size)] = measure_throughput(system, test.sources, batch_size)
            hyps_by_label[system.label] = outputs
            entry["peak_memory_mb"] = _peak_memory_mb(system.engine)
            entry["repeated_token_rate"] = round(repeated_token_rate(outputs), 4)
            entry["length_buckets"] = bucket_scores(test, outputs, dict(enumerate(latencies)))
            entry["outputs"] = outputs
            results[system.label]["results"][test.id] = entry
            done += 1
        for label, scores in quality(test, hyps_by_label, n_bootstrap).items():
            results[label]["results"][test.id].update(scores)
        add_speedups(results, test.id)
    progress("done", 1.0)
    report["systems"] = list(results.values())
    return report


def add_speedups(results: dict[str, dict], test_id: str) -> None:
    """Latency and throughput ratios against every AR system of the same run (>1 = faster)."""
    ar_labels = [label for label, r in results.items() if r["engine"]["family"] == "AR"]
    for result in results.values():
        entry = result["results"][test_id]
        entry["speedup"] = {}
        for ar in ar_labels:
            ref = results[ar]["results"][test_id]
            entry["speedup"][ar] = {
                "latency_p50": round(ref["latency_ms"]["p50"] / entry["latency_ms"]["p50"], 2),
                **{
                    f"throughput_{b}": round(
                        entry["throughput"][b]["sentences_per_s"] / ref["throughput"][b]["sentences_per_s"], 2
                    )
                    for b in entry["throughput"]
                },
            }


def parse_system(spec: str) -> tuple[str, dict]:
    """``name`` or ``name:key=value,key=value`` (values parsed as numbers where possible)."""
    import yaml

    name, _, opts = spec.partition(":")
    options = {}
    for item in filter(None, opts.split(",")):
        key, _, value = item.partition("=")
        options[key] = yaml.safe_load(value)
    return name, options


def load_test_set(spec: str, data_dir: str, limit: int | None) -> TestSet:
    """``pair/corpus`` (e.g. en-de/libreoffice → data/en-de/libreoffice/test.{en,de}) or ``id=src,ref``."""
    if "=" in spec:
        test_id, _, paths = spec.partition("=")
        src_path, ref_path = paths.split(",")
    else:
        pair, corpus = spec.split("/")
        src, tgt = pair.split("-")
        test_id = spec
        src_path = Path(data_dir) / pair / corpus / f"test.{src}"
        ref_path = Path(data_dir) / pair / corpus / f"test.{tgt}"
    sources, references = read_parallel(src_path, ref_path)
    if limit:
        sources, references = sources[:limit], references[:limit]
    return TestSet(test_id, sources, references)


def main(argv):
    from .registry import load_engine, load_folder

    parser = argparse.ArgumentParser(prog="python -m translator evaluate")
    parser.add_argument(
        "--system",
        action="append",
        required=True,
        help="engine name or checkpoint folder, optionally with :opt=val,... (decoding options, and "
        "precision=int8 for int8 weights on the CPU); the first is the baseline",
    )
    parser.add_argument("--test-set", action="append", required=True, help="pair/corpus or id=src_file,ref_file")
    parser.add_argument("--data-dir", default="data")
    parser.add_argument("--limit", type=int, help="use only the first N sentences of each test set")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--latency-sentences", type=int, default=200)
    parser.add_argument("--bootstrap", type=int, default=1000)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", required=True, help="JSON file to write")
    args = parser.parse_args(argv)

    systems = []
    for spec in args.system:
        name, options = parse_system(spec)
        precision = options.pop("precision", None)
        if Path(name).is_dir():
            engine = load_folder(Path(name), args.device, precision)
        else:
            engine = load_engine(name, args.device, precision)
        systems.append(System(engine.info.name, engine, options, precision))
    tests = [load_test_set(spec, args.data_dir, args.limit) for spec in args.test_set]
    report = evaluate_systems(
        systems,
        tests,
        args.threads,
        args.latency_sentences,
        args.bootstrap,
        progress=lambda msg, frac: print(f"[{frac:4.0%}] {msg}", flush=True),
    )
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n")
    print(summary_table(report))
    return 0


def summary_table(report: dict) -> str:
    lines = [
        "| system | test set | BLEU [95% CI] | chrF | p50 ms | p95 ms | sent/s @64 |",
        "|---|---|---|---|---|---|---|",
    ]
    for system in report["systems"]:
        for test_id, r in system["results"].items():
            lines.append(
                f"| {system['label']} | {test_id} | {r['bleu']} [{r['bleu_ci95'][0]}, {r['bleu_ci95'][1]}] | {r['chrf']} | "
                f"{r['latency_ms']['p50']} | {r['latency_ms']['p95']} | {r['throughput']['64']['sentences_per_s']} |"
            )
    return "\n".join(lines)
