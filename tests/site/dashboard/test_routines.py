"""The pure routines behind the dashboard, on small hand-checked examples."""

import pytest

from nmt_site.dashboard.selectors import iteration_sweeps, pareto_front, significance_mark
from translator.evaluate import TestSet as EvalTestSet
from translator.evaluate import bucket_of, bucket_scores, quality, sentence_scores


def test_significance_mark():
    assert significance_mark(None, 5.0) == ""  # the baseline itself
    assert significance_mark(0.2, 5.0) == ""  # not significant
    assert significance_mark(0.05, -3.0) == ""  # p must be strictly below alpha
    assert significance_mark(0.01, 2.0) == "▲"
    assert significance_mark(0.001, -2.0) == "▼"
    assert significance_mark(0.01, 0.0) == ""


def test_pareto_front_latency_and_throughput():
    pts = [
        {"l": "A", "x": 100, "y": 30},
        {"l": "B", "x": 50, "y": 29},
        {"l": "C", "x": 10, "y": 20},
        {"l": "D", "x": 60, "y": 25},  # dominated by B (faster and better)
        {"l": "E", "x": 120, "y": 28},
    ]  # dominated by A
    assert [p["l"] for p in pareto_front(pts, "x", "y", x_lower_is_better=True)] == ["C", "B", "A"]
    # As throughput (higher is better): E is best on x; A dominates nothing with x=100 < 120 → A and E on the front.
    assert [p["l"] for p in pareto_front(pts, "x", "y", x_lower_is_better=False)] == ["A", "E"]
    # Ties: two identical points both stay (neither is strictly better).
    same = [{"x": 1, "y": 1}, {"x": 1, "y": 1}]
    assert len(pareto_front(same, "x", "y", True)) == 2


def test_length_buckets_hand_checked():
    assert bucket_of("one two three") == "1-10"
    assert bucket_of(" ".join(["w"] * 10)) == "1-10"
    assert bucket_of(" ".join(["w"] * 11)) == "11-20"
    assert bucket_of(" ".join(["w"] * 40)) == "21-40"
    assert bucket_of(" ".join(["w"] * 41)) == "41+"
    assert bucket_of("") == "0"
    long_src = " ".join(["w"] * 15)
    test = EvalTestSet(
        "t", ["a b c d", long_src, "e f g h"], ["the cat sat on the mat", "x y z", "a dog ran in the park"]
    )
    hyps = ["the cat sat on the mat", "totally different", "a dog ran in the park"]
    from translator.report import Bucket

    out = bucket_scores(test, hyps, {0: 10.0, 1: 30.0, 2: 20.0})
    assert out["1-10"] == Bucket(sentences=2, bleu=100.0, latency_p50_ms=15.0)
    assert out["11-20"] == Bucket(sentences=1, bleu=0.0, latency_p50_ms=30.0)


def test_paired_bootstrap_against_baseline_hand_checked():
    refs = [f"the quick brown fox number {i} jumps over the lazy dog" for i in range(30)]
    test = EvalTestSet("t", refs, refs)
    perfect = list(refs)
    broken = ["dog lazy the over" for _ in refs]
    out = quality(test, {"base": perfect, "same": list(perfect), "bad": broken}, n_bootstrap=200)
    assert out["base"]["bleu"] == 100.0 and out["base"]["bleu_p_vs_baseline"] is None
    # sacreBLEU counts only strictly larger resampled differences, so a system identical to the baseline gets the
    # smallest p (1/(n+1)) by design: the mark must still say "no difference" because the difference is zero.
    assert out["same"]["bleu_p_vs_baseline"] == pytest.approx(1 / 201, abs=1e-3)
    assert significance_mark(out["same"]["bleu_p_vs_baseline"], out["same"]["bleu"] - out["base"]["bleu"]) == ""
    assert out["bad"]["bleu"] < 20 and out["bad"]["bleu_p_vs_baseline"] < 0.05
    assert out["bad"]["bleu_ci95"][0] <= out["bad"]["bleu"] <= out["bad"]["bleu_ci95"][1]
    assert "bs:200" in out["bad"]["bleu_signature"] and "nc:6" in out["bad"]["chrf_signature"]
    assert significance_mark(out["bad"]["bleu_p_vs_baseline"], out["bad"]["bleu"] - out["base"]["bleu"]) == "▼"


def test_sentence_scores():
    scores = sentence_scores(["a b c d", "zzz"], ["a b c d", "a b c d"])
    assert scores[0] == {"bleu": 100.0, "chrf": 100.0}
    assert scores[1]["bleu"] == 0.0 and scores[1]["chrf"] < 10


class Row:
    def __init__(self, translator, test_set, decoding, bleu, latency):
        self.translator, self.test_set, self.decoding, self.bleu = translator, test_set, decoding, bleu
        self.latency_p50_ms, self.throughput64_sps = latency, 1.0


def test_iteration_sweeps_group_only_iteration_variants():
    rows = [
        Row("cmlm", "t", {"iterations": 10, "length_beam": 3}, 28.0, 90.0),
        Row("cmlm", "t", {"iterations": 1, "length_beam": 3}, 20.0, 10.0),
        Row("cmlm", "t", {"iterations": 4, "length_beam": 1}, 25.0, 30.0),  # other length beam: its own group of 1
        Row("ar", "t", {"beam": 4}, 30.0, 100.0),
    ]
    sweeps = iteration_sweeps(rows)
    assert list(sweeps) == ["cmlm on t (length_beam=3)"]
    assert [(p["iterations"], p["bleu"]) for p in sweeps["cmlm on t (length_beam=3)"]] == [(1, 20.0), (10, 28.0)]


def test_evaluate_progress_can_stop_a_run_between_phases():
    """The dashboard cancels a run by raising from the progress callback: measuring stops before throughput."""
    from translator.engine import AR, Engine, EngineInfo
    from translator.evaluate import System, evaluate_systems

    class Echo(Engine):
        info = EngineInfo(name="echo", family=AR, architecture="test", source_lang="en", target_lang="de")
        calls: list[int] = []

        def _translate(self, sentences, **options):
            self.calls.append(len(sentences))
            return list(sentences), [{} for _ in sentences]

    class Stop(Exception):
        pass

    def progress(message, fraction):
        assert 0 <= fraction <= 1
        if "throughput" in message:
            raise Stop

    engine = Echo()
    test = EvalTestSet("t", ["a b", "c d e", "f"], ["a b", "c d e", "f"])
    with pytest.raises(Stop):
        evaluate_systems([System("echo", engine)], [test], latency_sentences=3, n_bootstrap=10, progress=progress)
    assert engine.calls == [1, 1, 1, 1]  # warm-up + three latency sentences, no batched throughput pass
