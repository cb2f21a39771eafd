"""``<name>-ct2``: a Marian checkpoint (ours or a user's) run by CTranslate2 with int8 weights.

Same tokenizer, same decoding options and defaults as the torch engine of the same folder (beam, length
penalty, no-repeat n-gram size, per-sentence length budget max_len_a × source + max_len_b), the pad token never
produced; the converted model is made at first use (translator/ct2.py). CTranslate2 runs as many threads as
torch is set to (``torch.set_num_threads``, which evaluate and the workers set), so a race runs both sides on the
same thread count; the translator is rebuilt when that number changes.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

from .. import ct2, marian_folder
from ..engine import AR, Engine, EngineError, EngineInfo

MAX_BATCH_SENTENCES = 64


def info_for(source: EngineInfo) -> EngineInfo:
    return EngineInfo(
        name=source.name + ct2.SUFFIX,
        family=AR,
        architecture=f"ctranslate2-{ct2.QUANTIZATION} (Marian, from {source.name})",
        source_lang=source.source_lang,
        target_lang=source.target_lang,
        parameters=source.parameters,
        description=f"{source.name} converted to CTranslate2 with {ct2.QUANTIZATION} weights: the optimized AR "
        "engine self-hosters deploy.",
        max_input_tokens=source.max_input_tokens,
        decoding_defaults=dict(marian_folder.decoding_defaults()),
    )


class CTranslate2Engine(Engine):
    def __init__(self, info: EngineInfo, folder: Path, converted: Path, device: str = "cpu"):
        self.info = info
        self.folder, self.converted = Path(folder), Path(converted)
        self.device = "cuda" if device.startswith("cuda") else "cpu"
        self.tokenizer = marian_folder.load_tokenizer(folder)
        self.spellable = marian_folder.spellable(self.tokenizer)
        self.vocabulary = marian_folder.token_list(self.tokenizer)
        self.token_ids = {token: i for i, token in enumerate(self.vocabulary)}
        specials = json.loads((self.converted / "nmt_tokens.json").read_text())
        self.pad_token, self.eos_token = specials["pad"], specials["eos"]
        config = marian_folder.read_config(folder)
        positions = int(config.get("max_positions") or config.get("max_position_embeddings", 512))
        self.max_positions = positions
        self.max_source_tokens = int(config.get("max_source_tokens") or positions)
        # What evaluate reports as the model's size: the converted files, not the torch checkpoint.
        self.size_mb = sum(p.stat().st_size for p in self.converted.iterdir() if p.is_file()) / 2**20
        self._translator = None
        self._threads = 0
        self._lock = threading.Lock()

    def _ct2(self):
        """The CTranslate2 translator, (re)built for torch's current thread count."""
        import ctranslate2
        import torch

        threads = torch.get_num_threads()
        with self._lock:
            if self._translator is None or self._threads != threads:
                # "default": the number format the model was converted to (int8 for the registry's copies)
                self._translator = ctranslate2.Translator(
                    str(self.converted), device=self.device, compute_type="default", intra_threads=threads
                )
                self._threads = threads
            return self._translator

    def _translate(  # type: ignore[override]  # decoding options are keyword arguments, like the torch engine's
        self,
        sentences: list[str],
        beam: int = 4,
        length_penalty: float = 1.0,
        no_repeat_ngram_size: int = 3,
        max_len_a: float = 1.5,
        max_len_b: int = 10,
    ):
        if int(beam) < 1:
            raise EngineError("beam must be at least 1")
        sources, truncated, limits = [], [], []
        for ids in self.tokenizer.encode(sentences):
            keep = self.max_source_tokens - 1  # room for EOS, as the torch engine keeps
            truncated.append(len(ids) > keep)
            tokens = [self.vocabulary[i] for i in ids[:keep]] + [self.eos_token]
            sources.append(tokens)
            limits.append(min(int(float(max_len_a) * len(tokens) + int(max_len_b)), self.max_positions - 1))
        results = self._ct2().translate_batch(
            sources,
            beam_size=int(beam),
            length_penalty=float(length_penalty),
            no_repeat_ngram_size=int(no_repeat_ngram_size),
            max_decoding_length=max(limits),
            suppress_sequences=[[self.pad_token]],
            max_batch_size=MAX_BATCH_SENTENCES,
        )
        # One length limit per call; each output is cut at its own sentence's budget, as the torch engine stops it.
        outputs = [
            [self.token_ids[t] for t in result.hypotheses[0][:limit]]
            for result, limit in zip(results, limits, strict=True)
        ]
        details = [{"beam": int(beam), "truncated": cut} for cut in truncated]
        return self.tokenizer.decode(outputs), details


def load(info: EngineInfo, folder: Path, device: str | None = None) -> CTranslate2Engine:
    if not ct2.available():
        raise EngineError(f"{info.name} needs the ctranslate2 package (pip install ctranslate2)")
    converted = ct2.convert_checkpoint(folder, info.name.removesuffix(ct2.SUFFIX))
    return CTranslate2Engine(info, folder, converted, device or "cpu")
