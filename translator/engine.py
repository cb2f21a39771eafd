"""The one interface every translator implements: load once, translate a batch, report timing.

The workers, the CLI and the evaluation routine only ever talk to an :class:`Engine`, so the
Bergamot wrapper, the torch AR model and the NAR models are interchangeable behind it.
"""

from __future__ import annotations

import abc
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field

from .sentences import segment
from .spelling import Plan, protect

AR = "AR"
NAR = "NAR"
# Load-time number formats of our torch engines on the CPU (translator.quantize); GPUs run fp16. The onnx ones
# run CTC-GLAT's decode in ONNX Runtime with int8 weights, optionally over a lexical shortlist (models/ctc_onnx.py).
PRECISIONS = ("fp32", "int8", "onnx-int8", "onnx-int8-shortlist")
# Decoding options of every Marian AR engine (our transformers, users' Marian folders, their CTranslate2 copies).
# no_repeat_ngram_size: out-of-domain and long inputs otherwise loop on repeated words.
AR_DECODING_DEFAULTS = {"beam": 4, "length_penalty": 1.0, "no_repeat_ngram_size": 3, "max_len_a": 1.5, "max_len_b": 10}


@dataclass(frozen=True)
class EngineInfo:
    """What the site and the dashboard need to know about a translator without loading it."""

    name: str  # stable id, e.g. "bergamot-en-pt" or "cmlm-en-de"
    family: str  # AR or NAR
    architecture: str  # e.g. "marian-int8", "transformer", "cmlm", "ctc-glat"
    source_lang: str
    target_lang: str
    parameters: int | None = None
    description: str = ""
    max_input_tokens: int | None = None
    # Decoding options the engine accepts, with their defaults (beam, iterations, ...).
    decoding_defaults: dict = field(default_factory=dict)

    @property
    def pair(self) -> str:
        return f"{self.source_lang}-{self.target_lang}"

    def as_dict(self) -> dict:
        data = asdict(self)
        data["pair"] = self.pair
        return data


@dataclass
class BatchResult:
    """Outputs of one batch plus the time the model itself spent (tokenization included)."""

    outputs: list[str]
    model_seconds: float
    # Per-output extras, e.g. the number of refinement iterations a NAR decoder used.
    details: list[dict] = field(default_factory=list)


@dataclass
class RefinementStep:
    """One intermediate hypothesis of an iterative (NAR) decoder, for live display."""

    iteration: int
    text: str
    masked_positions: list[int] = field(default_factory=list)
    # Early-exit decoders (calm): per output subword token, the decoder layer (1-based) it exited at.
    token_layers: list[int] = field(default_factory=list)


class EngineError(ValueError):
    """Bad input or a broken model folder: the message is meant for the user."""


class Engine(abc.ABC):
    """A loaded translator. Construct once per process; ``translate_batch`` is the hot path."""

    info: EngineInfo
    # Which characters the model can write (see spelling.py); None: send every input as it is.
    spellable: Callable[[str], bool] | None = None

    @abc.abstractmethod
    def _translate(self, sentences: list[str], **options) -> tuple[list[str], list[dict]]:
        """Translate non-empty sentences; return outputs and per-sentence details."""

    def translate_batch(self, sentences: Sequence[str], **options) -> BatchResult:
        sentences = list(sentences)
        if not sentences:
            return BatchResult(outputs=[], model_seconds=0.0)
        unknown = set(options) - set(self.info.decoding_defaults)
        if unknown:
            raise EngineError(
                f"{self.info.name} does not accept option(s) {sorted(unknown)}; "
                f"it accepts {sorted(self.info.decoding_defaults)}"
            )
        outputs = [""] * len(sentences)
        details: list[dict] = [{} for _ in sentences]
        start = time.perf_counter()
        # Each input becomes its sentences (a model trained on sentences drifts and repeats itself on a paragraph,
        # and some drop the space between sentences); each is translated on its own and the input's own whitespace
        # goes back between them. Empty inputs stay empty; inputs without a letter or digit (emoji, symbols) are
        # copied: there is nothing to translate, and a text model would turn them into noise.
        # Within a sentence, what the model cannot spell is kept in place rather than sent (see spelling.py).
        pieces: list[str] = []  # what goes to the model
        plan: dict[int, list[tuple[Plan, list[int | str], str]]] = {}  # input -> (plan, piece index or copy, gap)
        for i, text in enumerate(sentences):
            text = text.strip()
            if not text:
                continue
            if not any(ch.isalnum() for ch in text):
                outputs[i] = text
                continue
            plan[i] = []
            for sentence, gap in segment(text, self.info.source_lang):
                sentence_plan = protect(sentence, self.spellable) if self.spellable else Plan.whole(sentence)
                slots: list[int | str] = []
                for piece in sentence_plan.to_translate():
                    if any(ch.isalpha() for ch in piece):
                        slots.append(len(pieces))
                        pieces.append(piece)
                    else:  # numbers and symbols between kept words: nothing to translate
                        slots.append(piece)
                plan[i].append((sentence_plan, slots, gap))
        got: list[str] = []
        extra: list[dict] = []
        if pieces:
            got, extra = self._translate(pieces, **options)
            extra = extra or [{} for _ in pieces]
        for i, sentence_plans in plan.items():
            outputs[i] = "".join(
                sentence_plan.assemble([got[s] if isinstance(s, int) else s for s in slots]) + gap
                for sentence_plan, slots, gap in sentence_plans
            )
            model_pieces = [s for _, slots, _ in sentence_plans for s in slots if isinstance(s, int)]
            if len(sentence_plans) == 1 and len(model_pieces) == 1:
                details[i] = dict(extra[model_pieces[0]])
            elif len(sentence_plans) > 1:
                details[i] = {"sentences": len(sentence_plans)}
        return BatchResult(outputs=outputs, model_seconds=time.perf_counter() - start, details=details)

    def refinement_steps(self, sentence: str, **options) -> Iterator[RefinementStep]:
        """Intermediate outputs of an iterative decoder; single-pass engines yield just the result."""
        result = self.translate_batch([sentence], **options)
        yield RefinementStep(iteration=1, text=result.outputs[0])

    def warm_up(self) -> None:
        """Run once after loading so the first user request does not pay for lazy initialisation."""
        self.translate_batch([WARM_UP_TEXT.get(self.info.source_lang, "1.")])


WARM_UP_TEXT = {"en": "Hello world.", "pt": "Olá mundo.", "de": "Hallo Welt."}
