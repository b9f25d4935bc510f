"""Change, clearance and pedestrian intervals (signalopt.clearance): hand-checked values."""

from __future__ import annotations

import math
import re
from contextlib import AbstractContextManager

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from signalopt.clearance import (
    MIN_WALK_S,
    MIN_YELLOW_S,
    WALKING_SPEED_M_S,
    ite_all_red_s,
    ite_yellow_s,
    ped_clearance_s,
    ped_min_green_s,
)
from signalopt.errors import PlanError

# Deterministic examples: the suite must not flake between runs.
PROPERTY = settings(derandomize=True, deadline=None, max_examples=300)

speeds = st.floats(min_value=0.5, max_value=40.0)
grades = st.floats(min_value=-0.08, max_value=0.08)


def raises_with(value: object) -> AbstractContextManager[pytest.ExceptionInfo[PlanError]]:
    """PlanError whose message shows the offending value."""
    return pytest.raises(PlanError, match=re.escape(repr(value)))


# ---------------------------------------------------------------- yellow


def test_yellow_level_50_kmh() -> None:
    # 13.89 m/s (50 km/h), level: 1 + 13.89 / (2 * 3.05) = 1 + 13.89 / 6.1 = 3.2770 s
    assert ite_yellow_s(13.89) == pytest.approx(3.27705, abs=1e-4)


def test_yellow_uphill_shortens() -> None:
    # 25 m/s on +3 %: 2a + 2Gg = 6.1 + 2 * 0.03 * 9.81 = 6.6886; 1 + 25 / 6.6886 = 4.7377 s
    assert ite_yellow_s(25.0, grade=0.03) == pytest.approx(4.7377, abs=1e-4)


def test_yellow_downhill_lengthens() -> None:
    # 25 m/s on -3 %: 6.1 - 0.5886 = 5.5114; 1 + 25 / 5.5114 = 5.5361 s
    assert ite_yellow_s(25.0, grade=-0.03) == pytest.approx(5.5361, abs=1e-4)


def test_yellow_options() -> None:
    # t = 1.5 s, a = 3.0 m/s², v = 20 m/s: 1.5 + 20 / 6 = 4.8333 s
    assert ite_yellow_s(20.0, perception_reaction_s=1.5, deceleration_m_s2=3.0) == pytest.approx(4.8333, abs=1e-4)


def test_yellow_clamped_to_mutcd_minimum() -> None:
    # 8 m/s: 1 + 8 / 6.1 = 2.31 s < 3 s, so the MUTCD minimum applies
    assert MIN_YELLOW_S == 3.0
    assert ite_yellow_s(8.0) == MIN_YELLOW_S


def test_yellow_not_capped_above() -> None:
    # 30 m/s on -8 %: 6.1 - 1.5696 = 4.5304; 1 + 30 / 4.5304 = 7.622 s, above MUTCD's 6 s, returned as is
    assert ite_yellow_s(30.0, grade=-0.08) == pytest.approx(7.622, abs=1e-3)


@pytest.mark.parametrize("speed", [-5.0, 0.0, math.nan, math.inf])
def test_yellow_rejects_bad_speed(speed: float) -> None:
    with raises_with(speed):
        ite_yellow_s(speed)


def test_yellow_rejects_percent_grade() -> None:
    with pytest.raises(PlanError, match=r"fraction.*got 3\.0"):
        ite_yellow_s(13.89, grade=3.0)


def test_yellow_rejects_impossible_downgrade() -> None:
    # 2 * 1.0 + 2 * (-0.2) * 9.81 = -1.924 <= 0: the vehicle cannot stop
    with pytest.raises(PlanError, match=r"-0\.2"):
        ite_yellow_s(13.89, deceleration_m_s2=1.0, grade=-0.2)


@pytest.mark.parametrize(
    ("kwargs", "bad"),
    [
        ({"perception_reaction_s": -0.5}, -0.5),
        ({"deceleration_m_s2": 0.0}, 0.0),
        ({"deceleration_m_s2": -3.05}, -3.05),
        ({"g_m_s2": -9.81}, -9.81),
    ],
)
def test_yellow_rejects_bad_options(kwargs: dict[str, float], bad: float) -> None:
    with raises_with(bad):
        ite_yellow_s(13.89, **kwargs)


