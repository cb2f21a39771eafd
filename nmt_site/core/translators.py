"""Which translator serves a request, and which decoding options it accepts: shared by every kind of work."""

from __future__ import annotations

from django.conf import settings

from translator.engine import EngineInfo
from translator.registry import list_engines

from .errors import WorkRequestError


def choose_translator(source_lang: str | None, target_lang: str | None, translator: str | None) -> EngineInfo:
    """The translator to use, checked against the registry; a clear WorkRequestError otherwise."""
    infos = list_engines()
    if translator:
        info = next((i for i in infos if i.name == translator), None)
        if info is None:
            names = ", ".join(i.name for i in infos) or "none"
            raise WorkRequestError("unknown_translator", f"Unknown translator '{translator}'. Available: {names}.")
        if (source_lang and source_lang != info.source_lang) or (target_lang and target_lang != info.target_lang):
            raise WorkRequestError(
                "pair_mismatch",
                f"Translator '{translator}' translates {info.source_lang}→{info.target_lang}, "
                f"not {source_lang}→{target_lang}.",
            )
        return info
    if not (source_lang and target_lang):
        raise WorkRequestError("missing_pair", "Choose a language pair (source_lang and target_lang) or a translator.")
    for info in infos:
        if info.source_lang == source_lang and info.target_lang == target_lang:
            return info
    pairs = ", ".join(sorted({i.pair for i in infos})) or "none"
    raise WorkRequestError("unknown_pair", f"No translator for {source_lang}→{target_lang}. Available pairs: {pairs}.")


def validate_options(info: EngineInfo, options) -> dict:
    """Decoding options must be ones the engine declares, with plain scalar values."""
    if options is None:
        return {}
    if not isinstance(options, dict):
        raise WorkRequestError("bad_options", "'options' must be a JSON object of decoding settings.")
    unknown = sorted(set(options) - set(info.decoding_defaults))
    if unknown:
        accepted = ", ".join(sorted(info.decoding_defaults)) or "none"
        raise WorkRequestError(
            "bad_options", f"Translator '{info.name}' does not accept option(s) {unknown}; it accepts: {accepted}."
        )
    for key, value in options.items():
        default = info.decoding_defaults[key]
        # bool is an int subclass: compare the exact kinds so "beam": true is refused.
        if isinstance(default, bool) != isinstance(value, bool) or not isinstance(value, (int, float, bool)):
            raise WorkRequestError("bad_options", f"Option '{key}' must be like {default!r}.")
        if not isinstance(value, bool) and not (0 <= value <= 1000):
            raise WorkRequestError("bad_options", f"Option '{key}' is out of range (0..1000).")
    return dict(options)


def engine_device() -> str:
    # The registry speaks torch device names; the site speaks queue names. NMT_ENGINE_DEVICE overrides (the tests run
    # the gpu worker's path on the CPU).
    return settings.NMT_ENGINE_DEVICE or ("cuda" if settings.NMT_DEVICE == "gpu" else "cpu")
