"""Errors whose message is meant for the person at the page. Views and consumers turn them into 4xx/error frames."""

from nmt_site.core.errors import WorkRequestError

# The site's one request-error type (documents and benchmarks subclass it too), under its historical name.
JobRequestError = WorkRequestError


class JobNotFound(JobRequestError):
    """No such job, or not this page's job: both answer the same, so job ids cannot be probed."""

    status = 404

    def __init__(self, message: str = "No such job for this session."):
        super().__init__("not_found", message)
