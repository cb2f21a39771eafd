"""Worker-process hooks: warm the configured engines in every pool process."""

import logging

from celery.signals import worker_process_init
from django.conf import settings

from nmt_site.core.translators import engine_device
from translator.engine import EngineError
from translator.registry import list_engines, load_engine

log = logging.getLogger(__name__)


@worker_process_init.connect
def warm_engines(**_):
    """Load and warm the configured engines once per pool process, so the first job pays no load time.
    (settings.CELERY_WORKER_PROC_ALIVE_TIMEOUT leaves this far more time than it takes.)"""
    available = {info.name for info in list_engines()}
    for name in settings.NMT_WARM_ENGINES:
        if name not in available:
            log.warning("engine %s is not installed; not warming it", name)
            continue
        try:
            load_engine(name, device=engine_device()).warm_up()
            log.info("engine %s loaded and warmed up", name)
        except EngineError as exc:
            log.error("engine %s failed to load: %s", name, exc)
