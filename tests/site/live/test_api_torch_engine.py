"""Our extra /translate parameters with a real torch engine: translator choice and decoding options."""

from __future__ import annotations

import json
import uuid

import pytest
from django.test import Client

from nmt_site.jobs.models import TranslationJob

pytestmark = pytest.mark.worker


def test_translator_and_decoding_options_reach_the_engine(
    celery_worker_process, transactional_db, settings, tiny_engines
):
    settings.NMT_API_REDIS_PREFIX = f"nmt:api:test:{uuid.uuid4().hex}"
    client = Client()

    def translate(options):
        body = {
            "q": "t6 t7 t8",
            "source": "en",
            "target": "de",
            "nmt_translator": "tiny-cmlm-en-de",
            "nmt_options": options,
        }
        return client.post("/translate", data=json.dumps(body), content_type="application/json")

    one = translate({"iterations": 1})
    assert one.status_code == 200, one.content
    assert one.json()["translatedText"].strip()
    job = TranslationJob.objects.get(translator="tiny-cmlm-en-de", options={"iterations": 1})
    assert job.state == "done"
    # Other options are another cache entry, so another job; the same options are answered from the cache.
    assert translate({"iterations": 3}).status_code == 200
    assert translate({"iterations": 3}).status_code == 200
    assert TranslationJob.objects.filter(translator="tiny-cmlm-en-de").count() == 2
    bad = translate({"iterations": "many"})
    assert bad.status_code == 400 and "iterations" in bad.json()["error"]
    # Without nmt_translator the pair picks a translator itself; naming one of another pair is refused.
    other = client.post(
        "/translate",
        data=json.dumps({"q": "Hi", "source": "en", "target": "pt", "nmt_translator": "tiny-cmlm-en-de"}),
        content_type="application/json",
    )
    assert other.status_code == 400 and "translates en→de" in other.json()["error"]
