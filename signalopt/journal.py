"""The evaluation journal: every finished simulation, appended before the next result is used.

A JSON-lines file in the run directory.  Each line holds the scenario digest,
the decision vector, the seed and the run's metrics (or the failure reason).
Lines are flushed and fsync'ed one by one; a line cut short by a crash is
detected on reading, reported as a warning and ignored, never parsed as data.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._xml import atomic_write_text
from .errors import InputError
from .metrics import RunMetrics


def entry_key(plan_json: str, seed: int) -> str:
    """Key of (decoded plan set, seed).  Keyed on the plan, not the decision
    vector: points that round to the same plan are simulated once, and a
    resumed optimiser that proposes the same point finds it."""
    h = hashlib.sha256()
    h.update(plan_json.encode())
    h.update(str(int(seed)).encode())
    return h.hexdigest()[:24]


@dataclass(frozen=True)
class Entry:
    key: str
    x: tuple[float, ...]
    seed: int
    run: RunMetrics | None
    error: str | None = None


#: The settings a journal's run started with, beside ``journal.jsonl``.
META_FILE = "meta.json"


def read_meta(run_dir: str | Path) -> dict[str, Any]:
    """The settings the run journalled in ``run_dir`` started with (its :data:`META_FILE`); ``{}`` where there is
    none.

    Raises
    ------
    ValueError
        The file is not JSON.
    """
    path = Path(run_dir) / META_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


class Journal:
    """Append-only journal at ``run_dir/journal.jsonl`` (see module docstring)."""

    def __init__(self, run_dir: str | Path, *, digest: str, meta: dict[str, Any] | None = None,
                 resume: bool = False) -> None:
        self.dir = Path(run_dir)
        self.path = self.dir / "journal.jsonl"
        self.meta_path = self.dir / META_FILE
        self.digest = digest
        self.entries: dict[str, Entry] = {}
        self.dir.mkdir(parents=True, exist_ok=True)
        # compared with the meta.json a previous run wrote, so in the form JSON gives back (tuples as lists)
        meta = json.loads(json.dumps({"scenario_digest": digest, **(meta or {})}, default=str))
        if self.path.exists() and self.path.stat().st_size > 0:
            if not resume:
                raise InputError(self.dir, "run directory already holds a journal; pass --resume or pick a new one",
                                 self.path.name)
            old = self._read_meta()
            diff = sorted(k for k in meta if k in old and old[k] != meta[k])
            if diff:
                raise InputError(self.meta_path, "cannot resume: the run was started with other settings",
                                 ", ".join(f"{k}={old[k]!r}" for k in diff))
            self._load()
        atomic_write_text(self.meta_path, json.dumps(meta, indent=2, default=str) + "\n")
        self._fh = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - held for the run

    def _read_meta(self) -> dict[str, Any]:
        try:
            return read_meta(self.dir)
        except json.JSONDecodeError:
            warnings.warn(f"{self.meta_path}: unreadable, ignored", stacklevel=2)
            return {}

    def _lines(self) -> Iterator[tuple[int, str]]:
        with open(self.path, "rb") as fh:
            for n, raw in enumerate(fh, start=1):
                yield n, raw.decode("utf-8", errors="replace")

    def _load(self) -> None:
        bad = 0
        for n, line in self._lines():
            if not line.endswith("\n"):
                bad += 1  # cut short by a crash mid-write
                continue
            try:
                d = json.loads(line)
                if d.get("scenario") != self.digest:
                    continue
                run = RunMetrics.from_dict(d["metrics"]) if d.get("metrics") else None
                entry = Entry(d["key"], tuple(d["x"]), int(d["seed"]), run, d.get("error"))
            except (ValueError, KeyError, TypeError):
                bad += 1
                continue
            self.entries[entry.key] = entry
        if bad:
            warnings.warn(f"{self.path}: {bad} damaged line(s) ignored (a crash cut them short)", stacklevel=2)
            self._truncate_partial()

    def _truncate_partial(self) -> None:
        """Drop a last line without its newline so the next append starts a fresh line."""
        data = self.path.read_bytes()
        if data and not data.endswith(b"\n"):
            cut = data.rfind(b"\n") + 1
            with open(self.path, "r+b") as fh:
                fh.truncate(cut)

    def get(self, key: str) -> Entry | None:
        return self.entries.get(key)

    def append(self, key: str, x: Sequence[float], seed: int, run: RunMetrics | None,
               error: str | None = None) -> Entry:
        entry = Entry(key, tuple(float(v) for v in x), int(seed), run, error)
        record = {"key": key, "scenario": self.digest, "x": [float(v) for v in x], "seed": int(seed),
                  "metrics": run.to_dict() if run is not None else None, "error": error}
        self._fh.write(json.dumps(record) + "\n")
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self.entries[key] = entry
        return entry

    def __len__(self) -> int:
        return len(self.entries)

    def close(self) -> None:
        if not self._fh.closed:
            self._fh.close()
