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
    assert ("en-de/synth" in request["test_sets"]) == any(s["pair"] == "en-de" for s in services.validate_request(request)["systems"])
    assert services.validate_request(request)["limit"] == services.DEFAULT_LIMIT


def test_if_none_seeds_once(capsys):
    call_command("benchmark", "--if-none")
    run = BenchmarkRun.objects.get()
    assert run.kind == "default" and run.state == "queued" and "shipped models" in run.label
    call_command("benchmark", "--if-none")
    assert BenchmarkRun.objects.count() == 1
    assert "nothing queued" in capsys.readouterr().out


def test_if_none_seeds_again_when_every_run_failed():
    run = stored_run()
    BenchmarkRun.objects.filter(pk=run.pk).update(state="failed")
    call_command("benchmark", "--if-none")
    assert BenchmarkRun.objects.filter(kind="default").count() == 1


def test_inline_run_measures_and_stores(capsys):
    call_command("benchmark", "--system", "bergamot-en-pt", "--test-set", "en-pt/tiny", "--limit", "3",
                 "--bootstrap", "20", "--inline")
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
