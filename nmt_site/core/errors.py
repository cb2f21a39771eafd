"""Errors whose message is meant for the person at the page. Views and consumers turn them into 4xx/error frames."""


class WorkRequestError(Exception):
    """The request cannot become work: bad text, unknown pair or translator, bad JSON..."""

    status = 400

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message

    def as_dict(self) -> dict:
        return {"code": self.code, "message": self.message}
