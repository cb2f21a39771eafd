"""Offline language detection (lingua), restricted to the languages our translators read."""

from __future__ import annotations

import threading

from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

_lock = threading.Lock()
_detectors: dict[tuple[str, ...], object] = {}


def _detector(codes: tuple[str, ...]):
    with _lock:
        if codes not in _detectors:
            langs = []
            for code in codes:
                iso = getattr(IsoCode639_1, code.upper(), None)
                if iso is not None:
                    langs.append(Language.from_iso_code_639_1(iso))
            if len(langs) < 2:  # lingua needs two candidates; one language is "detected" trivially below
                _detectors[codes] = None
            else:
                _detectors[codes] = LanguageDetectorBuilder.from_languages(*langs).build()
        return _detectors[codes]


def detect(text: str, codes: list[str]) -> list[dict]:
    """[{"language": code, "confidence": 0..100}, ...] best first, LibreTranslate's shape; [] if undecidable."""
    codes = tuple(sorted(set(codes)))
    if not codes or not text.strip():
        return []
    detector = _detector(codes)
    if detector is None:
        return [{"language": codes[0], "confidence": 100.0}]
    results = []
    for value in detector.compute_language_confidence_values(text):
        code = value.language.iso_code_639_1.name.lower()
        results.append({"language": code, "confidence": round(float(value.value) * 100, 1)})
    results.sort(key=lambda r: -r["confidence"])
    if results and results[0]["confidence"] <= 0:
        return []  # digits or punctuation only: no language
    return results
