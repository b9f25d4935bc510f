"""The research notebooks run top to bottom (small budgets) and are committed without outputs.

Each notebook's first code cell (tagged ``parameters``) reads ``SIGNALOPT_NB_*`` environment variables with
defaults sized for a user; here they are set tiny so the three notebooks take a few minutes on 2 cores. The kernel
is ipykernel's ``python3`` in this interpreter (jupyter_client runs the spec's ``python`` as ``sys.executable``),
started with ``notebooks/`` as its working directory, like a user opening the notebook there.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
CELL_TIMEOUT_S = 300

#: Small enough for CI, large enough that every code path runs (an optimiser batch after the warm start,
#: confidence intervals over two seeds, a sweep of three cycles).
SMALL = {
    "SIGNALOPT_NB_BUDGET": "4",
    "SIGNALOPT_NB_SEEDS": "1",
    "SIGNALOPT_NB_COMPARE_SEEDS": "101,102",
    "SIGNALOPT_NB_SIM_SEEDS": "101,102",
    "SIGNALOPT_NB_CYCLES": "60:120:30",
    "SIGNALOPT_NB_DEMANDS": "summer",
    "SIGNALOPT_NB_WORKERS": "2",
}


def _ensure(*modules: str) -> None:
    """Install the notebook runner into this interpreter if the ``test`` extra was not installed."""
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        done = subprocess.run([sys.executable, "-m", "pip", "install", "-q", *missing], capture_output=True, text=True)
        if done.returncode != 0:
            pytest.fail(f"cannot install {', '.join(missing)} (pip install '.[test]'): {done.stderr.strip()[-500:]}")
        importlib.invalidate_caches()


_ensure("nbformat", "nbclient", "ipykernel")

import nbformat  # noqa: E402
from nbclient import NotebookClient  # noqa: E402


def test_notebooks_exist() -> None:
    names = {p.name for p in NOTEBOOKS}
    assert {"01_quickstart.ipynb", "02_cycle_length_sensitivity.ipynb",
            "03_school_term_vs_summer.ipynb"} <= names, names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_committed_clean(path: Path) -> None:
    """No outputs or execution counts in the repository, and a ``parameters`` cell first."""
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    dirty = [i for i, c in enumerate(nb.cells)
             if c.cell_type == "code" and (c.outputs or c.execution_count is not None)]
    assert not dirty, f"{path.name}: cells {dirty} have outputs; clear them before committing"
    assert code and "parameters" in code[0].metadata.get("tags", []), \
        f"{path.name}: the first code cell is not tagged parameters"
    assert "SIGNALOPT_NB_" in code[0].source


@pytest.mark.timeout(1200)
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Execute every cell in a fresh kernel; any cell error fails the test with its traceback."""
    for key, value in SMALL.items():
        monkeypatch.setenv(key, value)  # the kernel inherits this process's environment
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=CELL_TIMEOUT_S, kernel_name="python3", allow_errors=False,
                            resources={"metadata": {"path": str(NOTEBOOK_DIR)}})
    t0 = time.perf_counter()
    client.execute()
    elapsed = time.perf_counter() - t0
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
    figures = sum("image/png" in o.get("data", {}) for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert figures >= 1, f"{path.name}: no figure was drawn"
    print(f"{path.name}: {elapsed:.0f} s")
