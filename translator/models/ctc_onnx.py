"""CTC-GLAT under ONNX Runtime with int8 weights: the NAR made as lean as the optimized AR (precisions
``onnx-int8`` and ``onnx-int8-shortlist``).

Why (benchmarks/nar_profile.py): at batch 1 on one CPU thread a good part of a torch decode is framework work
around small matrix products (module calls, dispatch, dynamic quantization per call); the rest is the encoder, the
three decoder layers over the upsampled slots and the output projection over the vocabulary. So the whole decode
up to the argmax — encoder, decoder, projection, blank penalty, argmax — is one ONNX graph that ONNX Runtime runs
with its own fused kernels and int8 matrix products (``quantize_dynamic`` on every MatMul, as translator/quantize.py
does for torch's Linear layers; embeddings stay fp32). Only the argmax frames come back; the CTC collapse is the
same Python as the torch engine's.

``onnx-int8-shortlist`` scores only the batch's lexical shortlist (translator/shortlist.py) instead of the whole
vocabulary: the projection is gathered to those rows (an fp32 product of a few hundred rows, not 8k int8 rows).

Outputs: the same greedy CTC decode; int8 rounding (and the shortlist) can change some tokens, which evaluate
reports as BLEU. ``ctc_beam`` > 1 and an output that would be empty (all blanks) are decoded by the torch model.
The graphs are build outputs under ``var/onnx/<name>/``, exported at first use and stamped with the weights' digest.
"""

from __future__ import annotations

import json
import logging
import shutil
import threading
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..build_outputs import file_digest, locked, var_dir
from ..engine import EngineError
from ..tokenizer import BLANK, PAD
from .base import pad_sequences
from .ctc_glat import NUM_SPECIALS, ctc_collapse
from .torch_engine import MAX_BATCH_SENTENCES, TorchEngine

log = logging.getLogger(__name__)

ONNX_PRECISIONS = ("onnx-int8", "onnx-int8-shortlist")
OPSET = 17


