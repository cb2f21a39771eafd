"""``python -m translator train --config CONFIG.yaml``: config-driven, resumable training for every family.

The run folder (``runs/<name>/``) holds everything needed to continue after a kill:
``last.pt`` (model, optimizer, step, epoch, batch position, elapsed time, early-stopping state),
``snapshots/`` (model weights at each validation, the last few kept for averaging), ``best.pt``,
``tokenizer.json`` and ``log.jsonl`` (loss, target tokens/s, validation BLEU, wall time).
Running the same command again resumes where it stopped.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import random
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, cast

import torch
import yaml

from .checkpoint import model_class_for
from .corpus import ParallelCorpus, corpus_training_pairs, read_parallel
from .models.base import pad_sequences
from .tokenizer import SubwordTokenizer

LR_SCHEDULES = ("inverse_sqrt", "linear")  # see TrainConfig.lr_schedule and learning_rate


@dataclass
class TrainConfig:
    name: str
    architecture: str  # a key of translator.models.architectures.ARCHITECTURES
    valid_src: str
    valid_tgt: str
    source_lang: str
    target_lang: str
    # Training data: explicit files (e.g. a distilled corpus), corpora of data_dir/<pair>/, or both (see training_text).
    train_src: str = ""
    train_tgt: str = ""
    data_dir: str = "data"
    train_corpora: list = field(default_factory=list)
    model: dict = field(default_factory=dict)
    tokenizer: str = ""  # folder with tokenizer.json; trained from the training files if missing
    init_from: str = ""  # checkpoint folder to warm-start from (see warm_start); ignored when resuming
    vocab_size: int = 8000
    runs_dir: str = "runs"
    max_batch_tokens: int = 4096
    lr: float = 8e-4
    warmup_steps: int = 400
    # After warm-up: "inverse_sqrt" (Vaswani et al.; open-ended runs) or "linear" (down to 0 at max_steps: for a
    # run with a fixed step budget, e.g. a GPU lease, the last steps take small, low-noise updates; Li et al. 2020,
    # "Budgeted training").
    lr_schedule: str = "inverse_sqrt"
    weight_decay: float = 0.01
    clip_norm: float = 1.0
    max_steps: int = 100_000
    max_minutes: float = 60.0
    validate_every: int = 250
    valid_sentences: int = 500
    valid_decoding: dict = field(default_factory=dict)  # e.g. {"beam": 1} for fast AR validation
    patience: int = 10  # validations without improvement before stopping
    keep_snapshots: int = 5
    threads: int = 1
    # "bf16": mixed precision (torch.autocast; fp32 master weights and optimizer). With AVX512-BF16
    # about 1.4x (AR) to 1.7x (CMLM) more target tokens/s than fp32; ignored (fp32) on a CPU
    # without native bf16, see effective_autocast. "" = plain fp32.
    autocast: str = ""
    seed: int = 1
    device: str = "cpu"

    def __post_init__(self):
        if self.lr_schedule not in LR_SCHEDULES:  # fail at load time, not after the warm-up
            raise ValueError(f"lr_schedule {self.lr_schedule!r}: use one of {', '.join(LR_SCHEDULES)}")

    @classmethod
    def load(cls, path: str | Path, overrides: Sequence[str] = ()) -> TrainConfig:
        data = yaml.safe_load(Path(path).read_text())
        for item in overrides:  # --set key=value, parsed as YAML so numbers stay numbers
            key, _, value = item.partition("=")
            target = data
            *parents, leaf = key.split(".")
            for parent in parents:
                target = target.setdefault(parent, {})
            target[leaf] = yaml.safe_load(value)
        return cls(**data)

    @property
    def run_dir(self) -> Path:
        return Path(self.runs_dir) / self.name

    def training_text(self) -> tuple[list[str], list[str]]:
        """The explicit files, then the train splits of ``train_corpora``; either or both.

        Both at once is how a student learns from a distilled corpus *and* the original in-domain
        references (en→pt: Bergamot's outputs plus LibreOffice's own pt-BR translations).
        """
        if not self.train_src and not self.train_corpora:
            raise ValueError("config needs train_src/train_tgt, train_corpora, or both")
        sources, targets = read_parallel(self.train_src, self.train_tgt) if self.train_src else ([], [])
        if self.train_corpora:
            pair = f"{self.source_lang}-{self.target_lang}"
            more_sources, more_targets = corpus_training_pairs(self.data_dir, pair, self.train_corpora)
            sources, targets = sources + more_sources, targets + more_targets
        return sources, targets


def cpu_has_native_bf16() -> bool:
    """oneDNN's own check for bf16 instructions (AVX512 or newer; AMX)."""
    return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


