"""Settings for the test suite: the site's settings, pointed at test-only resources.

- Redis: a dedicated DB number (13) of the Redis at 127.0.0.1:6379, or of an embedded redis-server when none
  answers, so the suite never touches a real deployment's queues.
- Database: a SQLite *file* (not the in-memory default), because the Celery worker that the end-to-end tests
  start is a separate process that must read the same rows. NMT_TEST_DATABASE_URL picks another database.
"""

import atexit
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"
VAR.mkdir(exist_ok=True)

from nmt_site.local_redis import answers, start_embedded  # noqa: E402

_redis_url = os.environ.get("NMT_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")
if not answers(_redis_url):
    _redis_url, _redis_process = start_embedded(VAR / f"test-redis-{os.getpid()}", db=13)
    atexit.register(_redis_process.terminate)
    os.environ["NMT_TEST_REDIS_URL"] = _redis_url  # the worker subprocess inherits it

os.environ["REDIS_URL"] = _redis_url
os.environ["CELERY_BROKER_URL"] = _redis_url
os.environ["DATABASE_URL"] = os.environ.get("NMT_TEST_DATABASE_URL", f"sqlite:///{VAR / 'test-base.sqlite3'}")
# Per-run file name: two suites running at once (a developer and CI) must not share a database.
os.environ.setdefault("NMT_TEST_DB_NAME", str(VAR / f"test-db-{os.getpid()}.sqlite3"))
os.environ["NMT_DEVICE"] = "cpu"
# A queue of this run's own: a suite running beside another never takes the other's jobs.
os.environ["NMT_QUEUE"] = f"cpu-test-{os.getpid()}"
# Benchmark runs: their own per-run queue (the session worker consumes both) and a tiny fixture test-set tree.
os.environ["NMT_BENCH_QUEUE"] = f"bench-test-{os.getpid()}"
os.environ["NMT_DATA_DIR"] = str(ROOT / "tests" / "fixtures" / "dashboard" / "data")
# The site's limits (nmt_site/core/admission.py) count per client address, and the whole suite is one address:
# off by default here (the live server inherits this); the tests of the limits set their own, on Redis keys of
# this run only.
os.environ.setdefault("NMT_API_REDIS_PREFIX", f"nmt:api:test-{os.getpid()}")
for _name in ("NMT_API_REQUESTS_PER_MINUTE", "NMT_API_CHARS_PER_MINUTE", "NMT_MAX_ACTIVE_WORK"):
    os.environ.setdefault(_name, "0")

from nmt_site.settings import *  # noqa: E402,F401,F403
