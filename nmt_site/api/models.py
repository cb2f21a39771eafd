"""API keys: optional (NMT_API_KEY_REQUIRED), each with its own request and character limits."""

import secrets

from django.db import models


def new_key() -> str:
    return secrets.token_urlsafe(24)


class ApiKey(models.Model):
    key = models.CharField(max_length=64, unique=True, default=new_key)
    name = models.CharField(max_length=128, blank=True)
    # Requests per minute for this key; None = the site default (NMT_API_REQUESTS_PER_MINUTE).
    requests_per_minute = models.PositiveIntegerField(null=True, blank=True)
    # Characters per request for this key; None = the site default (NMT_API_CHAR_LIMIT).
    char_limit = models.PositiveIntegerField(null=True, blank=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"{self.name or 'key'} ({self.key[:6]}…)"
