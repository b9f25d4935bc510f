"""Time-of-day periods from count profiles (signalopt.segment): pure, fast, no SUMO.

Synthetic profiles are piecewise-constant regimes plus seeded Gaussian noise,
so the true breakpoints are known.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from signalopt.demand import TurnCount
from signalopt.errors import InputError
from signalopt.segment import (Period, Segmentation, period_counts, profile_from_counts, representative_counts,
                               segment_day)

PROPERTY = settings(derandomize=True, deadline=None, max_examples=150)
QUARTER_S = 900.0
SIX_AM_S = 6 * 3600.0
KEYS = tuple((signal, leg, move) for signal in ("weidi", "pingquan", "pingshan", "zijinshan")
             for leg in ("N", "S") for move in ("L", "T")) + (("weidi", "E", "T"), ("weidi", "W", "T"))


def clock_s(text: str) -> float:
    h, m = text.split(":")
    return int(h) * 3600.0 + int(m) * 60.0


def regimes(lengths: list[int], *, movements: int = 20, noise: float = 4.0, seed: int = 0,
            separation: float = 60.0) -> tuple[np.ndarray, np.ndarray, list[float]]:
    """Profile of len(lengths) regimes from 06:00: (times_s, matrix [veh per 15 min], true breakpoints_s).

    Neighbouring regimes differ by about ``separation`` veh on every movement,
    far above the noise, so the segmentation is unambiguous.
    """
    rng = np.random.default_rng(seed)
    levels = [rng.uniform(50, 150, movements)]
    for _ in lengths[1:]:
        step = rng.choice([-1.0, 1.0], movements) * separation * rng.uniform(0.8, 1.2, movements)
        levels.append(np.clip(levels[-1] + step, 10, None))
    matrix = np.vstack([np.tile(level, (n, 1)) for level, n in zip(levels, lengths)])
    matrix = np.clip(matrix + rng.normal(0, noise, matrix.shape), 0, None)
    times = SIX_AM_S + QUARTER_S * np.arange(matrix.shape[0])
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    return times, matrix, [SIX_AM_S + QUARTER_S * s for s in starts]


def to_counts(times: np.ndarray, matrix: np.ndarray, keys: tuple = KEYS) -> list[TurnCount]:
    return [TurnCount(float(t), *key, float(v)) for t, row in zip(times, matrix) for key, v in zip(keys, row)]


def sse(matrix: np.ndarray, bounds: list[int]) -> float:
    """Within-segment sum of squared deviations, the plain way."""
    return float(sum(((matrix[a:b] - matrix[a:b].mean(axis=0)) ** 2).sum() for a, b in zip(bounds[:-1], bounds[1:])))


def brute_force(matrix: np.ndarray, k: int, min_len: int) -> float:
    n = len(matrix)
    best = math.inf
    for cuts in itertools.combinations(range(1, n), k - 1):
        bounds = [0, *cuts, n]
        if min(np.diff(bounds)) >= min_len:
            best = min(best, sse(matrix, bounds))
    return best


# --------------------------------------------------------------------------- profile


def test_profile_pivots_sorts_and_fills_missing_cells_with_zero() -> None:
    counts = [TurnCount(clock_s("07:15"), "b", "N", "T", 5.0), TurnCount(clock_s("07:00"), "a", "S", "L", 3.0),
              TurnCount(clock_s("07:00"), "b", "N", "T", 7.0), TurnCount(clock_s("07:30"), "a", "S", "L", 1.5)]
    times, keys, matrix = profile_from_counts(counts)
    assert times.tolist() == [clock_s("07:00"), clock_s("07:15"), clock_s("07:30")]
    assert keys == (("a", "S", "L"), ("b", "N", "T"))
    assert matrix.tolist() == [[3.0, 7.0], [0.0, 5.0], [1.5, 0.0]]


def test_profile_gap_names_the_missing_interval() -> None:
    counts = [TurnCount(clock_s(t), "a", "N", "T", 1.0) for t in ("07:00", "07:15", "07:45", "08:00")]
    with pytest.raises(InputError, match=r"gap in the counts.*\(07:30 \(27000 s\)\)") as info:
        profile_from_counts(counts, source="counts.csv")
    assert info.value.source == "counts.csv"


@pytest.mark.parametrize("count, message, shown", [
    (TurnCount(clock_s("07:15"), "a", "N", "T", -3.0), "vehicles must be a non-negative count at 07:15", "-3.0"),
    (TurnCount(clock_s("07:15"), "a", "N", "T", math.nan), "vehicles must be a non-negative count", "nan"),
    (TurnCount(clock_s("07:20"), "a", "N", "T", 1.0), "does not start a whole number of intervals", "07:20"),
    (TurnCount(clock_s("07:00"), "a", "N", "T", 2.0), "counted twice", "07:00"),
    (TurnCount(math.inf, "a", "N", "T", 2.0), "finite non-negative time", "inf"),
])
def test_profile_rejects_bad_counts_showing_the_value(count: TurnCount, message: str, shown: str) -> None:
    counts = [TurnCount(clock_s("07:00"), "a", "N", "T", 1.0), count]
    with pytest.raises(InputError, match=message) as info:
        profile_from_counts(counts)
    assert shown in str(info.value)


def test_profile_rejects_no_counts() -> None:
    with pytest.raises(InputError, match="no counts"):
        profile_from_counts([])


# --------------------------------------------------------------------------- recovering known breakpoints


@pytest.mark.parametrize("lengths", [[16, 12, 20, 16], [20, 24, 20], [8, 30, 10, 16]])
def test_forced_n_periods_recovers_the_breakpoints_exactly(lengths: list[int]) -> None:
    times, matrix, truth = regimes(lengths, seed=len(lengths))
    seg = segment_day(to_counts(times, matrix, KEYS[:10] + tuple(("x", str(i), "T") for i in range(10))),
                      n_periods=len(lengths), max_periods=8, min_period_s=1800)
    assert seg.method == "fixed" and seg.n_periods == len(lengths) and seg.scores == {}
    assert list(seg.breakpoints_s) == truth


@pytest.mark.parametrize("method", ["elbow", "silhouette"])
@pytest.mark.parametrize("lengths, seed", [([16, 12, 20, 16], 1), ([20, 24, 20], 2), ([12, 12, 24, 16], 3),
                                           ([32, 32], 4)])
def test_rules_choose_the_true_number_of_periods(method: str, lengths: list[int], seed: int) -> None:
    times, matrix, truth = regimes(lengths, seed=seed)
    seg = segment_day(matrix, times_s=times, max_periods=8, min_period_s=3600, method=method)
    assert seg.method == method
    assert seg.n_periods == len(lengths)
    assert list(seg.breakpoints_s) == truth


def test_cost_curve_covers_every_k_and_matches_the_periods() -> None:
    times, matrix, _ = regimes([16, 12, 20, 16], seed=5)
    seg = segment_day(matrix, times_s=times, max_periods=8, min_period_s=1800)
    assert list(seg.cost_curve) == list(range(1, 9))
    assert seg.cost_curve[1] == pytest.approx(sse(matrix, [0, 64]))
    bounds = [int(round((b - SIX_AM_S) / QUARTER_S)) for b in seg.breakpoints_s] + [64]
    assert seg.cost_curve[seg.n_periods] == pytest.approx(sse(matrix, bounds))
    # Well-separated regimes: the curve falls steeply to the true k, then flattens.
    drops = -np.diff([seg.cost_curve[k] for k in range(1, 9)])
    assert drops[:3].min() > 10 * drops[3:].max()
    assert set(seg.scores) == set(range(1, 9)) and max(seg.scores, key=seg.scores.get) == 4


def test_periods_carry_mean_flows_and_tile_the_day() -> None:
    times, matrix, _ = regimes([16, 12, 20, 16], movements=len(KEYS), seed=6)
    counts = to_counts(times, matrix)
    seg = segment_day(counts, max_periods=6, min_period_s=1800)
    assert seg.keys == tuple(sorted(KEYS)) and seg.interval_s == QUARTER_S and seg.min_intervals == 2
    assert seg.periods[0].begin_s == SIX_AM_S and seg.periods[-1].end_s == SIX_AM_S + 64 * QUARTER_S
    for before, after in zip(seg.periods, seg.periods[1:]):
        assert before.end_s == after.begin_s
    assert seg.breakpoints_s == tuple(p.begin_s for p in seg.periods)
    column = {key: j for j, key in enumerate(KEYS)}
    for p in seg.periods:
        rows = (times >= p.begin_s) & (times < p.end_s)
        for key, flow in p.mean_flow_veh_h.items():
            assert flow == pytest.approx(matrix[rows, column[key]].mean() * 4)
        assert p.total_veh_h == pytest.approx(sum(p.mean_flow_veh_h.values()))
        assert p.duration_s == p.end_s - p.begin_s
    with pytest.raises(dataclasses.FrozenInstanceError):
        seg.n_periods = 2  # type: ignore[misc]
    assert isinstance(hash(seg), int) and isinstance(seg, Segmentation) and isinstance(seg.periods[0], Period)


def test_array_and_counts_give_the_same_segmentation() -> None:
    times, matrix, _ = regimes([16, 12, 20, 16], movements=len(KEYS), seed=7)
    order = sorted(range(len(KEYS)), key=lambda j: KEYS[j])
    from_array = segment_day(matrix[:, order], times_s=times, keys=[KEYS[j] for j in order], max_periods=6,
                             min_period_s=1800, method="silhouette")
    from_counts = segment_day(to_counts(times, matrix), max_periods=6, min_period_s=1800, method="silhouette")
    assert from_array.breakpoints_s == from_counts.breakpoints_s and from_array.keys == from_counts.keys
    assert from_array.n_periods == from_counts.n_periods == 4
    assert from_array.cost_curve == pytest.approx(from_counts.cost_curve)
    assert from_array.scores == pytest.approx(from_counts.scores)
    for p, q in zip(from_array.periods, from_counts.periods):
        assert p.mean_flow_veh_h == pytest.approx(q.mean_flow_veh_h)


# --------------------------------------------------------------------------- minimum period length


@pytest.mark.parametrize("min_period_s, min_len", [(3600, 4), (2700, 3), (3000, 4), (900, 1), (0, 1)])
def test_every_period_is_at_least_the_minimum(min_period_s: float, min_len: int) -> None:
    times, matrix, _ = regimes([5, 3, 20, 2, 14, 20], seed=8)
    for k in range(1, 64 // min_len + 1, 3):
        seg = segment_day(matrix, times_s=times, n_periods=min(k, 8), max_periods=8, min_period_s=min_period_s)
        assert seg.min_intervals == min_len
        assert all(p.duration_s >= min_len * QUARTER_S for p in seg.periods)


def test_a_spike_shorter_than_the_minimum_is_merged() -> None:
    times, matrix, _ = regimes([24, 40], seed=9, noise=2.0)
    matrix[10:12] += 300.0  # a 30-minute burst, e.g. one event
    free = segment_day(matrix, times_s=times, max_periods=6, min_period_s=900)
    assert {clock_s("08:30"), clock_s("09:00")} <= set(free.breakpoints_s)
    seg = segment_day(matrix, times_s=times, max_periods=6, min_period_s=3600)
    assert all(p.duration_s >= 3600 for p in seg.periods)
    assert clock_s("12:00") in seg.breakpoints_s
    assert not any(p.begin_s == clock_s("08:30") and p.end_s == clock_s("09:00") for p in seg.periods)


@PROPERTY
@given(matrix=hnp.arrays(np.float64, st.tuples(st.just(8), st.integers(1, 3)),
                         elements=st.floats(0.0, 1000.0, allow_nan=False, allow_infinity=False)),
       min_len=st.integers(1, 2))
def test_dp_cost_equals_brute_force_minimum(matrix: np.ndarray, min_len: int) -> None:
    times = QUARTER_S * np.arange(8)
    seg = segment_day(matrix, times_s=times, n_periods=3, max_periods=4, min_period_s=min_len * QUARTER_S)
    tol = 1e-9 * float((matrix ** 2).sum()) + 1e-9
    for k in range(1, 5):
        assert seg.cost_curve[k] == pytest.approx(brute_force(matrix, k, min_len), abs=tol)
    bounds = [int(round(b / QUARTER_S)) for b in seg.breakpoints_s] + [8]
    assert min(np.diff(bounds)) >= min_len
    assert sse(matrix, bounds) == pytest.approx(brute_force(matrix, 3, min_len), abs=tol)


# --------------------------------------------------------------------------- a school day


def school_day(seed: int = 11, *, am: float = 1.2, pm: float = 1.0) -> list[TurnCount]:
    """06:00–20:00: school-run peaks 07:15–08:00 and 16:30–17:30 on the corridor's movements."""
    rng = np.random.default_rng(seed)
    times = SIX_AM_S + QUARTER_S * np.arange(56)
    base = rng.uniform(20, 80, len(KEYS))
    peak = rng.uniform(60, 140, len(KEYS))
    in_am = (times >= clock_s("07:15")) & (times < clock_s("08:00"))
    in_pm = (times >= clock_s("16:30")) & (times < clock_s("17:30"))
    matrix = np.tile(base, (56, 1)) + np.outer(in_am, am * peak) + np.outer(in_pm, pm * peak)
    matrix = np.clip(matrix + rng.normal(0, 6, matrix.shape), 0, None).round()
    return to_counts(times, matrix)


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_school_day_breaks_at_or_next_to_the_school_peaks(seed: int) -> None:
    seg = segment_day(school_day(seed), max_periods=8, min_period_s=1800)
    for edge in ("07:15", "08:00", "16:30", "17:30"):
        assert min(abs(b - clock_s(edge)) for b in seg.breakpoints_s) <= QUARTER_S, edge
    busiest = sorted(seg.periods, key=lambda p: p.total_veh_h)[-2:]
    assert {p.begin_s for p in busiest} <= {clock_s(t) for t in ("07:00", "07:15", "07:30", "16:15", "16:30",
                                                                  "16:45")}


