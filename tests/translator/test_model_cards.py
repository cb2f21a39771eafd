"""Every checkpoint's README.md is the model card rendered from its model_card.json."""

import json
import shutil
from pathlib import Path

import pytest

from translator.cli import main as cli
from translator.model_card import render_markdown

CHECKPOINTS = sorted(p.parent for p in (Path(__file__).resolve().parents[2] / "checkpoints").glob("*/model_card.json"))


@pytest.mark.parametrize("folder", CHECKPOINTS, ids=lambda p: p.name)
def test_shipped_cards_are_in_sync(folder):
    assert cli(["card", "--checkpoint", str(folder), "--check"]) == 0


def test_check_fails_on_a_stale_readme_and_card_regenerates_it(tmp_path, capsys):
    folder = tmp_path / "m"
    shutil.copytree(CHECKPOINTS[0], folder, ignore=shutil.ignore_patterns("model.safetensors"))
    card = json.loads((folder / "model_card.json").read_text())
    card["notes"] = "a changed note"
    (folder / "model_card.json").write_text(json.dumps(card))
    assert cli(["card", "--checkpoint", str(folder), "--check"]) == 1
    assert "is not the rendering" in capsys.readouterr().out
    assert cli(["card", "--checkpoint", str(folder)]) == 0
    assert (folder / "README.md").read_text() == render_markdown(card)
    assert cli(["card", "--checkpoint", str(folder), "--check"]) == 0
