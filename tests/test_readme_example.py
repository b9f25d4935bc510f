"""The README's Python example, saved as a plain script and run with ``python script.py`` from the repository
root: no ``if __name__ == "__main__":`` guard, worker processes and all."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def readme_example() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Python API"):]
    return re.search(r"```python\n(.*?)```", section, re.DOTALL).group(1)


def test_readme_example_runs_as_a_script(tmp_path: Path) -> None:
    script = tmp_path / "example.py"
    script.write_text(readme_example(), encoding="utf-8")
    assert "__main__" not in script.read_text()
    env = {**os.environ, "SIGNALOPT_CACHE": str(tmp_path / "cache")}
    proc = subprocess.run([sys.executable, str(script)], cwd=ROOT, capture_output=True, text=True, timeout=600,
                          env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    # the comparison table: the existing timing, its made-safe version and the optimised plans
    for name in ("existing", "optimised"):
        assert name in proc.stdout
    # printed whole, queue columns included (a printed DataFrame hid them behind "...")
    for column in ("mean max queue m", "queue vs existing", "delay s/veh", "delay vs existing", "not inserted"):
        assert column in proc.stdout