@pytest.mark.parametrize("seed", [21, 22, 23])
def test_elbow_keeps_a_pm_peak_a_quarter_the_size_of_the_am_peak(seed: int) -> None:
    # On the linear cost curve the AM split dwarfs the rest and the knee comes
    # before the PM peak; the log curve weighs each split by its relative gain.
    seg = segment_day(school_day(seed, am=2.0, pm=0.5), max_periods=8, min_period_s=1800)
    assert seg.breakpoints_s == tuple(clock_s(t) for t in ("06:00", "07:15", "08:00", "16:30", "17:30"))


# --------------------------------------------------------------------------- edge cases


def test_one_interval_is_one_period() -> None:
    seg = segment_day([TurnCount(clock_s("07:00"), "a", "N", "T", 12.0)], max_periods=4, min_period_s=1800)
    assert seg.n_periods == 1 and seg.cost_curve == {1: 0.0}
    assert seg.periods == (Period(clock_s("07:00"), clock_s("07:15"), {("a", "N", "T"): 48.0}, 48.0),)


@pytest.mark.parametrize("method", ["elbow", "silhouette"])
@pytest.mark.parametrize("scale", ["none", "standardise"])
def test_constant_profile_is_one_period(method: str, scale: str) -> None:
    matrix = np.tile([0.1, 30.0, 0.0], (40, 1))
    seg = segment_day(matrix, times_s=QUARTER_S * np.arange(40), max_periods=6, min_period_s=1800,
                      method=method, scale=scale)
    assert seg.n_periods == 1 and seg.breakpoints_s == (0.0,)
    assert all(v == pytest.approx(0.0, abs=1e-20) for v in seg.cost_curve.values())


