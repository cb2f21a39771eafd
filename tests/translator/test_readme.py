"""The README's results tables are rendered from the shipped evaluate reports; the README stays short."""

import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"


def report_table():
    spec = importlib.util.spec_from_file_location("report_table", ROOT / "benchmarks" / "report_table.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_results_section_is_the_rendering_of_the_shipped_reports():
    module = report_table()
    text = README.read_text()
    assert module.replace_section(text, module.readme_section()) == text, (
        "stale results: .venv/bin/python benchmarks/report_table.py --write README.md"
    )
    assert "| ctc-glat-en-de | en-de/libreoffice" in text and "| bergamot-en-pt | en-pt/libreoffice" in text
    with pytest.raises(ValueError, match="markers"):
        module.replace_section("no markers", "x")


def test_readme_is_short_and_about_using_the_studio():
    text = README.read_text()
    assert len(text.splitlines()) <= 250
    assert "prepare-data" in text and "scripts/run" in text and "scripts/test" in text
    assert not re.search(r"\b(session|round) \d+", text, re.I)
    for link in re.findall(r"\]\(((?:docs|checkpoints)/[^)]+)\)", text):
        assert (ROOT / link).exists(), link
