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
from translator.engine import EngineInfo
from translator.registry import list_engines

from . import cache, detect, htmltext, scripts
from .errors import ApiError
from .limits import Caller

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
    """LibreTranslate's /languages: every language a translator reads or writes, each with the targets some
    translator reaches from it (clients such as the npm `libretranslate` check both codes against this list)."""
    targets: dict[str, set[str]] = {}
    for info in list_engines():
        targets.setdefault(info.source_lang, set()).add(info.target_lang)
        targets.setdefault(info.target_lang, set())
    return [{"code": c, "name": language_name(c), "targets": sorted(t)} for c, t in sorted(targets.items())]


def source_codes() -> list[str]:
    return [lang["code"] for lang in languages() if lang["targets"]]


def detect_language(text: str) -> list[dict]:
    """/detect: among every language of /languages (a German text is German, even with no translator from it)."""
    return detect.detect(text, [lang["code"] for lang in languages()])


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


def _auto_candidates(target: str) -> list[str]:
    """What "auto" may detect for this target: the languages that have a translator into it, and the target
    itself (a text already in the target language comes back unchanged, as LibreTranslate answers)."""
    codes = {lang["code"] for lang in languages()}
    sources = sorted({info.source_lang for info in list_engines() if info.target_lang == target})
    if not sources:
        pairs = ", ".join(sorted({i.pair for i in list_engines()})) or "none"
        raise ApiError(f"Invalid request: no translator into {target}. Available pairs: {pairs}.")
    return sources + ([target] if target in codes else [])


def _resolve_source(req: TranslateRequest) -> tuple[list[str], list[dict] | None]:
    """Per-item source language; for "auto", detection per item (LibreTranslate answers per item too)."""
    if req.source != "auto":
        return [req.source] * len(req.q), None
    candidates = _auto_candidates(req.target)
    detected = []
    sources = []
    for text in req.q:
        found = detect.detect(text, candidates)
        best = found[0] if found else {"language": candidates[0], "confidence": 0.0}
        detected.append({"confidence": best["confidence"], "language": best["language"]})
        sources.append(best["language"])
    return sources, detected


def translate(req: TranslateRequest, caller: Caller) -> dict:
    if req.fmt not in ("text", "html"):
        raise ApiError("Invalid request: format must be text or html.")
    if not req.q or not all(isinstance(t, str) for t in req.q):
        raise ApiError("Invalid request: missing q parameter")
    sources, detected = _resolve_source(req)
    translations: list[str | None] = [None] * len(req.q)
    # Items grouped by source language (auto-detection may give several), one queued job per group.
    groups: dict[str, list[int]] = {}
    for i, src in enumerate(sources):
        groups.setdefault(src, []).append(i)
    for src, items in groups.items():
        texts = [req.q[i] for i in items]
        out = texts if src == req.target else _translate_group(texts, src, req, caller)
        for i, text in zip(items, out, strict=False):
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
        flat = _translate_texts([s for segs in segments for s in segs], info, options, caller)
        out, pos = [], 0
        for (pieces, indexes), segs in zip(split, segments, strict=False):
            out.append(htmltext.join(pieces, indexes, flat[pos : pos + len(segs)]))
            pos += len(segs)
        return out
    return _translate_texts(texts, info, options, caller)


def _translate_texts(texts: list[str], info: EngineInfo, options: dict, caller: Caller) -> list[str]:
    """Whole texts (with their own line breaks) through the cache and one queued job for the misses.

    Only lines with something the model reads go to the job: a line of emoji, digits or another script
    comes back as it is (a model trained on Latin text answers such input with noise)."""
    cached = cache.get_many(info.name, options, texts)
    results = [hit if hit is not None else (t if t.strip() else "") for t, hit in zip(texts, cached, strict=True)]
    lines = {
        i: job_services.split_lines(t) for i, (t, hit) in enumerate(zip(texts, cached, strict=True)) if hit is None
    }
    wanted = [
        (i, n) for i, ls in lines.items() for n, line in enumerate(ls) if scripts.readable(line, info.source_lang)
    ]
    if not wanted:
        return results
    output = _translate_lines([lines[i][n] for i, n in wanted], info.name, options, caller)
    for (i, n), text in zip(wanted, output, strict=True):
        lines[i][n] = text
    fresh = []
    for i in dict.fromkeys(i for i, _ in wanted):
        results[i] = "\n".join(lines[i])
        fresh.append((texts[i], results[i]))
    cache.put_many(info.name, options, fresh)
    return results


def _translate_lines(lines: list[str], engine: str, options: dict, caller: Caller) -> list[str]:
    job = submit_job(caller, "\n".join(lines), engine, options)
    job = wait_for_job(job.pk, settings.NMT_API_TIMEOUT)
    out = job.output_text.split("\n")
    if len(out) != len(lines):  # the worker guarantees one line per line; never return a shifted result
        raise ApiError("The translator returned a malformed result; try again.", 503)
    return out


def submit_job(caller: Caller, text: str, engine: str, options: dict | None = None) -> TranslationJob:
    owner = Owner(session_key=caller.owner_session)
    try:
        # The request was admitted, its characters counted as LibreTranslate counts them (the items, not the
        # line breaks joining them here), against the caller's own limit: the job's NMT_MAX_CHARS does not apply.
        return job_services.create_job(owner=owner, text=text, translator=engine, options=options, char_limit=0)
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
