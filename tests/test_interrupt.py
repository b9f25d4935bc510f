"""Ctrl-C stops a long optimisation within seconds: the journal is intact and no simulation process is left.

The bundled isolated junction's 90-minute scenario: each simulation runs for seconds, so an interrupt always
lands while the workers are inside one (they used to finish it first: 29 s on a city network).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from _optimise_helpers import journal_lines

ROOT = Path(__file__).resolve().parents[1]


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def test_ctrl_c_stops_within_seconds_with_the_journal_intact(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    journal = run_dir / "journal.jsonl"
    cmd = [sys.executable, "-m", "signalopt.cli", "optimise", str(ROOT / "scenarios" / "isolated.toml"),
           "--budget", "40", "--seeds", "1", "--workers", "2", "--run-dir", str(run_dir), "--quiet"]
    # a shell that starts the tests in the background hands them SIGINT ignored; a terminal's command has it
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and proc.poll() is None and len(journal_lines(journal)) < 1:
            time.sleep(0.05)
        assert proc.poll() is None, proc.communicate()[1].decode()[-2000:]
        time.sleep(1.0)  # the next simulations are under way
        t0 = time.monotonic()
        os.killpg(proc.pid, signal.SIGINT)  # what a terminal sends on Ctrl-C: the whole foreground group
        _, err = proc.communicate(timeout=60)
        stopped_s = time.monotonic() - t0
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130, err.decode()[-2000:]
    assert stopped_s < 5.0, stopped_s
    lines = err.decode().strip().splitlines()
    assert lines[-1] == "signalopt: interrupted; journalled work is kept (resume with --resume)"
    assert "Traceback" not in err.decode()
    # every journal line is whole, and no simulation process outlives the command for long
    data = journal.read_bytes()
    assert data.endswith(b"\n") and len(journal_lines(journal)) >= 1
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline and group_alive(proc.pid):
        time.sleep(0.05)
    assert not group_alive(proc.pid)
