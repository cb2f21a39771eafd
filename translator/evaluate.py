"""``python -m translator evaluate``: the one measuring routine (quality and speed), written as JSON.

How it measures is docs/protocol.md (stored in every report, shown by the dashboard). The dashboard calls
:func:`evaluate_systems`; nothing else measures. The report is typed (translator/report.py).
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from .corpus import read_parallel
from .engine import PRECISIONS, Engine, EngineError, EngineInfo
from .protocol import protocol_text
from .report import (
    Bucket,
    EngineSummary,
    Environment,
    EvaluationReport,
    Footprint,
    Latency,
    Result,
    Speedup,
    SystemReport,
    TestSetInfo,
    Throughput,
)

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
        return system_label(self.name, self.options, self.precision)


def system_label(name: str, options: dict[str, Any], precision: str | None = None) -> str:
    opts = " ".join(f"{k}={v}" for k, v in sorted(options.items()))
    return " ".join(filter(None, [name, opts, precision]))


@dataclass
class TestSet:
    id: str
    sources: list[str]
    references: list[str]

    @property
    def sha256(self) -> str:
        digest = hashlib.sha256()
        for s, r in zip(self.sources, self.references, strict=False):
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
        repeats += sum(1 for a, b in zip(words, words[1:], strict=False) if a == b)
    return repeats / total if total else 0.0


def bucket_of(sentence: str) -> str:
    n = len(sentence.split())
    for lo, hi in LENGTH_BUCKETS:
        if lo <= n <= hi:
            return f"{lo}-{hi}" if hi < 10_000 else f"{lo}+"
    return "0"


Tick = Callable[[int, int], None]  # (done, total) within one phase


def measure_latency(system: System, sources: list[str], tick: Tick | None = None) -> list[float]:
    times = []
    for n, sentence in enumerate(sources):
        start = time.perf_counter()
        system.engine.translate_batch([sentence], **system.options)
        times.append((time.perf_counter() - start) * 1000)
        if tick:
            tick(n + 1, len(sources))
    return times


def measure_throughput(
    system: System, sources: list[str], batch_size: int, tick: Tick | None = None
) -> tuple[list[str], Throughput]:
    order = sorted(range(len(sources)), key=lambda i: len(sources[i]))
    outputs = [""] * len(sources)
    start = time.perf_counter()
    for begin in range(0, len(order), batch_size):
        chunk = order[begin : begin + batch_size]
        result = system.engine.translate_batch([sources[i] for i in chunk], **system.options)
        for i, out in zip(chunk, result.outputs, strict=True):
            outputs[i] = out
        if tick:
            tick(begin + len(chunk), len(order))
    seconds = time.perf_counter() - start
    words = sum(len(o.split()) for o in outputs)
    return outputs, Throughput(
        sentences_per_s=round(len(sources) / seconds, 2),
        target_words_per_s=round(words / seconds, 1),
        seconds=round(seconds, 3),
    )


def quality(test: TestSet, hyps_by_label: dict[str, list[str]], n_bootstrap: int) -> dict[str, dict[str, Any]]:
    """BLEU/chrF with CIs and paired bootstrap p-values against the first system: label -> Result fields."""
    from sacrebleu.metrics import BLEU, CHRF
    from sacrebleu.metrics.base import Metric
    from sacrebleu.significance import PairedTest

    labels = list(hyps_by_label)
    systems: list[tuple[str, Sequence[str]]] = [(label, hyps_by_label[label]) for label in labels]
    metrics: dict[str, Metric] = {"BLEU": BLEU(), "chrF": CHRF()}
    if len(systems) == 1:  # PairedTest needs a baseline and at least one other system
        systems = systems + [("_copy", systems[0][1])]
    signatures, scores = PairedTest(systems, metrics, [test.references], test_type="bs", n_samples=n_bootstrap)()
    out: dict[str, dict[str, Any]] = {}
    for index, label in enumerate(labels):
        entry: dict[str, Any] = {}
        for metric_name, key in (("BLEU", "bleu"), ("chrF", "chrf")):
            metric_key = next(k for k in scores if k.lower().startswith(metric_name.lower()))
            result = scores[metric_key][index]
            assert not isinstance(result, str) and result.mean is not None and result.ci is not None
            entry[key] = round(float(result.score), 2)
            entry[f"{key}_ci95"] = [round(float(result.mean - result.ci), 2), round(float(result.mean + result.ci), 2)]
            entry[f"{key}_p_vs_baseline"] = None if result.p_value is None else round(float(result.p_value), 4)
            entry[f"{key}_signature"] = str(signatures[metric_key])
        out[label] = entry
    return out


def bucket_scores(test: TestSet, hyps: list[str], latencies: dict[int, float]) -> dict[str, Bucket]:
    from sacrebleu.metrics import BLEU

    buckets: dict[str, list[int]] = {}
    for i, source in enumerate(test.sources):
        buckets.setdefault(bucket_of(source), []).append(i)
    out = {}
    for name, idx in sorted(buckets.items()):
        lat = [latencies[i] for i in idx if i in latencies]
        out[name] = Bucket(
            sentences=len(idx),
            bleu=round(BLEU().corpus_score([hyps[i] for i in idx], [[test.references[i] for i in idx]]).score, 2),
            latency_p50_ms=round(percentile(lat, 0.5), 2) if lat else None,
        )
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


def footprint(engine: Engine) -> Footprint:
    """Parameters and in-memory size of the model: counted for torch models, else the engine's own figure.

    Sizes come from the state dict, so int8-quantized layers (packed weights, not Parameters) count at their
    real size; a tensor shared under several names (tied embeddings) counts once. An engine that runs its own
    model files (CTranslate2, ONNX Runtime) says their size (``size_mb``)."""
    own = getattr(engine, "size_mb", None)
    if own is not None:
        return Footprint(parameters=engine.info.parameters, size_mb=round(float(own), 2))
    model = getattr(engine, "model", None)
    if model is not None and hasattr(model, "state_dict"):
        seen: set[int] = set()
        size = sum(_tensor_bytes(value, seen) for value in model.state_dict(keep_vars=True).values())
        params = engine.info.parameters or sum(p.numel() for p in model.parameters())
        return Footprint(parameters=int(params), size_mb=round(size / 2**20, 2))
    return Footprint(parameters=engine.info.parameters, size_mb=None)


def _tensor_bytes(value: object, seen: set[int]) -> int:
    import torch

    if isinstance(value, (tuple, list)):  # packed int8 Linear params: (weight, bias)
        return sum(_tensor_bytes(v, seen) for v in value)
    if not isinstance(value, torch.Tensor) or value.data_ptr() in seen:
        return 0
    seen.add(value.data_ptr())
    return value.numel() * value.element_size()


def sentence_scores(hyps: list[str], refs: list[str]) -> list[dict[str, float]]:
    """Per-segment sentence BLEU and chrF (for drill-down display only; corpus scores come from quality())."""
    from sacrebleu.metrics import BLEU, CHRF

    bleu, chrf = BLEU(effective_order=True), CHRF()
    return [
        {"bleu": round(bleu.sentence_score(h, [r]).score, 2), "chrf": round(chrf.sentence_score(h, [r]).score, 2)}
        for h, r in zip(hyps, refs, strict=True)
    ]


def environment(threads: int) -> Environment:
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
    return Environment(
        date=datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        cpu=cpu,
        cpu_count=os.cpu_count(),
        gpu=torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        threads=threads,
        python=platform.python_version(),
        torch=str(torch.__version__),
        transformers=transformers.__version__,
        sacrebleu=sacrebleu.__version__,
        git_commit=commit,
    )


Progress = Callable[[str, float], None]  # (message, fraction of the whole run); may raise to stop the run


class _Ticker:
    """Calls ``progress`` within long phases, at most every ``every`` seconds (callers may write to a database)."""

    def __init__(self, progress: Progress, every: float = 2.0) -> None:
        self.progress, self.every, self.last = progress, every, time.monotonic()

    def phase(self, message: str, start: float, end: float) -> Tick:
        def tick(done: int, total: int) -> None:
            now = time.monotonic()
            if now - self.last >= self.every and done < total:
                self.last = now
                self.progress(f"{message} ({done}/{total})", start + (end - start) * done / total)

        return tick


def evaluate_systems(
    systems: list[System],
    test_sets: list[TestSet],
    threads: int = 1,
    latency_sentences: int = 200,
    n_bootstrap: int = 1000,
    progress: Progress | None = None,
    on_partial: Callable[[EvaluationReport], None] | None = None,
) -> EvaluationReport:
    """Measure every system on every test set in one run. The first system is the baseline.

    ``on_partial`` gets the report after each system finishes a test set (quality fields are filled once every
    system of that test set has run)."""
    import torch

    torch.set_num_threads(threads)
    report_progress: Progress = progress or (lambda message, fraction: None)
    ticker = _Ticker(report_progress)
    for test in test_sets:
        if not test.sources:
            raise ValueError(f"test set {test.id} has no sentences")
    report = EvaluationReport(
        protocol=protocol_text(),
        environment=environment(threads),
        baseline=systems[0].label,
        test_sets={t.id: TestSetInfo(sentences=len(t.sources), sha256=t.sha256) for t in test_sets},
        systems=[
            SystemReport(
                name=s.name,
                label=s.label,
                engine=EngineSummary.from_info(s.engine.info),
                decoding=s.options,
                # what actually ran: the engine's defaults overridden by the options
                decoding_effective={**s.engine.info.decoding_defaults, **s.options},
                precision=s.precision or "default",
                model=footprint(s.engine),
            )
            for s in systems
        ],
        partial=True,
    )
    phases = 1 + len(THROUGHPUT_BATCHES)  # latency, then each batch size
    steps = len(systems) * len(test_sets)
    done = 0
    for test in test_sets:
        hyps_by_label: dict[str, list[str]] = {}
        for system, entry in zip(systems, report.systems, strict=True):
            label = f"{system.label} on {test.id}"
            report_progress(label, done / steps)
            system.engine.warm_up()
            _reset_peak_memory(system.engine)
            span = 1 / steps / phases
            latencies = measure_latency(
                system,
                test.sources[:latency_sentences],
                ticker.phase(f"{label}: latency", done / steps, done / steps + span),
            )
            throughput: dict[str, Throughput] = {}
            outputs: list[str] = []
            for k, batch_size in enumerate(THROUGHPUT_BATCHES):
                start = done / steps + (k + 1) * span
                # Progress between phases too: the callback may raise to stop a cancelled run early.
                report_progress(f"{label}: throughput at batch {batch_size}", start)
                outputs, throughput[str(batch_size)] = measure_throughput(
                    system, test.sources, batch_size, ticker.phase(f"{label}: batch {batch_size}", start, start + span)
                )
            hyps_by_label[system.label] = outputs
            entry.results[test.id] = Result(
                latency_ms=Latency(
                    p50=round(percentile(latencies, 0.5), 2),
                    p95=round(percentile(latencies, 0.95), 2),
                    mean=round(statistics.fmean(latencies), 2),
                    sentences=len(latencies),
                ),
                throughput=throughput,
                peak_memory_mb=_peak_memory_mb(system.engine),
                repeated_token_rate=round(repeated_token_rate(outputs), 4),
                length_buckets=bucket_scores(test, outputs, dict(enumerate(latencies))),
                outputs=outputs,
            )
            done += 1
            if on_partial:
                on_partial(report)
        report_progress(f"{test.id}: quality (bootstrap)", done / steps)
        for label, scores in quality(test, hyps_by_label, n_bootstrap).items():
            result = report.system(label).results[test.id]
            for key, value in scores.items():
                setattr(result, key, value)
        add_speedups(report, test.id)
        if on_partial:
            on_partial(report)
    report.partial = False
    report_progress("done", 1.0)
    return report


def add_speedups(report: EvaluationReport, test_id: str) -> None:
    """Latency and throughput ratios against every AR system of the same run (>1 = faster)."""
    ar_systems = [s for s in report.systems if s.engine.family == "AR"]
    for system in report.systems:
        entry = system.results[test_id]
        entry.speedup = {}
        for ar in ar_systems:
            ref = ar.results[test_id]
            ratios = {
                f"throughput_{b}": round(entry.throughput[b].sentences_per_s / ref.throughput[b].sentences_per_s, 2)
                for b in entry.throughput
            }
            entry.speedup[ar.label] = Speedup(latency_p50=round(ref.latency_ms.p50 / entry.latency_ms.p50, 2), **ratios)


def parse_system(spec: str) -> tuple[str, dict[str, Any]]:
    """``name`` or ``name:key=value,key=value`` (values parsed as numbers where possible)."""
    import yaml

    name, _, opts = spec.partition(":")
    options = {}
    for item in filter(None, opts.split(",")):
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"{spec!r}: options are key=value, separated by commas")
        options[key] = yaml.safe_load(value)
    return name, options


def test_set_files(spec: str, data_dir: str | Path) -> tuple[str, Path, Path]:
    """``pair/corpus`` (e.g. en-de/libreoffice → data/en-de/libreoffice/test.{en,de}) or ``id=src,ref``."""
    if "=" in spec:
        test_id, _, paths = spec.partition("=")
        src_path, sep, ref_path = paths.partition(",")
        if not sep:
            raise ValueError(f"{spec!r}: use id=SOURCE_FILE,REFERENCE_FILE")
        return test_id, Path(src_path), Path(ref_path)
    pair, sep, corpus = spec.partition("/")
    src, dash, tgt = pair.partition("-")
    if not sep or not dash or not corpus:
        raise ValueError(f"{spec!r}: use PAIR/CORPUS (e.g. en-de/libreoffice) or id=SOURCE_FILE,REFERENCE_FILE")
    folder = Path(data_dir) / pair / corpus
    return spec, folder / f"test.{src}", folder / f"test.{tgt}"


def load_test_set(spec: str, data_dir: str | Path, limit: int | None) -> TestSet:
    test_id, src_path, ref_path = test_set_files(spec, data_dir)
    sources, references = read_parallel(src_path, ref_path)
    if limit:
        sources, references = sources[:limit], references[:limit]
    return TestSet(test_id, sources, references)


class UsageError(Exception):
    """A command-line mistake found before anything is measured."""


def _engine_info(name: str) -> EngineInfo:
    from .engine_file import info_from_engine_file, read_engine_file
    from .registry import get_info, list_engines

    if Path(name).is_dir():
        return info_from_engine_file(read_engine_file(Path(name)), Path(name).name)
    try:
        return get_info(name)
    except EngineError:
        known = ", ".join(info.name for info in list_engines()) or "none"
        raise UsageError(f"--system {name}: unknown translator (known: {known}; or a checkpoint folder)") from None


def validate(args: argparse.Namespace) -> tuple[list[tuple[str, dict[str, Any], str | None]], list[TestSet]]:
    """Every system, option and test set checked before the first measurement: raises UsageError."""
    from .registry import fixed_precision

    specs, labels = [], set()
    for spec in args.system:
        try:
            name, options = parse_system(spec)
        except ValueError as exc:
            raise UsageError(f"--system {exc}") from None
        precision = options.pop("precision", None)
        if precision is not None and precision not in PRECISIONS:
            raise UsageError(f"--system {spec}: precision must be one of {', '.join(PRECISIONS)}")
        if precision not in (None, "fp32") and args.device != "cpu":
            raise UsageError(f"--system {spec}: precision={precision} is for the CPU")
        try:
            info = _engine_info(name)
        except EngineError as exc:
            raise UsageError(f"--system {spec}: {exc}") from None
        fixed = fixed_precision(name)
        if fixed and precision:
            raise UsageError(f"--system {spec}: {fixed} and takes no precision option")
        unknown = sorted(set(options) - set(info.decoding_defaults))
        if unknown:
            accepted = ", ".join(sorted(info.decoding_defaults)) or "no options"
            raise UsageError(
                f"--system {spec}: {info.name} does not accept {', '.join(unknown)} (it accepts {accepted})"
            )
        label = system_label(info.name, options, precision)
        if label in labels:
            raise UsageError(f"--system {spec}: {label!r} is listed twice")
        labels.add(label)
        specs.append((name, options, precision))
    tests = []
    for spec in args.test_set:
        try:
            test = load_test_set(spec, args.data_dir, args.limit)
        except ValueError as exc:
            raise UsageError(f"--test-set {exc}") from None
        except OSError as exc:
            hint = " (run python -m translator prepare-data first)" if "=" not in spec else ""
            raise UsageError(f"--test-set {spec}: {exc.strerror}: {exc.filename}{hint}") from None
        if not test.sources:
            raise UsageError(f"--test-set {spec}: no sentences")
        tests.append(test)
    return specs, tests


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def progress_printer(stream: TextIO | None = None) -> Progress:
    """Progress lines with the elapsed time and an ETA from the share done so far."""
    start = time.monotonic()

    def show(message: str, fraction: float) -> None:
        elapsed = time.monotonic() - start
        eta = (
            _clock(elapsed / fraction * (1 - fraction)) if 0.01 <= fraction < 1 else "?" if fraction < 1 else "0:00:00"
        )
        print(f"[{fraction:4.0%} elapsed {_clock(elapsed)} ETA {eta}] {message}", file=stream or sys.stdout, flush=True)

    return show


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows each option's default, except for required options and those whose help says it."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.required or action.default is None:
            return action.help
        return super()._get_help_string(action)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m translator evaluate",
        description="Measure quality and speed of translators on test sets (docs/protocol.md) and write a JSON report.",
        formatter_class=_HelpFormatter,
    )
    parser.add_argument(
        "--system",
        action="append",
        required=True,
        help="translator name (python -m translator list) or checkpoint folder, optionally with :opt=val,... "
        "(decoding options, and precision=int8 for int8 weights on the CPU); repeat it; the first is the baseline",
    )
    parser.add_argument(
        "--test-set",
        action="append",
        required=True,
        help="PAIR/CORPUS under --data-dir, or id=SRC_FILE,REF_FILE; repeat it",
    )
    parser.add_argument("--data-dir", default="data", help="where PAIR/CORPUS/test.* are (prepare-data writes them)")
    parser.add_argument(
        "--limit", type=int, default=None, help="use only the first N sentences of each test set (default: all)"
    )
    parser.add_argument("--threads", type=int, default=1, help="torch threads while measuring")
    parser.add_argument("--latency-sentences", type=int, default=200, help="sentences timed one at a time")
    parser.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples for CIs and p-values")
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"), help="device the engines run on")
    parser.add_argument("--out", required=True, help="JSON report to write (rewritten as each system finishes)")
    return parser


def main(argv: list[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    for flag, value, least in (
        ("--limit", args.limit, 1),
        ("--threads", args.threads, 1),
        ("--latency-sentences", args.latency_sentences, 1),
        ("--bootstrap", args.bootstrap, 10),
    ):
        if value is not None and value < least:
            parser.error(f"{flag} must be at least {least}")
    try:
        specs, tests = validate(args)
    except UsageError as exc:
        parser.error(str(exc))

    from .registry import load_engine, load_folder

    systems = []
    for name, options, precision in specs:
        try:
            engine = (
                load_folder(Path(name), args.device, precision)
                if Path(name).is_dir()
                else load_engine(name, args.device, precision)
            )
        except EngineError as exc:
            parser.error(f"--system {name}: {exc}")
        systems.append(System(engine.info.name, engine, options, precision))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)

    def write(report: EvaluationReport) -> None:
        tmp = out.with_name(out.name + ".tmp")
        tmp.write_text(report.to_json())
        tmp.replace(out)

    report = evaluate_systems(
        systems,
        tests,
        args.threads,
        args.latency_sentences,
        args.bootstrap,
        progress=progress_printer(),
        on_partial=write,
    )
    write(report)
    print(summary_table(report))
    return 0


def summary_table(report: EvaluationReport) -> str:
    """Markdown: quality, latency, throughput at 16 and 64, repeated tokens, speed-ups against the baseline."""
    lines = [
        "| system | test set | BLEU [95% CI] | chrF | p50 / p95 ms | sent/s @16 | sent/s @64 | repeated tokens "
        "| speed-up p50 / @64 vs baseline |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for test_id, info in report.test_sets.items():
        for system in report.systems:
            r = system.results.get(test_id)
            if r is None:
                continue
            bleu = (
                f"{r.bleu:.2f} [{r.bleu_ci95[0]:.1f}, {r.bleu_ci95[1]:.1f}]"
                if r.bleu_ci95 and r.bleu is not None
                else "…"
            )
            chrf = f"{r.chrf:.1f}" if r.chrf is not None else "…"
            speedup = r.speedup.get(report.baseline)
            ratio = f"{speedup.latency_p50}× / {speedup.throughput_64}×" if speedup else "–"
            lines.append(
                f"| {system.label} | {test_id} ({info.sentences}) | {bleu} | {chrf} | "
                f"{r.latency_ms.p50:.1f} / {r.latency_ms.p95:.1f} | {r.throughput['16'].sentences_per_s:.1f} | "
                f"{r.throughput['64'].sentences_per_s:.1f} | {r.repeated_token_rate:.3f} | {ratio} |"
            )
    return "\n".join(lines)
