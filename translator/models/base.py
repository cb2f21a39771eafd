"""What the training loop, the checkpoint code and the engine wrapper expect from a model family."""

from __future__ import annotations

import abc
from collections.abc import Iterator
from dataclasses import dataclass

import torch
from torch import nn

AR_FAMILY, NAR_FAMILY = "AR", "NAR"

# The CPU-sized Transformer every family starts from (~10M parameters at an 8k vocabulary);
# each family adds its own keys, and a training config overrides any of them.
SHARED_DEFAULTS = dict(
    vocab_size=8000,
    d_model=256,
    encoder_layers=6,
    decoder_layers=3,
    heads=4,
    ffn_dim=1024,
    dropout=0.1,
    max_positions=256,  # longest target the decoder produces
    max_source_tokens=200,
)


def pad_sequences(seqs: list[list[int]], pad_id: int, device=None) -> torch.Tensor:
    """Right-pad id lists into a (len(seqs), longest) long tensor."""
    out = torch.full((len(seqs), max(1, max(len(s) for s in seqs))), pad_id, dtype=torch.long)
    for row, seq in enumerate(seqs):
        out[row, : len(seq)] = torch.tensor(seq, dtype=torch.long)
    return out if device is None else out.to(device)


@dataclass
class Batch:
    """Padded id tensors. ``tgt`` ends with EOS for AR models; NAR families strip what they don't use."""

    src: torch.Tensor  # (B, S) long, padded with PAD
    tgt: torch.Tensor  # (B, T) long, padded with PAD
    pad_id: int

    @property
    def src_mask(self) -> torch.Tensor:  # True at real tokens
        return self.src.ne(self.pad_id)

    @property
    def tgt_mask(self) -> torch.Tensor:
        return self.tgt.ne(self.pad_id)

    def to(self, device) -> Batch:
        return Batch(self.src.to(device), self.tgt.to(device), self.pad_id)


class TranslationModel(nn.Module, abc.ABC):
    """A seq2seq model: a config dict in, a training loss, and a batched decoder.

    ``config`` is JSON-serialisable and fully describes the architecture, so a folder with
    ``config.json`` + weights rebuilds the model exactly.
    """

    architecture: str  # key in translator.models.architectures.ARCHITECTURES
    family: str  # "AR" or "NAR"
    # Options ``generate`` accepts, with defaults; the engine exposes them to the site.
    decoding_defaults: dict = {}
    # Whether training targets carry a trailing EOS token (AR: yes; NAR: they predict lengths).
    targets_with_eos: bool = True

    def __init__(self, config: dict):
        super().__init__()
        self.config = dict(config, architecture=self.architecture)

    @abc.abstractmethod
    def loss(self, batch: Batch, step: int) -> tuple[torch.Tensor, dict]:
        """Mean training loss for the batch and stats (must include ``tokens``: target tokens)."""

    @abc.abstractmethod
    def generate(self, src: torch.Tensor, **options) -> tuple[list[list[int]], list[dict]]:
        """Decode a padded source batch; return target ids (no specials) and per-sentence details."""

    def refine_steps(self, src: torch.Tensor, **options) -> Iterator[tuple[int, list[int], list[int]]]:
        """For iterative decoders: (iteration, ids, masked positions) per refinement step, optionally followed by
        a dict of further RefinementStep fields (calm: the exit layer of each token)."""
        ids, _ = self.generate(src, **options)
        yield 1, ids[0], []

    def num_parameters(self) -> int:
        # Tied embeddings are shared Parameter objects, so parameters() counts them once.
        return sum(p.numel() for p in self.parameters())
