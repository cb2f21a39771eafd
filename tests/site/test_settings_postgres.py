"""DATABASE_URL switches the site to PostgreSQL: settings resolve to it, and jobs are stored and read there.

Runs in subprocesses, because settings are read once per process. Uses a scratch database that it creates
and drops, on the PostgreSQL at 127.0.0.1:5432 (CI has one); skipped with a message when none answers.
"""

import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest

from .conftest import forget_queue

ROOT = Path(__file__).resolve().parents[2]
PG_BASE = os.environ.get("NMT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432")


def run_python(code: str, env_extra: dict) -> subprocess.CompletedProcess:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "nmt_site.settings", **env_extra}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180
    )


def test_settings_resolve_to_postgres_engine():
    proc = run_python(
        "from django.conf import settings; d = settings.DATABASES['default']; print(d['ENGINE'], d['NAME'], d['HOST'])",
        {"DATABASE_URL": f"{PG_BASE}/test"},
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["django.db.backends.postgresql", "test", "127.0.0.1"]


def test_settings_default_to_sqlite_file():
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "from django.conf import settings; d = settings.DATABASES['default'];print(d['ENGINE'], d['NAME'])",
        ],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "nmt_site.settings"},
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    engine, name = proc.stdout.split()
    assert engine == "django.db.backends.sqlite3" and name.endswith("var/db.sqlite3")


@pytest.fixture
def scratch_postgres():
    psycopg = pytest.importorskip("psycopg")
    try:
        admin = psycopg.connect(f"{PG_BASE}/postgres", autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL at {PG_BASE} is not reachable: {exc}")
    name = f"nmt_test_{uuid.uuid4().hex[:10]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{PG_BASE}/{name}"
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def test_job_is_created_and_read_on_real_postgres(scratch_postgres):
    code = """
        import django
        django.setup()
        from django.core.management import call_command
        from django.db import connection
        call_command("migrate", verbosity=0)
        from nmt_site.jobs import selectors, services
        owner = selectors.Owner(session_key="pg-session")
        job = services.create_job(owner=owner, text="The cat sleeps.", source_lang="en", target_lang="pt")
        again = selectors.get_owned_job(job.id, owner)
        print(connection.vendor, again.state, again.translator, again.input_text == "The cat sleeps.")
    """
    # The enqueue after commit goes to a queue of the test Redis that no worker consumes; removed after.
    queue = f"pg-check-{uuid.uuid4().hex[:8]}"
    proc = run_python(code, {"DATABASE_URL": scratch_postgres, "NMT_QUEUE": queue})
    forget_queue(queue)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.split() == ["postgresql", "queued", "bergamot-en-pt", "True"]
