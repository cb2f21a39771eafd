"""Upload and download errors with a message for the person at the page, and the HTTP status that fits."""

from nmt_site.jobs.errors import JobNotFound, JobRequestError


class DocumentError(JobRequestError):
    """The file cannot become a document job (unsupported, corrupt, empty...)."""

    status = 422


class UnsupportedFile(DocumentError):
    status = 415


class FileTooLarge(DocumentError):
    status = 413


class NotReady(DocumentError):
    """The document exists but is not in a state that allows this (download before it is done)."""

    status = 409


class DocumentNotFound(JobNotFound):
    def __init__(self, message: str = "No such document for this session."):
        super().__init__(message)


__all__ = ["DocumentError", "DocumentNotFound", "FileTooLarge", "NotReady", "JobRequestError", "UnsupportedFile"]
