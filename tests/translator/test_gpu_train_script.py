"""scripts/gpu-train-students.sh wires the right training commands (checked with PYTHON=echo: no GPU, no training).

The script only runs on a GPU machine, often for a fixed time; a wrong flag there costs the whole run. So the
commands it would run are checked here: every stage's runs, their warm starts, batch sizes and variant options.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "gpu-train-students.sh"


def commands(stage: str, runs: Path, **env) -> dict[str, list[str]]:
    """Run a stage with PYTHON=echo; return each run's would-be command line as a list of arguments."""
    result = subprocess.run(
        ["bash", str(SCRIPT), stage, str(runs), "4.5"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHON": "echo", **env},
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return {path.stem: path.read_text().split() for path in sorted(runs.glob("*.out"))}


def overrides(args: list[str]) -> list[str]:
    """The KEY=VALUE of every --set of a command line, in order (what TrainConfig.load takes)."""
    return [args[i + 1] for i, arg in enumerate(args) if arg == "--set"]


def settings(args: list[str]) -> dict[str, str]:
    """--set KEY=VALUE pairs of a command line; a later --set of the same key wins, as in TrainConfig.load."""
    return dict(item.split("=", 1) for item in overrides(args))


def test_cmlm_stage_trains_four_variants_from_the_shipped_cmlm(tmp_path):
    runs = commands("cmlm-en-de", tmp_path)
    assert sorted(runs) == ["cmlm-a6x3", "cmlm-b6x6", "cmlm-c6x6kd", "cmlm-d6x6d2"]
    for name, args in runs.items():
        assert args[:4] == ["-m", "translator", "train", "--config"] and args[4] == "configs/en-de/cmlm.yaml"
        options = settings(args)
        assert options["name"] == name
        assert options["init_from"] == options["tokenizer"] == "checkpoints/cmlm-en-de"
        assert (options["device"], options["autocast"], options["max_minutes"]) == ("cuda", "bf16", "4.5")
        assert (options["max_batch_tokens"], options["lr"]) == ("32000", "0.0005")
    assert "model.decoder_layers" not in settings(runs["cmlm-a6x3"])
    assert all(settings(runs[n])["model.decoder_layers"] == "6" for n in ("cmlm-b6x6", "cmlm-c6x6kd", "cmlm-d6x6d2"))
    assert settings(runs["cmlm-c6x6kd"])["train_corpora"] == "[]"
    assert settings(runs["cmlm-d6x6d2"])["model.dropout"] == "0.2"


def test_student_stage_warm_starts_each_student_from_the_pair_s_ar_model(tmp_path):
    runs = commands("en-de", tmp_path, DEVICE="cpu")
    assert sorted(runs) == ["cmlm-en-de", "ctc-glat-en-de", "fast-ar-en-de"]
    for args in runs.values():
        options = settings(args)
        assert options["init_from"] == "checkpoints/ar-teacher-en-de" and options["device"] == "cpu"
    assert settings(runs["ctc-glat-en-de"])["max_batch_tokens"] == "10000"


@pytest.mark.parametrize("wall", ["", "30"])
def test_wall_limit_only_wraps_the_command_in_timeout(tmp_path, wall):
    # With WALL the processes run under `timeout`, which passes its command on unchanged: same arguments either way.
    runs = commands("cmlm-en-de", tmp_path, WALL=wall)
    assert settings(runs["cmlm-b6x6"])["model.decoder_layers"] == "6"


def test_unknown_stage_is_refused(tmp_path):
    result = subprocess.run(
        ["bash", str(SCRIPT), "no-such-stage", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHON": "echo"},
        timeout=60,
    )
    assert result.returncode == 2 and "unknown stage" in result.stderr


def test_anneal_stage_decays_each_run_to_zero_within_its_step_budget(tmp_path):
    """Four 6-3 continuations of the shipped CMLM, linear schedule; every command line loads as a valid config."""
    from translator.train import TrainConfig, learning_rate

    runs = commands("cmlm-en-de-anneal", tmp_path)
    assert sorted(runs) == ["cmlm-e-lin5", "cmlm-f-lin3", "cmlm-g-lin7b64", "cmlm-h-lin4b16"]
    budgets = {}
    for name, args in runs.items():
        config = TrainConfig.load(ROOT / args[4], overrides(args))  # unknown keys or schedules would raise here
        assert (config.name, config.init_from, config.architecture) == (name, "checkpoints/cmlm-en-de", "cmlm")
        assert config.model["decoder_layers"] == 3 and config.lr_schedule == "linear"
        assert learning_rate(config.max_steps, config) == 0.0 < learning_rate(config.max_steps - 1, config)
        budgets[name] = (config.max_batch_tokens, config.max_steps, config.lr)
    assert budgets == {
        "cmlm-e-lin5": (32000, 3300, 5e-4),
        "cmlm-f-lin3": (32000, 3300, 3e-4),
        "cmlm-g-lin7b64": (64000, 1650, 7e-4),
        "cmlm-h-lin4b16": (16000, 5000, 4e-4),
    }
