"""A tiny word-mapping translation task that a small model learns in seconds on a CPU."""

import random
from pathlib import Path

WORDS = ["alpha", "beta", "gamma", "delta", "eps", "zeta", "eta", "theta", "iota", "kappa"]


def write_toy_corpus(folder: Path, train: int = 3000, valid: int = 60, seed: int = 0) -> dict:
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for split, n in (("train", train), ("valid", valid)):
        src, tgt = [], []
        for _ in range(n):
            seq = [rng.choice(WORDS) for _ in range(rng.randint(3, 7))]
            src.append(" ".join(seq))
            tgt.append(" ".join(w.upper() for w in seq))
        for lang, lines in (("en", src), ("de", tgt)):
            path = folder / f"{split}.{lang}"
            path.write_text("".join(line + "\n" for line in lines))
            paths[f"{split}.{lang}"] = path
    return paths


def toy_config(folder: Path, paths: dict, architecture: str = "transformer", **overrides) -> Path:
    import yaml

    config = {
        "name": f"toy-{architecture}",
        "architecture": architecture,
        "source_lang": "en",
        "target_lang": "de",
        "train_src": str(paths["train.en"]),
        "train_tgt": str(paths["train.de"]),
        "valid_src": str(paths["valid.en"]),
        "valid_tgt": str(paths["valid.de"]),
        "vocab_size": 200,
        "runs_dir": str(folder / "runs"),
        "model": {"d_model": 64, "encoder_layers": 2, "decoder_layers": 1, "heads": 2, "ffn_dim": 128, "dropout": 0.0},
        "max_batch_tokens": 1024,
        "lr": 0.001,
        "warmup_steps": 50,
        "max_steps": 600,
        "validate_every": 300,
        "valid_decoding": {"beam": 1} if architecture == "transformer" else {},
    }
    config.update(overrides)
    path = folder / f"{architecture}.yaml"
    path.write_text(yaml.safe_dump(config))
    return path