def test_max_periods_beyond_feasible_is_clipped() -> None:
    times, matrix, _ = regimes([8, 8, 8], seed=14)
    # At most 3 periods of 8 intervals fit. The elbow never picks the last point
    # of its curve when a knee exists, so the silhouette is the rule to test here.
    seg = segment_day(matrix, times_s=times, max_periods=20, min_period_s=7200, method="silhouette")
    assert list(seg.cost_curve) == [1, 2, 3] and list(seg.scores) == [2, 3]
    assert seg.n_periods == 3 and all(p.duration_s == 7200 for p in seg.periods)


def test_profile_shorter_than_the_minimum_is_one_period() -> None:
    matrix = np.array([[1.0, 2.0], [30.0, 1.0]])
    seg = segment_day(matrix, times_s=[0.0, 900.0], max_periods=3, min_period_s=3600)
    assert seg.n_periods == 1 and seg.periods[0].end_s == 1800.0 and seg.min_intervals == 4


def test_n_periods_wider_than_max_periods_extends_the_curve() -> None:
    times, matrix, truth = regimes([16, 12, 20, 16], seed=15)
    seg = segment_day(matrix, times_s=times, n_periods=4, max_periods=2, min_period_s=1800)
    assert list(seg.cost_curve) == [1, 2, 3, 4] and list(seg.breakpoints_s) == truth


