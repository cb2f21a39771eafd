"""A tiny Hugging Face Marian folder in exactly the layout of an OPUS-MT download, made from scratch.

config.json (model_type marian), model.safetensors, source.spm / target.spm (a sentencepiece model trained
here), vocab.json (its pieces, then <pad> last, as OPUS-MT's), tokenizer_config.json with the languages. The
model is trained for a few hundred steps on a word-mapping task (each word to its upper-case form), so its
translations are checkable: "alpha beta" → "ALPHA BETA".
"""

from __future__ import annotations

import json
import random
from pathlib import Path

WORDS = ["alpha", "beta", "gamma", "delta", "zeta", "theta", "kappa", "sigma"]


def toy_pairs(n: int, seed: int = 0) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    pairs = []
    for _ in range(n):
        words = rng.sample(WORDS, rng.randint(1, 4))  # distinct words: n-gram blocking never applies
        pairs.append((" ".join(words), " ".join(w.upper() for w in words)))
    return pairs


def make_marian_folder(folder: Path, steps: int = 400, seed: int = 0) -> Path:
    import sentencepiece as spm
    import torch
    from transformers import MarianConfig, MarianMTModel, MarianTokenizer

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    pairs = toy_pairs(2000, seed)
    text = folder.parent / f".{folder.name}-spm.txt"
    text.write_text("".join(f"{s}\n{t}\n" for s, t in pairs))
    prefix = folder.parent / f".{folder.name}-spm"
    # OPUS-MT's convention: </s> = 0, <unk> = 1, no <s>; <pad> is added after the pieces.
    spm.SentencePieceTrainer.train(
        input=str(text),
        model_prefix=str(prefix),
        vocab_size=40,
        model_type="unigram",
        eos_id=0,
        unk_id=1,
        bos_id=-1,
        pad_id=-1,
        character_coverage=1.0,
        hard_vocab_limit=False,
        minloglevel=2,
    )
    text.unlink()
    model_file = Path(f"{prefix}.model")
    processor = spm.SentencePieceProcessor(model_file=str(model_file))
    vocab = {processor.id_to_piece(i): i for i in range(processor.get_piece_size())}
    vocab["<pad>"] = len(vocab)
    for name in ("source.spm", "target.spm"):
        (folder / name).write_bytes(model_file.read_bytes())
    (folder / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False))
    model_file.unlink()
    Path(f"{prefix}.vocab").unlink()

    tokenizer = MarianTokenizer(
        str(folder / "source.spm"),
        str(folder / "target.spm"),
        str(folder / "vocab.json"),
        source_lang="en",
        target_lang="de",
    )
    tokenizer.save_pretrained(str(folder))

    torch.manual_seed(seed)
    pad = vocab["<pad>"]
    config = MarianConfig(
        vocab_size=len(vocab),
        d_model=64,
        encoder_layers=1,
        decoder_layers=1,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=128,
        decoder_ffn_dim=128,
        max_position_embeddings=64,
        activation_function="swish",  # OPUS-MT's
        dropout=0.0,
        pad_token_id=pad,
        eos_token_id=0,
        decoder_start_token_id=pad,
        forced_eos_token_id=0,
        scale_embedding=True,
        share_encoder_decoder_embeddings=True,
        tie_word_embeddings=True,
    )
    model = MarianMTModel(config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    rng = random.Random(seed)
    model.train()
    for _ in range(steps):
        batch = rng.sample(pairs, 32)
        inputs = tokenizer([s for s, _ in batch], text_target=[t for _, t in batch], padding=True, return_tensors="pt")
        labels = inputs["labels"].masked_fill(inputs["labels"].eq(pad), -100)
        loss = model(input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"], labels=labels).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    model.save_pretrained(str(folder))
    return folder
