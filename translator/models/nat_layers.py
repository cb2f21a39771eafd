"""Building blocks shared by the non-autoregressive families (CMLM, CTC/GLAT).

Pre-norm Transformer layers (more stable than post-norm when trained from scratch with few steps),
sinusoidal positions (no length limit: the CTC decoder runs on an upsampled source, several times
longer than any target), embeddings scaled by sqrt(d_model) and tied with the output projection.
Attention uses ``F.scaled_dot_product_attention``, so CPU and CUDA (fp32/fp16) take the fast path.
Masks follow one convention throughout: a boolean tensor that is True at real (non-pad) positions.

``encoder_type: marian`` swaps our pre-norm encoder for transformers' post-norm Marian encoder, the same
module (and parameter names) as the AR teacher's: a student can then start from the teacher's trained
encoder (``init_from`` in training), which on this CPU budget is worth far more than anything else.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn


def sinusoidal_positions(length: int, dim: int, device, dtype) -> torch.Tensor:
    """(length, dim) sine/cosine table of Vaswani et al.; computed on the fly, so any length works."""
    position = torch.arange(length, device=device, dtype=torch.float32).unsqueeze(1)
    inv_freq = torch.exp(torch.arange(0, dim, 2, device=device, dtype=torch.float32) * (-math.log(10000.0) / dim))
    table = torch.zeros(length, dim, device=device, dtype=torch.float32)
    table[:, 0::2] = torch.sin(position * inv_freq)
    table[:, 1::2] = torch.cos(position * inv_freq[: dim // 2])
    return table.to(dtype)


def random_ranks(mask: torch.Tensor) -> torch.Tensor:
    """A random rank per real position of each row (0 .. n-1 in random order); padding ranks after them.

    ``ranks < k`` then picks k random real positions per row: how CMLM masks and glancing reveals choose.
    """
    scores = torch.rand(mask.shape, device=mask.device).masked_fill(~mask, 2.0)
    return scores.argsort(1).argsort(1)


def attention_mask(key_mask: torch.Tensor) -> torch.Tensor:
    """(B, S) True-at-real-keys → the (B, 1, 1, S) mask every attention call of one pass shares.

    Non-causal: every query sees every real key; the shape broadcasts over heads and queries. A row
    without any real key (an empty target) would softmax over nothing and put NaN into the gradients
    of the whole batch; it attends to its padding instead (its output is unused). Built once per pass,
    not once per layer: at batch 1 on a CPU these small ops add up.
    """
    key_mask = key_mask | ~key_mask.any(-1, keepdim=True)
    return key_mask[:, None, None, :]


class Attention(nn.Module):
    """Multi-head attention; self-attention when ``memory`` is None, cross-attention otherwise."""

    def __init__(self, d_model: int, heads: int, dropout: float):
        super().__init__()
        assert d_model % heads == 0, "d_model must be divisible by heads"
        self.heads = heads
        self.q = nn.Linear(d_model, d_model)
        self.kv = nn.Linear(d_model, 2 * d_model)
        self.out = nn.Linear(d_model, d_model)
        self.dropout = dropout

    def forward(self, x: torch.Tensor, attn_mask: torch.Tensor, memory: torch.Tensor | None = None) -> torch.Tensor:
        """``attn_mask``: (B, 1, 1, S) from :func:`attention_mask` over the keys (``x`` or ``memory``)."""
        B, T, D = x.shape
        source = x if memory is None else memory
        S = source.size(1)
        q = self.q(x).view(B, T, self.heads, D // self.heads).transpose(1, 2)
        k, v = self.kv(source).view(B, S, 2, self.heads, D // self.heads).permute(2, 0, 3, 1, 4)
        y = F.scaled_dot_product_attention(
            q, k, v, attn_mask=attn_mask, dropout_p=self.dropout if self.training else 0.0
        )
        return self.out(y.transpose(1, 2).reshape(B, T, D))


class FeedForward(nn.Module):
    def __init__(self, d_model: int, ffn_dim: int, dropout: float):
        super().__init__()
        self.up = nn.Linear(d_model, ffn_dim)
        self.down = nn.Linear(ffn_dim, d_model)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        return self.down(self.dropout(F.relu(self.up(x))))


class Layer(nn.Module):
    """Pre-norm block: self-attention, optional cross-attention to the encoder, feed-forward."""

    def __init__(self, d_model: int, heads: int, ffn_dim: int, dropout: float, cross: bool):
        super().__init__()
        self.norm_self = nn.LayerNorm(d_model)
        self.self_attn = Attention(d_model, heads, dropout)
        self.norm_cross = nn.LayerNorm(d_model) if cross else None
        self.cross_attn = Attention(d_model, heads, dropout) if cross else None
        self.norm_ffn = nn.LayerNorm(d_model)
        self.ffn = FeedForward(d_model, ffn_dim, dropout)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x, attn_mask, memory=None, memory_attn_mask=None):
        """Masks as built by :func:`attention_mask` (self-attention over ``x``, cross-attention over ``memory``)."""
        x = x + self.dropout(self.self_attn(self.norm_self(x), attn_mask))
        if self.cross_attn is not None and self.norm_cross is not None:
            x = x + self.dropout(self.cross_attn(self.norm_cross(x), memory_attn_mask, memory))
        return x + self.dropout(self.ffn(self.norm_ffn(x)))


def marian_encoder(c: dict) -> nn.Module:
    """transformers' Marian encoder configured exactly like the AR family's (translator/models/ar_transformer.py)."""
    from transformers.models.marian.modeling_marian import MarianEncoder

    from .ar_transformer import marian_config

    return MarianEncoder(marian_config(c))


class NATBackbone(nn.Module):
    """Encoder + non-causal decoder + tied output projection; the families decide what the decoder reads.

    ``embed`` is shared by the source, the decoder input and the output layer (one joint vocabulary).
    """

    def __init__(self, c: dict):
        super().__init__()
        d = c["d_model"]
        self.d_model = d
        self.embed = nn.Embedding(c["vocab_size"], d, padding_idx=0)
        nn.init.normal_(self.embed.weight, std=d**-0.5)
        with torch.no_grad():
            self.embed.weight[0].zero_()
        self.embed_scale = math.sqrt(d)
        self.dropout = nn.Dropout(c["dropout"])
        self.encoder_type = c.get("encoder_type", "prenorm")
        if self.encoder_type == "marian":
            self.marian_encoder = marian_encoder(c)
            self.marian_encoder.embed_tokens = self.embed  # tied: one joint embedding matrix
        elif self.encoder_type == "prenorm":
            self.encoder = nn.ModuleList(
                Layer(d, c["heads"], c["ffn_dim"], c["dropout"], cross=False) for _ in range(c["encoder_layers"])
            )
            self.encoder_norm = nn.LayerNorm(d)
        else:
            raise ValueError(f"encoder_type {self.encoder_type!r}: use 'prenorm' or 'marian'")
        self.decoder = nn.ModuleList(
            Layer(d, c["heads"], c["ffn_dim"], c["dropout"], cross=True) for _ in range(c["decoder_layers"])
        )
        self.decoder_norm = nn.LayerNorm(d)
        self.output_projection = None  # set only by quantize.quantize_int8: an int8 copy of the tied projection

    def token_embeddings(self, ids: torch.Tensor) -> torch.Tensor:
        """Scaled token embeddings without positions (the CTC decoder input is built from these)."""
        return self.embed(ids) * self.embed_scale

    def add_positions(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(x + sinusoidal_positions(x.size(1), x.size(2), x.device, x.dtype))

    def encode(self, src: torch.Tensor, src_mask: torch.Tensor) -> torch.Tensor:
        if self.encoder_type == "marian":  # post-norm layers: the output is already normalised
            if not self.training:
                return self._marian_encode_inference(src, src_mask)
            return self._marian_encode_transformers(src, src_mask)
        x = self.add_positions(self.token_embeddings(src))
        attn_mask = attention_mask(src_mask)
        for layer in self.encoder:
            x = layer(x, attn_mask)
        return self.encoder_norm(x)

    def _marian_encode_transformers(self, src: torch.Tensor, src_mask: torch.Tensor) -> torch.Tensor:
        """transformers' own Marian encoder forward (training: its dropout and all)."""
        return self.marian_encoder(
            inputs_embeds=self.token_embeddings(src), attention_mask=src_mask.long()
        ).last_hidden_state

    def _marian_encode_inference(self, src: torch.Tensor, src_mask: torch.Tensor) -> torch.Tensor:
        """The Marian encoder's eval-mode forward, op for op, without transformers' per-call machinery.

        Same modules, same weights, same arithmetic (tests check it equals ``_marian_encode_transformers``); what
        goes is the generic mask preparation, attention-interface dispatch and output objects, which cost
        about a fifth of the encoder's time for one short sentence on one CPU thread.
        """
        encoder: Any = self.marian_encoder  # transformers' MarianEncoder: its submodules are not typed
        x = self.token_embeddings(src) + encoder.embed_positions.weight[: src.size(1)]
        B, T, D = x.shape
        heads = encoder.layers[0].self_attn.num_heads
        attn_mask = attention_mask(src_mask)
        for layer in encoder.layers:
            attn = layer.self_attn
            q, k, v = (
                proj(x).view(B, T, heads, D // heads).transpose(1, 2)
                for proj in (attn.q_proj, attn.k_proj, attn.v_proj)
            )
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask)
            x = layer.self_attn_layer_norm(x + attn.out_proj(y.transpose(1, 2).reshape(B, T, D)))
            x = layer.final_layer_norm(x + layer.fc2(F.relu(layer.fc1(x))))
        return x

    def decode_states(
        self, x: torch.Tensor, mask: torch.Tensor, memory: torch.Tensor, memory_mask: torch.Tensor
    ) -> torch.Tensor:
        """Decoder over input embeddings ``x`` (B, T, d) without positions; returns final states (B, T, d)."""
        x = self.add_positions(x)
        attn_mask, memory_attn_mask = attention_mask(mask), attention_mask(memory_mask)
        for layer in self.decoder:
            x = layer(x, attn_mask, memory, memory_attn_mask)
        return self.decoder_norm(x)

    def project(self, states: torch.Tensor) -> torch.Tensor:
        """Vocabulary logits of decoder states (tied output projection): (..., d) → (..., V)."""
        if self.output_projection is not None:
            return self.output_projection(states)
        return F.linear(states, self.embed.weight)

    def decode(
        self, x: torch.Tensor, mask: torch.Tensor, memory: torch.Tensor, memory_mask: torch.Tensor
    ) -> torch.Tensor:
        """Decoder over input embeddings ``x`` (B, T, d) without positions; returns logits (B, T, V)."""
        return self.project(self.decode_states(x, mask, memory, memory_mask))
