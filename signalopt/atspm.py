"""Signal performance measures from detector events and signal states: pure functions, no SUMO.

The automated traffic signal performance measures (ATSPM) of FHWA are computed the way the
ATSPM software computes them from high-resolution controller data: arrivals projected from an
advance detector to the stop bar, and stop-bar presence-zone occupancy.  Here the "controller
data" are SUMO's detector events and signal state switches.

References
----------
.. [1] Day, C. M. et al. (2014). *Performance Measures for Traffic Signal Systems: An Outcome-Oriented
   Approach.* Purdue University, doi:10.5703/1288284315333 (arrivals on green, Purdue coordination diagram,
   split failures: green occupancy ratio and red occupancy ratio in the first 5 s of red).
.. [2] Transportation Research Board (2016). *Highway Capacity Manual, 6th ed.*, exhibit 19-8
   (level of service of signalised intersections).
.. [3] Transportation Research Board (2000). *Highway Capacity Manual 2000*, eq. 18-5 (pedestrian delay at a
   signalised crossing, ``(C - g)^2 / 2C``) and exhibit 18-9 (its level of service).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

#: Occupancy ratio at or above which FHWA counts the green, and the first seconds of red, as occupied [-] ([1]).
SPLIT_FAILURE_OCCUPANCY = 0.8
#: Length of the start of red whose occupancy FHWA reads (ROR5) [s] ([1]).
RED_WINDOW_S = 5.0
#: Upper control-delay bound of LOS A-E at a signalised intersection [s/veh] ([2], exhibit 19-8).
LOS_DELAY_BOUNDS_S = (("A", 10.0), ("B", 20.0), ("C", 35.0), ("D", 55.0), ("E", 80.0))


#: Upper pedestrian-delay bound of LOS A-E at a signalised crossing [s/ped] ([3], exhibit 18-9).
PED_LOS_DELAY_BOUNDS_S = (("A", 10.0), ("B", 20.0), ("C", 30.0), ("D", 40.0), ("E", 60.0))


def pedestrian_level_of_service(delay_s: float) -> str:
    """HCM level of service (A-F) of a signalised crossing from its mean pedestrian delay [s/ped] ([3])."""
    return next((letter for letter, bound in PED_LOS_DELAY_BOUNDS_S if delay_s <= bound), "F")


def level_of_service(delay_s: float, vc_ratio: float | None = None) -> str:
    """HCM level of service (A-F) of a lane group or intersection from its control delay.

    Parameters
    ----------
    delay_s
        Control delay per vehicle [s].
    vc_ratio
        Volume/capacity ratio [-]; a lane group above 1 is F whatever its delay ([2], exhibit 19-8).
    """
    if vc_ratio is not None and vc_ratio > 1.0:
        return "F"
    for letter, bound in LOS_DELAY_BOUNDS_S:
        if delay_s <= bound:
            return letter
    return "F"


@dataclass(frozen=True)
class Interval:
    """A stretch of one signal indication for a lane group: ``kind`` is ``"G"``, ``"y"`` or ``"r"``."""

    begin_s: float
    end_s: float
    kind: str


def indication(state: str, links: Sequence[int]) -> str:
    """A lane group's indication in a signal state string: green if any of its links is green (``G``/``g``),
    else yellow if any is yellow, else red."""
    chars = [state[i] for i in links if i < len(state)]
    if any(c in "Gg" for c in chars):
        return "G"
    if any(c in "yY" for c in chars):
        return "y"
    return "r"


def indication_intervals(switches: Sequence[tuple[float, str]], links: Sequence[int], *,
                         end_s: float) -> list[Interval]:
    """The lane group's indications over time from a signal's state switches.

    Parameters
    ----------
    switches
        ``(time [s], state string)`` at every switch, in time order (the first is the state from then on).
    links
        The group's link indices in the state string.
    end_s
        End of the record [s]; the last indication lasts until then.
    """
    out: list[Interval] = []
    for k, (t, state) in enumerate(switches):
        t_end = switches[k + 1][0] if k + 1 < len(switches) else end_s
        if t_end <= t:
            continue
        kind = indication(state, links)
        if out and out[-1].kind == kind and abs(out[-1].end_s - t) < 1e-9:
            out[-1] = Interval(out[-1].begin_s, t_end, kind)
        else:
            out.append(Interval(t, t_end, kind))
    return out


def clip(intervals: Iterable[Interval], begin_s: float, end_s: float) -> list[Interval]:
    """The intervals cut to ``[begin_s, end_s)``."""
    return [Interval(max(i.begin_s, begin_s), min(i.end_s, end_s), i.kind) for i in intervals
            if i.end_s > begin_s and i.begin_s < end_s]


def green_share(intervals: Sequence[Interval]) -> float:
    """Share of the recorded time that is green, g/C over the record [-]."""
    total = sum(i.end_s - i.begin_s for i in intervals)
    green = sum(i.end_s - i.begin_s for i in intervals if i.kind == "G")
    return green / total if total > 0 else 0.0


def random_arrival_wait_s(intervals: Sequence[Interval]) -> float:
    """Mean wait for green of arrivals spread uniformly over the record, from the indications as they ran [s].

    An arrival in a stretch without green of length *r* waits until it ends, *r*/2 on average, so the mean
    over the record of length *T* is :math:`\\sum_i r_i^2 / 2T`; for a fixed cycle *C* with green *g* this is
    HCM's pedestrian delay :math:`(C - g)^2 / 2C` ([3], eq. 18-5), and it holds for actuated control as it ran.
    A stretch still without green at the end of the record counts as if green came at its end.
    """
    total = sum(i.end_s - i.begin_s for i in intervals)
    if total <= 0:
        return 0.0
    waits, run = 0.0, 0.0
    for i in intervals:
        if i.kind == "G":
            waits += run * run / 2.0
            run = 0.0
        else:
            run += i.end_s - i.begin_s
    return (waits + run * run / 2.0) / total


def merge(spans: Iterable[tuple[float, float]]) -> list[tuple[float, float]]:
    """Union of time spans, sorted and disjoint."""
    out: list[tuple[float, float]] = []
    for a, b in sorted(spans):
        if b <= a:
            continue
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def occupied_s(spans: Sequence[tuple[float, float]], begin_s: float, end_s: float) -> float:
    """Time within ``[begin_s, end_s)`` covered by merged ``spans`` [s]."""
    k = max(bisect.bisect_right(spans, (begin_s, float("inf"))) - 1, 0)
    total = 0.0
    for a, b in spans[k:]:
        if a >= end_s:
            break
        total += max(0.0, min(b, end_s) - max(a, begin_s))
    return total


def presence_spans(enter_s: Mapping[str, float], leave_s: Mapping[str, float], *, end_s: float,
                   fallback_leave_s: Mapping[str, float] | None = None) -> list[tuple[float, float]]:
    """Occupancy of a presence zone: each vehicle from entering the zone to leaving it (merged).

    ``enter_s``/``leave_s``: per vehicle, when it entered the zone (its front passed the zone's upstream end)
    and left it (its rear passed the stop bar).  A vehicle that entered and never left across the stop bar
    changed lanes inside the zone: it occupies it until ``fallback_leave_s`` (its rear passed the zone's
    upstream end), or, without that either, until ``end_s`` (it is still queued there).  One that left
    without an entry on record (it was in the zone when the record began) occupies it from its leave time,
    i.e. not at all.
    """
    fallback = fallback_leave_s or {}
    spans = [(t, leave_s.get(v, fallback.get(v, end_s))) for v, t in enter_s.items()]
    return merge(spans)


@dataclass(frozen=True)
class CycleOccupancy:
    """One green of a lane group with FHWA's occupancy ratios [1]."""

    green_start_s: float
    green_s: float
    gor: float
    ror5: float

    @property
    def split_failure(self) -> bool:
        return self.gor >= SPLIT_FAILURE_OCCUPANCY and self.ror5 >= SPLIT_FAILURE_OCCUPANCY


def cycle_occupancies(intervals: Sequence[Interval], lane_spans: Sequence[Sequence[tuple[float, float]]]
                      ) -> list[CycleOccupancy]:
    """Green occupancy ratio and the first-5-s red occupancy ratio of every complete green.

    The ratios of a lane group are the means over its lanes' presence zones (lane-by-lane detection, as
    FHWA's split-failure measure reads each lane's stop-bar detector).  A green counts once the red after
    it has begun and lasts ``RED_WINDOW_S`` within the record.
    """
    out = []
    lanes = [list(s) for s in lane_spans]
    if not lanes:
        return out
    for k, g in enumerate(intervals):
        if g.kind != "G":
            continue
        red = next((i for i in intervals[k + 1:] if i.kind == "r"), None)
        if red is None or red.end_s - red.begin_s < RED_WINDOW_S - 1e-9:
            continue
        if any(i.kind == "G" for i in intervals[k + 1:] if i.begin_s < red.begin_s):
            continue
        green_s = g.end_s - g.begin_s
        gor = sum(occupied_s(s, g.begin_s, g.end_s) for s in lanes) / (len(lanes) * green_s)
        ror = sum(occupied_s(s, red.begin_s, red.begin_s + RED_WINDOW_S) for s in lanes) / (
            len(lanes) * RED_WINDOW_S)
        out.append(CycleOccupancy(g.begin_s, green_s, gor, ror))
    return out


def greens(intervals: Sequence[Interval]) -> list[tuple[float, float]]:
    """(start [s], duration [s]) of every green: the split monitor's series of one phase."""
    return [(i.begin_s, i.end_s - i.begin_s) for i in intervals if i.kind == "G"]


def indication_at(intervals: Sequence[Interval], t_s: float) -> str | None:
    """The indication at time ``t_s`` (None outside the record)."""
    k = bisect.bisect_right([i.begin_s for i in intervals], t_s) - 1
    if k < 0 or t_s >= intervals[k].end_s:
        return None
    return intervals[k].kind


def arrivals_on_green(arrivals_s: Sequence[float], intervals: Sequence[Interval]) -> tuple[int, int]:
    """Arrivals at the stop bar that find the group's indication green, and all arrivals within the record."""
    starts = [i.begin_s for i in intervals]
    n = on_green = 0
    for t in arrivals_s:
        k = bisect.bisect_right(starts, t) - 1
        if k < 0 or t >= intervals[k].end_s:
            continue
        n += 1
        on_green += intervals[k].kind == "G"
    return on_green, n


@dataclass(frozen=True)
class PcdCycle:
    """One cycle of a Purdue coordination diagram: it begins at the start of red ([1]);
    green and yellow begin ``green_at_s`` and ``yellow_at_s`` into it, and ``arrivals_s`` are the arrivals'
    times in the cycle [s]."""

    start_s: float
    length_s: float
    green_at_s: float
    yellow_at_s: float
    arrivals_s: tuple[float, ...]


def pcd_cycles(arrivals_s: Sequence[float], intervals: Sequence[Interval]) -> list[PcdCycle]:
    """Cycles (red start to red start) of a lane group with the arrivals in each, for a PCD."""
    reds = [i.begin_s for i in intervals if i.kind == "r"]
    out = []
    arr = sorted(arrivals_s)
    for a, b in zip(reds, reds[1:]):
        inside = [i for i in intervals if a <= i.begin_s < b]
        green = next((i.begin_s for i in inside if i.kind == "G"), b)
        yellow = next((i.begin_s for i in inside if i.kind == "y" and i.begin_s >= green), b)
        lo, hi = bisect.bisect_left(arr, a), bisect.bisect_left(arr, b)
        out.append(PcdCycle(a, b - a, green - a, yellow - a, tuple(t - a for t in arr[lo:hi])))
    return out
