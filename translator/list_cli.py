"""``python -m translator list``: the registered translators, as the site sees them."""

import argparse
import json
import sys

from .engine import EngineError
from .registry import checkpoint_folders, folder_info, list_engines


def main(argv):
    parser = argparse.ArgumentParser(prog="python -m translator list")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    infos = list_engines()
    # A folder the registry cannot list (e.g. a dropped-in Marian folder whose languages it cannot tell) says why.
    for name, folder in checkpoint_folders().items():
        try:
            folder_info(folder, name)
        except EngineError as exc:
            print(f"not listed: {exc}", file=sys.stderr)
    if args.json:
        print(json.dumps([i.as_dict() for i in infos], indent=2))
    else:
        for i in infos:
            print(f"{i.name:24} {i.family:4} {i.pair:6} {i.architecture}  params={i.parameters}")
    return 0