@PROPERTY
@given(speed=speeds, grade=grades, reaction=st.floats(min_value=0.0, max_value=2.5))
def test_yellow_never_below_minimum(speed: float, grade: float, reaction: float) -> None:
    assert ite_yellow_s(speed, grade=grade, perception_reaction_s=reaction) >= MIN_YELLOW_S


@PROPERTY
@given(v1=speeds, v2=speeds, grade=grades)
def test_yellow_non_decreasing_in_speed(v1: float, v2: float, grade: float) -> None:
    lo, hi = sorted((v1, v2))
    assert ite_yellow_s(lo, grade=grade) <= ite_yellow_s(hi, grade=grade)


@PROPERTY
@given(speed=speeds, g1=grades, g2=grades)
def test_yellow_non_increasing_in_grade(speed: float, g1: float, g2: float) -> None:
    lo, hi = sorted((g1, g2))
    assert ite_yellow_s(speed, grade=hi) <= ite_yellow_s(speed, grade=lo)


# ---------------------------------------------------------------- all-red


def test_all_red_hand_value() -> None:
    # (W + L) / v = (20 + 6.1) / 13.89 = 26.1 / 13.89 = 1.8790 s
    assert ite_all_red_s(13.89, intersection_width_m=20.0) == pytest.approx(1.8790, abs=1e-4)


def test_all_red_vehicle_length() -> None:
    # (30 + 12) / 10 = 4.2 s
    assert ite_all_red_s(10.0, intersection_width_m=30.0, vehicle_length_m=12.0) == pytest.approx(4.2)


@pytest.mark.parametrize(
    ("speed", "kwargs", "bad"),
    [
        (-10.0, {"intersection_width_m": 20.0}, -10.0),
        (0.0, {"intersection_width_m": 20.0}, 0.0),
        (10.0, {"intersection_width_m": -1.0}, -1.0),
        (10.0, {"intersection_width_m": 20.0, "vehicle_length_m": -6.1}, -6.1),
    ],
)
def test_all_red_rejects_bad_arguments(speed: float, kwargs: dict[str, float], bad: float) -> None:
    with raises_with(bad):
        ite_all_red_s(speed, **kwargs)


def test_all_red_width_is_keyword_only() -> None:
    with pytest.raises(TypeError):
        ite_all_red_s(13.89, 20.0)  # type: ignore[call-arg]


# ---------------------------------------------------------------- pedestrians


def test_ped_clearance_default_speed_is_mutcd() -> None:
    # 3.5 ft/s = 3.5 * 0.3048 = 1.0668 m/s; 15 m / 1.07 m/s = 14.019 s (exact, not rounded)
    assert abs(WALKING_SPEED_M_S - 3.5 * 0.3048) < 0.01
    assert ped_clearance_s(15.0) == pytest.approx(15.0 / 1.07)


def test_ped_clearance_explicit_speed() -> None:
    # 15 m / 1.2 m/s = 12.5 s
    assert ped_clearance_s(15.0, walking_speed_m_s=1.2) == 12.5


def test_ped_min_green_is_walk_plus_clearance() -> None:
    # 7 + 15 / 1.2 = 19.5 s; with a 10 s walk and 0.9 m/s (children): 10 + 18 / 0.9 = 30 s
    assert ped_min_green_s(15.0, walking_speed_m_s=1.2) == pytest.approx(19.5)
    assert ped_min_green_s(18.0, walk_s=10.0, walking_speed_m_s=0.9) == pytest.approx(30.0)
    assert MIN_WALK_S == 7.0


def test_ped_min_green_rejects_short_walk() -> None:
    with pytest.raises(PlanError, match=r"at least 7\.0 s.*got 6\.0"):
        ped_min_green_s(15.0, walk_s=6.0)


@pytest.mark.parametrize(
    ("length", "speed", "bad"),
    [(-3.0, 1.2, -3.0), (0.0, 1.2, 0.0), (15.0, 0.0, 0.0), (15.0, -1.2, -1.2)],
)
def test_ped_rejects_bad_arguments(length: float, speed: float, bad: float) -> None:
    with raises_with(bad):
        ped_clearance_s(length, walking_speed_m_s=speed)
    with raises_with(bad):
        ped_min_green_s(length, walking_speed_m_s=speed)
