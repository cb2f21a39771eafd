"""`python manage.py benchmark`: the default benchmark request, seeding only when no run exists, an inline run."""

import pytest
from django.core.management import CommandError, call_command

from nmt_site.dashboard import services
from nmt_site.dashboard.models import BenchmarkRun

from .reports import stored_run

pytestmark = pytest.mark.django_db


def test_default_request_covers_the_shipped_models_on_their_test_sets():
    request = services.default_request()
    names = [s["translator"] for s in request["systems"]]
    # Translators of pairs that have a non-empty test set; within a pair AR systems come first.
    assert [n for n in names if n.startswith("bergamot-")] == ["bergamot-en-pt", "bergamot-pt-en"]
    pt_sets = sorted(t for t in request["test_sets"] if not t.startswith("en-de/"))
    assert pt_sets == ["en-pt/long", "en-pt/tiny", "pt-en/long", "pt-en/tiny"]  # en-pt/empty is left out
    assert ("en-de/synth" in request["test_sets"]) == any(
        s["pair"] == "en-de" for s in services.validate_request(request)["systems"]
    )
    assert services.validate_request(request)["limit"] == services.DEFAULT_LIMIT


def test_if_none_seeds_once(capsys, settings):
    settings.NMT_SHIPPED_BENCHMARKS = []  # nothing shipped: the default benchmark is queued
    call_command("benchmark", "--if-none")
    run = BenchmarkRun.objects.get()
    assert run.kind == "default" and run.state == "queued" and "shipped models" in run.label
    call_command("benchmark", "--if-none")
    assert BenchmarkRun.objects.count() == 1
    assert "nothing queued" in capsys.readouterr().out


def test_if_none_seeds_again_when_every_run_failed(settings):
    settings.NMT_SHIPPED_BENCHMARKS = []
    run = stored_run()
    BenchmarkRun.objects.filter(pk=run.pk).update(state="failed")
    call_command("benchmark", "--if-none")
    assert BenchmarkRun.objects.filter(kind="default").count() == 1


def test_inline_run_measures_and_stores(capsys):
    call_command(
        "benchmark",
        "--system",
        "bergamot-en-pt",
        "--test-set",
        "en-pt/tiny",
        "--limit",
        "3",
        "--bootstrap",
        "20",
        "--inline",
    )
    run = BenchmarkRun.objects.get()
    assert run.state == "done", run.error
    (row,) = run.results.all()
    assert row.sentences == 3 and row.bleu_signature.startswith("nrefs:1|bs:20|")
    assert f"run {run.id}: done" in capsys.readouterr().out


def test_bad_command_input_is_a_command_error():
    with pytest.raises(CommandError, match="Unknown test set"):
        call_command("benchmark", "--system", "bergamot-en-pt", "--test-set", "en-pt/missing")
    with pytest.raises(CommandError, match="at least one sentence"):
        call_command("benchmark", "--system", "bergamot-en-pt", "--test-set", "en-pt/tiny", "--limit", "0")


@pytest.fixture
def real_report(tmp_path):
    """A real evaluate report (Bergamot on 3 sentences of the fixture test set), written as the CLI writes it."""
    import json

    from nmt_site.dashboard import testsets
    from translator.evaluate import System, evaluate_systems
    from translator.registry import load_engine

    test = testsets.load(testsets.available()["en-pt/tiny"], 3)
    report = evaluate_systems(
        [System("bergamot-en-pt", load_engine("bergamot-en-pt"), {})], [test], latency_sentences=2, n_bootstrap=20
    )
    path = tmp_path / "report.json"
    path.write_text(report.to_json())
    return path, json.loads(path.read_text())


def test_import_stores_a_report_as_a_finished_run_with_its_own_environment(real_report, capsys):
    import json

    path, report = real_report
    call_command("benchmark", "--import", str(path), "--label", "measured elsewhere")
    run = BenchmarkRun.objects.get()
    assert run.state == "done" and run.label == "measured elsewhere"
    assert run.environment["git_commit"] == report["environment"]["git_commit"]
    assert run.environment["date"] == report["environment"]["date"]
    (row,) = run.results.all()
    measured = report["systems"][0]["results"]["en-pt/tiny"]
    assert row.bleu == measured["bleu"] and row.latency_p50_ms == measured["latency_ms"]["p50"]
    segments = run.segments.get(test_set="en-pt/tiny")
    assert len(segments.sources) == 3 and segments.outputs["bergamot-en-pt"] == measured["outputs"]
    # A test set that changed since the measurement: outputs kept, no misleading sources beside them.
    report["test_sets"]["en-pt/tiny"]["sha256"] = "0" * 64
    path.write_text(json.dumps(report))
    call_command("benchmark", "--import", str(path))
    newer = BenchmarkRun.objects.order_by("-queued_at").first()
    assert newer.segments.get(test_set="en-pt/tiny").sources == []


def test_import_refuses_partial_and_malformed_reports(real_report, tmp_path):
    import json

    path, report = real_report
    partial = tmp_path / "partial.json"
    partial.write_text(json.dumps({**report, "partial": True}))
    broken = tmp_path / "broken.json"
    del report["systems"][0]["results"]["en-pt/tiny"]["latency_ms"]["p50"]
    broken.write_text(json.dumps(report))
    for bad, message in ((partial, "partial"), (broken, "latency_ms: missing 'p50'")):
        with pytest.raises(CommandError, match=message):
            call_command("benchmark", "--import", str(bad))
    assert not BenchmarkRun.objects.exists()


def test_if_none_imports_the_shipped_measurement(real_report, settings, tmp_path, capsys):
    path, _ = real_report
    settings.NMT_SHIPPED_BENCHMARKS = [tmp_path / "not-there.json", path]
    call_command("benchmark", "--if-none")
    run = BenchmarkRun.objects.get()
    assert run.kind == "default" and run.state == "done" and run.results.count() == 1
    assert "seeded from the shipped measurement" in capsys.readouterr().out
    call_command("benchmark", "--if-none")
    assert BenchmarkRun.objects.count() == 1


def test_import_of_a_bad_file_is_a_command_error(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(CommandError, match="not an evaluate report"):
        call_command("benchmark", "--import", str(bad))
    with pytest.raises(CommandError, match="not an evaluate report"):
        call_command("benchmark", "--import", str(tmp_path / "missing.json"))
    assert not BenchmarkRun.objects.exists()


def test_a_fresh_install_seeds_both_shipped_measurements_and_opens_on_en_de():
    # The default NMT_SHIPPED_BENCHMARKS: the repository's en→pt and en→de evaluate reports, imported in that order.
    from django.conf import settings as django_settings

    from nmt_site.dashboard import selectors

    names = [p.name for p in django_settings.NMT_SHIPPED_BENCHMARKS]
    assert names == ["en-pt-models.json", "en-de-models.json"]
    assert all(p.is_file() for p in django_settings.NMT_SHIPPED_BENCHMARKS)
    call_command("benchmark", "--if-none")
    assert BenchmarkRun.objects.filter(state="done").count() == 2
    featured = selectors.featured_run()  # what the dashboard plots when no run is asked for
    assert {row.test_set for row in featured.results.all()} == {
        "en-de/libreoffice",
        "en-de/gettext",
        "en-de/ding",
        "en-de/bible",
    }
