"""The surge scenarios and the queue-clearance time (signalopt.surge): the measure on constructed series, the
bundled evening counts, and a short real-SUMO run that yields the series the measure reads."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from conftest import ROOT
from signalopt._sumo_run import Task, run_task
from signalopt.demand import read_ped_counts, read_turn_counts
from signalopt.errors import InputError, SignaloptError
from signalopt.scenario import read_scenario
from signalopt.session import Session
from signalopt.surge import (NetworkClearance, SurgeWindow, clearance_time, network_clearance,
                             period_percentile)
from signalopt.trace import QueueSeries, run_with_queue_series

EVENING = ROOT / "scenarios" / "qixiangtai_evening.toml"
SURGE = ROOT / "scenarios" / "qixiangtai_evening_surge.toml"
#: What docs/scenarios.md says the surge is: these approaches (signal, leg) and the crossings at these signals
#: double from 18:00 to 18:45.
SURGE_APPROACHES = {("zijinshan", "S"), ("zijinshan", "E"), ("zijinshan", "W"), ("pingshan", "E"),
                    ("pingshan", "W")}
SURGE_SIGNALS = {"pingshan", "zijinshan"}
SURGE_BEGIN_S, SURGE_END_S = 18 * 3600.0, 18.75 * 3600.0

# Constructed series: 10 s samples from t = 0, a 120 s cycle whose back of queue rises 0 -> 30 m over 12 samples;
# reference 0-1800 s, surge 1800-4500 s.
STEP = 10.0
WINDOW = SurgeWindow(0.0, 1800.0, 4500.0)


def ordinary(n: int) -> np.ndarray:
    return np.tile(np.linspace(0.0, 30.0, 12), n // 12 + 1)[:n]


def surged(n: int, *, until_s: float, level_m: float = 150.0) -> np.ndarray:
    """Ordinary queues, at ``level_m`` from the surge's start to ``until_s``."""
    q = ordinary(n)
    t = np.arange(n) * STEP
    q[(t >= WINDOW.begin_s) & (t < until_s)] = level_m
    return q


# --------------------------------------------------------------------------- the measure on constructed series

def test_a_surge_that_lingers_clears_when_a_whole_window_is_ordinary():
    c = clearance_time(surged(900, until_s=5100.0), start_s=0.0, step_s=STEP, surge=WINDOW)
    assert c.reference_m == pytest.approx(30.0)
    assert c.threshold_m == pytest.approx(37.5)  # one vehicle (7.5 m) is more than 10% of 30 m
    assert c.peak_m == pytest.approx(150.0)
    # the window from 5090 s holds one surged sample (5090-5100 s): the 95th percentile of 30 leaves it out
    assert c.clearance_s == pytest.approx(590.0)
    assert c.cleared and c.bound_s == c.clearance_s
    assert c.horizon_s == pytest.approx(900 * STEP - 300.0 - 4500.0)


def test_the_tolerance_is_ten_percent_of_a_long_ordinary_queue():
    q = surged(900, until_s=4800.0) * 4  # ordinary back of queue 120 m, surged 600 m
    c = clearance_time(q, start_s=0.0, step_s=STEP, surge=WINDOW)
    assert c.threshold_m == pytest.approx(132.0)
    assert c.clearance_s == pytest.approx(290.0)


def test_a_queue_that_never_clears_is_infinite_and_bounded_by_the_horizon():
    c = clearance_time(surged(900, until_s=math.inf), start_s=0.0, step_s=STEP, surge=WINDOW)
    assert c.clearance_s == math.inf and not c.cleared
    assert c.bound_s == c.horizon_s == pytest.approx(4200.0)


def test_no_surge_effect_is_zero():
    c = clearance_time(ordinary(900), start_s=0.0, step_s=STEP, surge=WINDOW)
    assert c.clearance_s == 0.0
    assert c.peak_m <= c.threshold_m
    # an approach without any queue: held to one vehicle above nothing
    z = clearance_time(np.zeros(900), start_s=0.0, step_s=STEP, surge=WINDOW)
    assert (z.reference_m, z.threshold_m, z.clearance_s) == (0.0, 7.5, 0.0)


