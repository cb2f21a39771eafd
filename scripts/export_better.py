"""Export a training run the better of two ways: the average of its last validation snapshots, or its best one.

Averaging is usually worth a little BLEU, but after many epochs on a small distilled corpus the last snapshots can
sit past the best one. So export both (fp16, as shipped), score each on the run's own validation sentences with
its validation decoding, and keep the higher. The chosen folder's card says which weights it holds.

Usage: python scripts/export_better.py RUN_DIR OUT_FOLDER [--average 5] [--device cuda] [--name NAME] [--description TEXT]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from translator.checkpoint import CARD, load_model_folder  # noqa: E402
from translator.corpus import read_parallel  # noqa: E402
from translator.export import export  # noqa: E402
from translator.model_card import write_card  # noqa: E402
from translator.train import validate  # noqa: E402


def validation_bleu(folder: Path, config: dict, device: str) -> float:
    model, tokenizer = load_model_folder(folder, device)
    sources, references = read_parallel(config["valid_src"], config["valid_tgt"])
    count = config["valid_sentences"]
    return validate(model, tokenizer, sources[:count], references[:count], config["valid_decoding"], device)[
        "valid_bleu"
    ]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--average", type=int, default=5)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--description", default="")
    parser.add_argument("--name", help="engine name (default: the run name)")
    args = parser.parse_args(argv)
    config = yaml.safe_load((args.run / "config.yaml").read_text())
    with tempfile.TemporaryDirectory() as tmp:
        scores = {}
        for label, average in (("average", args.average), ("best", 0)):
            folder = export(args.run, Path(tmp) / label, average, args.name, args.description)
            scores[label] = validation_bleu(folder, config, args.device)
        chosen = max(scores, key=lambda label: scores[label])
        if args.out.exists():
            shutil.rmtree(args.out)
        shutil.copytree(Path(tmp) / chosen, args.out)
    card = json.loads((args.out / CARD).read_text())
    card["weights_chosen_by"] = {"validation_bleu": scores, "kept": chosen}
    write_card(args.out, card)
    print(json.dumps({"run": str(args.run), "valid_bleu": scores, "chosen": chosen, "out": str(args.out)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
