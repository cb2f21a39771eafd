"""Everything that changes a benchmark run. Views, the management command and the Celery task call these.

Measuring is translator.evaluate.evaluate_systems (the one measuring routine); this module only validates
requests, queues runs, calls it once per language pair (each pair has its own AR baseline, the first system
of that pair) and stores the report as rows.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from nmt_site.core import admission, lifecycle
from translator.engine import AR, EngineError
from translator.evaluate import System, evaluate_systems, parse_system
from translator.registry import list_engines, load_engine
from translator.report import EvaluationReport, ReportError, Segments

from . import testsets
from .errors import BenchmarkRequestError, RunCancelled, RunNotFound
from .models import BenchmarkRun, RunState
from .notify import publish_run
from .reports import store_reports

log = logging.getLogger(__name__)

BENCH_TASK = "workers.benchmarks.run_benchmark"
BUSY = "busy"
MAX_SYSTEMS = 24
DEFAULT_LIMIT = 500  # sentences per test set in the default (seeded) run: minutes, not an hour, on 2 cores
DEFAULT_LATENCY_SENTENCES = 100  # batch-1 latency sample of the default run (p50/p95 are stable well before that)
# Mask-predict iterations swept in the default run for every CMLM checkpoint (the sweep plot's x axis).
DEFAULT_ITERATION_SWEEP = (1, 2, 4, 10)

# Never resumed: a half-measured run is not comparable, so a dead attempt fails with the reason.
KIND = lifecycle.register(
    lifecycle.Kind(
        label="benchmark run",
        model=BenchmarkRun,
        task=BENCH_TASK,
        queue=lambda: settings.NMT_BENCH_QUEUE,
        notify=publish_run,
        resumable=False,
        doing="measuring this run",
    )
)


# --- validating requests -------------------------------------------------------------------------------------


def _int(value, field: str, lo: int, hi: int, default):
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        raise BenchmarkRequestError(f"bad_{field}", f"'{field}' must be a whole number.")
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise BenchmarkRequestError(f"bad_{field}", f"'{field}' must be a whole number.") from None
    if number < lo or number > hi:
        raise BenchmarkRequestError(f"bad_{field}", f"'{field}' must be between {lo} and {hi}, not {number}.")
    return number


def _systems(raw) -> list[dict]:
    """Accepts ["name", "name:beam=1", {"translator": ..., "options": {...}}]; checks names and options."""
    if not raw or not isinstance(raw, list):
        raise BenchmarkRequestError("no_systems", "Choose at least one translator to benchmark.")
    if len(raw) > MAX_SYSTEMS:
        raise BenchmarkRequestError("too_many_systems", f"At most {MAX_SYSTEMS} systems per run.")
    infos = {info.name: info for info in list_engines()}
    systems, labels = [], set()
    for item in raw:
        if isinstance(item, str):
            try:
                name, options = parse_system(item.strip())
            except Exception:
                raise BenchmarkRequestError(
                    "bad_system", f"Cannot read the system {item!r}: use name:key=value,..."
                ) from None
        elif isinstance(item, dict) and isinstance(item.get("translator"), str):
            name, options = item["translator"], item.get("options") or {}
            if not isinstance(options, dict):
                raise BenchmarkRequestError("bad_options", f"Options of {name} must be an object.")
        else:
            raise BenchmarkRequestError("bad_system", 'Each system is a name or {"translator", "options"}.')
        info = infos.get(name)
        if info is None:
            raise BenchmarkRequestError(
                "unknown_translator", f"Unknown translator '{name}'. Available: {', '.join(infos) or 'none'}."
            )
        unknown = set(options) - set(info.decoding_defaults)
        if unknown:
            accepted = ", ".join(sorted(info.decoding_defaults)) or "no options"
            raise BenchmarkRequestError(
                "bad_options", f"{name} does not accept {', '.join(sorted(unknown))}; it accepts {accepted}."
            )
        label = System(name, None, options).label
        if label in labels:
            raise BenchmarkRequestError("duplicate_system", f"The system '{label}' is listed twice.")
        labels.add(label)
        systems.append({"translator": name, "options": options, "pair": info.pair, "family": info.family})
    return systems


def _test_sets(raw, systems: list[dict], *, allow_missing: bool = False) -> list[str]:
    if isinstance(raw, str):
        raw = [raw]
    if not raw or not isinstance(raw, list) or not all(isinstance(t, str) for t in raw):
        raise BenchmarkRequestError("no_test_sets", "Choose at least one test set.")
    found = testsets.available()
    ids = list(dict.fromkeys(raw))
    if not allow_missing:
        missing = [t for t in ids if t not in found]
        if missing:
            hint = ", ".join(found) or "none yet: run `python -m translator prepare-data`"
            raise BenchmarkRequestError(
                "unknown_test_set", f"Unknown test set {', '.join(missing)}. Available: {hint}."
            )
        for test_id in ids:
            if not testsets.load(found[test_id], 1).sources:
                raise BenchmarkRequestError("empty_test_set", f"The test set {test_id} has zero sentences.")
    pairs = {s["pair"] for s in systems}
    for test_id in ids:
        if test_id.split("/")[0] not in pairs:
            raise BenchmarkRequestError(
                "test_set_pair", f"No chosen translator translates {test_id.split('/')[0]} ({test_id})."
            )
    for pair in pairs:
        if not any(t.startswith(pair + "/") for t in ids):
            raise BenchmarkRequestError("no_test_set_for_pair", f"Choose a test set for the {pair} translators.")
    return ids


def validate_request(data: dict, *, allow_missing_test_sets: bool = False) -> dict:
    if not isinstance(data, dict):
        raise BenchmarkRequestError("bad_json", "The request must be a JSON object.")
    systems = _systems(data.get("systems") or data.get("translators"))
    test_ids = _test_sets(data.get("test_sets"), systems, allow_missing=allow_missing_test_sets)
    limit = data.get("limit")
    if limit in (0, "0"):
        raise BenchmarkRequestError("zero_sentences", "'limit' is 0: a benchmark needs at least one sentence.")
    device = data.get("device") or "cpu"
    if device not in ("cpu", "gpu"):
        raise BenchmarkRequestError("bad_device", "'device' must be cpu or gpu.")
    label = data.get("label") or ""
    if not isinstance(label, str) or len(label) > 200:
        raise BenchmarkRequestError("bad_label", "'label' must be a string of at most 200 characters.")
    return {
        "systems": systems,
        "test_sets": test_ids,
        "limit": _int(limit, "limit", 1, 100_000, None),
        "threads": _int(data.get("threads"), "threads", 1, os.cpu_count() or 1, 1),
        "latency_sentences": _int(data.get("latency_sentences"), "latency_sentences", 1, 10_000, 200),
        "n_bootstrap": _int(data.get("n_bootstrap"), "n_bootstrap", 10, 10_000, 1000),
        "device": device,
        "label": label,
    }


# --- creating, cancelling ------------------------------------------------------------------------------------


def create_run(
    data: dict,
    *,
    kind: str = "user",
    prepare_data: bool = False,
    enqueue: bool = True,
    caller: admission.Caller | None = None,
) -> BenchmarkRun:
    """``caller`` (a request from the page or the API) must pass the site's limits: a cap on the runs queued or
    running site-wide (they run one at a time; a longer line only delays everyone) and the caller's rate."""
    clean = validate_request(data, allow_missing_test_sets=prepare_data)
    if caller is not None:
        admission.check_site_active(BenchmarkRun, settings.NMT_BENCH_MAX_ACTIVE, "benchmark runs")
        admission.admit(caller)
    label = clean.pop("label") or ", ".join(dict.fromkeys(s["translator"] for s in clean["systems"]))
    clean["prepare_data"] = prepare_data
    with transaction.atomic():
        run = BenchmarkRun.objects.create(
            label=label[:200],
            kind=kind,
            settings=clean,
            device=clean["device"],
            threads=clean["threads"],
            progress_message="waiting in the bench queue",
            queue=KIND.queue() if enqueue else "",  # not enqueued: measured in this process (--inline)
        )
        if enqueue:  # the id goes through the broker only once the row exists for the worker to read
            lifecycle.submit(KIND, run)
    return run


