"""`python -m nmt_site.runlocal`: the whole site on one machine (what scripts/run starts).

Redis (the one at REDIS_URL if it answers, else the embedded one), migrations, one Celery worker for the
configured queue and the daphne ASGI server. Ctrl-C stops every child it started.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/run")
    parser.add_argument("--host", default=os.environ.get("NMT_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("NMT_PORT", "8000")))
    parser.add_argument("--no-worker", action="store_true", help="do not start a Celery worker")
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nmt_site.settings")
    from nmt_site.local_redis import ensure_redis  # noqa: E402  (after argparse: --help stays instant)

    var = Path(os.environ.get("NMT_VAR_DIR", ROOT / "var"))
    children: list[subprocess.Popen] = []
    url, redis_process = ensure_redis(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"), var / "redis")
    if redis_process:
        children.append(redis_process)
        print(f"no Redis answered; started the embedded one at {url} (data in {var / 'redis'})", flush=True)
    else:
        print(f"using the Redis at {url}", flush=True)
    env = {**os.environ, "REDIS_URL": url}
    if env.get("CELERY_BROKER_URL") is None:
        env["CELERY_BROKER_URL"] = url

    def stop(*_):
        for child in reversed(children):
            if child.poll() is None:
                child.terminate()
        deadline = time.monotonic() + 15
        for child in reversed(children):
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
        print("stopped.", flush=True)

    def on_signal(signum, _frame):
        raise KeyboardInterrupt

    # Both explicitly: a shell that starts us in the background may have left SIGINT ignored.
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    python = sys.executable
    try:
        subprocess.run([python, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=env, check=True)
        # A fresh install shows the shipped models' trade-offs first: import the measurement shipped with them
        # (benchmarks/results/en-de-models.json), or queue the default benchmark when there is none.
        subprocess.run([python, "manage.py", "benchmark", "--if-none"], cwd=ROOT, env=env, check=False)
        queue = "gpu" if env.get("NMT_DEVICE") == "gpu" else "cpu"
        if not args.no_worker:
            children.append(
                subprocess.Popen(
                    [
                        python,
                        "-m",
                        "celery",
                        "-A",
                        "nmt_site",
                        "worker",
                        "-Q",
                        queue,
                        "--concurrency",
                        "1",
                        "--loglevel",
                        "INFO",
                        "-n",
                        f"{queue}-local@%h",
                    ],
                    cwd=ROOT,
                    env=env,
                )
            )
            # Benchmarks: their own worker, one run at a time (concurrent timing runs spoil each other's numbers).
            children.append(
                subprocess.Popen(
                    [
                        python,
                        "-m",
                        "celery",
                        "-A",
                        "nmt_site",
                        "worker",
                        "-Q",
                        env.get("NMT_BENCH_QUEUE") or "bench",
                        "--concurrency",
                        "1",
                        "--loglevel",
                        "INFO",
                        "-n",
                        "bench-local@%h",
                    ],
                    cwd=ROOT,
                    env={**env, "NMT_WARM_ENGINES": ""},
                )
            )
        children.append(
            subprocess.Popen(
                [python, "-m", "daphne", "-b", args.host, "-p", str(args.port), "nmt_site.asgi:application"],
                cwd=ROOT,
                env=env,
            )
        )
        print(f"\n  Translation studio: http://{args.host}:{args.port}/   (Ctrl-C stops everything)\n", flush=True)
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
        failed = [c.args[2] if len(c.args) > 2 else c.args[0] for c in children if c.poll() is not None]
        print(f"a child process exited ({failed}); stopping the rest", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        return 0
    except subprocess.CalledProcessError as exc:
        print(f"setup step failed: {exc}", file=sys.stderr)
        return 1
    finally:
        stop()


if __name__ == "__main__":
    raise SystemExit(main())
