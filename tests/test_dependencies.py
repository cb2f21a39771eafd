"""pyproject.toml declares the dependencies (runtime, test, dev); the pinned requirement files install them."""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def requirement_lines(name: str) -> list[str]:
    lines = (ROOT / name).read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def test_requirement_files_match_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime, extras = project["dependencies"], project["optional-dependencies"]
    assert sorted(requirement_lines("requirements.txt")) == sorted(runtime + extras["test"])
    assert sorted(requirement_lines("requirements-dev.txt")) == sorted(extras["dev"])
    assert not set(runtime) & set(extras["test"]), "a test-only package listed as a runtime dependency"
    assert {"pytest==9.2.0", "selenium==4.51.0"} <= set(extras["test"])


def test_ci_lints_before_testing():
    steps = [line.split()[1] for line in (ROOT / ".ci" / "run").read_text().splitlines() if line.startswith("bash ")]
    assert steps == ["scripts/lint", "scripts/test"]
    lint = (ROOT / "scripts" / "lint").read_text()
    assert "ruff check ." in lint and "ruff format --check ." in lint and "mypy" in lint
