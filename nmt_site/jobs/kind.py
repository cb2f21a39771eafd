"""The text job's place in the one lifecycle (nmt_site.core.lifecycle): its rows, task, queue and watchers."""

from django.conf import settings

from nmt_site.core import lifecycle

from .models import TranslationJob
from .notify import publish_job

TRANSLATE_TASK = "workers.tasks.translate_job"

KIND = lifecycle.register(
    lifecycle.Kind(
        label="job",
        model=TranslationJob,
        task=TRANSLATE_TASK,
        queue=lambda: settings.NMT_QUEUE,
        notify=publish_job,
        doing="running this job",
    )
)