def enqueue_run(run_id) -> bool:
    return lifecycle.enqueue(KIND, run_id)


def default_request() -> dict:
    """The shipped models: per pair, AR systems first (beam, then greedy), then NAR ones, on every test set.

    Only pairs that have a test set are included; on a fresh clone (no data at all) every pair is, with the
    test sets prepare-data will write (the task runs it first).
    """
    found = testsets.available()
    nonempty = [t for t, files in found.items() if files.source_path.stat().st_size > 0]
    infos = sorted(list_engines(), key=lambda i: (i.pair, i.family != AR, i.name))
    if found:
        infos = [i for i in infos if any(t.startswith(i.pair + "/") for t in nonempty)]
        test_ids = [t for t in nonempty if t.split("/")[0] in {i.pair for i in infos}]
    else:
        test_ids = [f"{p}/libreoffice" for p in sorted({i.pair for i in infos})]
    systems: list[dict] = []
    for info in infos:
        defaults = info.decoding_defaults
        if "beam" in defaults:
            systems += [
                {"translator": info.name, "options": {"beam": max(2, defaults["beam"])}},
                {"translator": info.name, "options": {"beam": 1}},
            ]
        elif "iterations" in defaults:
            systems += [{"translator": info.name, "options": {"iterations": n}} for n in DEFAULT_ITERATION_SWEEP]
        else:
            systems.append({"translator": info.name, "options": {}})
    return {
        "systems": systems,
        "test_sets": test_ids,
        "limit": DEFAULT_LIMIT,
        "latency_sentences": DEFAULT_LATENCY_SENTENCES,
        "label": "Default benchmark of the shipped models",
    }


