"""Device and precision choice: CUDA with fp16 when present and asked for, else CPU with fp32."""

from __future__ import annotations

import torch


def resolve_device(requested: str | None = None) -> torch.device:
    """``None``/"auto" picks CUDA when available; "gpu"/"cuda" insist on it; "cpu" forces the CPU."""
    requested = (requested or "auto").lower()
    if requested == "cpu":
        return torch.device("cpu")
    if requested in ("gpu", "cuda") or requested.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise RuntimeError("CUDA was requested but no CUDA device is available")
        return torch.device("cuda" if requested == "gpu" else requested)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def inference_dtype(device: torch.device) -> torch.dtype:
    # Half precision halves memory and roughly doubles matmul speed on GPUs; CPUs gain nothing.
    return torch.float16 if device.type == "cuda" else torch.float32
