"""Errors whose message is meant for the person at the page. Views and consumers turn them into 4xx/error frames."""


class JobRequestError(Exception):
    """The request cannot become a job: bad text, unknown pair or translator, bad JSON..."""

    status = 400

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message

    def as_dict(self) -> dict:
        return {"code": self.code, "message": self.message}


class JobNotFound(JobRequestError):
    """No such job, or not this page's job: both answer the same, so job ids cannot be probed."""

    status = 404

    def __init__(self, message: str = "No such job for this session."):
        super().__init__("not_found", message)