def test_noisy_queues_and_lone_spikes_neither_make_nor_hide_a_clearance_time():
    rng = np.random.default_rng(7)
    for _ in range(20):  # ordinary random queues all along: never a false clearance time
        noisy = ordinary(900) * rng.uniform(0.6, 1.4, 900)
        assert clearance_time(noisy, start_s=0.0, step_s=STEP, surge=WINDOW).clearance_s == 0.0
    spiky = ordinary(900) * rng.uniform(0.8, 1.2, 900)
    spiky[::40] = 400.0  # a lone 400 m spike every 400 s, reference period included: at most one per window
    assert clearance_time(spiky, start_s=0.0, step_s=STEP, surge=WINDOW).clearance_s == 0.0
    base = surged(900, until_s=5400.0) * rng.uniform(0.8, 1.2, 900)
    # the surged queue lasts until 5400 s; the window from 5390 s holds one surged sample and is ordinary
    assert clearance_time(base, start_s=0.0, step_s=STEP, surge=WINDOW).clearance_s == pytest.approx(890.0)
    gap = base.copy()
    gap[470:498] = 0.0  # 4 min 40 s without a queue amid the surged queue: no whole window is ordinary
    assert clearance_time(gap, start_s=0.0, step_s=STEP, surge=WINDOW).clearance_s == pytest.approx(890.0)


def test_a_surge_ending_between_samples_counts_from_its_end():
    window = SurgeWindow(0.0, 1800.0, 4505.0)
    c = clearance_time(ordinary(900), start_s=0.0, step_s=STEP, surge=window)
    assert c.clearance_s == pytest.approx(5.0)  # the first instant on the grid after the end
    shifted = clearance_time(ordinary(900), start_s=60000.0, step_s=STEP,
                             surge=SurgeWindow(60000.0, 61800.0, 64500.0))
    assert shifted.clearance_s == 0.0


def test_the_network_figures_are_the_worst_approach_and_the_mean_over_all():
    series = {"a": surged(900, until_s=5100.0), "b": ordinary(900), "c": surged(900, until_s=4800.0)}
    net = network_clearance(series, start_s=0.0, step_s=STEP, surge=WINDOW)
    assert [name for name, _ in net.approaches] == ["a", "b", "c"]
    assert net.worst_s == pytest.approx(590.0) and net.worst_approach == "a"
    assert net.mean_s == pytest.approx((590.0 + 0.0 + 290.0) / 3)
    assert net.never_cleared == ()
    stuck = network_clearance({**series, "d": surged(900, until_s=math.inf)}, start_s=0.0, step_s=STEP,
                              surge=WINDOW)
    assert stuck.worst_s == math.inf and stuck.mean_s == math.inf and stuck.never_cleared == ("d",)
    assert stuck.worst_bound_s == pytest.approx(4200.0)
    assert stuck.mean_bound_s == pytest.approx((590.0 + 290.0 + 4200.0) / 4)


def test_period_percentile_reads_the_samples_within_the_period():
    q = np.arange(100.0)
    assert period_percentile(q, start_s=0.0, step_s=STEP, begin_s=100.0, end_s=200.0, percentile=100) == 19.0
    assert period_percentile(q, start_s=0.0, step_s=STEP, begin_s=95.0, end_s=205.0, percentile=0) == 10.0


@pytest.mark.parametrize("call, match", [
    (lambda: clearance_time(ordinary(470), start_s=0.0, step_s=STEP, surge=WINDOW), "ends before a whole window"),
    (lambda: clearance_time(ordinary(900), start_s=60.0, step_s=STEP, surge=WINDOW), "starts after the reference"),
    (lambda: clearance_time(ordinary(900), start_s=0.0, step_s=STEP, surge=WINDOW, window_s=305.0), "whole number"),
    (lambda: clearance_time(ordinary(900), start_s=0.0, step_s=0.0, surge=WINDOW), "whole number"),
    (lambda: clearance_time(-ordinary(900), start_s=0.0, step_s=STEP, surge=WINDOW), "finite lengths"),
    (lambda: clearance_time(ordinary(900), start_s=0.0, step_s=STEP, surge=WINDOW, tolerance_m=-1), "negative"),
    (lambda: SurgeWindow(0.0, 4500.0, 1800.0), "reference_begin_s < begin_s < end_s"),
    (lambda: SurgeWindow(1800.0, 1800.0, 4500.0), "reference_begin_s < begin_s < end_s"),
    (lambda: NetworkClearance(()), "at least one approach"),
    (lambda: period_percentile(ordinary(10), start_s=0.0, step_s=STEP, begin_s=200.0, end_s=300.0), "no queue sample"),
])
def test_bad_input_is_refused_with_a_signalopt_error(call, match):
    with pytest.raises(InputError, match=match):
        call()


# --------------------------------------------------------------------------- the bundled evening scenarios

def test_the_two_evenings_differ_only_in_their_counts():
    a, b = read_scenario(EVENING), read_scenario(SURGE)
    assert (a.network_path, a.begin_s, a.end_s, a.warmup_s, a.interval_s) == \
           (b.network_path, b.begin_s, b.end_s, b.warmup_s, b.interval_s) == \
           (a.network_path, 17.25 * 3600, 19.5 * 3600, 900.0, 900.0)
    assert a.counts_path.name == "evening_vehicles.csv" and b.counts_path.name == "evening_surge_vehicles.csv"
    assert a.pedestrians_path is not None and b.pedestrians_path is not None
    assert b.begin_s + b.warmup_s < SURGE_BEGIN_S < SURGE_END_S < b.end_s


