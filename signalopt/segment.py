"""Time-of-day control periods: split a day of counts into contiguous periods.

A signal controller runs one plan per time-of-day (TOD) period. The periods
are found here from 15-minute turning-movement counts: the day's
multivariate movement-volume profile (one row per counting interval, one
column per ``(signal, approach, movement)``) is cut into time-contiguous
pieces so that the within-period variation is smallest, then one plan is
optimised per period from a representative hour of demand
(:func:`representative_counts`).

The method (cost, exact dynamic programme, choice of the number of periods) and its
references: docs/time-of-day.md.

References
----------
.. [Fisher1958] W. D. Fisher, "On grouping for maximum homogeneity",
   *Journal of the American Statistical Association* 53 (284), 789–798, 1958.
.. [Jenks1967] G. F. Jenks, "The data model concept in statistical mapping",
   *International Yearbook of Cartography* 7, 186–190, 1967 (natural breaks).
.. [Wang2005] X. Wang, W. D. Cottrell, S. Mu, "Using k-means clustering to
   identify time-of-day break points for traffic signal timing plans",
   *Proc. 2005 IEEE Intelligent Transportation Systems Conference*, 2005.
.. [Satopaa2011] V. Satopää, J. Albrecht, D. Irwin, B. Raghavan, "Finding a
   'Kneedle' in a haystack: detecting knee points in system behavior",
   *31st Int. Conf. on Distributed Computing Systems Workshops*, 2011.
.. [Rousseeuw1987] P. J. Rousseeuw, "Silhouettes: a graphical aid to the
   interpretation and validation of cluster analysis", *Journal of
   Computational and Applied Mathematics* 20, 53–65, 1987.
.. [HCM6] Transportation Research Board, *Highway Capacity Manual*, 6th ed.,
   2016: the peak hour and the peak 15 minutes from 15-minute counts.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt

from .demand import TurnCount
from ._clock import clock_text
from .errors import InputError

__all__ = [
    "Period",
    "Segmentation",
    "period_counts",
    "profile_from_counts",
    "representative_counts",
    "segment_day",
]

FloatArray = npt.NDArray[np.float64]
Key = tuple[str, str, str]
"""A counted movement: ``(signal_id, approach, movement)``."""

_S_PER_H = 3600.0
_HOUR_S = 3600.0
# Count times are seconds of the day parsed from HH:MM or from floats written
# by other tools; a microsecond is far below any counting resolution yet above
# the rounding of sums like 25200 + 3 * 900.
_TIME_TOL_S = 1e-6
# A profile whose one-period cost is this small relative to its total sum of
# squares is constant up to rounding (the centred values are ~1 ulp).
_CONSTANT_RTOL = 1e-10
# Costs below this fraction of the one-period cost count as zero on the elbow's log scale.
_ZERO_COST_RTOL = 1e-12
_METHODS = ("elbow", "silhouette")
_SCALES = ("none", "standardise")
_STATISTICS = ("mean", "peak")


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class Period:
    """One time-of-day control period.

    Parameters
    ----------
    begin_s
        Start of the period [s of the day], the start of its first interval.
    end_s
        End of the period [s of the day], the end of its last interval
        (exclusive: the next period begins here).
    mean_flow_veh_h
        Mean flow rate of each counted movement over the period [veh/h],
        keyed as :attr:`Segmentation.keys`. Treat as read-only.
    total_veh_h
        Sum of ``mean_flow_veh_h`` over all movements [veh/h].
    """

    begin_s: float
    end_s: float
    mean_flow_veh_h: dict[Hashable, float] = field(hash=False)
    total_veh_h: float

    @property
    def duration_s(self) -> float:
        """Length of the period [s]."""
        return self.end_s - self.begin_s


@dataclass(frozen=True)
class Segmentation:
    """Contiguous time-of-day periods of a day's count profile.

    Parameters
    ----------
    breakpoints_s
        Start time of every period [s of the day], ascending; the first is the
        start of the profile.
    periods
        The periods, in time order.
    n_periods
        Number of periods, ``len(periods)``.
    cost_curve
        Optimal total within-period cost for every feasible number of periods
        k = 1 .. min(``max_periods``, feasible) [veh², or dimensionless with
        ``scale="standardise"``]. Treat as read-only.
    method
        How ``n_periods`` was chosen: ``"elbow"``, ``"silhouette"`` or
        ``"fixed"`` (given by the caller).
    keys
        The movement keys, in column order of the profile.
    scores
        The selection score per k: the elbow's distance below the chord of
        the log cost curve [natural-log units], or the mean silhouette
        (k >= 2 only); empty for ``"fixed"`` and for a constant profile.
        Treat as read-only.
    interval_s
        Counting interval [s].
    min_intervals
        Minimum number of intervals per period that was enforced.
    """

    breakpoints_s: tuple[float, ...]
    periods: tuple[Period, ...]
    n_periods: int
    cost_curve: dict[int, float] = field(hash=False)
    method: str
    keys: tuple[Hashable, ...]
    scores: dict[int, float] = field(hash=False)
    interval_s: float
    min_intervals: int


# --------------------------------------------------------------------------- profile


def _clock(time_s: float) -> str:
    """``27000.0`` -> ``"07:30 (27000 s)"``: engineers read clock times, tools read seconds."""
    if not math.isfinite(time_s):
        return repr(time_s)
    return f"{clock_text(round(time_s))} ({time_s:g} s)"


def _positive_float(name: str, value: object, source: str | Path | None, *, allow_zero: bool = False) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InputError(source, f"{name} must be a number", repr(value)) from None
    if not math.isfinite(number) or number < 0 or (number == 0 and not allow_zero):
        rule = "non-negative" if allow_zero else "positive"
        raise InputError(source, f"{name} must be finite and {rule}", repr(value))
    return number


def _count_int(name: str, value: object, source: str | Path | None) -> int:
    # bool is an int to Python, but max_periods=True is surely a mistake.
    if isinstance(value, bool):
        raise InputError(source, f"{name} must be a positive integer", repr(value))
    try:
        number = operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        raise InputError(source, f"{name} must be a positive integer", repr(value)) from None
    if number < 1:
        raise InputError(source, f"{name} must be a positive integer", repr(value))
    return number


def _choice(name: str, value: object, allowed: tuple[str, ...], source: str | Path | None) -> str:
    if value not in allowed:
        raise InputError(source, f"{name} must be one of {', '.join(allowed)}", repr(value))
    return str(value)


def _grid_index(times_s: FloatArray, interval_s: float, source: str | Path | None) -> npt.NDArray[np.int64]:
    """Interval number of each time counted from the first, or an error for an off-grid time."""
    steps = (times_s - times_s[0]) / interval_s
    index = np.rint(steps).astype(np.int64)
    off = np.abs(steps - index) * interval_s > _TIME_TOL_S
    if off.any():
        bad = float(times_s[np.argmax(off)])
        raise InputError(source, f"interval does not start a whole number of intervals (interval_s = {interval_s:g} s) "
                                 f"after the first one at {_clock(float(times_s[0]))}", _clock(bad))
    return index


def _check_times(times_s: FloatArray, interval_s: float, source: str | Path | None) -> None:
    """Times strictly one ``interval_s`` apart: no gaps, no repeats, no disorder."""
    bad = ~np.isfinite(times_s)
    if bad.any():
        raise InputError(source, "interval start time is not finite", repr(float(times_s[np.argmax(bad)])))
    back = np.diff(times_s) <= 0
    if back.any():
        raise InputError(source, "interval start times must increase, without repeats",
                         _clock(float(times_s[int(np.argmax(back)) + 1])))
    index = _grid_index(times_s, interval_s, source)
    wrong = index != np.arange(len(times_s))
    if wrong.any():
        at = int(np.argmax(wrong))
        raise InputError(source, "gap in the count profile: no interval starts at",
                         _clock(float(times_s[0] + at * interval_s)))


def profile_from_counts(counts: Sequence[TurnCount], *, interval_s: float = 900.0,
                        source: str | Path | None = None) -> tuple[FloatArray, tuple[Key, ...], FloatArray]:
    """Pivot turning-movement counts into an interval × movement matrix.

    Parameters
    ----------
    counts
        Counts, in any order; each ``(begin_s, signal_id, approach, movement)``
        at most once.
    interval_s
        Counting interval [s]; every ``begin_s`` lies a whole number of
        intervals after the first, with no interval missing in between.
    source
        Where the counts came from, for error messages.

    Returns
    -------
    times_s : ndarray, shape (n,)
        Start of each interval [s of the day], ascending.
    keys : tuple of (signal_id, approach, movement)
        Column keys, sorted.
    matrix : ndarray, shape (n, len(keys))
        Vehicles per interval [veh]; a movement not counted in an interval is 0
        (counts files leave out empty movements).

    Raises
    ------
    InputError
        No counts; a negative or non-finite count or time; a count counted
        twice; a time off the ``interval_s`` grid; a missing interval (the
        error names its clock time).
    """
    interval_s = _positive_float("interval_s", interval_s, source)
    if len(counts) == 0:
        raise InputError(source, "no counts to build a profile from", "0 rows")
    cells: dict[tuple[float, Key], float] = {}
    for c in counts:
        key = (c.signal_id, c.approach, c.movement)
        try:
            vehicles, begin = float(c.vehicles), float(c.begin_s)
        except (TypeError, ValueError):
            raise InputError(source, f"count at {c.signal_id} {c.approach} {c.movement} is not a number",
                             repr((c.begin_s, c.vehicles))) from None
        if not math.isfinite(begin) or begin < 0:
            raise InputError(source, f"count interval start at {c.signal_id} {c.approach} {c.movement} "
                                     "must be a finite non-negative time", repr(c.begin_s))
        if not math.isfinite(vehicles) or vehicles < 0:
            raise InputError(source, f"vehicles must be a non-negative count at {_clock(begin)} "
                                     f"{c.signal_id} {c.approach} {c.movement}", repr(c.vehicles))
        if (begin, key) in cells:
            raise InputError(source, f"movement counted twice in one interval: {c.signal_id} {c.approach} "
                                     f"{c.movement} at", _clock(begin))
        cells[(begin, key)] = vehicles
    distinct = np.array(sorted({t for t, _ in cells}), dtype=np.float64)
    index = _grid_index(distinct, interval_s, source)
    n = int(index[-1]) + 1
    if len(distinct) < n:
        missing = sorted(set(range(n)) - set(index.tolist()))[0]
        raise InputError(source, "gap in the counts: no count in the interval starting at",
                         _clock(float(distinct[0] + missing * interval_s)))
    row = dict(zip(distinct.tolist(), index.tolist()))
    keys = tuple(sorted({k for _, k in cells}))
    column = {k: j for j, k in enumerate(keys)}
    matrix = np.zeros((n, len(keys)))
    for (t, k), v in cells.items():
        matrix[row[t], column[k]] = v
    times_s = distinct[0] + interval_s * np.arange(n)
    return times_s, keys, matrix


def _array_profile(profile: npt.ArrayLike, times_s: npt.ArrayLike | None, keys: Sequence[Hashable] | None,
                   interval_s: float, source: str | Path | None
                   ) -> tuple[FloatArray, tuple[Hashable, ...], FloatArray]:
    try:
        matrix = np.asarray(profile, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(source, "profile must be a 2-D array of vehicle counts", type(profile).__name__) from None
    if matrix.ndim != 2 or matrix.shape[0] == 0 or matrix.shape[1] == 0:
        raise InputError(source, "profile must be a non-empty 2-D array (intervals × movements)",
                         f"shape {matrix.shape}")
    bad = ~np.isfinite(matrix) | (matrix < 0)
    if bad.any():
        t, j = np.unravel_index(np.argmax(bad), bad.shape)
        raise InputError(source, f"profile values must be non-negative finite counts; row {t}, column {j}",
                         repr(float(matrix[t, j])))
    if times_s is None:
        raise InputError(source, "times_s is required with an array profile", None)
    times = np.asarray(times_s, dtype=np.float64)
    if times.shape != (matrix.shape[0],):
        raise InputError(source, f"times_s must have one start time per profile row ({matrix.shape[0]})",
                         f"shape {times.shape}")
    _check_times(times, interval_s, source)
    if keys is None:
        names: tuple[Hashable, ...] = tuple(range(matrix.shape[1]))
    else:
        names = tuple(keys)
        if len(names) != matrix.shape[1] or len(set(names)) != len(names):
            raise InputError(source, f"keys must name each of the {matrix.shape[1]} profile columns once",
                             f"{len(names)} keys, {len(set(names))} distinct")
    return times, names, matrix


# --------------------------------------------------------------------------- dynamic programme


def _segment_costs(x: FloatArray) -> FloatArray:
    """``C[i, j]``: sum of squared deviations of rows ``i .. j-1`` from their mean; ``inf`` unless i < j."""
    n = x.shape[0]
    # Centring changes no segment cost but keeps the prefix sums small, so the
    # difference of sums below loses fewer digits to cancellation.
    x = x - x.mean(axis=0)
    p1 = np.vstack([np.zeros((1, x.shape[1])), np.cumsum(x, axis=0)])
    p2 = np.concatenate([[0.0], np.cumsum(np.einsum("ij,ij->i", x, x))])
    cost = np.full((n + 1, n + 1), np.inf)
    for i in range(n):
        d = p1[i + 1:] - p1[i]
        cost[i, i + 1:] = (p2[i + 1:] - p2[i]) - np.einsum("ij,ij->i", d, d) / np.arange(1, n - i + 1)
    # Rounding can leave a tiny negative where the exact value is 0.
    np.maximum(cost, 0.0, out=cost)
    return cost


def _optimal_segmentations(cost: FloatArray, k_max: int, min_len: int
                           ) -> tuple[FloatArray, npt.NDArray[np.int64]]:
    """Fisher's DP. ``best[k, j]``: least cost of rows ``0..j-1`` in k segments; ``start[k, j]`` its last start."""
    n = cost.shape[0] - 1
    i, j = np.indices(cost.shape)
    allowed = np.where(j - i >= min_len, cost, np.inf)
    best = np.full((k_max + 1, n + 1), np.inf)
    best[0, 0] = 0.0
    start = np.zeros((k_max + 1, n + 1), dtype=np.int64)
    columns = np.arange(n + 1)
    for k in range(1, k_max + 1):
        total = best[k - 1][:, None] + allowed
        # argmin takes the first minimum: ties go to the earliest breakpoint, deterministically.
        start[k] = np.argmin(total, axis=0)
        best[k] = total[start[k], columns]
    return best, start


