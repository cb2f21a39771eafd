"""A user's Hugging Face Marian folder (OPUS-MT layout, made in tests/marian_fixture.py) dropped into the
checkpoints folder: listed by the site, served by the API through the real queue and worker in torch and as its
CTranslate2 int8 copy (converted by the worker at first use), and part of the dashboard's default benchmark."""

from __future__ import annotations

import json
import shutil
import uuid

import pytest
from django.test import Client

from nmt_site.jobs.models import TranslationJob
from tests.marian_fixture import make_marian_folder

from ..tiny_engines import CHECKPOINTS, CT2_DIR

pytestmark = [pytest.mark.worker, pytest.mark.timeout(900)]
NAME = "tiny-opus-en-de"


@pytest.fixture(scope="module")
def marian_engine():
    folder = make_marian_folder(CHECKPOINTS / NAME, steps=350)
    yield NAME
    shutil.rmtree(folder, ignore_errors=True)
    shutil.rmtree(CT2_DIR / NAME, ignore_errors=True)


def test_marian_folder_and_its_ctranslate2_copy_translate_through_the_queue(
    celery_worker_process, transactional_db, settings, marian_engine
):
    settings.NMT_API_REDIS_PREFIX = f"nmt:api:test:{uuid.uuid4().hex}"
    client = Client()
    listed = {t["name"]: t for t in client.get("/api/translators").json()["translators"]}
    assert listed[NAME]["pair"] == "en-de" and listed[NAME]["architecture"] == "marian"
    assert listed[f"{NAME}-ct2"]["architecture"].startswith("ctranslate2-int8")
    for name in (NAME, f"{NAME}-ct2"):
        body = {"q": "alpha beta\ngamma delta", "source": "en", "target": "de", "nmt_translator": name}
        response = client.post("/translate", data=json.dumps(body), content_type="application/json")
        assert response.status_code == 200, response.content
        assert response.json()["translatedText"] == "ALPHA BETA\nGAMMA DELTA"
        assert TranslationJob.objects.get(translator=name).state == "done"
        # Decoding options are the torch engine's, checked the same way.
        body["nmt_options"] = {"beam": "wide"}
        bad = client.post("/translate", data=json.dumps(body), content_type="application/json")
        assert bad.status_code == 400 and "beam" in bad.json()["error"]
    assert (CT2_DIR / NAME / "model.bin").is_file()  # the worker converted it at first use


def test_default_benchmark_has_the_ctranslate2_rows(marian_engine):
    from nmt_site.dashboard.services import default_request

    systems = default_request()["systems"]
    assert {"translator": f"{NAME}-ct2", "options": {"beam": 4}} in systems
    assert {"translator": f"{NAME}-ct2", "options": {"beam": 1}} in systems
