"""The evaluate command as a newcomer meets it: mistakes caught before measuring, progress with an ETA, partial
reports, and a typed report whose JSON format is the shipped one."""

import io
import json
import subprocess
import sys
import time
from pathlib import Path

import jsonschema
import pytest

from translator.engine import AR, NAR, Engine, EngineInfo
from translator.evaluate import System, build_parser, evaluate_systems, progress_printer, summary_table
from translator.evaluate import TestSet as EvalTestSet
from translator.evaluate import main as evaluate_main
from translator.report import EvaluationReport, ReportError, json_schema

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted((ROOT / "benchmarks" / "results").glob("en-*.json"))


class Echo(Engine):
    """Copies its input; ``family`` decides whether it counts as an AR baseline for speed-ups."""

    def __init__(self, name, family):
        self.info = EngineInfo(
            name=name, family=family, architecture="test", source_lang="en", target_lang="de", decoding_defaults={}
        )

    def _translate(self, sentences, **options):
        time.sleep(0.002)  # latencies round to 0.01 ms: keep them above 0
        return list(sentences), [{} for _ in sentences]


def folder_with_engine_file(tmp_path, name="toy", defaults=None):
    folder = tmp_path / name
    folder.mkdir()
    engine = {
        "name": name,
        "family": "AR",
        "architecture": "transformer",
        "source_lang": "en",
        "target_lang": "de",
        "decoding_defaults": defaults or {"beam": 4},
    }
    (folder / "engine.json").write_text(json.dumps(engine))
    return folder  # no weights: loading it would fail, so a passing validation never loads


def test_a_typo_in_the_last_system_fails_before_anything_is_measured(tmp_path, capsys):
    folder = folder_with_engine_file(tmp_path)
    src, ref = tmp_path / "t.en", tmp_path / "t.de"
    src.write_text("a\n"), ref.write_text("A\n")
    out = tmp_path / "out.json"
    base = ["--test-set", f"t={src},{ref}", "--out", str(out)]
    cases = [
        (["--system", f"{folder}:beam=1", "--system", f"{folder}:bem=2"], "does not accept bem (it accepts beam)"),
        (["--system", f"{folder}", "--system", "no-such-model"], "no-such-model: unknown translator"),
        (["--system", f"{folder}:precision=int4"], "precision must be one of fp32, int8"),
        (["--system", f"{folder}:beam"], "options are key=value"),
        (["--system", f"{folder}", "--system", f"{folder}"], "listed twice"),
        (["--system", f"{folder}", "--test-set", "en-de/nothing", "--data-dir", str(tmp_path)], "prepare-data"),
        (["--system", f"{folder}", "--test-set", "nonsense"], "use PAIR/CORPUS"),
        (["--system", f"{folder}", "--limit", "0"], "--limit must be at least 1"),
    ]
    for args, message in cases:
        with pytest.raises(SystemExit) as exit_info:
            evaluate_main(args + base)
        assert exit_info.value.code == 2, args
        assert message in capsys.readouterr().err, args
        assert not out.exists()


def test_usage_errors_exit_2_without_a_traceback(tmp_path):
    folder = folder_with_engine_file(tmp_path)
    run = subprocess.run(
        [sys.executable, "-m", "translator", "evaluate", "--system", f"{folder}:iterations=3"]
        + ["--test-set", "en-de/x", "--out", str(tmp_path / "o.json")],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert "does not accept iterations" in run.stderr


def test_every_flag_has_help_with_its_default(monkeypatch):
    monkeypatch.setenv("COLUMNS", "300")
    parser = build_parser()
    for action in parser._actions:
        if action.option_strings and action.dest != "help":
            assert action.help, action.dest
    text = parser.format_help()
    assert "(default: 200)" in text and "(default: data)" in text and "(default: 1000)" in text
    assert "(default: None)" not in text and "(default: all)" in text


def test_partial_reports_progress_and_summary():
    sentences = ["the cat sat on the mat", "a dog ran in the park today", "one two three four five"] * 4
    tests = [EvalTestSet("t1", sentences, sentences), EvalTestSet("t2", ["x y"], ["x y"])]
    systems = [System("ar", Echo("ar", AR)), System("nar", Echo("nar", NAR))]
    partials, messages = [], []
    report = evaluate_systems(
        systems,
        tests,
        latency_sentences=5,
        n_bootstrap=10,
        progress=lambda m, f: messages.append((m, f)),
        on_partial=lambda r: partials.append(r.to_dict()),
    )
    # After each system on each test set, then once more when a test set's quality is scored.
    assert len(partials) == 6 and all(p["partial"] for p in partials)
    first = partials[0]
    assert list(first["systems"][0]["results"]) == ["t1"] and first["systems"][1]["results"] == {}
    assert first["systems"][0]["results"]["t1"]["bleu"] is None  # scored only when every system has run
    assert partials[2]["systems"][1]["results"]["t1"]["bleu"] == 100.0
    assert not report.partial and report.systems[1].results["t2"].scored
    fractions = [f for _, f in messages]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    table = summary_table(report)
    assert "sent/s @16" in table and "repeated tokens" in table and "speed-up" in table
    assert "| nar | t1 (12) | 100.00" in table and "× /" in table
    # The typed report is the JSON format: it validates against the schema derived from the types.
    jsonschema.validate(report.to_dict(), json_schema())
    assert EvaluationReport.from_dict(json.loads(report.to_json())) == report


def test_progress_lines_have_elapsed_time_and_eta():
    stream = io.StringIO()
    show = progress_printer(stream)
    show("starting", 0.0)
    show("half", 0.5)
    show("done", 1.0)
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("[  0% elapsed 0:00:00 ETA ?] starting")
    assert lines[1].startswith("[ 50% elapsed 0:00:00 ETA 0:00:00] half")
    assert lines[2].startswith("[100% elapsed") and "ETA 0:00:00" in lines[2]


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_reports_load_typed_and_match_the_schema(path):
    data = json.loads(path.read_text())
    jsonschema.validate(data, json_schema())
    report = EvaluationReport.load(path)
    assert report.systems and all(r.scored for s in report.systems for r in s.results.values())
    again = report.to_dict()
    for key in ("baseline", "test_sets", "environment"):
        assert again[key] == data[key]


def test_a_malformed_report_names_the_field(tmp_path):
    data = json.loads(SHIPPED[0].read_text())
    data["systems"][1]["results"] = {"x": {"latency_ms": {"p50": "fast"}}}
    with pytest.raises(ReportError, match=r"systems\[1\]\.results\.x\.latency_ms\.p50: expected float"):
        EvaluationReport.from_dict(data)