def _bounds(start: npt.NDArray[np.int64], k: int, n: int) -> list[int]:
    """Row index of each segment start, plus ``n``."""
    bounds = [n]
    for level in range(k, 0, -1):
        bounds.append(int(start[level, bounds[-1]]))
    return bounds[::-1]


def _silhouette(distance: FloatArray, bounds: list[int]) -> float:
    """Mean silhouette of the rows under contiguous labels (singleton periods score 0)."""
    n = distance.shape[0]
    k = len(bounds) - 1
    labels = np.repeat(np.arange(k), np.diff(bounds))
    sizes = np.diff(bounds).astype(np.float64)
    sums = np.add.reduceat(distance, bounds[:-1], axis=1)  # (n, k): distance to every period, summed
    own = sizes[labels]
    rows = np.arange(n)
    with np.errstate(divide="ignore", invalid="ignore"):
        a = sums[rows, labels] / (own - 1)
        mean_to = sums / sizes
    mean_to[rows, labels] = np.inf
    b = mean_to.min(axis=1)
    top = np.maximum(a, b)
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.where((own > 1) & (top > 0), (b - a) / top, 0.0)
    return float(s.mean())


def _elbow(curve: FloatArray) -> tuple[int, dict[int, float]]:
    """k farthest below the chord of the log cost curve from k = 1 to the last k, and every k's distance."""
    k_max = len(curve)
    if k_max == 1:
        return 1, {1: 0.0}
    # A noise-free piecewise-constant profile reaches zero cost; the floor keeps
    # its log finite and far below every real cost.
    y = np.log(np.maximum(curve, _ZERO_COST_RTOL * curve[0]) / curve[0])
    x = np.arange(k_max) / (k_max - 1)
    below = (y[0] + (y[-1] - y[0]) * x) - y
    scores = {k + 1: float(v) for k, v in enumerate(below)}
    # Distances at the level of rounding are no knee.
    if below.max() <= 1e-12:
        return (k_max if curve[-1] < curve[0] else 1), scores
    return int(np.argmax(below)) + 1, scores