class _Frames(nn.Module):
    """src (B, S), vocab (K,) target ids to score, bias (K,) added to their logits → argmax index into vocab."""

    def __init__(self, model, shortlist: bool):
        super().__init__()
        self.model, self.shortlist = model, shortlist

    def forward(self, src: torch.Tensor, vocab: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        backbone = self.model.backbone
        src_mask = src.ne(PAD)
        memory = backbone.encode(src, src_mask)
        x, slot_mask = self.model._decoder_input(src)
        states = backbone.decode_states(x, slot_mask, memory, src_mask)
        # The full graph keeps the projection a constant matrix (quantized to int8); the shortlist graph gathers
        # the rows it needs (vocab is then a real input, not all ids).
        weight = backbone.embed.weight.index_select(0, vocab) if self.shortlist else backbone.embed.weight
        return (F.linear(states, weight) + bias).argmax(-1)


def onnx_root() -> Path:
    return var_dir() / "onnx"


def _stamp(folder: Path) -> dict:
    import onnxruntime

    return {
        "weights_sha256": file_digest(Path(folder) / "model.safetensors"),
        "onnxruntime": onnxruntime.__version__,
        "torch": torch.__version__,
        "opset": OPSET,
    }


def export(model, folder: Path, out: Path, int8: bool = True) -> Path:
    """Both graphs (full vocabulary, shortlist) of a CTC-GLAT model in ``out``, unless already current: int8
    (``<kind>-int8.onnx``), or fp32 (``<kind>.onnx``, for the tests: the export itself is exact)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    stamp = dict(_stamp(folder), int8=int8)
    with locked(out):
        try:
            if json.loads((out / "stamp.json").read_text()) == stamp:
                return out
        except (OSError, json.JSONDecodeError):
            pass
        log.warning("exporting %s to ONNX in %s (first use, or its weights changed)", folder, out)
        tmp = out.with_name(out.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        src = torch.tensor([[10, 11, 12, 1], [13, 14, 1, 0]])
        vocab = torch.arange(model.config["vocab_size"])
        bias = torch.zeros(model.config["vocab_size"])
        for kind, shortlist in (("full", False), ("shortlist", True)):
            fp32 = tmp / f"{kind}.onnx"
            with torch.inference_mode():
                torch.onnx.export(
                    _Frames(model, shortlist).eval(),
                    (src, vocab, bias),
                    str(fp32),
                    input_names=["src", "vocab", "bias"],
                    output_names=["frames"],
                    dynamic_axes={"src": {0: "batch", 1: "length"}, "vocab": {0: "k"}, "bias": {0: "k"}},
                    opset_version=OPSET,
                    dynamo=False,
                )
            if int8:  # MatMul only: embeddings stay fp32, as in torch's int8 (translator/quantize.py)
                quantize_dynamic(
                    str(fp32),
                    str(tmp / f"{kind}-int8.onnx"),
                    weight_type=QuantType.QInt8,
                    op_types_to_quantize=["MatMul"],
                )
                fp32.unlink()
        (tmp / "stamp.json").write_text(json.dumps(stamp, indent=2) + "\n")
        shutil.rmtree(out, ignore_errors=True)
        tmp.replace(out)
    return out


class OnnxCTCEngine(TorchEngine):
    """The torch engine's interface and tokenization; the greedy decode runs in ONNX Runtime."""

    def __init__(self, model, tokenizer, info, device, graphs: Path, precision: str, int8: bool = True):
        super().__init__(model, tokenizer, info, device)
        self.precision = precision
        kind = "shortlist" if precision == "onnx-int8-shortlist" else "full"
        self.graph = graphs / (f"{kind}-int8.onnx" if int8 else f"{kind}.onnx")
        self.size_mb = self.graph.stat().st_size / 2**20  # evaluate's footprint: the graph ONNX Runtime runs
        self.upsample = int(model.config["upsample"])
        vocab = int(model.config["vocab_size"])
        self.banned = np.zeros(vocab, dtype=np.float32)
        self.banned[[i for i in range(NUM_SPECIALS) if i != BLANK]] = -np.inf
        self.shortlist: tuple[np.ndarray, np.ndarray] | None = None  # set by load() for onnx-int8-shortlist
        self._session = None
        self._threads = 0
        self._lock = threading.Lock()

    def _ort(self):
        """The ONNX Runtime session, (re)built for torch's current thread count (evaluate and workers set it)."""
        import onnxruntime as ort

        threads = torch.get_num_threads()
        with self._lock:
            if self._session is None or self._threads != threads:
                options = ort.SessionOptions()
                options.intra_op_num_threads = threads
                options.inter_op_num_threads = 1
                options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
                options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
                self._session = ort.InferenceSession(str(self.graph), options, providers=["CPUExecutionProvider"])
                self._threads = threads
            return self._session

    def _vocab(self, src: np.ndarray) -> np.ndarray:
        if self.shortlist is None:
            return np.arange(len(self.banned), dtype=np.int64)
        from ..shortlist import candidates

        table, frequent = self.shortlist
        vocab = candidates(table, frequent, src[src != PAD], [BLANK])
        return vocab[(vocab >= NUM_SPECIALS) | (vocab == BLANK)]

    @torch.inference_mode()
    def _translate(self, sentences: list[str], ctc_beam: int = 1, blank_penalty: float | None = None):  # type: ignore[override]
        penalty = float(
            self.info.decoding_defaults.get("blank_penalty", 0.0) if blank_penalty is None else blank_penalty
        )
        if int(ctc_beam) > 1:  # CTC prefix beam search is Python over the torch model's log-probabilities
            return super()._translate(sentences, ctc_beam=ctc_beam, blank_penalty=penalty)
        if penalty < 0:
            raise EngineError("blank_penalty must be >= 0")
        ids, truncated = self._encode(sentences)
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        outputs: list[list[int]] = [[] for _ in ids]
        session = self._ort()
        for start in range(0, len(order), MAX_BATCH_SENTENCES):
            chunk = order[start : start + MAX_BATCH_SENTENCES]
            src = pad_sequences([ids[i] for i in chunk], self.tokenizer.pad_id).numpy()
            vocab = self._vocab(src)
            bias = self.banned[vocab].copy()
            bias[vocab == BLANK] -= penalty
            feed = {"src": src, "vocab": vocab, "bias": bias}
            # The full-vocabulary graph has no vocab input (the exporter drops an unused input).
            inputs = {i.name for i in session.get_inputs()}
            frames = vocab[session.run(None, {k: v for k, v in feed.items() if k in inputs})[0]]
            for row, i in enumerate(chunk):
                outputs[i] = ctc_collapse(frames[row, : len(ids[i]) * self.upsample].tolist())
        empty = [i for i, out in enumerate(outputs) if not out]
        if empty:  # all blanks: the torch model picks the single most likely token, as its generate() does
            rows = pad_sequences([ids[i] for i in empty], self.tokenizer.pad_id, self.device)
            for i, out in zip(empty, self.model.generate(rows, blank_penalty=penalty)[0], strict=True):
                outputs[i] = out
        details = [
            {
                "upsample": self.upsample,
                "ctc_beam": 1,
                "blank_penalty": penalty,
                "runtime": self.precision,
                "truncated": cut,
            }
            for cut in truncated
        ]
        return self.tokenizer.decode(outputs), details


def load(model, tokenizer, info, device, folder: Path, precision: str) -> OnnxCTCEngine:
    if precision not in ONNX_PRECISIONS:
        raise EngineError(f"precision {precision!r}: use one of {', '.join(ONNX_PRECISIONS)}")
    if getattr(model, "architecture", None) != "ctc-glat":
        raise EngineError(f"{info.name}: {precision} is for CTC-GLAT models (one graph from source to frames)")
    graphs = export(model, folder, onnx_root() / info.name)
    engine = OnnxCTCEngine(model, tokenizer, info, device, graphs, precision)
    if precision == "onnx-int8-shortlist":
        from ..shortlist import load_or_build

        engine.shortlist = load_or_build(folder, info, tokenizer)
    return engine
