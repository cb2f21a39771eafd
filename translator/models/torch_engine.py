"""The :class:`Engine` wrapper shared by all our torch model families.

Tokenize → sort by length → batch → ``model.generate`` → restore order → detokenize. Inputs longer
than the model's maximum are truncated and the detail ``truncated`` says so (never a crash).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import torch

from ..checkpoint import load_model_folder
from ..device import inference_dtype, resolve_device
from ..engine import Engine, EngineError, RefinementStep
from ..marian_folder import engine_info, spellable
from ..quantize import check_precision, quantize_int8
from ..tokenizer import SubwordTokenizer
from .base import pad_sequences

MAX_BATCH_SENTENCES = 64
# A batch is padded to its longest sentence: sentences sorted by length are cut into sub-batches wherever padding
# would exceed this share of the real tokens. One padded batch of 32 LibreOffice sentences cost CTC-GLAT more per
# sentence than translating them one by one (59.6 against 47.7 ms of CPU, 1 thread, a loaded core); cut at 15-30 %
# it cost 26 ms, and the AR teacher (beam 4) 116 ms against 155 in one batch and 291 one by one.
PADDING_TOLERANCE = 0.2


def length_batches(lengths: list[int], max_sentences: int = MAX_BATCH_SENTENCES) -> list[list[int]]:
    """Indices of ``lengths`` sorted by length, cut into batches of at most ``max_sentences`` whose padded size
    stays within ``PADDING_TOLERANCE`` of their real size."""
    batches: list[list[int]] = []
    current: list[int] = []
    real = 0
    for i in sorted(range(len(lengths)), key=lengths.__getitem__):
        padded = lengths[i] * (len(current) + 1)  # sorted: the newcomer is the longest
        if current and (len(current) >= max_sentences or padded > (1 + PADDING_TOLERANCE) * (real + lengths[i])):
            batches.append(current)
            current, real = [], 0
        current.append(i)
        real += lengths[i]
    if current:
        batches.append(current)
    return batches


class TorchEngine(Engine):
    def __init__(self, model, tokenizer: SubwordTokenizer, info, device: torch.device):
        self.model = model
        self.tokenizer = tokenizer
        self.info = info
        self.device = device
        self.max_source_tokens = int(model.config.get("max_source_tokens", 200))
        self.spellable = spellable(tokenizer)

    def _encode(self, sentences: list[str]) -> tuple[list[list[int]], list[bool]]:
        ids, truncated = [], []
        for seq in self.tokenizer.encode(sentences):
            # Keep room for EOS; an over-long input is cut, and the detail says so.
            limit = self.max_source_tokens - 1
            truncated.append(len(seq) > limit)
            ids.append(seq[:limit] + [self.tokenizer.eos_id])
        return ids, truncated

    @torch.inference_mode()
    def _translate(self, sentences: list[str], **options):
        options = {**self.info.decoding_defaults, **options}
        ids, truncated = self._encode(sentences)
        outputs: list[list[int]] = [[] for _ in ids]
        details: list[dict] = [{} for _ in ids]
        for chunk in length_batches([len(seq) for seq in ids]):
            src = pad_sequences([ids[i] for i in chunk], self.tokenizer.pad_id, self.device)
            got, extra = self.model.generate(src, **options)
            for i, out, det in zip(chunk, got, extra, strict=False):
                outputs[i] = out
                details[i] = dict(det, truncated=truncated[i])
        return self.tokenizer.decode(outputs), details

    @torch.inference_mode()
    def refinement_steps(self, sentence: str, **options) -> Iterator[RefinementStep]:
        options = {**self.info.decoding_defaults, **options}
        ids, _ = self._encode([sentence])
        src = pad_sequences(ids, self.tokenizer.pad_id, self.device)
        for iteration, out, masked, *extra in self.model.refine_steps(src, **options):  # extra: RefinementStep fields
            yield RefinementStep(iteration, self.tokenizer.decode([out])[0], masked, **(extra[0] if extra else {}))


def load(folder: Path, device: str | None = None, precision: str | None = None) -> TorchEngine:
    """``precision``: "fp32", or "int8" on the CPU (see quantize); None = fp32 on a CPU, fp16 on a GPU."""
    torch_device = resolve_device(device)
    info = engine_info(folder)  # engine.json, or a dropped-in Marian folder's own files
    if precision:
        try:
            check_precision(precision, torch_device)
        except ValueError as exc:
            raise EngineError(f"{info.name}: {exc}") from None
    dtype = torch.float32 if precision else inference_dtype(torch_device)
    model, tokenizer = load_model_folder(folder, torch_device, dtype)
    if precision and precision.startswith("onnx-"):
        from . import ctc_onnx

        return ctc_onnx.load(model, tokenizer, info, torch_device, Path(folder), precision)
    if precision == "int8":
        model = quantize_int8(model)
    # A family with its own engine (INarIG: word completion) names it; the others translate.
    return getattr(type(model), "engine_class", TorchEngine)(model, tokenizer, info, torch_device)
