"""The bundled count CSVs are exactly what scenarios/make_counts.py writes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_make_counts_regenerates_the_committed_csvs():
    proc = subprocess.run([sys.executable, str(ROOT / "scenarios" / "make_counts.py"), "--check"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
