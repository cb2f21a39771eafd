"""API errors in LibreTranslate's shape: {"error": "<message>"} with a 4xx (or 503) status."""


class ApiError(Exception):
    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status