def test_standardise_finds_a_quiet_movements_step_and_ignores_units() -> None:
    rng = np.random.default_rng(16)
    times = QUARTER_S * np.arange(40)
    busy = 400 + rng.normal(0, 40, 40)  # an arterial with no time-of-day pattern
    quiet = np.r_[np.full(25, 2.0), np.full(15, 12.0)] + rng.normal(0, 1, 40)
    matrix = np.clip(np.c_[busy, quiet], 0, None)
    seg = segment_day(matrix, times_s=times, n_periods=2, max_periods=4, min_period_s=900, scale="standardise")
    assert seg.breakpoints_s == (0.0, 25 * QUARTER_S)
    rescaled = segment_day(matrix * [10.0, 0.1], times_s=times, n_periods=2, max_periods=4, min_period_s=900,
                           scale="standardise")
    assert rescaled.breakpoints_s == seg.breakpoints_s
    assert rescaled.cost_curve == pytest.approx(seg.cost_curve)


def test_fast_for_a_day_of_quarter_hours() -> None:
    rng = np.random.default_rng(17)
    matrix = rng.uniform(0, 300, (96, 60))
    times = QUARTER_S * np.arange(96)
    for method in ("elbow", "silhouette"):
        best = math.inf
        for _ in range(5):
            t0 = time.perf_counter()
            segment_day(matrix, times_s=times, max_periods=8, min_period_s=1800, method=method)
            best = min(best, time.perf_counter() - t0)
        assert best < 0.05, (method, best)