# --------------------------------------------------------------------------- public


def segment_day(counts: Sequence[TurnCount] | npt.ArrayLike, *, max_periods: int, min_period_s: float,
                n_periods: int | None = None, interval_s: float = 900.0,
                method: Literal["elbow", "silhouette"] = "elbow",
                scale: Literal["none", "standardise"] = "none",
                times_s: npt.ArrayLike | None = None, keys: Sequence[Hashable] | None = None,
                source: str | Path | None = None) -> Segmentation:
    """Split a day's movement-volume profile into contiguous time-of-day periods.

    See the module docstring for the cost, the dynamic programme
    ([Fisher1958]_, [Jenks1967]_) and the rules choosing the number of
    periods ([Satopaa2011]_, [Rousseeuw1987]_).

    Parameters
    ----------
    counts
        Either turning-movement counts (pivoted by :func:`profile_from_counts`)
        or a 2-D array of vehicles per interval [veh], one row per interval
        and one column per movement, with ``times_s``.
    max_periods
        Largest number of periods tried when ``n_periods`` is not given. More
        than fit with the minimum period length is clipped to what fits.
    min_period_s
        Shortest period [s]; a period spans at least
        ``ceil(min_period_s / interval_s)`` intervals (at least one). A
        profile shorter than that is one period.
    n_periods
        Number of periods to use, overriding ``method``; the cost curve still
        covers k = 1 .. max(``max_periods``, ``n_periods``) where feasible.
    interval_s
        Counting interval [s].
    method
        ``"elbow"`` or ``"silhouette"``: the rule choosing the number of periods.
    scale
        ``"none"`` (volumes as counted, [veh]) or ``"standardise"`` (each
        movement divided by its standard deviation over the day).
    times_s
        With an array: start of each row's interval [s of the day], ascending
        by ``interval_s`` without gaps.
    keys
        With an array: a name for each column (default: column numbers).
    source
        Where the counts came from, for error messages.

    Returns
    -------
    Segmentation
        The periods, their breakpoints, and the cost curve and scores used
        to choose their number.

    Raises
    ------
    InputError
        Bad counts (see :func:`profile_from_counts`), a negative or NaN value,
        a bad option, or ``n_periods`` periods of the minimum length not
        fitting in the profile.

    Notes
    -----
    O(k·n²·m) for n intervals, m movements and k = max periods: a day of
    15-minute counts (n = 96) on 60 movements takes a few milliseconds.
    """
    interval_s = _positive_float("interval_s", interval_s, source)
    min_period_s = _positive_float("min_period_s", min_period_s, source, allow_zero=True)
    max_periods = _count_int("max_periods", max_periods, source)
    if n_periods is not None:
        n_periods = _count_int("n_periods", n_periods, source)
    method = _choice("method", method, _METHODS, source)  # type: ignore[assignment]
    scale = _choice("scale", scale, _SCALES, source)  # type: ignore[assignment]

    # A nested list of numbers is a profile too; only TurnCount rows are counts.
    rows = counts if isinstance(counts, np.ndarray) else list(counts)  # type: ignore[arg-type]
    if isinstance(rows, np.ndarray) or (rows and not isinstance(rows[0], TurnCount)):
        times, names, matrix = _array_profile(rows, times_s, keys, interval_s, source)
    else:
        if times_s is not None or keys is not None:
            raise InputError(source, "times_s and keys are taken from the counts; pass them only with an array",
                             "times_s" if times_s is not None else "keys")
        times, names, matrix = profile_from_counts(rows, interval_s=interval_s, source=source)

    n = matrix.shape[0]
    # A min_period_s a rounding error above a whole number of intervals must not add an interval.
    min_intervals = max(1, math.ceil(min_period_s / interval_s - 1e-9))
    # A profile shorter than the minimum is still one period: the minimum limits
    # where a day may be split, not how long the counted day must be.
    min_len = min(min_intervals, n)
    feasible = n // min_len
    if n_periods is not None and n_periods > feasible:
        raise InputError(source, f"n_periods periods of at least {min_intervals} intervals "
                                 f"({min_period_s:g} s) do not fit in {n} intervals; at most {feasible} do",
                         n_periods)
    k_max = min(max(max_periods, n_periods or 0), feasible)

    x = matrix
    if scale == "standardise":
        sd = matrix.std(axis=0)
        # A movement that never changes carries no time-of-day information.
        x = np.divide(matrix - matrix.mean(axis=0), sd, out=np.zeros_like(matrix), where=sd > 0)
    best, start = _optimal_segmentations(_segment_costs(x), k_max, min_len)
    curve = best[1:, n]
    cost_curve = {k: float(curve[k - 1]) for k in range(1, k_max + 1)}

    constant = curve[0] <= _CONSTANT_RTOL * float(np.einsum("ij,ij->", x, x))
    scores: dict[int, float] = {}
    if n_periods is not None:
        chosen, chosen_by = n_periods, "fixed"
    elif constant:
        chosen, chosen_by = 1, method
    elif method == "elbow":
        # The elbow looks at the curve up to max_periods only, also when n_periods widened it.
        chosen, scores = _elbow(curve[:min(max_periods, k_max)])
        chosen_by = method
    else:
        chosen_by = method
        # Gram form: O(n²) memory where the broadcast difference needs O(n²·m).
        norms = np.einsum("ij,ij->i", x, x)
        distance = np.sqrt(np.maximum(norms[:, None] + norms[None, :] - 2.0 * (x @ x.T), 0.0))
        np.fill_diagonal(distance, 0.0)
        scores = {k: _silhouette(distance, _bounds(start, k, n)) for k in range(2, min(max_periods, k_max) + 1)}
        chosen = max(scores, key=lambda k: (scores[k], -k)) if scores else 1

    bounds = _bounds(start, chosen, n)
    flows = matrix * (_S_PER_H / interval_s)
    periods = []
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        mean = flows[lo:hi].mean(axis=0)
        periods.append(Period(begin_s=float(times[lo]), end_s=float(times[0] + hi * interval_s),
                              mean_flow_veh_h={k: float(v) for k, v in zip(names, mean)},
                              total_veh_h=float(mean.sum())))
    return Segmentation(breakpoints_s=tuple(p.begin_s for p in periods), periods=tuple(periods),
                        n_periods=chosen, cost_curve=cost_curve, method=chosen_by, keys=names, scores=scores,
                        interval_s=interval_s, min_intervals=min_intervals)


