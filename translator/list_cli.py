"""``python -m translator list``: the registered translators, as the site sees them."""

import argparse
import json

from .registry import list_engines


def main(argv):
    parser = argparse.ArgumentParser(prog="python -m translator list")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    infos = list_engines()
    if args.json:
        print(json.dumps([i.as_dict() for i in infos], indent=2))
    else:
        for i in infos:
            print(f"{i.name:24} {i.family:4} {i.pair:6} {i.architecture}  params={i.parameters}")
    return 0