def effective_autocast(precision: str, device: torch.device) -> str:
    """The mixed precision a run really uses: bf16 on a CPU without native bf16 becomes plain fp32.

    Without those instructions torch's bf16 matrix products fall back to a scalar loop: on an AVX2-only
    CPU a CMLM training step takes minutes instead of seconds. The run says so once, and its
    config.yaml (hence the model card) records what it used.
    """
    if precision == "bf16" and device.type == "cpu" and not cpu_has_native_bf16():
        print("autocast bf16 ignored: this CPU has no native bf16 (AVX512/AMX), training in fp32", flush=True)
        return ""
    return precision


def autocast_context(precision: str, device: torch.device):
    """Mixed-precision context for the forward pass: bf16 on CPU or CUDA, fp16 on CUDA, or nothing."""
    if not precision:
        return contextlib.nullcontext()
    dtypes = {"bf16": torch.bfloat16, "fp16": torch.float16}
    if precision not in dtypes or (precision == "fp16" and device.type != "cuda"):
        raise ValueError(f"autocast {precision!r}: use 'bf16' (CPU or CUDA) or 'fp16' (CUDA only)")
    return torch.autocast(device.type, dtype=dtypes[precision])


def learning_rate(step: int, config: TrainConfig) -> float:
    """Linear warm-up, then config.lr_schedule: inverse square-root decay, or linear decay to 0 at max_steps."""
    step = max(step, 1)
    if step < config.warmup_steps:
        return config.lr * step / config.warmup_steps
    if config.lr_schedule == "linear":
        return config.lr * max(0.0, config.max_steps - step) / max(config.max_steps - config.warmup_steps, 1)
    return config.lr * math.sqrt(config.warmup_steps / step)


def load_or_train_tokenizer(config: TrainConfig, sources: list[str], targets: list[str]) -> SubwordTokenizer:
    run_tok = config.run_dir / "tokenizer.json"
    if run_tok.exists():
        return SubwordTokenizer.load(run_tok)
    if config.tokenizer:
        tokenizer = SubwordTokenizer.load(config.tokenizer)
    else:
        text_file = config.run_dir / "tokenizer-training.txt"
        text_file.write_text("".join(line + "\n" for line in sources + targets))
        tokenizer = SubwordTokenizer.train([text_file], config.vocab_size)
        text_file.unlink()
    tokenizer.save(config.run_dir)
    return tokenizer


@torch.no_grad()
def validate(model, tokenizer, sources: list[str], references: list[str], decoding: dict, device) -> dict:
    if hasattr(model, "validation_scores"):  # not a sentence translator (INarIG): it measures itself
        return model.validation_scores(tokenizer, sources, references, decoding, device)
    import sacrebleu

    model.eval()
    options = {**model.decoding_defaults, **decoding}
    encoded = [ids[:199] + [tokenizer.eos_id] for ids in tokenizer.encode(sources)]
    order = sorted(range(len(encoded)), key=lambda i: len(encoded[i]))
    hyps = [""] * len(encoded)
    for start in range(0, len(order), 64):
        chunk = order[start : start + 64]
        out, _ = model.generate(pad_sequences([encoded[i] for i in chunk], tokenizer.pad_id, device), **options)
        for i, text in zip(chunk, tokenizer.decode(out), strict=False):
            hyps[i] = text
    model.train()
    bleu = sacrebleu.corpus_bleu(hyps, [references])
    return {"valid_bleu": round(bleu.score, 2), "valid_examples": hyps[:3]}


# Where a NAR student keeps what an AR (Marian) teacher has: the joint embedding matrix always; the
# encoder when the student uses the Marian encoder (encoder_type: marian). Our own pre-norm layers
# (fused k/v) are not the same function as Marian's post-norm ones, so nothing else is copied.
CROSS_FAMILY_PREFIXES = {
    "marian.model.shared.weight": "backbone.embed.weight",
    "marian.model.encoder.": "backbone.marian_encoder.",
}


def _student_name(name: str, own: dict) -> str | None:
    if name in own:
        return name
    for prefix, replacement in CROSS_FAMILY_PREFIXES.items():
        if name.startswith(prefix):
            return replacement + name[len(prefix) :]
    return None