# --------------------------------------------------------------------------- errors


GOOD = np.ones((8, 2))
GOOD_TIMES = QUARTER_S * np.arange(8)


@pytest.mark.parametrize("kwargs, message, shown", [
    (dict(max_periods=0), "max_periods must be a positive integer", "0"),
    (dict(max_periods=2.5), "max_periods must be a positive integer", "2.5"),
    (dict(max_periods=True), "max_periods must be a positive integer", "True"),
    (dict(n_periods=-1), "n_periods must be a positive integer", "-1"),
    (dict(min_period_s=-60.0), "min_period_s must be finite and non-negative", "-60.0"),
    (dict(interval_s=0.0), "interval_s must be finite and positive", "0.0"),
    (dict(interval_s=math.nan), "interval_s must be finite and positive", "nan"),
    (dict(method="kmeans"), "method must be one of elbow, silhouette", "'kmeans'"),
    (dict(scale="zscore"), "scale must be one of none, standardise", "'zscore'"),
    (dict(n_periods=5, min_period_s=1800), r"do not fit in 8 intervals; at most 4 do", "5"),
    (dict(times_s=None), "times_s is required", None),
    (dict(times_s=GOOD_TIMES[:7]), "one start time per profile row", "(7,)"),
    (dict(times_s=np.r_[GOOD_TIMES[:4], GOOD_TIMES[5:], 8 * QUARTER_S]), "gap in the count profile",
     "01:00 (3600 s)"),
    (dict(times_s=GOOD_TIMES[::-1]), "must increase", "01:30"),
    (dict(times_s=GOOD_TIMES + np.r_[np.zeros(7), 60.0]), "does not start a whole number of intervals", "01:46"),
    (dict(keys=["a"]), "keys must name each of the 2 profile columns", "1 keys"),
])
def test_bad_arguments_raise_input_error_with_the_value(kwargs: dict, message: str, shown: str | None) -> None:
    args = dict(times_s=GOOD_TIMES, max_periods=3, min_period_s=0.0) | kwargs
    with pytest.raises(InputError, match=message) as info:
        segment_day(GOOD, **args)
    if shown is not None:
        assert shown in str(info.value)


