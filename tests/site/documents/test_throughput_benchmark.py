"""The on-demand documents benchmark runs end to end (real engine, real splitter, real rebuild) and writes JSON."""

import json
import subprocess
import sys

from tests.site.conftest import ROOT


def test_documents_benchmark_writes_rows_per_engine_and_format(tmp_path):
    out = tmp_path / "documents.json"
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "documents_throughput.py"),
            "--engines",
            "bergamot-en-pt",
            "--paragraphs",
            "6",
            "--formats",
            "txt,srt,docx",
            "--out",
            str(out),
        ],
        check=True,
        cwd=ROOT,
        timeout=300,
        capture_output=True,
    )
    report = json.loads(out.read_text())
    assert [row["format"] for row in report["rows"]] == ["txt", "srt", "docx"]
    # 6 paragraphs of two lines each; the splitter may find more sentences, the same in every format.
    assert len({row["segments"] for row in report["rows"]}) == 1 and report["rows"][0]["segments"] >= 12
    for row in report["rows"]:
        assert row["engine"] == "bergamot-en-pt"
        assert row["segments_per_s"] > 0 and row["model_s"] > 0
    assert report["environment"]["threads"] == 1
