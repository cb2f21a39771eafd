"""The one architecture table (translator/models/architectures.py) and the import order it allows."""

import subprocess
import sys

import pytest

from translator.checkpoint import model_class_for
from translator.engine import EngineError
from translator.models.architectures import ARCHITECTURES, get_architecture
from translator.models.base import TranslationModel


@pytest.mark.parametrize("name", sorted(ARCHITECTURES))
def test_each_entry_names_its_class_and_loader(name):
    arch = ARCHITECTURES[name]
    cls = arch.model_class()
    assert issubclass(cls, TranslationModel) and cls.architecture == name
    assert model_class_for(name) is cls
    assert callable(arch._resolve(arch.loader))


def test_unknown_architecture_is_an_engine_error():
    with pytest.raises(EngineError, match="unknown architecture 'rnn'.*transformer"):
        get_architecture("rnn")
    with pytest.raises(EngineError):
        model_class_for(None)


def _fresh(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()


def test_listing_translators_imports_no_torch():
    assert _fresh("import sys, translator.registry as r; r.list_engines(); print('torch' in sys.modules)") == "False"


def test_torch_engine_imports_without_the_registry():
    # The engine wrapper used to import the registry, which imports the engine wrapper: a cycle.
    code = "import sys, translator.models.torch_engine; print('translator.registry' in sys.modules)"
    assert _fresh(code) == "False"
