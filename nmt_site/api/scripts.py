"""Whether a line has anything a translator of a language can read: letters of that language's script.

A model trained on Latin-script text answers a line of emoji, CJK or Arabic with noise (often "-");
LibreTranslate returns such input unchanged, and so do we.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

# Unicode name prefixes of the letters each language is written in; Latin for every language not listed.
SCRIPTS = {
    "ar": ("ARABIC",),
    "ru": ("CYRILLIC",),
    "uk": ("CYRILLIC",),
    "zh": ("CJK",),
    "ja": ("CJK", "HIRAGANA", "KATAKANA"),
    "ko": ("HANGUL",),
    "el": ("GREEK",),
}


@lru_cache(maxsize=4096)
def _script(char: str) -> str:
    return unicodedata.name(char, "").split(" ", 1)[0]


def readable(line: str, lang: str) -> bool:
    prefixes = SCRIPTS.get(lang, ("LATIN",))
    return any(unicodedata.category(c).startswith("L") and _script(c) in prefixes for c in line)
