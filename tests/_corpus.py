"""The generated network corpus (``networks/corpus/build.py``) as a session fixture.

Use it from a test module with ``from _corpus import corpus, corpus_build  # noqa: F401``; the corpus
is built once per session into a temporary folder (about 10 s), entries that exist are not rebuilt.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BUILD_PY = Path(__file__).resolve().parent.parent / "networks" / "corpus" / "build.py"


def load_corpus_build() -> ModuleType:
    """Import ``networks/corpus/build.py`` by path (it is a script, not part of the package)."""
    name = "networks_corpus_build"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, BUILD_PY)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def corpus_build() -> ModuleType:
    """The ``networks/corpus/build.py`` module (``CORPUS``, ``build_corpus``, ``build_entry``, ...)."""
    return load_corpus_build()


@pytest.fixture(scope="session")
def corpus(corpus_build: ModuleType, tmp_path_factory: pytest.TempPathFactory) -> list:
    """Every corpus entry (``CorpusEntry``: name, layout, net/sumocfg/scenario paths, n_signals,
    programme_type), built once per session under a temporary folder."""
    return corpus_build.build_corpus(tmp_path_factory.mktemp("corpus"))
