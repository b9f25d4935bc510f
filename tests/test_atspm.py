"""Signal performance measures as pure functions (signalopt.atspm): no SUMO."""

from __future__ import annotations

import math

import pytest

from signalopt import atspm
from signalopt.atspm import Interval


def test_level_of_service_follows_hcm_delay_bounds_and_vc_over_one_is_f() -> None:
    assert [atspm.level_of_service(d) for d in (0, 10, 10.1, 20, 35, 55, 80, 80.1)] == list("AABBCDEF")
    assert atspm.level_of_service(5.0, vc_ratio=1.01) == "F"
    assert atspm.level_of_service(5.0, vc_ratio=1.0) == "A"


def test_indication_is_green_if_any_link_green_else_yellow_if_any_yellow() -> None:
    assert atspm.indication("rGy", [0, 1]) == "G"
    assert atspm.indication("rgy", [1]) == "G"  # permissive green counts as green
    assert atspm.indication("ryG", [0, 1]) == "y"
    assert atspm.indication("rrG", [0, 1]) == "r"


def test_indication_intervals_merge_repeated_kinds_and_end_at_the_record_end() -> None:
    switches = [(0.0, "Gr"), (20.0, "yr"), (23.0, "rr"), (25.0, "rG"), (40.0, "ry"), (43.0, "rr"), (45.0, "Gr")]
    got = atspm.indication_intervals(switches, [0], end_s=60.0)
    assert got == [Interval(0, 20, "G"), Interval(20, 23, "y"), Interval(23, 45, "r"), Interval(45, 60, "G")]
    assert atspm.green_share(got) == pytest.approx(35 / 60)
    assert atspm.clip(got, 10, 50) == [Interval(10, 20, "G"), Interval(20, 23, "y"), Interval(23, 45, "r"),
                                       Interval(45, 50, "G")]


def test_occupancy_of_merged_spans_within_a_window() -> None:
    spans = atspm.merge([(5, 8), (0, 2), (7, 10), (12, 12)])
    assert spans == [(0, 2), (5, 10)]
    assert atspm.occupied_s(spans, 1, 6) == pytest.approx(2.0)
    assert atspm.occupied_s(spans, 10, 20) == 0.0


def test_presence_spans_close_lane_changers_and_vehicles_still_queued() -> None:
    enter = {"a": 0.0, "b": 10.0, "c": 20.0}
    leave = {"a": 4.0, "x": 1.0}  # x was in the zone when the record began: not counted
    got = atspm.presence_spans(enter, leave, end_s=30.0, fallback_leave_s={"b": 12.0})
    assert got == [(0.0, 4.0), (10.0, 12.0), (20.0, 30.0)]


def _cycles(n: int, *, green_s: float = 30.0, yellow_s: float = 3.0, red_s: float = 27.0) -> list[Interval]:
    out, t = [], 0.0
    for _ in range(n):
        out += [Interval(t, t + green_s, "G"), Interval(t + green_s, t + green_s + yellow_s, "y"),
                Interval(t + green_s + yellow_s, t + green_s + yellow_s + red_s, "r")]
        t += green_s + yellow_s + red_s
    return out


def test_split_failure_needs_both_green_and_first_red_seconds_occupied() -> None:
    iv = _cycles(3)
    full_green_then_red = [(0.0, 40.0)]  # occupied all green and the first 7 s of red
    full_green_only = [(60.0, 90.0)]  # cleared at the end of green
    red_only = [(153.0, 160.0)]  # a car stopped at the start of red after a light green
    got = atspm.cycle_occupancies(iv, [atspm.merge(full_green_then_red + full_green_only + red_only)])
    assert [c.split_failure for c in got] == [True, False, False]
    assert got[0].gor == pytest.approx(1.0) and got[0].ror5 == pytest.approx(1.0)
    assert got[1].gor == pytest.approx(1.0) and got[1].ror5 == 0.0
    assert got[2].gor == 0.0 and got[2].ror5 == pytest.approx(1.0)


def test_split_failure_ratios_are_lane_means() -> None:
    iv = _cycles(1)
    got = atspm.cycle_occupancies(iv, [[(0.0, 40.0)], []])
    assert got[0].gor == pytest.approx(0.5) and not got[0].split_failure


def test_a_green_without_five_seconds_of_red_after_it_is_not_counted() -> None:
    iv = [Interval(0, 30, "G"), Interval(30, 33, "y"), Interval(33, 36, "r")]
    assert atspm.cycle_occupancies(iv, [[(0.0, 36.0)]]) == []


def test_arrivals_on_green_count_only_arrivals_inside_the_record() -> None:
    iv = _cycles(2)  # green 0-30, 60-90
    on, n = atspm.arrivals_on_green([-5.0, 1.0, 29.9, 30.0, 45.0, 61.0, 500.0], iv)
    assert (on, n) == (3, 5)


def test_pcd_cycles_run_from_red_to_red_with_green_and_yellow_marks() -> None:
    iv = _cycles(3)  # red starts at 33, 93, 153
    got = atspm.pcd_cycles([40.0, 95.0, 100.0, 130.0, 200.0], iv)
    assert [c.start_s for c in got] == [33.0, 93.0]
    assert got[0].length_s == 60.0 and got[0].green_at_s == 27.0 and got[0].yellow_at_s == 57.0
    assert got[0].arrivals_s == (7.0,)
    assert got[1].arrivals_s == pytest.approx((2.0, 7.0, 37.0))
    assert all(not math.isnan(c.green_at_s) for c in got)


def test_random_arrival_wait_is_hcm_pedestrian_delay_for_a_fixed_cycle() -> None:
    iv = _cycles(4, green_s=20.0, yellow_s=0.0, red_s=70.0)  # C = 90, g = 20
    # the record starts with green: every red is followed by a green but the last, which counts as if it were
    assert atspm.random_arrival_wait_s(iv) == pytest.approx((90 - 20) ** 2 / (2 * 90))
    assert atspm.random_arrival_wait_s([Interval(0, 60, "G")]) == 0.0
    # actuated: the same green share split unevenly waits longer than evenly
    uneven = [Interval(0, 10, "G"), Interval(10, 20, "r"), Interval(20, 30, "G"), Interval(30, 100, "r")]
    even = [Interval(0, 10, "G"), Interval(10, 50, "r"), Interval(50, 60, "G"), Interval(60, 100, "r")]
    assert atspm.random_arrival_wait_s(uneven) > atspm.random_arrival_wait_s(even)


def test_pedestrian_level_of_service_bounds() -> None:
    assert [atspm.pedestrian_level_of_service(d) for d in (5, 15, 25, 35, 50, 61)] == list("ABCDEF")


def test_greens_are_the_split_monitor_series() -> None:
    assert atspm.greens(_cycles(2, green_s=25.0)) == [(0.0, 25.0), (55.0, 25.0)]
