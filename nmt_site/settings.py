"""Django settings, all read from environment variables so the same code runs locally, in tests and in docker.

Defaults are the embedded single-machine setup that ``scripts/run`` starts: SQLite under var/, the Redis at
127.0.0.1:6379 and the ``cpu`` queue.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
from kombu import Queue

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("NMT_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def _secret_key() -> str:
    """SECRET_KEY from the environment, else one generated once and kept in var/ (never a shared default)."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    path = VAR_DIR / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(50)
        path.write_text(key)
        path.chmod(0o600)
        return key


SECRET_KEY = _secret_key()
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

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
    "default": dj_database_url.config(
        default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "0")),
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
    if os.environ.get("NMT_TEST_DB_NAME"):
        # Tests run a separate worker process, so the test database must be a file both can open.
        DATABASES["default"]["TEST"] = {"NAME": os.environ["NMT_TEST_DB_NAME"]}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_PASSWORD_VALIDATORS = []
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
# Single-node self-hosting has no separate web server in front: the ASGI app serves /static/ itself.
NMT_SERVE_STATIC = env_bool("NMT_SERVE_STATIC", True)

# --- Redis: broker, channel layer -------------------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": [REDIS_URL], "prefix": "nmt:asgi"},
    }
}

# --- translation jobs -------------------------------------------------------------------------------------
NMT_DEVICE = os.environ.get("NMT_DEVICE", "cpu")
if NMT_DEVICE not in ("cpu", "gpu"):
    raise ValueError(f"NMT_DEVICE must be cpu or gpu, not {NMT_DEVICE!r}")
# One queue per device: a job goes to the workers that run the device this site is configured for.
# NMT_QUEUE overrides the name (the test suite uses its own queue per run, so parallel runs never mix).
NMT_QUEUE = os.environ.get("NMT_QUEUE") or NMT_DEVICE
NMT_MAX_CHARS = int(os.environ.get("NMT_MAX_CHARS", "5000"))
# Engines a worker loads and warms up when its process starts (comma-separated registry names).
NMT_WARM_ENGINES = env_list("NMT_WARM_ENGINES", "bergamot-en-pt,bergamot-pt-en")
# A job whose worker died this many times is marked failed instead of being run again.
NMT_MAX_ATTEMPTS = int(os.environ.get("NMT_MAX_ATTEMPTS", "3"))
# Reliability (nmt_site/core/lifecycle.py): a running job's process refreshes its heartbeat every
# NMT_HEARTBEAT_SECONDS; a heartbeat older than NMT_STALE_SECONDS means its worker is dead. Every worker sweeps
# every NMT_SWEEP_SECONDS: dead jobs are requeued at the front, queued jobs older than NMT_SWEEP_GRACE_SECONDS
# that no broker message covers are sent again. A dead worker's job is running again within
# NMT_STALE_SECONDS + NMT_SWEEP_SECONDS (35 s by default).
NMT_HEARTBEAT_SECONDS = float(os.environ.get("NMT_HEARTBEAT_SECONDS", "5"))
NMT_STALE_SECONDS = float(os.environ.get("NMT_STALE_SECONDS", "30"))
NMT_SWEEP_SECONDS = float(os.environ.get("NMT_SWEEP_SECONDS", "5"))
NMT_SWEEP_GRACE_SECONDS = float(os.environ.get("NMT_SWEEP_GRACE_SECONDS", "5"))
# Lines translated per engine call; progress is published after each chunk.
NMT_CHUNK_LINES = int(os.environ.get("NMT_CHUNK_LINES", "16"))

# --- document translation (nmt_site/documents) -------------------------------------------------------------
# Uploaded and translated files, under UUID names; never under STATIC_ROOT or any served directory.
NMT_DOC_DIR = Path(os.environ.get("NMT_DOC_DIR", VAR_DIR / "documents"))
NMT_DOC_MAX_FILE_BYTES = int(os.environ.get("NMT_DOC_MAX_FILE_BYTES", str(20 * 1024 * 1024)))
NMT_DOC_MAX_REQUEST_BYTES = int(os.environ.get("NMT_DOC_MAX_REQUEST_BYTES", str(50 * 1024 * 1024)))
NMT_DOC_MAX_FILES = int(os.environ.get("NMT_DOC_MAX_FILES", "10"))
NMT_DOC_MAX_SEGMENTS = int(os.environ.get("NMT_DOC_MAX_SEGMENTS", "20000"))
# A paragraph longer than this is refused before sentence splitting (a 10 MB single line is not prose).
NMT_DOC_MAX_BLOCK_CHARS = int(os.environ.get("NMT_DOC_MAX_BLOCK_CHARS", "20000"))
NMT_DOC_ZIP_MAX_MEMBERS = int(os.environ.get("NMT_DOC_ZIP_MAX_MEMBERS", "2000"))
NMT_DOC_ZIP_MAX_MEMBER_BYTES = int(os.environ.get("NMT_DOC_ZIP_MAX_MEMBER_BYTES", str(50 * 1024 * 1024)))
NMT_DOC_ZIP_MAX_TOTAL_BYTES = int(os.environ.get("NMT_DOC_ZIP_MAX_TOTAL_BYTES", str(200 * 1024 * 1024)))
NMT_DOC_ZIP_MAX_RATIO = int(os.environ.get("NMT_DOC_ZIP_MAX_RATIO", "200"))
# Segments per engine call; each batch is stored and its progress published before the next.
NMT_DOC_BATCH = int(os.environ.get("NMT_DOC_BATCH", "16"))
# One task delivery works at most this long, then hands the rest to a fresh task (stays far below the
# broker's visibility timeout and lets other jobs in between).
NMT_DOC_SLICE_SECONDS = float(os.environ.get("NMT_DOC_SLICE_SECONDS", "60"))
# Uploaded and translated files (and their rows) are deleted this long after the upload.
NMT_DOC_TTL_HOURS = float(os.environ.get("NMT_DOC_TTL_HOURS", "24"))