@torch.no_grad()
def warm_start(model, folder: str | Path, tokenizer: SubwordTokenizer) -> list[str]:
    """Copy the teacher's parameters into ``model`` where names (or CROSS_FAMILY_MAP) and shapes match.

    A 6–1 student of a 6–3 teacher gets the whole encoder, the embeddings and decoder layer 0; a NAR
    student gets the embeddings, and the encoder when it is a Marian one. Returns the names copied
    (logged). A teacher with another vocabulary (another language pair) has its vocabulary-indexed
    rows mapped piece by piece (see vocab_transfer); every other tensor is copied as is.
    """
    from .checkpoint import load_model_folder
    from .vocab_transfer import map_rows, same_vocabulary, vocabulary_map

    teacher, teacher_tokenizer = load_model_folder(folder)
    mapping = None
    if not same_vocabulary(teacher_tokenizer, tokenizer):
        mapping = vocabulary_map(tokenizer, teacher_tokenizer)
        print(f"init_from {folder}: other vocabulary, {mapping.summary()}", flush=True)
    own = model.state_dict()
    copied: list[str] = []
    for name, value in teacher.state_dict().items():
        # A model may place one teacher tensor in several of its own (calm: a deeper decoder, see warm_start_names).
        names = model.warm_start_names(name, teacher.config) if hasattr(model, "warm_start_names") else [name]
        for target in (_student_name(n, own) for n in names):
            if target is None or target not in own or target in copied:
                continue
            mapped = map_rows(value, own[target], mapping) if mapping else None
            if mapped is not None:
                own[target].copy_(mapped)
            elif own[target].shape == value.shape and (mapping is None or mapping.teacher_size not in value.shape):
                own[target].copy_(value.to(own[target].dtype))
            else:
                continue
            copied.append(target)
    return copied


def save_state(path: Path, **state) -> None:
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    tmp.replace(path)  # atomic: a kill mid-write never leaves a corrupt last.pt


