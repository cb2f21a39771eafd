"""The Celery app object. Its configuration lives in settings.py under the CELERY_ prefix.

Workers run `celery -A nmt_site worker -Q cpu` (or `-Q gpu`); the tasks live in the `workers` package.
"""

import logging
import os

from celery import Celery
from kombu.transport import redis as kombu_redis

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nmt_site.settings")

app = Celery(
    "nmt_site",
    include=["workers.tasks", "workers.signals", "workers.lifecycle", "workers.benchmarks", "workers.document_tasks"],
)
app.config_from_object("django.conf:settings", namespace="CELERY")


def _tolerate_a_closed_channel(method):
    """kombu 5.7 (redis transport): once Redis has gone away, the old channel's connection is closed (None, or a
    transport without a client). Putting unacknowledged messages back when the channel closes, or acknowledging
    a task that finishes after the worker reconnected, then raises AttributeError, which kills the whole worker
    ("Unrecoverable error"). Leave such messages in Redis's unacked hash instead: the visibility timeout restores
    them, and the lifecycle's sweeper covers their rows long before that (nmt_site/core/lifecycle.py)."""

    def tolerant(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except AttributeError:
            connection = getattr(self.channel, "connection", None)
            if connection is not None and getattr(connection, "client", None) is not None:
                raise  # not the closed-channel case
            logging.getLogger(__name__).warning("broker channel closed: %s left to the sweeper", method.__name__)
            if method.__name__ == "restore_unacked":
                self._delivered.clear()
            return None

    return tolerant


for _name in ("restore_unacked", "ack", "reject"):
    setattr(kombu_redis.QoS, _name, _tolerate_a_closed_channel(getattr(kombu_redis.QoS, _name)))
