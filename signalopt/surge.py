"""Queue-clearance time after a demand surge: pure functions on queue time series, no SUMO.

A surge (an event letting out, a closure upstream) fills the queues for a while; what a controller that
"watches the cars" should do better than a fixed plan is to bring them back to their ordinary level sooner.
The measure, for one approach, from its back of queue sampled every ``step_s`` (the longest jam on its lanes in
each sampling step [m], signalopt's queue detectors):

* its **ordinary level** is the 95th percentile of the samples in the reference period before the surge
  (:attr:`SurgeWindow.reference_begin_s` to :attr:`SurgeWindow.begin_s`);
* its **threshold** is that level plus a tolerance: 10% of it, and at least one vehicle's jam length
  (:data:`TOLERANCE_SHARE`, :data:`TOLERANCE_M`), so that an approach with almost no queue is not held to an
  exact number of metres;
* its **clearance time** [s] is the least ``t - end`` over the sampling instants ``t`` from the surge's end
  ``end`` on whose next 5 minutes (:data:`WINDOW_S`) of samples have a 95th percentile at or below the
  threshold: from ``t`` on, the queue has been back at its ordinary level for a whole window.  It is 0 when
  the queue is ordinary as soon as the surge ends (an approach the surge did not reach), and infinite when no
  window before the end of the series is ordinary (censored: :attr:`Clearance.horizon_s` is the longest
  clearance time the series could have shown).

The 95th percentile of a 5-minute window of 10 s samples (30 of them) is about the longest back of queue of
its two or three cycles, with a single outlying sample left out, so one short spike neither clears nor holds
an approach.  The reference period's 95th percentile is read over more samples, so under ordinary traffic
a 5-minute window is at or below it (no clearance time without a surge).

For a network, :func:`network_clearance` gives each approach's clearance; its worst approach and the mean over
all approaches (the approaches the surge did not reach count with 0) are the network's figures.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .errors import InputError

#: Length of the window whose 95th-percentile back of queue must be back at the ordinary level [s].
WINDOW_S = 300.0
#: Percentile of the back-of-queue samples read over a window and over the reference period [-].
PERCENTILE = 95.0
#: Tolerance above the ordinary level, as a share of it [-].
TOLERANCE_SHARE = 0.10
#: Least tolerance above the ordinary level: one car's jam length, SUMO's default car (5 m) and its gap to the
#: car in front when stopped (2.5 m) [m].
TOLERANCE_M = 7.5
#: Slack for sampling instants computed in floating point [s].
_EPS_S = 1e-6


@dataclass(frozen=True)
class SurgeWindow:
    """When a surge runs, and the ordinary period before it that sets each approach's ordinary level.

    Attributes
    ----------
    reference_begin_s
        Start of the reference period (it ends when the surge begins) [s, simulation time].
    begin_s, end_s
        Start and end of the surge [s, simulation time].
    """

    reference_begin_s: float
    begin_s: float
    end_s: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.reference_begin_s) and self.reference_begin_s < self.begin_s < self.end_s
                and math.isfinite(self.end_s)):
            raise InputError(None, "a surge window needs reference_begin_s < begin_s < end_s, all finite",
                             f"{self.reference_begin_s:g}, {self.begin_s:g}, {self.end_s:g} s")

    @property
    def duration_s(self) -> float:
        """Length of the surge [s]."""
        return self.end_s - self.begin_s


@dataclass(frozen=True)
class Clearance:
    """The queue-clearance time of one approach, and the levels it was read against.

    Attributes
    ----------
    reference_m
        Ordinary level: 95th-percentile back of queue in the reference period before the surge [m].
    threshold_m
        Reference plus the tolerance: a window at or below it is ordinary [m].
    peak_m
        Highest 95th-percentile back of queue of a window starting during the surge or after it [m].
    clearance_s
        Time from the surge's end until the queue is back at its ordinary level [s]; ``inf`` if it never is
        before the series ends.
    horizon_s
        Longest clearance time the series could show (its last window's start minus the surge's end) [s].
    """

    reference_m: float
    threshold_m: float
    peak_m: float
    clearance_s: float
    horizon_s: float

    def __post_init__(self) -> None:
        if not (0 <= self.reference_m <= self.threshold_m) or self.peak_m < 0 or self.horizon_s < 0:
            raise InputError(None, "a clearance needs 0 <= reference_m <= threshold_m, peak_m >= 0 and "
                                   "horizon_s >= 0", (self.reference_m, self.threshold_m, self.peak_m, self.horizon_s))
        if not (0 <= self.clearance_s <= self.horizon_s + _EPS_S or self.clearance_s == math.inf):
            raise InputError(None, "a clearance time is between 0 and the horizon, or infinite",
                             f"{self.clearance_s:g} s, horizon {self.horizon_s:g} s")

    @property
    def cleared(self) -> bool:
        """Whether the queue was back at its ordinary level before the series ended."""
        return math.isfinite(self.clearance_s)

    @property
    def bound_s(self) -> float:
        """The clearance time, or the horizon when it never cleared: a lower bound of the true time [s]."""
        return self.clearance_s if self.cleared else self.horizon_s


@dataclass(frozen=True)
class NetworkClearance:
    """Clearance of every approach of a network (in the order given) after one surge, in one run."""

    approaches: tuple[tuple[str, Clearance], ...]

    def __post_init__(self) -> None:
        if not self.approaches:
            raise InputError(None, "a network clearance needs at least one approach", 0)

    @property
    def worst_s(self) -> float:
        """Clearance time of the approach that takes longest [s] (``inf`` if one never clears)."""
        return max(c.clearance_s for _, c in self.approaches)

    @property
    def mean_s(self) -> float:
        """Mean clearance time over all approaches, 0 for those the surge did not reach [s] (``inf`` if one
        never clears)."""
        return float(np.mean([c.clearance_s for _, c in self.approaches]))

    @property
    def worst_bound_s(self) -> float:
        """:attr:`worst_s` with an approach that never clears counted at its horizon: a lower bound [s]."""
        return max(c.bound_s for _, c in self.approaches)

    @property
    def mean_bound_s(self) -> float:
        """:attr:`mean_s` with an approach that never clears counted at its horizon: a lower bound [s]."""
        return float(np.mean([c.bound_s for _, c in self.approaches]))

    @property
    def worst_approach(self) -> str:
        """The approach that takes longest to clear (the first of them on a tie)."""
        return max(self.approaches, key=lambda item: item[1].bound_s)[0]

    @property
    def never_cleared(self) -> tuple[str, ...]:
        """The approaches whose queue was not back at its ordinary level when the series ended."""
        return tuple(name for name, c in self.approaches if not c.cleared)


def _samples(queue_m: Sequence[float]) -> np.ndarray:
    arr = np.asarray(queue_m, dtype=float)
    if arr.ndim != 1 or not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise InputError(None, "a queue series is a sequence of finite lengths >= 0 [m]", f"{arr.size} values")
    return arr


def _index(t_s: float, *, start_s: float, step_s: float, up: bool) -> int:
    """Index of the sample that starts at ``t_s`` (or the next one with ``up``, the one before without)."""
    k = (t_s - start_s) / step_s
    return math.ceil(k - _EPS_S) if up else math.floor(k + _EPS_S)


def period_percentile(queue_m: Sequence[float], *, start_s: float, step_s: float, begin_s: float, end_s: float,
                      percentile: float = PERCENTILE) -> float:
    """Percentile of the back-of-queue samples lying wholly within ``begin_s``-``end_s`` [m].

    Parameters
    ----------
    queue_m
        Back of queue per sampling step [m]; sample ``k`` covers ``start_s + k step_s`` to the next one.
    start_s, step_s
        Start of the first sample [s, simulation time] and the sampling step [s].
    begin_s, end_s
        The period [s, simulation time].
    percentile
        Which percentile [0-100].

    Raises
    ------
    InputError
        No sample lies wholly within the period.
    """
    arr = _samples(queue_m)
    if step_s <= 0:
        raise InputError(None, "the sampling step must be positive", f"{step_s:g} s")
    lo = max(0, _index(begin_s, start_s=start_s, step_s=step_s, up=True))
    hi = min(arr.size, _index(end_s, start_s=start_s, step_s=step_s, up=False))
    if hi <= lo:
        raise InputError(None, "no queue sample lies within the period",
                         f"{begin_s:g}-{end_s:g} s; samples from {start_s:g} s every {step_s:g} s, {arr.size} of them")
    return float(np.percentile(arr[lo:hi], percentile))


def clearance_time(queue_m: Sequence[float], *, start_s: float, step_s: float, surge: SurgeWindow,
                   window_s: float = WINDOW_S, percentile: float = PERCENTILE,
                   tolerance_share: float = TOLERANCE_SHARE, tolerance_m: float = TOLERANCE_M) -> Clearance:
    """Queue-clearance time of one approach after a surge (the module docstring defines it).

    Parameters
    ----------
    queue_m
        Back of queue per sampling step [m]; sample ``k`` covers ``start_s + k step_s`` to the next one.
    start_s, step_s
        Start of the first sample [s, simulation time] and the sampling step [s].
    surge
        The surge and its reference period; the series must cover the reference period and at least one
        window after the surge.
    window_s
        Length of the window read at each instant [s], a whole number of sampling steps.
    percentile
        Percentile read over a window and over the reference period [0-100].
    tolerance_share, tolerance_m
        A window is ordinary at or below the reference level plus the larger of ``tolerance_share`` of it
        [-] and ``tolerance_m`` [m].

    Returns
    -------
    Clearance
        The ordinary level, the threshold, the surge's highest window, the clearance time [s] (``inf`` if the
        queue never returns before the series ends) and the horizon it was looked for in [s].

    Raises
    ------
    InputError
        A series that does not cover the reference period or a window after the surge, a window that is not
        a whole number of steps, or a negative tolerance.
    """
    arr = _samples(queue_m)
    n = round(window_s / step_s) if step_s > 0 else 0
    if step_s <= 0 or n < 1 or abs(n * step_s - window_s) > _EPS_S:
        raise InputError(None, "the window must be a whole number (at least 1) of sampling steps",
                         f"window {window_s:g} s, step {step_s:g} s")
    if tolerance_share < 0 or tolerance_m < 0:
        raise InputError(None, "tolerances must not be negative", f"{tolerance_share:g}, {tolerance_m:g} m")
    if _index(surge.reference_begin_s, start_s=start_s, step_s=step_s, up=True) < 0:
        raise InputError(None, "the queue series starts after the reference period begins",
                         f"series from {start_s:g} s, reference from {surge.reference_begin_s:g} s")
    reference = period_percentile(arr, start_s=start_s, step_s=step_s, begin_s=surge.reference_begin_s,
                                  end_s=surge.begin_s, percentile=percentile)
    threshold = reference + max(tolerance_share * reference, tolerance_m)
    first = _index(surge.end_s, start_s=start_s, step_s=step_s, up=True)
    if first + n > arr.size:
        raise InputError(None, "the queue series ends before a whole window after the surge",
                         f"surge ends at {surge.end_s:g} s, series at {start_s + arr.size * step_s:g} s")
    # windows [k, k + n) for every k from the surge's start: the peak reads them all, the clearance from `first`
    since = max(0, _index(surge.begin_s, start_s=start_s, step_s=step_s, up=True))
    levels = np.percentile(np.lib.stride_tricks.sliding_window_view(arr[since:], n), percentile, axis=1)
    after = levels[first - since:]
    ordinary = np.flatnonzero(after <= threshold + 1e-9)
    start_gap = start_s + first * step_s - surge.end_s  # the first instant on the grid at or after the end
    horizon = start_gap + (after.size - 1) * step_s
    clearance = start_gap + int(ordinary[0]) * step_s if ordinary.size else math.inf
    return Clearance(reference, threshold, float(levels.max()), float(clearance), float(horizon))


def network_clearance(series: Mapping[str, Sequence[float]], *, start_s: float, step_s: float,
                      surge: SurgeWindow, window_s: float = WINDOW_S, percentile: float = PERCENTILE,
                      tolerance_share: float = TOLERANCE_SHARE, tolerance_m: float = TOLERANCE_M
                      ) -> NetworkClearance:
    """:func:`clearance_time` of every approach of ``series`` (approach -> back of queue per step [m]), with
    the same options; the worst approach and the mean are its properties."""
    return NetworkClearance(tuple(
        (name, clearance_time(values, start_s=start_s, step_s=step_s, surge=surge, window_s=window_s,
                              percentile=percentile, tolerance_share=tolerance_share, tolerance_m=tolerance_m))
        for name, values in series.items()))