def train(config: TrainConfig) -> dict:
    torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    random.seed(config.seed)
    device = torch.device(config.device)
    config.autocast = effective_autocast(config.autocast, device)
    run_dir = config.run_dir
    (run_dir / "snapshots").mkdir(parents=True, exist_ok=True)
    (run_dir / "config.yaml").write_text(yaml.safe_dump(asdict(config), sort_keys=False))
    log_path = run_dir / "log.jsonl"

    sources, targets = config.training_text()
    tokenizer = load_or_train_tokenizer(config, sources, targets)
    model_cls = model_class_for(config.architecture)
    model = model_cls({**config.model, "vocab_size": tokenizer.vocab_size}).to(device)
    if hasattr(model, "use_tokenizer"):  # a family that spells words with the pieces (INarIG's training examples)
        cast(Any, model).use_tokenizer(tokenizer)  # not a TranslationModel method: the hasattr above checks it
    max_tokens = int(model.config.get("max_source_tokens", 200))
    corpus = ParallelCorpus(sources, targets, tokenizer, max_tokens)
    valid_src, valid_ref = read_parallel(config.valid_src, config.valid_tgt)
    valid_src, valid_ref = valid_src[: config.valid_sentences], valid_ref[: config.valid_sentences]

    optimizer = torch.optim.AdamW(
        model.parameters(), lr=config.lr, betas=(0.9, 0.98), eps=1e-8, weight_decay=config.weight_decay
    )
    state: dict[str, Any] = {
        "step": 0,
        "epoch": 0,
        "batch_in_epoch": 0,
        "elapsed": 0.0,
        "best_bleu": -1.0,
        "bad_validations": 0,
        "snapshots": [],
    }
    last_path = run_dir / "last.pt"
    if last_path.exists():
        saved = torch.load(last_path, map_location=device, weights_only=False)
        model.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        state = saved["state"]
        print(f"resumed {config.name} at step {state['step']} (epoch {state['epoch']})", flush=True)
    elif config.init_from:
        copied = warm_start(model, config.init_from, tokenizer)
        print(f"warm start from {config.init_from}: {len(copied)} tensors copied", flush=True)
    print(
        f"{config.name}: {model.num_parameters():,} parameters, {len(corpus):,} pairs, "
        f"{corpus.target_tokens():,} target tokens/epoch",
        flush=True,
    )
    state.setdefault("target_tokens", 0)  # runs saved before this was counted resume from 0

    def log(record: dict) -> None:
        record = {
            "step": state["step"],
            "epoch": state["epoch"],
            "elapsed_min": round(state["elapsed"] / 60, 2),
            **record,
        }
        with open(log_path, "a") as handle:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        print(json.dumps(record, ensure_ascii=False), flush=True)

    model.train()
    window = {"loss": 0.0, "tokens": 0, "seconds": 0.0, "steps": 0}
    stop_reason = None
    while stop_reason is None:
        batches = corpus.batches(config.max_batch_tokens, state["epoch"], config.seed)
        while state["batch_in_epoch"] < len(batches):
            started = time.perf_counter()
            batch = corpus.collate(batches[state["batch_in_epoch"]]).to(device)
            for group in optimizer.param_groups:
                group["lr"] = learning_rate(state["step"] + 1, config)
            with autocast_context(config.autocast, device):
                loss, stats = model.loss(batch, state["step"])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.clip_norm)
            optimizer.step()
            state["step"] += 1
            state["batch_in_epoch"] += 1
            seconds = time.perf_counter() - started
            state["elapsed"] += seconds
            state["target_tokens"] += stats["tokens"]
            window["loss"] += float(loss.detach()) * stats["tokens"]
            window["tokens"] += stats["tokens"]
            window["seconds"] += seconds
            window["steps"] += 1
            if state["step"] % 50 == 0:
                log(
                    {
                        "loss": round(window["loss"] / max(window["tokens"], 1), 4),
                        "tgt_tokens_per_s": round(window["tokens"] / window["seconds"]),
                        "lr": round(learning_rate(state["step"], config), 7),
                        # compute spent, comparable across models: target tokens seen and the epoch's size
                        "target_tokens": state["target_tokens"],
                        "target_tokens_per_epoch": corpus.target_tokens(),
                    }
                )
                window = {"loss": 0.0, "tokens": 0, "seconds": 0.0, "steps": 0}
            if state["step"] % config.validate_every == 0:
                stop_reason = validation_round(config, model, tokenizer, valid_src, valid_ref, device, state, log)
            if state["step"] >= config.max_steps:
                stop_reason = stop_reason or "max_steps"
            if state["elapsed"] >= config.max_minutes * 60:
                stop_reason = stop_reason or "max_minutes"
            if state["step"] % 50 == 0 or stop_reason:
                save_state(last_path, model=model.state_dict(), optimizer=optimizer.state_dict(), state=state)
            if stop_reason:
                break
        else:
            state["epoch"] += 1
            state["batch_in_epoch"] = 0
    if state["step"] % config.validate_every != 0 and stop_reason != "early_stopping":
        validation_round(config, model, tokenizer, valid_src, valid_ref, device, state, log)
        save_state(last_path, model=model.state_dict(), optimizer=optimizer.state_dict(), state=state)
    log({"stopped": stop_reason, "best_valid_bleu": state["best_bleu"]})
    return state


def validation_round(config, model, tokenizer, valid_src, valid_ref, device, state, log) -> str | None:
    """Validate, snapshot the weights (for averaging), track the best, and decide on early stopping."""
    result = validate(model, tokenizer, valid_src, valid_ref, config.valid_decoding, device)
    snapshot = config.run_dir / "snapshots" / f"step-{state['step']:07d}.pt"
    torch.save(model.state_dict(), snapshot)
    state["snapshots"] = (state["snapshots"] + [snapshot.name])[-config.keep_snapshots :]
    for old in (config.run_dir / "snapshots").glob("step-*.pt"):
        if old.name not in state["snapshots"]:
            old.unlink()
    score = result.get("valid_score", result.get("valid_bleu"))  # valid_score: a family's own measure
    if score > state["best_bleu"]:
        state["best_bleu"] = score
        state["bad_validations"] = 0
        torch.save(model.state_dict(), config.run_dir / "best.pt")
    else:
        state["bad_validations"] += 1
    log(result)
    if state["bad_validations"] >= config.patience:
        return "early_stopping"
    return None


def main(argv):
    parser = argparse.ArgumentParser(prog="python -m translator train")
    parser.add_argument("--config", required=True, help="YAML file with TrainConfig fields")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config field, e.g. --set max_minutes=5 --set model.decoder_layers=1",
    )
    args = parser.parse_args(argv)
    train(TrainConfig.load(args.config, args.set))
    return 0
