"""Benchmark request errors reuse the site's user-facing error type (code + message → 4xx JSON)."""

from nmt_site.core.errors import WorkRequestError as BenchmarkRequestError


class RunNotFound(BenchmarkRequestError):
    status = 404

    def __init__(self, message: str = "No such benchmark run."):
        super().__init__("not_found", message)


class RunCancelled(Exception):
    """Raised inside the measuring loop when the run stopped being ours (cancelled): unwinds evaluate_systems."""
