"""The public API's work: languages, detection, translating through the real queue, files.

Translation never runs in the web process: each request becomes a TranslationJob that a worker runs, and the
request waits for it (NMT_API_TIMEOUT); results are cached in Redis per engine, options and text.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from nmt_site.core import lifecycle
from nmt_site.core.errors import WorkRequestError as JobRequestError
from nmt_site.core.owner import Owner
from nmt_site.core.translators import choose_translator, validate_options
from nmt_site.jobs import services as job_services
from nmt_site.jobs.models import JobState, TranslationJob
from translator.registry import list_engines

from . import cache, detect, htmltext
from .errors import ApiError
from .limits import Caller, check_chars

LANGUAGE_NAMES = {
    "en": "English",
    "pt": "Portuguese",
    "de": "German",
    "es": "Spanish",
    "fr": "French",
    "it": "Italian",
    "nl": "Dutch",
    "ru": "Russian",
    "zh": "Chinese",
    "ja": "Japanese",
    "ar": "Arabic",
    "pl": "Polish",
}


def language_name(code: str) -> str:
    return LANGUAGE_NAMES.get(code, code)


def languages() -> list[dict]:
    """LibreTranslate's /languages: every source language with the targets some translator reaches."""
    targets: dict[str, set[str]] = {}
    for info in list_engines():
        targets.setdefault(info.source_lang, set()).add(info.target_lang)
    return [{"code": c, "name": language_name(c), "targets": sorted(t)} for c, t in sorted(targets.items())]


def source_codes() -> list[str]:
    return [lang["code"] for lang in languages()]


def detect_language(text: str) -> list[dict]:
    return detect.detect(text, source_codes())


@dataclass
class TranslateRequest:
    q: list[str]
    is_list: bool
    source: str
    target: str
    fmt: str = "text"
    translator: str | None = None
    options: dict | None = None
    alternatives: int = 0


def _resolve_source(req: TranslateRequest) -> tuple[list[str], list[dict] | None]:
    """Per-item source language; for "auto", detection per item (LibreTranslate answers per item too)."""
    if req.source != "auto":
        return [req.source] * len(req.q), None
    detected = []
    sources = []
    for text in req.q:
        found = detect_language(text)
        best = found[0] if found else {"language": source_codes()[0] if source_codes() else "en", "confidence": 0.0}
        detected.append({"confidence": best["confidence"], "language": best["language"]})
        sources.append(best["language"])
    return sources, detected


def translate(req: TranslateRequest, caller: Caller) -> dict:
    if req.fmt not in ("text", "html"):
        raise ApiError("Invalid request: format must be text or html.")
    if not req.q or not all(isinstance(t, str) for t in req.q):
        raise ApiError("Invalid request: missing q parameter")
    check_chars(caller, sum(len(t) for t in req.q))
    sources, detected = _resolve_source(req)
    translations: list[str | None] = [None] * len(req.q)
    # Items grouped by source language (auto-detection may give several), one queued job per group.
    groups: dict[str, list[int]] = {}
    for i, src in enumerate(sources):
        groups.setdefault(src, []).append(i)
    for src, items in groups.items():
        for i, text in zip(items, _translate_group([req.q[i] for i in items], src, req, caller), strict=False):
            translations[i] = text
    body: dict = {"translatedText": translations if req.is_list else translations[0]}
    if detected is not None:
        body["detectedLanguage"] = detected if req.is_list else detected[0]
    if req.alternatives > 0:  # we produce one translation; the field is there so clients find the shape
        body["alternatives"] = [[] for _ in req.q] if req.is_list else []
    return body


def _translate_group(texts: list[str], source: str, req: TranslateRequest, caller: Caller) -> list[str]:
    try:
        info = choose_translator(source, req.target, req.translator)
        options = validate_options(info, req.options)
    except JobRequestError as exc:
        raise ApiError(f"Invalid request: {exc.message}") from None
    if req.fmt == "html":
        split = [htmltext.split(t) for t in texts]
        segments = [htmltext.texts_of(p, ix) for p, ix in split]
        flat = _translate_lines([s for segs in segments for s in segs], info.name, options, caller)
        out, pos = [], 0
        for (pieces, indexes), segs in zip(split, segments, strict=False):
            out.append(htmltext.join(pieces, indexes, flat[pos : pos + len(segs)]))
            pos += len(segs)
        return out
    return _translate_texts(texts, info.name, options, caller)


def _translate_texts(texts: list[str], engine: str, options: dict, caller: Caller) -> list[str]:
    """Whole texts (with their own line breaks) through the cache and one queued job for the misses."""
    cached = cache.get_many(engine, options, texts)
    missing = [i for i, hit in enumerate(cached) if hit is None and texts[i].strip()]
    results = [hit if hit is not None else "" for hit in cached]
    if missing:
        # All missing texts in one job: their lines are concatenated and split back by line counts.
        lines_per = [len(job_services.split_lines(texts[i])) for i in missing]
        output_lines = _translate_lines(
            [line for i in missing for line in job_services.split_lines(texts[i])],
            engine,
            options,
            caller,
            use_cache=False,
        )
        pos = 0
        fresh = []
        for i, n in zip(missing, lines_per, strict=False):
            results[i] = "\n".join(output_lines[pos : pos + n])
            pos += n
            fresh.append((texts[i], results[i]))
        cache.put_many(engine, options, fresh)
    return results


def _translate_lines(lines: list[str], engine: str, options: dict, caller: Caller, use_cache=True) -> list[str]:
    if not lines:
        return []
    if use_cache:
        return _translate_texts(lines, engine, options, caller)
    job = submit_job(caller, "\n".join(lines), engine, options)
    job = wait_for_job(job.pk, settings.NMT_API_TIMEOUT)
    out = job.output_text.split("\n")
    if len(out) != len(lines):  # the worker guarantees one line per line; never return a shifted result
        raise ApiError("The translator returned a malformed result; try again.", 503)
    return out


def submit_job(caller: Caller, text: str, engine: str, options: dict | None = None) -> TranslationJob:
    owner = Owner(session_key=caller.owner_session)
    try:
        return job_services.create_job(owner=owner, text=text, translator=engine, options=options)
    except JobRequestError as exc:
        raise ApiError(f"Invalid request: {exc.message}") from None


def wait_done(kind, pk, timeout: float, what: str, cancelled_status: int = 503):
    """Block until the work is finished (lifecycle.wait); ApiError 503 (and the work cancelled) when it takes longer
    than ``timeout``, 400 (or ``cancelled_status`` when cancelled) when it did not end done."""
    try:
        obj = lifecycle.wait(kind, pk, timeout, cancel_reason="The API request timed out.")
    except lifecycle.WaitTimeout:
        raise ApiError(f"{what} did not finish within {timeout:g} s (server busy); try again.", 503) from None
    if obj.state != JobState.DONE:
        raise ApiError(
            f"Translation failed: {obj.error or obj.state}", cancelled_status if obj.state == "cancelled" else 400
        )
    return obj


def wait_for_job(job_id, timeout: float) -> TranslationJob:
    return wait_done(job_services.KIND, job_id, timeout, "The translation")
