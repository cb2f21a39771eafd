"""Django settings, all read from environment variables so the same code runs locally, in tests and in docker.

Defaults are the embedded single-machine setup that ``scripts/run`` starts: SQLite under var/, the Redis at
127.0.0.1:6379 and the ``cpu`` queue.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import dj_database_url
from kombu import Queue

from nmt_site.env import Env

# Every environment variable is read through ``env``, which records it for the README's configuration table.
env = Env()
BASE_DIR = Path(__file__).resolve().parent.parent

env.section("Site")
VAR_DIR = Path(
    env.str("NMT_VAR_DIR", str(BASE_DIR / "var"), "SQLite file, secret key, uploads, embedded Redis", shown="var")
)


def _secret_key(value: str) -> str:
    """SECRET_KEY from the environment, else one generated once and kept in var/ (never a shared default)."""
    if value:
        return value
    path = VAR_DIR / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(50)
        path.write_text(key)
        path.chmod(0o600)
        return key


SECRET_KEY = _secret_key(env.str("SECRET_KEY", "", "Django secret", shown="generated once into var/secret_key"))
DEBUG = env.bool("DEBUG", False, "Django debug mode")
ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]", "host names served; also the allowed websocket origins"
)
CSRF_TRUSTED_ORIGINS = env.list(
    "CSRF_TRUSTED_ORIGINS", "", "other origins trusted for form posts and websockets, e.g. `https://example.org`"
)
# Served over TLS (by daphne itself or a proxy in front): cookies only over https, HSTS, and plain http
# redirected to https. `manage.py check --deploy` is clean with NMT_HTTPS=true, DEBUG=false and a SECRET_KEY.
NMT_HTTPS = env.bool("NMT_HTTPS", False, "the site is served over https: secure cookies, HSTS, http→https redirect")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", NMT_HTTPS, "redirect http to https", shown="NMT_HTTPS")
# Container healthchecks and load balancers probe over plain http on the inside.
SECURE_REDIRECT_EXEMPT = [r"^health$"]
SECURE_HSTS_SECONDS = env.int(
    "SECURE_HSTS_SECONDS", 31536000 if NMT_HTTPS else 0, "HSTS max-age", shown="1 year with NMT_HTTPS, else 0"
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool(
    "SECURE_HSTS_INCLUDE_SUBDOMAINS", False, "HSTS covers subdomains too (only if they all serve https)"
)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", False, "HSTS allows browser preload lists (hard to undo)")
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = NMT_HTTPS
# Behind a TLS-terminating proxy: the header it sets to "https" (e.g. X-Forwarded-Proto). Only set this when
# the proxy always sets or strips that header, or a client could claim https itself.
_proxy_ssl_header = env.str(
    "NMT_PROXY_SSL_HEADER", "", "header a TLS proxy in front sets to `https`, e.g. `X-Forwarded-Proto`"
)
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_" + _proxy_ssl_header.upper().replace("-", "_"), "https") if _proxy_ssl_header else None
)
NMT_HOST = env.str("NMT_HOST", "127.0.0.1", "where `scripts/run` serves")
NMT_PORT = env.int("NMT_PORT", 8000, "port `scripts/run` serves on")
LOG_LEVEL = env.str("LOG_LEVEL", "INFO", "root log level")

INSTALLED_APPS = [
    "daphne",  # first, so `manage.py runserver` is the ASGI server too
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.staticfiles",
    "channels",
    "corsheaders",
    "nmt_site.core",
    "nmt_site.jobs",
    "nmt_site.dashboard",
    "nmt_site.api",
    "nmt_site.documents",
]

MIDDLEWARE = [
    "nmt_site.api.metrics.MetricsMiddleware",  # outermost: counts every response, errors included
    "nmt_site.core.json_errors.JsonErrorsMiddleware",  # API paths answer errors as JSON, whoever made them
    "corsheaders.middleware.CorsMiddleware",  # before CommonMiddleware, as django-cors-headers requires
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "nmt_site.urls"
ASGI_APPLICATION = "nmt_site.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
            ],
        },
    },
]

# --- database: SQLite by default, anything dj-database-url understands via DATABASE_URL -------------------
DATABASES = {
    "default": dj_database_url.parse(
        env.str(
            "DATABASE_URL",
            f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
            "e.g. `postgresql://user:password@host:5432/name`",
            shown="sqlite:///var/db.sqlite3",
        ),
        conn_max_age=env.int("DB_CONN_MAX_AGE", 0, "seconds a database connection is kept open"),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web process and the workers write the same file: wait for locks instead of failing at once,
    # take the write lock at BEGIN (no lock-upgrade deadlocks) and use WAL so readers never block writers.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    _test_db = env.str("NMT_TEST_DB_NAME", "", "test database file", internal=True)
    if _test_db:
        # Tests run a separate worker process, so the test database must be a file both can open.
        DATABASES["default"]["TEST"] = {"NAME": _test_db}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_PASSWORD_VALIDATORS: list[dict[str, str]] = []
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
# Single-node self-hosting has no separate web server in front: the ASGI app serves /static/ itself.
NMT_SERVE_STATIC = env.bool("NMT_SERVE_STATIC", True, "the ASGI app serves `/static/` itself")

# --- Redis: broker, channel layer -------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", "redis://127.0.0.1:6379/0", "Celery broker and channel layer")

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": [REDIS_URL], "prefix": "nmt:asgi"},
    }
}

# --- translation jobs -------------------------------------------------------------------------------------
env.section("Translation jobs")
NMT_DEVICE = env.str(
    "NMT_DEVICE", "cpu", "`cpu` or `gpu`: the queue jobs go to, and the device a worker loads engines on"
)
if NMT_DEVICE not in ("cpu", "gpu"):
    raise ValueError(f"NMT_DEVICE must be cpu or gpu, not {NMT_DEVICE!r}")
# One queue per device: a job goes to the workers that run the device this site is configured for.
# NMT_QUEUE overrides the name (the test suite uses its own queue per run, so parallel runs never mix).
NMT_QUEUE = env.str("NMT_QUEUE", "", "queue name override", internal=True) or NMT_DEVICE
NMT_MAX_CHARS = env.int("NMT_MAX_CHARS", 5000, "character limit of one text")
# Engines a worker loads and warms up when its process starts, in a background thread so the worker takes jobs at
# once (comma-separated registry names; "all" = every registered engine; the page shows which are still loading).
NMT_WARM_ENGINES = env.list(
    "NMT_WARM_ENGINES",
    "all",
    "engines each worker process loads and warms in the background at start (`all`: every registered one)",
)
# torch's default (a thread per core in every process) oversubscribes the cores the workers share: see core/threads.py.
NMT_TORCH_THREADS = env.int(
    "NMT_TORCH_THREADS",
    0,
    "torch intra-op threads of each worker process; benchmark runs keep their own `threads`",
    shown="cores ÷ (pool processes + 1), at least 1",
)
# The device engines are loaded on: CUDA (fp16) for the gpu queue. "cpu" runs the gpu worker's path on the CPU.
NMT_ENGINE_DEVICE = env.str(
    "NMT_ENGINE_DEVICE",
    "",
    "device a worker loads engines on (`cpu` runs the gpu worker's path on the CPU)",
    shown="`cuda` for `NMT_DEVICE=gpu`, else `cpu`",
)
if NMT_ENGINE_DEVICE not in ("", "cpu", "cuda") and not NMT_ENGINE_DEVICE.startswith("cuda:"):
    raise ValueError(f"NMT_ENGINE_DEVICE must be cpu, cuda or cuda:N, not {NMT_ENGINE_DEVICE!r}")
# A job whose worker died this many times is marked failed instead of being run again.
NMT_MAX_ATTEMPTS = env.int("NMT_MAX_ATTEMPTS", 3, "worker deaths after which a job is marked failed")
# Reliability (nmt_site/core/lifecycle.py): a dead worker's job is running again within
# NMT_STALE_SECONDS + NMT_SWEEP_SECONDS (35 s by default).
NMT_HEARTBEAT_SECONDS = env.float(
    "NMT_HEARTBEAT_SECONDS", 5, "how often a running job's process refreshes its heartbeat (s)"
)
NMT_STALE_SECONDS = env.float("NMT_STALE_SECONDS", 30, "a heartbeat older than this means the worker is dead (s)")
NMT_SWEEP_SECONDS = env.float(
    "NMT_SWEEP_SECONDS", 5, "how often every worker requeues dead work and re-sends undelivered queued work (s)"
)
NMT_SWEEP_GRACE_SECONDS = env.float(
    "NMT_SWEEP_GRACE_SECONDS", 5, "age after which a queued job no broker message covers is sent again (s)"
)
# Lines translated per engine call; progress is published after each chunk.
NMT_CHUNK_LINES = env.int("NMT_CHUNK_LINES", 16, "lines per engine call (progress is published after each)")
# Dynamic batching (nmt_site/jobs/batching.py): concurrent small texts for the same engine and options are
# translated in one engine call.
NMT_BATCH_WINDOW_MS = env.float(
    "NMT_BATCH_WINDOW_MS", 5, "how long the first job of a batch waits for others to join it (ms; 0 = no wait)"
)
NMT_BATCH_MAX_LINES = env.int(
    "NMT_BATCH_MAX_LINES",
    128 if NMT_DEVICE == "gpu" else 32,
    "most lines in one batched engine call",
    shown="`32`; `128` on the gpu queue",
)
NMT_BATCH_JOB_CHARS = env.int(
    "NMT_BATCH_JOB_CHARS",
    1000,
    "texts up to this long (and `NMT_CHUNK_LINES` lines) are batched with others; longer ones run in chunks",
)

# --- document translation (nmt_site/documents) -------------------------------------------------------------
# Uploaded and translated files, under UUID names; never under STATIC_ROOT or any served directory.
env.section("Documents")
NMT_DOC_DIR = Path(
    env.str("NMT_DOC_DIR", str(VAR_DIR / "documents"), "stored uploads and translations", shown="var/documents")
)
NMT_DOC_MAX_FILE_BYTES = env.int("NMT_DOC_MAX_FILE_BYTES", 20 * 1024 * 1024, "bytes per uploaded file")
NMT_DOC_MAX_REQUEST_BYTES = env.int("NMT_DOC_MAX_REQUEST_BYTES", 50 * 1024 * 1024, "bytes per upload request")
NMT_DOC_MAX_FILES = env.int("NMT_DOC_MAX_FILES", 10, "files per upload")
NMT_DOC_MAX_SEGMENTS = env.int("NMT_DOC_MAX_SEGMENTS", 20000, "sentences per document")
# A paragraph longer than this is refused before sentence splitting (a 10 MB single line is not prose).
NMT_DOC_MAX_BLOCK_CHARS = env.int("NMT_DOC_MAX_BLOCK_CHARS", 20000, "characters per paragraph")
NMT_DOC_ZIP_MAX_MEMBERS = env.int("NMT_DOC_ZIP_MAX_MEMBERS", 2000, "zip-bomb limit: members per container")
NMT_DOC_ZIP_MAX_MEMBER_BYTES = env.int(
    "NMT_DOC_ZIP_MAX_MEMBER_BYTES", 50 * 1024 * 1024, "zip-bomb limit: unpacked bytes per member"
)
NMT_DOC_ZIP_MAX_TOTAL_BYTES = env.int(
    "NMT_DOC_ZIP_MAX_TOTAL_BYTES", 200 * 1024 * 1024, "zip-bomb limit: unpacked bytes"
)
NMT_DOC_ZIP_MAX_RATIO = env.int("NMT_DOC_ZIP_MAX_RATIO", 200, "zip-bomb limit: compression ratio")
# Segments per engine call; each batch is stored and its progress published before the next.
NMT_DOC_BATCH = env.int("NMT_DOC_BATCH", 16, "sentences per engine call")
# One task delivery works at most this long, then hands the rest to a fresh task (stays far below the
# broker's visibility timeout and lets other jobs in between).
NMT_DOC_SLICE_SECONDS = env.float("NMT_DOC_SLICE_SECONDS", 60, "longest run of one task delivery (s)")
# Uploaded and translated files (and their rows) are deleted this long after the upload.
NMT_DOC_TTL_HOURS = env.float("NMT_DOC_TTL_HOURS", 24, "hours until stored files are deleted")

# --- benchmark runs (dashboard) ----------------------------------------------------------------------------
# Timing runs have a queue of their own, consumed by ONE worker with concurrency 1: two runs measuring at once
# on a small machine would spoil each other's numbers. NMT_BENCH_QUEUE overrides the name (tests use their own).
env.section("Dashboard benchmarks")
NMT_BENCH_QUEUE = env.str("NMT_BENCH_QUEUE", "bench", "queue of benchmark runs (one worker, concurrency 1)") or "bench"
NMT_BENCH_SOFT_LIMIT = env.int("NMT_BENCH_SOFT_LIMIT", 3600, "time limit of one benchmark run (s)")
# evaluate reports shipped with the models: imported as the first dashboard runs when none exists
# (`manage.py benchmark --if-none` at setup), in this order (the page opens on the last); comma-separated
# paths, "" for none (then the default benchmark is queued and measured on this machine instead).
_SHIPPED_RESULTS = BASE_DIR / "benchmarks" / "results"
NMT_SHIPPED_BENCHMARKS = [
    Path(p)
    for p in env.list(
        "NMT_SHIPPED_BENCHMARKS",
        f"{_SHIPPED_RESULTS / 'en-pt-models.json'},{_SHIPPED_RESULTS / 'en-de-models.json'}",
        "evaluate reports imported as the first runs",
        shown="benchmarks/results/en-pt-models.json,…/en-de-models.json",
    )
]
# Where the held-out test sets live (python -m translator prepare-data writes them).
NMT_DATA_DIR = Path(
    env.str("NMT_DATA_DIR", str(BASE_DIR / "data"), "test sets (`<pair>/<corpus>/test.*`)", shown="data")
)

# --- Celery ----------------------------------------------------------------------------------------------
env.section("Celery")
NMT_TASK_SOFT_LIMIT = env.int("NMT_TASK_SOFT_LIMIT", 120, "soft time limit of a task (s)")
NMT_TASK_HARD_LIMIT = env.int("NMT_TASK_HARD_LIMIT", 150, "hard time limit (s); visibility timeout = this + 60 s")

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", REDIS_URL, "broker, if not the Redis above", shown="REDIS_URL")
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Redis redelivers an unacked message after visibility_timeout: it must exceed the hard time limit, or a
# long but healthy job would be handed to a second worker while the first still runs it.
# Redis priorities: one list per step, the lowest number popped first. New work is sent with priority 5,
# work taken back from a dead worker with 0, so it goes before the backlog (lifecycle.FRONT_PRIORITY).
NMT_PRIORITY_STEPS = [0, 3, 6, 9]
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": NMT_TASK_HARD_LIMIT + 60,
    "priority_steps": NMT_PRIORITY_STEPS,
    "sep": "\x06\x16",
}
CELERY_TASK_DEFAULT_PRIORITY = 5
CELERY_TASK_ACKS_LATE = True  # ack after the task ran, so a crash mid-job leaves the message to redeliver
# A killed pool process's message is acknowledged, not put back at the end of the queue: the worker's
# task_failure hook takes the job back at the front of the queue at once (workers/lifecycle.py).
CELERY_TASK_REJECT_ON_WORKER_LOST = False
# A new pool process sets its torch threads and starts warming its engines in a background thread before it reports
# up (core/engine_status.py): that takes milliseconds, but importing torch and the registry on a loaded core takes
# seconds; give it far more than Celery's 4 s default, or a replacement process is killed and replaced in a loop.
CELERY_WORKER_PROC_ALIVE_TIMEOUT = env.float(
    "NMT_PROC_ALIVE_TIMEOUT", 60, "seconds a new pool process may take to start and report up"
)
CELERY_WORKER_PREFETCH_MULTIPLIER = 1  # a worker holds one job at a time; the others stay in the queue
CELERY_TASK_SOFT_TIME_LIMIT = NMT_TASK_SOFT_LIMIT
CELERY_TASK_TIME_LIMIT = NMT_TASK_HARD_LIMIT
CELERY_TASK_IGNORE_RESULT = True  # results live in the database rows, not in a result backend
CELERY_TASK_QUEUES = [Queue(name) for name in dict.fromkeys(["cpu", "gpu", NMT_QUEUE, NMT_BENCH_QUEUE])]
CELERY_TASK_DEFAULT_QUEUE = NMT_QUEUE
CELERY_WORKER_SEND_TASK_EVENTS = False
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"daphne": {"level": "WARNING"}, "django.channels.server": {"level": "WARNING"}},
}

# --- public API (nmt_site.api) ------------------------------------------------------------------------------
# API keys are optional; with NMT_API_KEY_REQUIRED every /translate, /detect and /translate_file needs one.
env.section("Public API")
NMT_API_KEY_REQUIRED = env.bool(
    "NMT_API_KEY_REQUIRED", False, "`/translate`, `/detect`, `/translate_file` need an `api_key`"
)
# Limits on every path that creates work (LibreTranslate API, job API, websocket, documents, benchmarks):
# nmt_site/core/admission.py. A caller is an API key, else the client address (sessions are free to mint).
NMT_API_REQUESTS_PER_MINUTE = env.int(
    "NMT_API_REQUESTS_PER_MINUTE",
    120,
    "requests per caller (key, else client address) that translate, detect or queue work; 0 = unlimited",
)
NMT_API_CHARS_PER_MINUTE = env.int(
    "NMT_API_CHARS_PER_MINUTE", 50000, "characters per caller per minute over all those requests; 0 = unlimited"
)
NMT_MAX_ACTIVE_WORK = env.int(
    "NMT_MAX_ACTIVE_WORK", 20, "text jobs and documents one session or API caller may have queued or running"
)
NMT_BENCH_MAX_ACTIVE = env.int(
    "NMT_BENCH_MAX_ACTIVE", 3, "benchmark runs queued or running at once, site-wide, from the page or API"
)
# The length of the rate windows above (tests shorten it to cross a window boundary quickly).
NMT_RATE_WINDOW_SECONDS = env.int("NMT_RATE_WINDOW_SECONDS", 60, "rate window (s)", internal=True)
# Characters per request without a key-specific limit.
NMT_API_CHAR_LIMIT = env.int(
    "NMT_API_CHAR_LIMIT", NMT_MAX_CHARS, "characters per request without a key-specific limit", shown="NMT_MAX_CHARS"
)
# Websocket frames larger than this close the socket with 1009 and a reason (daphne is started with a larger
# limit so that the frame reaches us instead of being dropped).
NMT_WS_MAX_MESSAGE_BYTES = env.int("NMT_WS_MAX_MESSAGE_BYTES", 256 * 1024, "largest websocket message accepted")
# How long an API request waits for its queued job before answering 503.
NMT_API_TIMEOUT = env.float("NMT_API_TIMEOUT", 60, "seconds a request waits for its queued job (then 503)")
# Translation cache lifetime in Redis; 0 turns the cache off.
NMT_API_CACHE_SECONDS = env.int("NMT_API_CACHE_SECONDS", 86400, "translation cache lifetime in Redis; 0 = off")
# Prefix of the API's Redis keys (rate counters, cache); tests use one per test.
NMT_API_REDIS_PREFIX = env.str("NMT_API_REDIS_PREFIX", "nmt:api", "prefix of the API's Redis keys", internal=True)
# /metrics answers only with "Authorization: Bearer <token>" when this is set.
NMT_METRICS_TOKEN = env.str("NMT_METRICS_TOKEN", "", "when set, `/metrics` needs `Authorization: Bearer <token>`")

# CORS for the API only (the pages are same-origin): all origins by default, as LibreTranslate does.
CORS_URLS_REGEX = r"^/(translate|translate_file|detect|languages|frontend/settings|download_file/.*|api/.*)$"
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", "", "origins allowed to call the API")
CORS_ALLOW_ALL_ORIGINS = env.bool(
    "CORS_ALLOW_ALL_ORIGINS",
    not CORS_ALLOWED_ORIGINS,
    "any origin may call the API",
    shown="true unless the list is set",
)