def _inside(time_s: float, period: Period) -> bool:
    return period.begin_s - _TIME_TOL_S <= time_s < period.end_s - _TIME_TOL_S


def period_counts(counts: Sequence[TurnCount], period: Period) -> list[TurnCount]:
    """The counts whose interval starts inside ``period`` (``begin_s <= t < end_s``), in input order."""
    return [c for c in counts if _inside(c.begin_s, period)]


def representative_counts(counts: Sequence[TurnCount], period: Period, *,
                          statistic: Literal["mean", "peak"] = "mean", interval_s: float = 900.0,
                          begin_s: float | None = None, source: str | Path | None = None) -> list[TurnCount]:
    """One hour of counts standing for a period's demand, to optimise the period's plan on.

    Parameters
    ----------
    counts
        The day's counts (at least those of the period).
    period
        The period, e.g. from :attr:`Segmentation.periods`.
    statistic
        ``"mean"``: each movement's mean count per interval over the period,
        repeated for every interval of the hour (a steady hour at the
        period's average demand). ``"peak"``: the actual counts of the
        period's peak hour, the hour-long run of whole intervals inside the
        period with the most vehicles over all movements ([HCM6]_; one peak
        for all signals, so a corridor's plans stay built for the same hour;
        the earliest such hour on ties).
    interval_s
        Counting interval [s]; it must divide one hour.
    begin_s
        Start of the returned hour [s of the day]. Default: the period's start
        for ``"mean"`` and the peak hour's own start for ``"peak"``.
    source
        Where the counts came from, for error messages.

    Returns
    -------
    list of TurnCount
        ``3600 / interval_s`` intervals from ``begin_s``, one row per interval
        for every movement counted in the period (0 where it was not counted in
        that interval), sorted by time then movement.

    Raises
    ------
    InputError
        Bad counts (see :func:`profile_from_counts`), no counts in the period,
        an interval not dividing an hour, or a ``"peak"`` period shorter than
        an hour.
    """
    statistic = _choice("statistic", statistic, _STATISTICS, source)  # type: ignore[assignment]
    interval_s = _positive_float("interval_s", interval_s, source)
    per_hour = _HOUR_S / interval_s
    if abs(per_hour - round(per_hour)) > 1e-9:
        raise InputError(source, "interval_s must divide one hour (3600 s)", interval_s)
    per_hour = round(per_hour)
    if begin_s is not None:
        begin_s = _positive_float("begin_s", begin_s, source, allow_zero=True)
    inside = period_counts(counts, period)
    if not inside:
        raise InputError(source, f"no counts inside the period {_clock(period.begin_s)} – {_clock(period.end_s)}",
                         f"{len(counts)} counts in all")
    times, keys, matrix = profile_from_counts(inside, interval_s=interval_s, source=source)
    if statistic == "mean":
        # The mean runs over the intervals counted inside the period: an
        # uncounted head or tail of the period is missing data, not zero traffic.
        hour = np.tile(matrix.mean(axis=0), (per_hour, 1))
        first = period.begin_s if begin_s is None else begin_s
    else:
        if len(times) < per_hour:
            raise InputError(source, f"the peak hour needs {per_hour} counted intervals in the period "
                                     f"{_clock(period.begin_s)} – {_clock(period.end_s)}", f"{len(times)} counted")
        totals = np.convolve(matrix.sum(axis=1), np.ones(per_hour), mode="valid")
        at = int(np.argmax(totals))
        hour = matrix[at:at + per_hour]
        first = float(times[at]) if begin_s is None else begin_s
    return [TurnCount(begin_s=first + q * interval_s, signal_id=k[0], approach=k[1], movement=k[2],
                      vehicles=float(hour[q, j]))
            for q in range(per_hour) for j, k in enumerate(keys)]
