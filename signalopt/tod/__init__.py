"""Time-of-day retiming: re-divide the day into control periods, retime each, switch through the day.

:func:`time_of_day` (the ``signalopt tod`` command) segments the day's movement counts into periods
(:func:`signalopt.segment.segment_day`), optimises one plan set per period on that period's representative
hour, simulates whole days under the existing and the new schedule on held-out seeds, and reports per
period (:mod:`.rows`) in ``report.html`` (:mod:`.report`). See docs/time-of-day.md.
"""

from __future__ import annotations

from .job import DEFAULT_DAY_SEEDS, retime_periods, simulate_day, time_of_day
from .rows import DayRow, TodResult, day_rows, lane_use_winners

__all__ = ["DEFAULT_DAY_SEEDS", "DayRow", "TodResult", "day_rows", "lane_use_winners", "retime_periods",
           "simulate_day", "time_of_day"]
