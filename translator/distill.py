"""``python -m translator distill``: sequence-level knowledge distillation data (Kim & Rush 2016).

Translates training sources with a teacher engine (our AR model, or Bergamot) and writes the
teacher's outputs as the new targets. Resumable: outputs are appended chunk by chunk with an fsync,
and a restart continues after the last complete line. Empty teacher outputs are kept as empty
lines (alignment must never shift); the training loader drops empty pairs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import time
from pathlib import Path

from .corpus import corpus_training_pairs, read_lines
from .engine import Engine

CHUNK = 512


def count_lines(path: Path) -> int:
    if not path.exists():
        return 0
    with open(path, "rb") as handle:
        data = handle.read()
    if data and not data.endswith(b"\n"):  # a kill mid-write: drop the partial last line
        data = data[: data.rfind(b"\n") + 1]
        with open(path, "wb") as handle:
            handle.write(data)
    return data.count(b"\n")


def distill(
    engine: Engine, sources: list[str], out_path: Path, options: dict | None = None, chunk: int = CHUNK, log=print
) -> dict:
    """Translate ``sources`` into ``out_path`` (one line each), resuming after existing lines."""
    options = options or {}
    out_path.parent.mkdir(parents=True, exist_ok=True)
    done = count_lines(out_path)
    started, translated = time.perf_counter(), 0
    with open(out_path, "a", encoding="utf-8") as handle:
        for begin in range(done, len(sources), chunk):
            batch = [s.replace("\n", " ") for s in sources[begin : begin + chunk]]
            outputs = engine.translate_batch(batch, **options).outputs
            handle.write("".join(o.replace("\n", " ").strip() + "\n" for o in outputs))
            handle.flush()
            os.fsync(handle.fileno())
            translated += len(batch)
            rate = translated / (time.perf_counter() - started)
            log(f"{begin + len(batch)}/{len(sources)} sentences ({rate:.1f}/s)")
    return {
        "sentences": len(sources),
        "resumed_at": done,
        "translated_now": translated,
        "seconds": round(time.perf_counter() - started, 1),
    }


def parse_samples(specs: list[str]) -> dict[str, int]:
    limits = {}
    for spec in specs:
        corpus, _, count = spec.partition("=")
        if not count.isdigit():
            raise SystemExit(f"--sample {spec!r}: use CORPUS=N")
        limits[corpus] = int(count)
    return limits


def sample_by_hash(sources: list[str], count: int) -> list[str]:
    """``count`` of ``sources`` picked by the SHA-1 of their text, kept in their original order.

    A hash rather than a seeded shuffle: the choice of a sentence depends only on its own text, so it
    survives corpus rebuilds that add or drop other lines.
    """
    if count >= len(sources):
        return sources
    ranked = sorted(range(len(sources)), key=lambda i: hashlib.sha1(sources[i].encode("utf-8")).digest())
    keep = set(ranked[:count])
    return [s for i, s in enumerate(sources) if i in keep]


def main(argv):
    from .evaluate import parse_system
    from .registry import load_engine, load_folder

    parser = argparse.ArgumentParser(prog="python -m translator distill")
    parser.add_argument(
        "--teacher",
        required=True,
        help="engine name or checkpoint folder, optionally :beam=4,... (precision=int8: int8 weights on the CPU)",
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--src", help="file of source sentences, one per line")
    source.add_argument("--corpora", help="comma-separated corpora of --pair whose train sources to distill")
    parser.add_argument("--pair", help="e.g. en-de (with --corpora)")
    parser.add_argument("--data-dir", default="data")
    parser.add_argument(
        "--out-prefix",
        required=True,
        help="writes PREFIX.<src lang> (the sources) and PREFIX.<tgt lang> (the teacher's outputs)",
    )
    parser.add_argument(
        "--shard",
        metavar="K/N",
        help="distill only the K-th of N contiguous slices (K from 1), "
        "writing PREFIX.shard-K-of-N.*; decoding is batch-independent, so concatenating the "
        "shards in order gives exactly the unsharded files (one process per core)",
    )
    parser.add_argument(
        "--sample",
        action="append",
        default=[],
        metavar="CORPUS=N",
        help="with --corpora: keep N sources of CORPUS, chosen by a hash of the text (the same N on every run, "
        "in corpus order); repeatable",
    )
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(args.threads)
    name, options = parse_system(args.teacher)
    # precision=int8 is a load option (as in evaluate): int8 weights make a CPU teacher ~2-3x faster
    precision = options.pop("precision", None)
    engine = (
        load_folder(Path(name), args.device, precision)
        if Path(name).is_dir()
        else load_engine(name, args.device, precision)
    )
    src_lang, tgt_lang = engine.info.source_lang, engine.info.target_lang
    if args.src:
        sources = read_lines(args.src)
    else:
        if args.pair != f"{src_lang}-{tgt_lang}":
            parser.error(f"--pair {args.pair} does not match the teacher's {src_lang}-{tgt_lang}")
        limits = parse_samples(args.sample)
        sources = []
        for corpus in args.corpora.split(","):
            corpus_sources, _ = corpus_training_pairs(args.data_dir, args.pair, [corpus])
            sources += sample_by_hash(corpus_sources, limits[corpus]) if corpus in limits else corpus_sources
    prefix = Path(args.out_prefix)
    if args.shard:
        k, n = (int(x) for x in args.shard.split("/"))
        if not 1 <= k <= n:
            parser.error("--shard K/N needs 1 <= K <= N")
        sources = sources[(k - 1) * len(sources) // n : k * len(sources) // n]
        prefix = Path(f"{prefix}.shard-{k}-of-{n}")
    src_path, out_path = Path(f"{prefix}.{src_lang}"), Path(f"{prefix}.{tgt_lang}")
    src_path.parent.mkdir(parents=True, exist_ok=True)
    expected = "".join(s.replace("\n", " ") + "\n" for s in sources)
    if not src_path.exists() or src_path.read_text(encoding="utf-8") != expected:
        if out_path.exists() and count_lines(out_path):
            parser.error(f"{out_path} belongs to different sources; remove it to start over")
        src_path.write_text(expected, encoding="utf-8")
    summary = distill(engine, sources, out_path, options)
    summary.update(
        teacher=engine.info.name,
        options=options,
        precision=precision or "default",
        sources=str(src_path),
        outputs=str(out_path),
    )
    Path(f"{prefix}.meta.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary))
    return 0
