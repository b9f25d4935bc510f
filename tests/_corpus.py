"""Import ``networks/corpus/build.py`` (a script, not part of the package) by path.

The session fixtures ``corpus`` and ``corpus_build`` (conftest.py) build the corpus once per session
into a temporary folder (about 10 s).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType


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