@pytest.mark.parametrize("value, shown", [(-1.0, "(-1.0)"), (math.nan, "(nan)"), (math.inf, "(inf)")])
def test_negative_or_nan_profile_values_are_rejected(value: float, shown: str) -> None:
    matrix = GOOD.copy()
    matrix[3, 1] = value
    with pytest.raises(InputError, match=r"day\.csv: profile values must be non-negative.*row 3, column 1") as info:
        segment_day(matrix, times_s=GOOD_TIMES, max_periods=3, min_period_s=0.0, source="day.csv")
    assert str(info.value).endswith(shown)
    counts = to_counts(GOOD_TIMES, matrix, (("a", "N", "T"), ("a", "N", "L")))
    with pytest.raises(InputError, match=r"day\.csv: vehicles must be a non-negative count at 00:45") as info:
        segment_day(counts, max_periods=3, min_period_s=0.0, source="day.csv")
    assert str(info.value).endswith(shown)


def test_times_and_keys_come_from_counts() -> None:
    counts = to_counts(GOOD_TIMES, GOOD, (("a", "N", "T"), ("a", "N", "L")))
    with pytest.raises(InputError, match="only with an array"):
        segment_day(counts, times_s=GOOD_TIMES, max_periods=2, min_period_s=0.0)


# --------------------------------------------------------------------------- counts of a period


def test_period_counts_picks_the_intervals_inside() -> None:
    times, matrix, _ = regimes([8, 8], movements=3, seed=18)
    counts = to_counts(times, matrix, KEYS[:3])
    seg = segment_day(counts, n_periods=2, max_periods=2, min_period_s=1800)
    first, second = (period_counts(counts, p) for p in seg.periods)
    assert len(first) + len(second) == len(counts)
    assert {c.begin_s for c in first} == set(times[:8].tolist())
    assert {c.begin_s for c in second} == set(times[8:].tolist())
    assert first == [c for c in counts if c.begin_s < clock_s("08:00")]


def _day() -> tuple[list[TurnCount], Period]:
    # 07:00-09:00 on two movements; the busiest hour is 07:30-08:30.
    a = [10, 10, 40, 50, 60, 50, 10, 10]
    b = [5, 5, 5, 5, 5, 5, 5, 5]
    times = clock_s("07:00") + QUARTER_S * np.arange(8)
    counts = to_counts(times, np.c_[a, b], (("s", "N", "T"), ("s", "E", "L")))
    return counts, Period(clock_s("07:00"), clock_s("09:00"), {}, 0.0)


def test_representative_mean_tiles_the_mean_quarter_hour() -> None:
    counts, period = _day()
    hour = representative_counts(counts, period, statistic="mean")
    assert [c.begin_s for c in hour[::2]] == [clock_s(t) for t in ("07:00", "07:15", "07:30", "07:45")]
    assert {(c.signal_id, c.approach, c.movement, c.vehicles) for c in hour} == {("s", "E", "L", 5.0),
                                                                                  ("s", "N", "T", 30.0)}
    assert len(hour) == 8
    moved = representative_counts(counts, period, begin_s=0.0)
    assert [c.begin_s for c in moved] == [0.0, 0.0, 900.0, 900.0, 1800.0, 1800.0, 2700.0, 2700.0]


def test_representative_peak_is_the_busiest_hour_inside_the_period() -> None:
    counts, period = _day()
    hour = representative_counts(counts, period, statistic="peak")
    assert hour == sorted((c for c in counts if clock_s("07:30") <= c.begin_s < clock_s("08:30")),
                          key=lambda c: (c.begin_s, c.signal_id, c.approach, c.movement))
    late = Period(clock_s("08:00"), clock_s("09:00"), {}, 0.0)
    assert [c.vehicles for c in representative_counts(counts, late, statistic="peak")][1::2] == [60, 50, 10, 10]


def test_representative_counts_errors() -> None:
    counts, _ = _day()
    short = Period(clock_s("07:00"), clock_s("07:45"), {}, 0.0)
    with pytest.raises(InputError, match=r"peak hour needs 4 counted intervals.*\(3 counted\)"):
        representative_counts(counts, short, statistic="peak")
    with pytest.raises(InputError, match=r"no counts inside the period 10:00"):
        representative_counts(counts, Period(clock_s("10:00"), clock_s("11:00"), {}, 0.0))
    with pytest.raises(InputError, match=r"statistic must be one of mean, peak \('median'\)"):
        representative_counts(counts, short, statistic="median")  # type: ignore[arg-type]
    with pytest.raises(InputError, match=r"interval_s must divide one hour \(3600 s\) \(1400"):
        representative_counts(counts, short, interval_s=1400.0)
