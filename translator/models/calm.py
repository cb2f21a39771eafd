"""CALM: confident adaptive decoding for the AR decoder (Schuster et al. 2022, "Confident Adaptive Language Modeling").

Model: the Marian encoder–decoder of ar_transformer (post-norm, tied embeddings), usually with a deeper decoder
(default 6 layers) so that stopping early has room to save. Every decoder layer can emit the next token: Marian
is post-norm, so each layer's output is already layer-normalised and the shared output projection (``lm_head``
plus ``final_logits_bias``) applies to it directly, with no extra parameters per exit.

Training: the loss is a weighted average of the per-layer cross-entropies with weights proportional to the layer
number (w_i = i / Σj, the paper's choice): deeper layers weigh more, so the full-depth model stays the best one
while shallow layers learn to predict too. A one-layer early-exit classifier (a linear map of a layer's state
to a logit) learns, on *detached* states, whether that layer's prediction equals the last layer's: it never
changes the translation model, and it is trained at every step alongside it.

Decoding (greedy and beam, KV cache): for each token, after layer i < L, a confidence c_i ∈ [0, 1] is measured
and the token exits at the first layer with c_i ≥ λ (``threshold``); λ ≥ 1 means full depth. Measures:

- ``softmax``: top-1 minus top-2 probability of that layer's prediction. Needs the vocabulary projection at
  every layer tried, which at an 8k vocabulary and d_model 256 costs more than a decoder layer: it saves
  layers but little time (the paper says the same); the exit reuses those logits.
- ``saturation``: cosine of this layer's state and the previous one's (the input of layer 1 for i = 1),
  clipped at 0: the state has stopped changing. Nearly free.
- ``classifier``: the learned early-exit classifier's probability. Nearly free.

Skipped layers still need this position's keys and values, or later tokens could not attend to it: as in the
paper, the exited state is propagated — it is the input of every skipped layer, whose K/V projections are
computed from it (two matrix products per skipped layer instead of the whole layer).

Per-token exit layers (1-based) come back as decoding details (greedy) and through ``refine_steps`` (any beam),
for a per-token heat strip. The threshold is calibrated with Learn-then-Test by ``python -m translator
calibrate-calm`` (translator/calibrate_calm.py).

Warm start (``init_from`` an AR teacher with fewer decoder layers): teacher decoder layer j goes to student
layers j, j + J, j + 2J, … (J = the teacher's depth; progressive stacking, Gong et al. 2019). A 6-layer student
of the 3-layer teacher thus has the teacher's exact decoder in layers 1–3 — its exit 3 starts out as the
teacher — and a second copy of it in layers 4–6 instead of random layers. Encoder and embeddings are copied
by name. See ``warm_start_names``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import torch
import torch.nn.functional as F
from torch import nn

from ..engine import EngineError
from ..tokenizer import PAD
from .ar_transformer import ARTransformer, IncrementalDecoder

MEASURES = ("softmax", "saturation", "classifier")

DEFAULTS = dict(decoder_layers=6)


class CALM(ARTransformer):
    architecture = "calm"
    # beam 1: the speed-up CALM is about is the greedy one. threshold 1.0 (full depth) until calibrate-calm
    # writes the calibrated λ here.
    decoding_defaults = {
        "beam": 1,
        "threshold": 1.0,
        "measure": "softmax",
        "length_penalty": 1.0,
        "no_repeat_ngram_size": 3,
        "max_len_a": 1.5,
        "max_len_b": 10,
    }

    def __init__(self, config: dict):
        super().__init__({**DEFAULTS, **config})
        self.exit_classifier = nn.Linear(self.config["d_model"], 1)

    def exit_weights(self) -> list[float]:
        layers = self.config["decoder_layers"]
        return [i / (layers * (layers + 1) / 2) for i in range(1, layers + 1)]

    def exit_logits(self, batch) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """Teacher-forced states and logits of every decoder layer: (states, logits), each L × (B, T, ·)."""
        tgt = batch.tgt
        decoder_input = torch.cat([torch.full_like(tgt[:, :1], PAD), tgt[:, :-1]], dim=1)
        out = self.marian.model(
            input_ids=batch.src,
            attention_mask=batch.src_mask,
            decoder_input_ids=decoder_input,
            decoder_attention_mask=torch.cat(
                [torch.ones_like(tgt[:, :1], dtype=torch.bool), batch.tgt_mask[:, :-1]], 1
            ),
            output_hidden_states=True,
        )
        states = list(out.decoder_hidden_states[1:])  # [0] is the embedding output
        return states, [self.marian.lm_head(h) + self.marian.final_logits_bias for h in states]

    def loss(self, batch, step: int):
        states, logits = self.exit_logits(batch)
        tgt, tokens = batch.tgt.reshape(-1), int(batch.tgt_mask.sum())
        per_layer = [
            F.cross_entropy(
                layer_logits.reshape(-1, layer_logits.size(-1)).float(),
                tgt,
                ignore_index=PAD,
                label_smoothing=self.config["label_smoothing"],
                reduction="sum",
            )
            / max(tokens, 1)
            for layer_logits in logits
        ]
        loss = sum(w * layer_loss for w, layer_loss in zip(self.exit_weights(), per_layer, strict=True))
        if len(states) > 1:
            # The early-exit classifier: does layer i predict what the last layer predicts? Detached inputs and
            # labels, so only the classifier learns from this term.
            with torch.no_grad():
                final = logits[-1].argmax(-1)
                labels = torch.stack([layer_logits.argmax(-1).eq(final) for layer_logits in logits[:-1]]).float()
            scores = self.exit_classifier(torch.stack([h.detach() for h in states[:-1]])).squeeze(-1)
            mask = batch.tgt_mask.expand_as(scores)
            loss = loss + F.binary_cross_entropy_with_logits(scores[mask].float(), labels[mask])
        return loss, {"tokens": tokens}

    @torch.no_grad()
    def generate(  # type: ignore[override]  # decoding options are keyword arguments of each family
        self,
        src: torch.Tensor,
        beam: int = 1,
        threshold: float = 1.0,
        measure: str = "softmax",
        length_penalty: float = 1.0,
        no_repeat_ngram_size: int = 3,
        max_len_a: float = 1.5,
        max_len_b: int = 10,
    ):
        decoder = EarlyExitDecoder(self, float(threshold), measure)
        limits = [
            min(int(max_len_a * n + max_len_b), self.config["max_positions"] - 1) for n in src.ne(PAD).sum(1).tolist()
        ]
        beam, no_repeat_ngram_size = int(beam), int(no_repeat_ngram_size)
        common = {"beam": beam, "threshold": float(threshold), "measure": measure}
        if beam > 1:
            results = decoder.beam(src, beam, limits, float(length_penalty), no_repeat_ngram_size)
            # Beam rows are reordered every step; the exit layers of the winner come from refine_steps.
            return results, [dict(common) for _ in results]
        results = decoder.greedy(src, limits, no_repeat_ngram_size)
        return results, [dict(common, **decoder.sentence_exits(b, len(ids))) for b, ids in enumerate(results)]

    @torch.no_grad()
    def forced_exits(self, src: torch.Tensor, hyps: list[list[int]], threshold: float, measure: str) -> list[dict]:
        """Exit layers of given outputs, fed token by token through the early-exit decoder.

        A position's states and exit depend only on the source and the tokens before it, so this gives the
        exit layers a beam search spent on its winning hypothesis."""
        decoder = EarlyExitDecoder(self, float(threshold), measure)
        cross, cross_mask = decoder.encode(src)
        cache = [None] * len(decoder.layers)
        longest = max(len(h) for h in hyps) + 1
        rows = torch.full((len(hyps), longest), PAD, dtype=torch.long, device=src.device)
        for b, hyp in enumerate(hyps):
            rows[b, 1 : len(hyp) + 1] = torch.tensor(hyp, dtype=torch.long)
        for position in range(longest):
            decoder.step(rows[:, position], position, cache, cross, cross_mask)
        return [decoder.sentence_exits(b, len(hyp)) for b, hyp in enumerate(hyps)]

    @torch.no_grad()
    def refine_steps(self, src: torch.Tensor, **options) -> Iterator[tuple]:
        """One step: the translation, with the layer each output token exited at (for a heat strip)."""
        options = {**self.decoding_defaults, **options}
        ids, details = self.generate(src[:1], **options)
        if "exit_layers" not in details[0]:
            details = self.forced_exits(src[:1], ids, options["threshold"], options["measure"])
        yield 1, ids[0], [], {"token_layers": details[0]["exit_layers"]}

    def warm_start_names(self, name: str, teacher_config: dict) -> list[str]:
        """Where a teacher tensor goes: decoder layer j of a J-layer teacher to layers j, j+J, j+2J, … here.

        Progressive stacking (Gong et al. 2019): the first J layers are the teacher's decoder (exit J starts as
        the teacher), the layers above repeat it rather than start from random weights. Other names map to
        themselves."""
        prefix = "marian.model.decoder.layers."
        if not name.startswith(prefix):
            return [name]
        index, rest = name[len(prefix) :].split(".", 1)
        teacher_layers = int(teacher_config.get("decoder_layers", self.config["decoder_layers"]))
        return [f"{prefix}{i}.{rest}" for i in range(int(index), self.config["decoder_layers"], teacher_layers)]


class EarlyExitDecoder(IncrementalDecoder):
    """The KV-cache decoder of ar_transformer, stopping each row at its first confident layer.

    ``greedy`` and ``beam`` are inherited; only ``step`` differs. Within a step, the rows that have not exited
    run the next layer (a sub-batch); the exited rows only get that layer's keys and values, computed from
    their exited state. ``step_exits`` keeps each step's exit layers (1-based) for the details.
    """

    def __init__(self, model: CALM, threshold: float, measure: str):
        if measure not in MEASURES:
            raise EngineError(f"measure {measure!r}: use one of {', '.join(MEASURES)}")
        super().__init__(model.marian)
        self.classifier = model.exit_classifier
        self.threshold = threshold
        self.measure = measure
        self.step_exits: list[torch.Tensor] = []

    def confidence(self, h: torch.Tensor, previous: torch.Tensor, logits: torch.Tensor | None) -> torch.Tensor:
        """Confidence in [0, 1] per row that the state ``h`` (N, 1, D) already gives the right token."""
        if self.measure == "softmax":
            assert logits is not None  # the softmax measure always gets this layer's logits
            logits = logits.float()
            logits[:, PAD] = -math.inf  # never produced, so never a reason to be (un)confident
            top = logits.softmax(-1).topk(2, dim=-1).values
            return top[:, 0] - top[:, 1]
        if self.measure == "saturation":
            return F.cosine_similarity(h[:, 0].float(), previous[:, 0].float(), dim=-1).clamp(min=0)
        return torch.sigmoid(self.classifier(h[:, 0]).float().squeeze(-1))

    def step(self, tokens: torch.Tensor, position: int, cache: list, cross: list, cross_mask) -> torch.Tensor:
        h = self.embed_step(tokens, position)
        rows, last = h.size(0), len(self.layers) - 1
        exit_layer = torch.full((rows,), last + 1, dtype=torch.long, device=h.device)
        softmax = self.measure == "softmax"
        logits = torch.empty((rows, self.marian.config.vocab_size), dtype=h.dtype, device=h.device) if softmax else None
        active = None  # indices of the rows still running layers; None = all of them (no gathering)
        for i, layer in enumerate(self.layers):
            # Every row appends this layer's K/V: from its running state, or from its exited state (propagation).
            cache[i] = self.append_self_kv(layer, h, cache[i])
            if active is not None and active.numel() == 0:
                continue
            k, v = cache[i]
            cross_k, cross_v = cross[i]
            mask = cross_mask
            if active is not None:
                k, v, cross_k, cross_v = (t.index_select(0, active) for t in (k, v, cross_k, cross_v))
                mask = cross_mask.index_select(0, active)
            before = h if active is None else h.index_select(0, active)
            after = self.layer_after_kv(layer, before, k, v, cross_k, cross_v, mask)
            h = after if active is None else h.index_copy(0, active, after)
            if i == last or self.threshold >= 1.0:
                continue
            layer_logits = self.logits(after) if softmax else None
            stop = self.confidence(after, before, layer_logits) >= self.threshold
            if bool(stop.any()):
                running = torch.arange(rows, device=h.device) if active is None else active
                exit_layer[running[stop]] = i + 1
                if softmax:
                    assert logits is not None and layer_logits is not None  # both are computed when softmax
                    logits[running[stop]] = layer_logits[stop]
                active = running[~stop]
        self.step_exits.append(exit_layer)
        if not softmax or active is None:  # no early logits to reuse
            return self.log_probs(h)
        assert logits is not None  # softmax is set here
        if active.numel():
            logits[active] = self.logits(h.index_select(0, active))
        return logits.float().log_softmax(-1)

    def sentence_exits(self, row: int, length: int) -> dict:
        """Exit layer of each of the ``length`` output tokens of ``row``, and the mean over the steps the
        sentence needed (its tokens and, when it ended on one, the EOS step)."""
        exits = [int(step[row]) for step in self.step_exits]
        spent = exits[: length + 1]
        return {
            "exit_layers": exits[:length],
            "average_layers": round(sum(spent) / max(len(spent), 1), 3),
            "decoder_layers": len(self.layers),
        }