def create_default_run(*, enqueue: bool = True) -> BenchmarkRun:
    return create_run(default_request(), kind="default", prepare_data=not testsets.available(), enqueue=enqueue)


def import_report(path: Path, *, label: str = "", kind: str = "user") -> BenchmarkRun:
    """Store a ``python -m translator evaluate`` JSON report as a finished run (e.g. the measurement shipped
    with the models, so a fresh install's dashboard has the shipped models' trade-offs before it has measured
    anything itself). The run keeps the report's own environment (machine, threads, commit, date): it is shown
    as measured there, not here. The drill-down gets sources and references when this install's test set has
    the same checksum as the measured one."""
    try:
        report = EvaluationReport.load(path)
    except ReportError as exc:
        raise BenchmarkRequestError("bad_report", f"{path} is not an evaluate report: {exc}") from None
    if report.partial or not report.systems:
        raise BenchmarkRequestError("bad_report", f"{path} is a partial evaluate report (the run did not finish)")
    found = testsets.available()
    report.segments = {}
    for test_id, meta in report.test_sets.items():
        files = found.get(test_id)
        if files is not None:
            test = testsets.load(files, meta.sentences)
            if test.sha256 == meta.sha256:
                report.segments[test_id] = Segments(test.sources, test.references)
    env = report.environment
    settings_ = {
        "systems": [{"translator": s_.name, "options": s_.decoding} for s_ in report.systems],
        "test_sets": list(report.test_sets),
        "limit": None,
        "threads": env.threads,
        "imported_from": str(path),
    }
    with transaction.atomic():
        run = BenchmarkRun.objects.create(
            label=(label or f"Imported: {Path(path).name}")[:200],
            kind=kind,
            settings=settings_,
            device="gpu" if env.gpu else "cpu",
            threads=env.threads,
            state=RunState.DONE,
            progress=1.0,
            progress_message="imported",
            started_at=timezone.now(),
            finished_at=timezone.now(),
        )
        store_reports(run, [report])
        run.environment["imported_from"] = str(path)
        run.save(update_fields=["environment", "protocol", "baselines"])
    return run


def seed_default_run(shipped_reports: list[Path], *, enqueue: bool = True) -> BenchmarkRun | None:
    """At setup, when no run exists: import the measurement shipped with the models if there is one
    (instant, labelled with the machine it was measured on), else queue the default benchmark."""
    if BenchmarkRun.objects.exclude(state__in=(RunState.FAILED, RunState.CANCELLED)).exists():
        return None
    existing = [p for p in shipped_reports if Path(p).is_file()]
    if not existing:
        return create_default_run(enqueue=enqueue)
    run = None
    for path in existing:
        run = import_report(path, label=f"Shipped models, measured at build time ({Path(path).name})", kind="default")
    return run


worker_label = lifecycle.worker_name


def get_run(run_id) -> BenchmarkRun:
    key = lifecycle.as_uuid(run_id)
    if key is None:
        raise RunNotFound("That is not a benchmark run id.")
    run = BenchmarkRun.objects.filter(pk=key).first()
    if run is None:
        raise RunNotFound()
    return run


def cancel_run(run_id) -> BenchmarkRun:
    run = get_run(run_id)
    return lifecycle.cancel(KIND, run.pk, progress_message="cancelled")


# --- running (bench worker) ----------------------------------------------------------------------------------


def fail_run(run_id, reason: str) -> BenchmarkRun | None:
    return lifecycle.fail(KIND, run_id, None, reason)


def _no_other_run_measuring(run: BenchmarkRun) -> bool:
    """The claim's guard: one run measures at a time. A run whose worker died stops blocking the line once
    its heartbeat is stale (the sweeper then fails it)."""
    if connection.vendor == "postgresql":  # SQLite's IMMEDIATE transactions already serialise the claim
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(7007)")
    return not lifecycle.live_running(KIND).exclude(pk=run.pk).exists()


