"""Autoregressive Transformer encoder–decoder: the baseline every NAR speed-up is measured against.

transformers' Marian classes, trained from scratch: standard post-norm Transformer with sinusoidal
positions and tied embeddings, and ``generate()`` gives greedy and beam search with a KV cache,
length penalty and n-gram blocking. A deep-encoder/shallow-decoder model (e.g. 6–1) is the same
class with ``decoder_layers=1``: the fair fast AR baseline (Kasai et al. 2021).
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from transformers import MarianConfig, MarianMTModel

from ..engine import AR_DECODING_DEFAULTS
from ..tokenizer import EOS, PAD
from .base import AR_FAMILY, SHARED_DEFAULTS, Batch, TranslationModel, pad_sequences

DEFAULTS = dict(
    **SHARED_DEFAULTS,
    label_smoothing=0.1,
)


def marian_config(c: dict) -> MarianConfig:
    """transformers' Marian configuration of our model config ``c`` (the NAR backbone's encoder uses it too)."""
    return MarianConfig(
        vocab_size=c["vocab_size"],
        d_model=c["d_model"],
        encoder_layers=c["encoder_layers"],
        decoder_layers=c["decoder_layers"],
        encoder_attention_heads=c["heads"],
        decoder_attention_heads=c["heads"],
        encoder_ffn_dim=c["ffn_dim"],
        decoder_ffn_dim=c["ffn_dim"],
        dropout=c["dropout"],
        activation_function="relu",
        max_position_embeddings=c["max_positions"],
        scale_embedding=True,
        pad_token_id=PAD,
        eos_token_id=EOS,
        forced_eos_token_id=None,
        decoder_start_token_id=PAD,  # Marian convention: decoding starts from PAD
        share_encoder_decoder_embeddings=True,
        tie_word_embeddings=True,
    )


class ARTransformer(TranslationModel):
    architecture = "transformer"
    family = AR_FAMILY
    decoding_defaults = dict(AR_DECODING_DEFAULTS)
    targets_with_eos = True

    def __init__(self, config: dict, marian: MarianMTModel | None = None):
        """``marian``: an already loaded model (a Hugging Face Marian folder, translator/marian_folder.py) whose
        dimensions ``config`` describes; without it, a new one is built from ``config``."""
        config = {**DEFAULTS, **config}
        super().__init__(config)
        c = self.config
        self.marian = marian if marian is not None else MarianMTModel(marian_config(c))

    def loss(self, batch: Batch, step: int):
        tgt = batch.tgt
        # Teacher forcing: the decoder sees <start> y1 … y_{n-1} and predicts y1 … y_n (= … EOS).
        decoder_input = torch.cat([torch.full_like(tgt[:, :1], PAD), tgt[:, :-1]], dim=1)
        logits = self.marian(
            input_ids=batch.src,
            attention_mask=batch.src_mask,
            decoder_input_ids=decoder_input,
            decoder_attention_mask=torch.cat(
                [torch.ones_like(tgt[:, :1], dtype=torch.bool), batch.tgt_mask[:, :-1]], 1
            ),
        ).logits
        tokens = int(batch.tgt_mask.sum())
        loss = F.cross_entropy(
            logits.reshape(-1, logits.size(-1)).float(),
            tgt.reshape(-1),
            ignore_index=PAD,
            label_smoothing=self.config["label_smoothing"],
            reduction="sum",
        ) / max(tokens, 1)
        return loss, {"tokens": tokens}

    # The hand-written KV-cache loop below is the default; True switches to transformers' generate()
    # (kept as the reference implementation the tests compare against).
    use_hf_generate = False

    @torch.no_grad()
    def generate(  # type: ignore[override]  # decoding options are keyword arguments of each family
        self,
        src: torch.Tensor,
        beam: int = 4,
        length_penalty: float = 1.0,
        no_repeat_ngram_size: int = 3,
        max_len_a: float = 1.5,
        max_len_b: int = 10,
    ):
        # Each sentence gets its own length budget, so its output does not depend on the batch it is in.
        limits = [
            min(int(max_len_a * n + max_len_b), self.config["max_positions"] - 1)
            for n in src.ne(special_ids(self.marian.config)[0]).sum(1).tolist()
        ]
        beam, no_repeat_ngram_size = int(beam), int(no_repeat_ngram_size)
        if self.use_hf_generate:
            results = self._hf_generate(src, beam, float(length_penalty), no_repeat_ngram_size, max(limits))
        elif beam == 1:
            results = IncrementalDecoder(self.marian).greedy(src, limits, no_repeat_ngram_size)
        else:
            results = IncrementalDecoder(self.marian).beam(
                src, beam, limits, float(length_penalty), no_repeat_ngram_size
            )
        return results, [{"beam": beam} for _ in results]

    def _hf_generate(self, src, beam, length_penalty, no_repeat_ngram_size, max_new):
        marian: Any = self.marian  # transformers' generate() is typed for its generic mixin, not for Marian
        pad, eos, _ = special_ids(self.marian.config)
        out = marian.generate(
            input_ids=src,
            attention_mask=src.ne(pad),
            num_beams=beam,
            do_sample=False,
            length_penalty=length_penalty,
            no_repeat_ngram_size=no_repeat_ngram_size,
            max_new_tokens=max_new,
            **({"early_stopping": True} if beam > 1 else {}),
            use_cache=True,
        )
        return [_until_eos(row[1:], eos, pad) for row in out.tolist()]  # row[0] is the start token

    @torch.no_grad()
    def sequence_score(self, src: torch.Tensor, hyps: list[list[int]]) -> torch.Tensor:
        """Sum of log-probabilities of each hypothesis (+EOS) given its source: the model score."""
        tgt = pad_sequences([h + [EOS] for h in hyps], PAD, src.device)
        decoder_input = torch.cat([torch.full_like(tgt[:, :1], PAD), tgt[:, :-1]], dim=1)
        logits = self.marian(input_ids=src, attention_mask=src.ne(PAD), decoder_input_ids=decoder_input).logits
        logp = logits.float().log_softmax(-1).gather(-1, tgt.unsqueeze(-1)).squeeze(-1)
        return (logp * tgt.ne(PAD)).sum(1)


class HFMarian(ARTransformer):
    """A user's Hugging Face Marian model (OPUS-MT …), loaded by translator/marian_folder.py: the same model class
    and decoders as ours, its own special ids (read from its config by IncrementalDecoder)."""

    architecture = "marian"


class IncrementalDecoder:
    """Greedy and beam search over the Marian weights with a plain tensor KV cache.

    ``generate()`` of transformers rebuilds masks, caches and logits processors on every step; at
    batch 1 that overhead is a large share of an AR step on a CPU, and it would inflate every NAR
    speed-up. This loop does only the arithmetic the model needs: cross-attention keys and values
    are computed once per sentence, self-attention keys and values are appended per step, and
    attention runs through ``F.scaled_dot_product_attention``. Outputs equal ``generate()``'s
    (checked in the tests); the layer maths mirrors MarianDecoderLayer (post-norm).
    """

    def __init__(self, marian: MarianMTModel):
        self.marian = marian
        decoder = marian.model.decoder
        self.layers = decoder.layers
        self.embed = decoder.embed_tokens
        self.embed_scale = decoder.embed_scale
        self.positions = decoder.embed_positions.weight
        self.heads = marian.config.decoder_attention_heads
        self.act = self.layers[0].activation_fn
        # Our vocabularies have pad 0 / eos 1; an OPUS-MT model's pad is its last id, its eos 0. Marian starts
        # decoding from the pad token.
        self.pad, self.eos, self.start = special_ids(marian.config)

    def _split(self, x: torch.Tensor) -> torch.Tensor:  # (N, T, D) -> (N, H, T, D/H)
        n, t, d = x.shape
        return x.view(n, t, self.heads, d // self.heads).transpose(1, 2)

    def encode(self, src: torch.Tensor):
        mask = src.ne(self.pad)
        memory = self.marian.model.encoder(input_ids=src, attention_mask=mask).last_hidden_state
        cross = [
            (self._split(layer.encoder_attn.k_proj(memory)), self._split(layer.encoder_attn.v_proj(memory)))
            for layer in self.layers
        ]
        return cross, mask[:, None, None, :]

    def step(self, tokens: torch.Tensor, position: int, cache: list, cross: list, cross_mask) -> torch.Tensor:
        """Log-probabilities of the next token for each row, appending this step's K/V to ``cache``."""
        h = self.embed_step(tokens, position)
        for i, layer in enumerate(self.layers):
            cache[i] = self.append_self_kv(layer, h, cache[i])
            k, v = cache[i]
            cross_k, cross_v = cross[i]
            h = self.layer_after_kv(layer, h, k, v, cross_k, cross_v, cross_mask)
        return self.log_probs(h)

    # The layer maths in three pieces, so an early-exit decoder (calm.py) can compute a skipped
    # layer's keys/values without running the rest of it.
    def embed_step(self, tokens: torch.Tensor, position: int) -> torch.Tensor:  # (N,) -> (N, 1, D)
        return self.embed(tokens[:, None]) * self.embed_scale + self.positions[position]

    def append_self_kv(self, layer, h: torch.Tensor, layer_cache):
        attn = layer.self_attn
        k, v = self._split(attn.k_proj(h)), self._split(attn.v_proj(h))
        if layer_cache is not None:
            k, v = torch.cat([layer_cache[0], k], 2), torch.cat([layer_cache[1], v], 2)
        return k, v

    def layer_after_kv(self, layer, h, k, v, cross_k, cross_v, cross_mask) -> torch.Tensor:
        """The rest of a post-norm MarianDecoderLayer for one position, given its self-attention K/V."""
        attn = layer.self_attn
        a = F.scaled_dot_product_attention(self._split(attn.q_proj(h)), k, v).transpose(1, 2).reshape(h.shape)
        h = layer.self_attn_layer_norm(h + attn.out_proj(a))
        enc = layer.encoder_attn
        a = F.scaled_dot_product_attention(self._split(enc.q_proj(h)), cross_k, cross_v, attn_mask=cross_mask)
        h = layer.encoder_attn_layer_norm(h + enc.out_proj(a.transpose(1, 2).reshape(h.shape)))
        return layer.final_layer_norm(h + layer.fc2(self.act(layer.fc1(h))))

    def logits(self, h: torch.Tensor) -> torch.Tensor:  # (N, 1, D) or (N, D) -> (N, V)
        return self.marian.lm_head(h.reshape(-1, h.size(-1))) + self.marian.final_logits_bias

    def log_probs(self, h: torch.Tensor) -> torch.Tensor:
        return self.logits(h).float().log_softmax(-1)

    @staticmethod
    def _reorder(cache: list, index: torch.Tensor) -> list:
        return [(k.index_select(0, index), v.index_select(0, index)) for k, v in cache]

    def greedy(self, src: torch.Tensor, limits: list[int], no_repeat_ngram_size: int = 0) -> list[list[int]]:
        cross, cross_mask = self.encode(src)
        batch = src.size(0)
        cache = [None] * len(self.layers)
        tokens = torch.full((batch,), self.start, dtype=torch.long, device=src.device)
        out = torch.empty((batch, 0), dtype=torch.long, device=src.device)
        done = torch.zeros(batch, dtype=torch.bool, device=src.device)
        limit = torch.tensor(limits, device=src.device)
        for position in range(max(limits)):
            logp = self.step(tokens, position, cache, cross, cross_mask)
            logp[:, self.pad] = -math.inf
            if no_repeat_ngram_size:
                ban_repeated_ngrams(logp, out.tolist(), no_repeat_ngram_size)
            tokens = logp.argmax(-1).masked_fill(done, self.pad)
            out = torch.cat([out, tokens[:, None]], 1)
            done |= tokens.eq(self.eos) | limit.le(position + 1)
            if bool(done.all()):
                break
        return [_until_eos(row, self.eos, self.pad) for row in out.tolist()]

    def beam(
        self,
        src: torch.Tensor,
        beam: int,
        limits: list[int],
        length_penalty: float = 1.0,
        no_repeat_ngram_size: int = 0,
    ) -> list[list[int]]:
        """Standard beam search: the K best unfinished prefixes live on; a prefix that emits EOS is
        finished with score logp / length**length_penalty; a sentence stops when K are finished,
        or at its length limit, where its live prefixes count as finished."""
        cross, cross_mask = self.encode(src)
        batch, device = src.size(0), src.device
        rows = torch.arange(batch, device=device).repeat_interleave(beam)
        cross = self._reorder(cross, rows)
        cross_mask = cross_mask.index_select(0, rows)
        cache = [None] * len(self.layers)
        tokens = torch.full((batch * beam,), self.start, dtype=torch.long, device=device)
        scores = torch.zeros(batch, beam, device=device)
        scores[:, 1:] = -math.inf  # all beams start identical: keep only the first alive at step 0
        prefixes: list[list[int]] = [[] for _ in range(batch * beam)]
        finished: list[list[tuple[float, list[int]]]] = [[] for _ in range(batch)]
        active = [True] * batch
        for position in range(max(limits)):
            logp = self.step(tokens, position, cache, cross, cross_mask)
            logp[:, self.pad] = -math.inf
            if no_repeat_ngram_size:
                ban_repeated_ngrams(logp, prefixes, no_repeat_ngram_size)
            vocab = logp.size(-1)
            candidates = (scores.view(-1, 1) + logp).view(batch, beam * vocab)
            top = candidates.topk(2 * beam, dim=1)
            top_scores, top_ids = top.values.tolist(), top.indices.tolist()
            next_rows, next_tokens, next_scores, next_prefixes = [], [], [], []
            for b in range(batch):
                kept = 0
                for rank, (score, flat) in enumerate(zip(top_scores[b], top_ids[b], strict=False)):
                    if kept == beam:
                        break
                    if not active[b] or score == -math.inf:
                        score, flat = -math.inf, 0  # a dead slot: carried along, never chosen again
                    row, token = b * beam + flat // vocab, flat % vocab
                    if active[b] and token == self.eos:
                        # Only an EOS among the K best candidates finishes a hypothesis; a lower one
                        # would fill the finished list with poor endings and stop the search early.
                        if rank < beam:
                            prefix = prefixes[row]
                            finished[b].append((score / (len(prefix) + 1) ** length_penalty, prefix))
                        continue
                    next_rows.append(row)
                    next_tokens.append(token)
                    next_scores.append(score)
                    next_prefixes.append(prefixes[row] + [token] if active[b] else prefixes[row])
                    kept += 1
                while kept < beam:  # only when everything left was -inf
                    next_rows.append(b * beam)
                    next_tokens.append(self.pad)
                    next_scores.append(-math.inf)
                    next_prefixes.append(prefixes[b * beam])
                    kept += 1
                if active[b] and position + 1 >= limits[b]:
                    for score, prefix in zip(next_scores[-beam:], next_prefixes[-beam:], strict=False):
                        if score > -math.inf:
                            finished[b].append((score / max(len(prefix), 1) ** length_penalty, prefix))
                    active[b] = False
                if len(finished[b]) >= beam:
                    active[b] = False
            if not any(active):
                break
            index = torch.tensor(next_rows, device=device)
            cache = self._reorder(cache, index)
            tokens = torch.tensor(next_tokens, device=device)
            scores = torch.tensor(next_scores, device=device).view(batch, beam)
            prefixes = next_prefixes
        return [max(done, key=lambda item: item[0])[1] if done else [] for done in finished]


def special_ids(config: MarianConfig) -> tuple[int, int, int]:
    """(pad, eos, decoder start) of a Marian model: ours are 0, 1, 0; an OPUS-MT model's pad is its last id."""
    pad = config.pad_token_id if isinstance(config.pad_token_id, int) else PAD
    eos = config.eos_token_id if isinstance(config.eos_token_id, int) else EOS
    start = config.decoder_start_token_id if isinstance(config.decoder_start_token_id, int) else pad
    return pad, eos, start


def ban_repeated_ngrams(logp: torch.Tensor, prefixes: list[list[int]], n: int) -> None:
    """Forbid any token that would repeat an n-gram already in the row's prefix (in place)."""
    for row, prefix in enumerate(prefixes):
        if len(prefix) < n - 1:
            continue
        context = tuple(prefix[len(prefix) - n + 1 :]) if n > 1 else ()
        banned = [prefix[i + n - 1] for i in range(len(prefix) - n + 1) if tuple(prefix[i : i + n - 1]) == context]
        if banned:
            logp[row, banned] = -math.inf


def _until_eos(row: list[int], eos: int = EOS, pad: int = PAD) -> list[int]:
    out = []
    for token in row:
        if token in (eos, pad):
            break
        out.append(token)
    return out