# --- benchmark runs (dashboard) ----------------------------------------------------------------------------
# Timing runs have a queue of their own, consumed by ONE worker with concurrency 1: two runs measuring at once
# on a small machine would spoil each other's numbers. NMT_BENCH_QUEUE overrides the name (tests use their own).
NMT_BENCH_QUEUE = os.environ.get("NMT_BENCH_QUEUE") or "bench"
NMT_BENCH_SOFT_LIMIT = int(os.environ.get("NMT_BENCH_SOFT_LIMIT", "3600"))
# evaluate reports shipped with the models: imported as the first dashboard runs when none exists
# (`manage.py benchmark --if-none` at setup), in this order (the page opens on the last); comma-separated
# paths, "" for none (then the default benchmark is queued and measured on this machine instead).
_SHIPPED_RESULTS = BASE_DIR / "benchmarks" / "results"
NMT_SHIPPED_BENCHMARKS = [
    Path(p)
    for p in os.environ.get(
        "NMT_SHIPPED_BENCHMARKS", f"{_SHIPPED_RESULTS / 'en-pt-models.json'},{_SHIPPED_RESULTS / 'en-de-models.json'}"
    ).split(",")
    if p
]
# Where the held-out test sets live (python -m translator prepare-data writes them).
NMT_DATA_DIR = Path(os.environ.get("NMT_DATA_DIR", BASE_DIR / "data"))

# --- Celery ----------------------------------------------------------------------------------------------
NMT_TASK_SOFT_LIMIT = int(os.environ.get("NMT_TASK_SOFT_LIMIT", "120"))
NMT_TASK_HARD_LIMIT = int(os.environ.get("NMT_TASK_HARD_LIMIT", "150"))

CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", REDIS_URL)
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
# The pool process warms its engines before it reports up (measured 1.4 s for the two default Bergamot
# engines on an idle core, 3-5 s on a loaded one): give it far more than Celery's 4 s default, or a
# replacement process is killed and replaced in a loop.
CELERY_WORKER_PROC_ALIVE_TIMEOUT = float(os.environ.get("NMT_PROC_ALIVE_TIMEOUT", "60"))
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
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"daphne": {"level": "WARNING"}, "django.channels.server": {"level": "WARNING"}},
}

# --- public API (nmt_site.api) ------------------------------------------------------------------------------
# API keys are optional; with NMT_API_KEY_REQUIRED every /translate, /detect and /translate_file needs one.
NMT_API_KEY_REQUIRED = env_bool("NMT_API_KEY_REQUIRED", False)
# Requests per minute per caller (key, else client address) without a key-specific limit; 0 = unlimited.
NMT_API_REQUESTS_PER_MINUTE = int(os.environ.get("NMT_API_REQUESTS_PER_MINUTE", "0"))
# Characters per request without a key-specific limit.
NMT_API_CHAR_LIMIT = int(os.environ.get("NMT_API_CHAR_LIMIT", str(NMT_MAX_CHARS)))
# How long an API request waits for its queued job before answering 503.
NMT_API_TIMEOUT = float(os.environ.get("NMT_API_TIMEOUT", "60"))
# Translation cache lifetime in Redis; 0 turns the cache off.
NMT_API_CACHE_SECONDS = int(os.environ.get("NMT_API_CACHE_SECONDS", "86400"))
# Prefix of the API's Redis keys (rate counters, cache); tests use one per test.
NMT_API_REDIS_PREFIX = os.environ.get("NMT_API_REDIS_PREFIX", "nmt:api")
# /metrics answers only with "Authorization: Bearer <token>" when this is set.
NMT_METRICS_TOKEN = os.environ.get("NMT_METRICS_TOKEN", "")

# CORS for the API only (the pages are same-origin): all origins by default, as LibreTranslate does.
CORS_URLS_REGEX = r"^/(translate|translate_file|detect|languages|frontend/settings|download_file/.*|api/.*)$"
CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS", "")
CORS_ALLOW_ALL_ORIGINS = env_bool("CORS_ALLOW_ALL_ORIGINS", not CORS_ALLOWED_ORIGINS)
