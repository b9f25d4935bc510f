"""Evaluation journal (signalopt.journal): append, read back, crash-cut lines, resume rules."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest

from signalopt.errors import InputError
from signalopt.journal import Journal, entry_key
from signalopt.metrics import ApproachMetrics, RunMetrics

DIGEST = "abc123"
META = {"method": "differential_evolution", "seeds": [1, 2], "rng": 0}


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SIGNALOPT_CACHE", str(tmp_path / "cache"))


def run(seed: int, queue: float = 12.5) -> RunMetrics:
    approach = ApproachMetrics("n2center", "center:N", "center", queue, queue * 1.5, queue * 2, 2.0, 3.0, 4.0, 7)
    return RunMetrics(seed=seed, delay_s=31.25, mean_max_queue_m=queue, p95_max_queue_m=queue * 1.5,
                      max_queue_m=queue * 2, not_inserted=3, throughput_veh=400, n_vehicles=410,
                      stops_per_veh=0.7, ped_wait_s=0.0, n_pedestrians=0, teleports=1, approaches=(approach,),
                      sim_time_s=0.2)


def fill(run_dir: Path, n: int = 3) -> list[str]:
    j = Journal(run_dir, digest=DIGEST, meta=META)
    keys = []
    for i in range(n):
        key = entry_key(json.dumps({"plan": i}), seed=1)
        j.append(key, [0.1 * i, 0.5], 1, run(1, queue=10.0 + i))
        keys.append(key)
    j.close()
    return keys


def test_entry_key_depends_on_plan_and_seed() -> None:
    a = entry_key('{"p": 1}', 1)
    assert a == entry_key('{"p": 1}', 1)
    assert len({a, entry_key('{"p": 1}', 2), entry_key('{"p": 2}', 1)}) == 3


def test_append_and_read_back(tmp_path: Path) -> None:
    keys = fill(tmp_path)
    lines = (tmp_path / "journal.jsonl").read_text().splitlines()
    assert len(lines) == 3
    assert json.loads(lines[0])["scenario"] == DIGEST
    meta = json.loads((tmp_path / "meta.json").read_text())
    assert meta == {"scenario_digest": DIGEST, **META}
    j = Journal(tmp_path, digest=DIGEST, meta=META, resume=True)
    try:
        assert len(j) == 3
        e = j.get(keys[2])
        assert e.x == (0.2, 0.5) and e.seed == 1 and e.error is None
        assert e.run == run(1, queue=12.0)  # metrics survive the round trip, approaches included
        assert j.get("missing") is None
    finally:
        j.close()


def test_failed_runs_are_journalled_with_their_reason(tmp_path: Path) -> None:
    j = Journal(tmp_path, digest=DIGEST)
    j.append("k1", [0.3], 4, None, error="SimulationError: SUMO failed on seed 4")
    j.close()
    j = Journal(tmp_path, digest=DIGEST, resume=True)
    e = j.get("k1")
    j.close()
    assert e.run is None and e.error == "SimulationError: SUMO failed on seed 4" and e.seed == 4


def test_truncated_last_line_is_ignored_with_a_warning(tmp_path: Path) -> None:
    keys = fill(tmp_path)
    path = tmp_path / "journal.jsonl"
    whole = json.dumps({"key": "cut", "scenario": DIGEST, "x": [0.9], "seed": 1,
                        "metrics": run(1).to_dict(), "error": None})
    with open(path, "a", encoding="utf-8") as fh:  # a crash mid-write: half a line, no newline
        fh.write(whole[: len(whole) // 2])
    with pytest.warns(UserWarning, match=r"1 damaged line\(s\) ignored"):
        j = Journal(tmp_path, digest=DIGEST, meta=META, resume=True)
    assert set(j.entries) == set(keys) and j.get("cut") is None
    # the next append starts on a fresh line: the file stays readable
    j.append("after", [0.4], 1, run(1))
    j.close()
    lines = path.read_text().splitlines()
    assert len(lines) == 4 and all(json.loads(line) for line in lines)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing damaged any more
        j = Journal(tmp_path, digest=DIGEST, meta=META, resume=True)
    assert set(j.entries) == {*keys, "after"}
    j.close()


def test_complete_json_without_newline_is_not_trusted(tmp_path: Path) -> None:
    # the newline is written last: a line without it may be cut anywhere, even at a valid prefix
    fill(tmp_path, n=1)
    path = tmp_path / "journal.jsonl"
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps({"key": "nonl", "scenario": DIGEST, "x": [1.0], "seed": 1, "metrics": None,
                             "error": "x"}))
    with pytest.warns(UserWarning, match="damaged"):
        j = Journal(tmp_path, digest=DIGEST, meta=META, resume=True)
    assert j.get("nonl") is None and len(j) == 1
    j.close()


def test_damaged_middle_line_is_skipped(tmp_path: Path) -> None:
    keys = fill(tmp_path, n=2)
    path = tmp_path / "journal.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    path.write_text(lines[0] + '{"key": "broken", "x": [\n' + lines[1])
    with pytest.warns(UserWarning, match="1 damaged line"):
        j = Journal(tmp_path, digest=DIGEST, meta=META, resume=True)
    assert set(j.entries) == set(keys)
    j.close()


def test_existing_journal_without_resume_is_refused(tmp_path: Path) -> None:
    fill(tmp_path)
    before = (tmp_path / "journal.jsonl").read_bytes()
    with pytest.raises(InputError, match="already holds a journal; pass --resume") as info:
        Journal(tmp_path, digest=DIGEST, meta=META)
    assert "journal.jsonl" in str(info.value)
    assert (tmp_path / "journal.jsonl").read_bytes() == before  # nothing overwritten


def test_empty_journal_is_not_a_run(tmp_path: Path) -> None:
    (tmp_path / "journal.jsonl").write_text("")
    j = Journal(tmp_path, digest=DIGEST, meta=META)  # nothing to lose: a fresh start is fine
    assert len(j) == 0
    j.close()


@pytest.mark.parametrize(("change", "shown"), [
    ({"rng": 1}, "rng=0"),
    ({"seeds": [1, 2, 3]}, "seeds=[1, 2]"),
    ({"method": "powell"}, "method='differential_evolution'"),
])
def test_resume_refuses_changed_settings(tmp_path: Path, change: dict, shown: str) -> None:
    fill(tmp_path)
    with pytest.raises(InputError, match="cannot resume: the run was started with other settings") as info:
        Journal(tmp_path, digest=DIGEST, meta={**META, **change}, resume=True)
    assert shown in str(info.value)


def test_resume_refuses_another_scenario(tmp_path: Path) -> None:
    fill(tmp_path)
    with pytest.raises(InputError, match=f"scenario_digest='{DIGEST}'"):
        Journal(tmp_path, digest="other", meta=META, resume=True)


def test_resume_with_same_settings_keeps_meta(tmp_path: Path) -> None:
    fill(tmp_path)
    j = Journal(tmp_path, digest=DIGEST, meta=META, resume=True)
    j.close()
    assert json.loads((tmp_path / "meta.json").read_text()) == {"scenario_digest": DIGEST, **META}