def ensure_test_data() -> None:
    """A fresh clone has no data/: write the small corpora (about 30 s) before the default run measures.

    The gettext catalogs (1.8 GB of packages, minutes) are left out: the default run measures on the help and
    dictionary test sets; `prepare-data` with all sources adds the multi-source test set."""
    if testsets.available():
        return
    out = testsets.data_dir()
    subprocess.run(
        [sys.executable, "-m", "translator", "prepare-data", "--out", str(out), "--sources", "libreoffice,ding,bible"],
        cwd=settings.BASE_DIR,
        check=True,
        capture_output=True,
        timeout=1800,
    )


def run_benchmark(run_id, *, worker: str, load: Callable = load_engine):
    """Run one delivery of the bench task. Returns the run, None, or BUSY (another run is measuring)."""
    claim = lifecycle.claim(
        KIND,
        run_id,
        worker,
        fields={"progress": 0.0, "progress_message": "loading translators"},
        guard=_no_other_run_measuring,
    )
    if claim.outcome == "busy":
        return BUSY
    if not claim.ok:
        return claim.obj
    run, attempt = claim.obj, claim.attempt
    try:
        with lifecycle.heartbeat(KIND, run.pk, attempt):
            reports = _measure(run, attempt, load)
    except RunCancelled:
        return BenchmarkRun.objects.filter(pk=run.pk).first()
    except (EngineError, BenchmarkRequestError) as exc:
        return _failed(run.pk, attempt, f"Cannot run this benchmark: {exc}")
    except SoftTimeLimitExceeded:
        return _failed(run.pk, attempt, f"The run took longer than the {settings.NMT_BENCH_SOFT_LIMIT} s time limit.")
    except subprocess.CalledProcessError as exc:
        return _failed(run.pk, attempt, f"prepare-data failed: {exc.stderr[-500:] if exc.stderr else exc}")
    except Exception as exc:
        log.exception("benchmark run %s failed", run.pk)
        return _failed(run.pk, attempt, f"Internal error while measuring ({type(exc).__name__}: {exc}).")
    with transaction.atomic():
        if not BenchmarkRun.objects.filter(pk=run.pk, state=RunState.RUNNING, attempts=attempt).exists():
            return BenchmarkRun.objects.filter(pk=run.pk).first()  # cancelled during the last step
        store_reports(run, reports)
        done = lifecycle.finish(
            KIND,
            run.pk,
            attempt,
            progress=1.0,
            progress_message="done",
            environment=run.environment,
            protocol=run.protocol,
            baselines=run.baselines,
        )
    return done or BenchmarkRun.objects.filter(pk=run.pk).first()


def _failed(run_id, attempt: int, reason: str) -> BenchmarkRun | None:
    lifecycle.fail(KIND, run_id, attempt, reason)
    return BenchmarkRun.objects.filter(pk=run_id).first()


def _measure(run: BenchmarkRun, attempt: int, load: Callable) -> list[EvaluationReport]:
    """evaluate_systems once per language pair; progress (and cancellation) checked between systems."""
    conf = run.settings
    if conf.get("prepare_data"):
        _progress(run, attempt, "preparing the test sets (prepare-data)", 0.0)
        ensure_test_data()
    clean = validate_request({**conf, "label": ""})  # the registry or the data may have changed since queueing
    found = testsets.available()
    device = "cuda" if clean["device"] == "gpu" else "cpu"
    groups: OrderedDict[str, list[dict]] = OrderedDict()
    for spec in clean["systems"]:
        groups.setdefault(spec["pair"], []).append(spec)
    reports = []
    for index, (pair, specs) in enumerate(groups.items()):
        systems = [System(s["translator"], load(s["translator"], device=device), s["options"]) for s in specs]
        tests = [testsets.load(found[t], clean["limit"]) for t in clean["test_sets"] if t.startswith(pair + "/")]
        for test in tests:
            if not test.sources:
                raise BenchmarkRequestError("empty_test_set", f"The test set {test.id} has zero sentences.")

        def progress(message, fraction, index=index, pair=pair):
            _progress(run, attempt, f"{pair}: {message}", (index + fraction) / len(groups))

        report = evaluate_systems(
            systems, tests, clean["threads"], clean["latency_sentences"], clean["n_bootstrap"], progress=progress
        )
        # The report holds outputs only; the drill-down also needs what they are compared with.
        report.segments = {t.id: Segments(t.sources, t.references) for t in tests}
        reports.append(report)
    return reports


def _progress(run: BenchmarkRun, attempt: int, message: str, fraction: float) -> None:
    if not lifecycle.still_ours(KIND, run.pk, attempt, progress=min(1.0, fraction), progress_message=message[:300]):
        raise RunCancelled()
    run.progress, run.progress_message = fraction, message[:300]
    publish_run(run)
