"""Inference precision on the CPU: fp32 (default) or int8 weights (dynamic quantization).

The Bergamot engine we race runs int8 matrix products; comparing it with fp32 torch models would measure
number formats, not architectures. ``int8`` quantizes every ``nn.Linear`` to int8 weights with activations
quantized on the fly (``torch.ao.quantization.quantize_dynamic``, fbgemm/VNNI kernels), including the NAR
output projection, which is tied to the embedding matrix and therefore gets its own int8 copy. GPUs keep fp16.
"""

from __future__ import annotations

import warnings

import torch
from torch import nn

from .engine import PRECISIONS


def check_precision(precision: str, device: torch.device) -> None:
    if precision not in PRECISIONS:
        raise ValueError(f"precision {precision!r}: use one of {', '.join(PRECISIONS)}")
    if precision != "fp32" and device.type != "cpu":
        raise ValueError(f"precision {precision} is for the CPU; on a GPU the models run in fp16")


def quantize_int8(model: nn.Module) -> nn.Module:
    backbone = getattr(model, "backbone", None)
    if backbone is not None and hasattr(backbone, "embed"):
        # The tied projection is F.linear(states, embed.weight); a Linear sharing that weight is quantized
        # below like every other layer, and the embedding lookup keeps the fp32 matrix.
        projection = nn.Linear(backbone.embed.weight.size(1), backbone.embed.weight.size(0), bias=False)
        projection.weight = backbone.embed.weight
        backbone.output_projection = projection
    # torch.ao's eager dynamic quantization is deprecated in favour of torchao, whose CPU int8 path needs
    # torch.compile; these fbgemm kernels are what eager CPU inference uses today, so silence the notice.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return torch.ao.quantization.quantize_dynamic(model.eval(), {nn.Linear}, dtype=torch.qint8)