def test_the_surge_doubles_its_approaches_exactly_for_45_minutes():
    a, b = read_scenario(EVENING), read_scenario(SURGE)
    window = {"begin_s": a.begin_s, "end_s": a.end_s, "interval_s": a.interval_s}
    ordinary_counts = {(c.begin_s, c.signal_id, c.approach, c.movement): c.vehicles
                       for c in read_turn_counts(a.counts_path, **window)}
    surge_counts = {(c.begin_s, c.signal_id, c.approach, c.movement): c.vehicles
                    for c in read_turn_counts(b.counts_path, **window)}
    assert ordinary_counts.keys() == surge_counts.keys()
    in_surge = {k for k in ordinary_counts if SURGE_BEGIN_S <= k[0] < SURGE_END_S}
    assert sorted({k[0] for k in in_surge}) == [SURGE_BEGIN_S, SURGE_BEGIN_S + 900, SURGE_BEGIN_S + 1800]
    for k, v in ordinary_counts.items():
        if k in in_surge and (k[1], k[2]) in SURGE_APPROACHES:
            assert surge_counts[k] == 2 * v, k
        elif k in in_surge and k[3] == "T":
            # the extra cars drive on along Qixiangtai Rd: through counts downstream rise, nothing else changes
            assert surge_counts[k] >= v, k
        else:
            assert surge_counts[k] == v, k
    doubled = sum(v for k, v in ordinary_counts.items() if k in in_surge and (k[1], k[2]) in SURGE_APPROACHES)
    assert doubled > 800  # a surge, not a ripple: over 800 extra vehicles in 45 minutes
    # weidi S, the corridor's north end, receives every extra car that turned north into the corridor
    north = sum(surge_counts[k] - ordinary_counts[k] for k in in_surge if k[1:] == ("weidi", "S", "T"))
    assert north > 0.5 * doubled
    peds_a = {(p.begin_s, p.signal_id, p.crossing): p.pedestrians for p in read_ped_counts(a.pedestrians_path, **window)}
    peds_b = {(p.begin_s, p.signal_id, p.crossing): p.pedestrians for p in read_ped_counts(b.pedestrians_path, **window)}
    assert peds_a.keys() == peds_b.keys()
    for k, v in peds_a.items():
        surged_crossing = SURGE_BEGIN_S <= k[0] < SURGE_END_S and k[1] in SURGE_SIGNALS
        assert peds_b[k] == (2 * v if surged_crossing else v), k


# --------------------------------------------------------------------------- a short real-SUMO run

@pytest.fixture(scope="module")
def surge_session():
    with Session(SURGE, workers=1) as s:
        yield s


def test_a_short_run_across_the_surge_start_gives_the_series_the_measure_reads(surge_session):
    # 17:55-18:10, the first 2 minutes not measured: 13 minutes, the surge starting at 18:00
    p = replace(surge_session.prepared, begin_s=SURGE_BEGIN_S - 300, end_s=SURGE_BEGIN_S + 600, warmup_s=120.0)
    task = Task(p, 1, surge_session.existing, "network")
    metrics, series = run_with_queue_series((task, 10.0))
    assert isinstance(series, QueueSeries)
    assert series.start_s == p.begin_s + p.warmup_s and series.step_s == 10.0
    labels = {a.label for a in p.approaches}
    assert set(series.queues_m) == labels and len(labels) == 16
    assert {len(v) for v in series.queues_m.values()} == {78}  # (600 + 300 - 120) s / 10 s
    for label, values in series.queues_m.items():
        assert all(0.0 <= v <= series.storage_m[label] + 1e-6 for v in values), label
    assert any(max(v) > 0 for v in series.queues_m.values())
    # the series' detectors leave the run as it is: the same figures as a plain run of the same task
    plain = run_task(task)
    assert (metrics.delay_s, metrics.n_vehicles, metrics.mean_max_queue_m) == \
           (plain.delay_s, plain.n_vehicles, plain.mean_max_queue_m)
    net = network_clearance(series.queues_m, start_s=series.start_s, step_s=series.step_s,
                            surge=SurgeWindow(series.start_s, SURGE_BEGIN_S, SURGE_BEGIN_S + 120), window_s=120.0)
    assert len(net.approaches) == 16
    # the series ends at 18:10; its last 2-minute window starts at 18:08, 6 minutes after the surge's end
    assert all(c.horizon_s == pytest.approx(360.0) for _, c in net.approaches)


def test_a_series_with_a_storage_missing_is_refused():
    with pytest.raises(SignaloptError, match="storage per approach"):
        QueueSeries(0.0, 10.0, {"a": (1.0,)}, {})
