"""Change, clearance and pedestrian intervals of one signal phase.

Pure scalar formulas: SI units in, seconds out, :class:`~signalopt.errors.PlanError`
for arguments that make no physical sense. Nothing here rounds to controller
resolution; plan builders round (up, for safety) where they store a plan.

References
----------
.. [ITE2020] Institute of Transportation Engineers, *Guidelines for Determining
   Traffic Signal Change and Clearance Intervals*, Recommended Practice RP-040B,
   Washington DC, 2020. Also ITE *Traffic Engineering Handbook*, 7th ed., 2016.
.. [MUTCD2009] FHWA, *Manual on Uniform Traffic Control Devices*, 2009 ed.,
   section 4D.26 (yellow change and red clearance intervals) and section 4E.06
   (pedestrian intervals and signal phases).
"""

from __future__ import annotations

import math

from .errors import PlanError

__all__ = [
    "MIN_WALK_S",
    "MIN_YELLOW_S",
    "WALKING_SPEED_M_S",
    "ite_all_red_s",
    "ite_yellow_s",
    "ped_clearance_s",
    "ped_min_green_s",
]

MIN_YELLOW_S: float = 3.0
"""Shortest yellow change interval [s] ([MUTCD2009]_ 4D.26: at least 3 s)."""

MIN_WALK_S: float = 7.0
"""Shortest walk interval [s] ([MUTCD2009]_ 4E.06: at least 7 s)."""

WALKING_SPEED_M_S: float = 1.07
"""Pedestrian clearance walking speed [m/s]: 3.5 ft/s, [MUTCD2009]_ 4E.06."""

# A grade is a fraction (+0.03 = 3 % uphill). No signalised approach is steeper
# than 30 %, so anything larger is almost surely a percentage passed by mistake,
# which would silently shorten the yellow on a downgrade or lengthen it uphill.
_MAX_ABS_GRADE = 0.3


def _finite(name: str, value: float) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise PlanError(f"{name} must be a real number, got {value!r}") from exc
    if not math.isfinite(number):
        raise PlanError(f"{name} must be finite, got {value!r}")
    return number


def _positive(name: str, value: float) -> float:
    number = _finite(name, value)
    if number <= 0.0:
        raise PlanError(f"{name} must be positive, got {value!r}")
    return number


def _non_negative(name: str, value: float) -> float:
    number = _finite(name, value)
    if number < 0.0:
        raise PlanError(f"{name} must be non-negative, got {value!r}")
    return number


def ite_yellow_s(
    approach_speed_m_s: float,
    *,
    perception_reaction_s: float = 1.0,
    deceleration_m_s2: float = 3.05,
    grade: float = 0.0,
    g_m_s2: float = 9.81,
) -> float:
    """Yellow change interval by the ITE kinematic formula, at least 3 s.

    .. math:: Y = \\max\\left(3,\\; t + \\frac{v}{2a + 2Gg}\\right)

    Parameters
    ----------
    approach_speed_m_s
        Approach speed *v* [m/s]; ITE uses the 85th-percentile speed (or the
        speed limit) for through movements and a lower speed for turns.
    perception_reaction_s
        Driver perception-reaction time *t* [s].
    deceleration_m_s2
        Comfortable deceleration *a* [m/s²]; 3.05 m/s² is ITE's 10 ft/s².
    grade
        Approach grade *G* as a fraction [-], positive uphill (+0.03 = 3 %).
        Values beyond ±0.3 are refused as likely percentages.
    g_m_s2
        Gravitational acceleration *g* [m/s²].

    Returns
    -------
    float
        Yellow change interval [s], never below :data:`MIN_YELLOW_S`.

    Raises
    ------
    PlanError
        Non-positive speed, deceleration or *g*; negative reaction time; a grade
        beyond ±0.3; or a downgrade so steep that ``2a + 2Gg <= 0``.

    Notes
    -----
    The result is raised to 3 s because [MUTCD2009]_ 4D.26 sets that minimum;
    the 6 s maximum of the same section is *not* applied: a longer value is
    returned unchanged so the caller sees that the approach needs an engineering
    decision (lower speed, all-red share, ...) rather than a silently short yellow.
    The value is exact, not rounded to controller resolution.

    References
    ----------
    [ITE2020]_, the extended kinematic equation; [MUTCD2009]_ 4D.26.
    """
    v = _positive("approach_speed_m_s", approach_speed_m_s)
    t = _non_negative("perception_reaction_s", perception_reaction_s)
    a = _positive("deceleration_m_s2", deceleration_m_s2)
    g = _positive("g_m_s2", g_m_s2)
    grade = _finite("grade", grade)
    if abs(grade) > _MAX_ABS_GRADE:
        raise PlanError(f"grade must be a fraction within ±{_MAX_ABS_GRADE} (+0.03 for 3 % uphill), got {grade!r}")
    braking_m_s2 = 2.0 * a + 2.0 * grade * g
    if braking_m_s2 <= 0.0:
        raise PlanError(
            f"downgrade {grade!r} cancels deceleration {a!r} m/s²: vehicles cannot stop (2a + 2Gg = {braking_m_s2:.3g})"
        )
    return max(MIN_YELLOW_S, t + v / braking_m_s2)


def ite_all_red_s(
    approach_speed_m_s: float,
    *,
    intersection_width_m: float,
    vehicle_length_m: float = 6.1,
) -> float:
    """Red clearance (all-red) interval by the ITE formula.

    .. math:: R = \\frac{W + L}{v}

    Parameters
    ----------
    approach_speed_m_s
        Speed *v* [m/s] at which the last vehicle crosses. [ITE2020]_ discusses
        which speed percentile to use; the caller chooses.
    intersection_width_m
        Distance *W* [m] from the stop line to the far edge of the last
        conflicting lane (or crosswalk, per local practice).
    vehicle_length_m
        Design vehicle length *L* [m]; 6.1 m is ITE's 20 ft.

    Returns
    -------
    float
        Red clearance interval [s], exact (may be below 1 s on narrow crossings;
        agencies' own minimums are a plan rule, not part of the formula).

    Raises
    ------
    PlanError
        Non-positive speed, or negative width or length.

    References
    ----------
    [ITE2020]_; [MUTCD2009]_ 4D.26 (red clearance is optional and should not
    exceed 6 s; neither rule is applied here).
    """
    v = _positive("approach_speed_m_s", approach_speed_m_s)
    w = _non_negative("intersection_width_m", intersection_width_m)
    length = _non_negative("vehicle_length_m", vehicle_length_m)
    return (w + length) / v


def ped_clearance_s(
    crossing_length_m: float,
    *,
    walking_speed_m_s: float = WALKING_SPEED_M_S,
) -> float:
    """Pedestrian clearance time (flashing DON'T WALK) for one crossing.

    .. math:: PCT = \\frac{D}{v_p}

    Parameters
    ----------
    crossing_length_m
        Crossing distance *D* [m], curb to far curb (or to a median refuge the
        pedestrian can wait on).
    walking_speed_m_s
        Walking speed *v_p* [m/s]; default 3.5 ft/s ≈ 1.07 m/s per
        [MUTCD2009]_ 4E.06. Use less (≈ 0.9 m/s) where children or elderly
        pedestrians dominate, e.g. next to the corridor's schools.

    Returns
    -------
    float
        Clearance time [s], exact. It is not rounded up so that callers can sum
        intervals first and round once; round up (``math.ceil``) when storing.

    Raises
    ------
    PlanError
        Non-positive length or speed.

    References
    ----------
    [MUTCD2009]_ 4E.06.
    """
    length = _positive("crossing_length_m", crossing_length_m)
    speed = _positive("walking_speed_m_s", walking_speed_m_s)
    return length / speed


def ped_min_green_s(
    crossing_length_m: float,
    *,
    walk_s: float = MIN_WALK_S,
    walking_speed_m_s: float = WALKING_SPEED_M_S,
) -> float:
    """Shortest concurrent vehicle green that serves a full pedestrian phase.

    .. math:: G_p = walk + \\frac{D}{v_p}

    Parameters
    ----------
    crossing_length_m
        Crossing distance *D* [m].
    walk_s
        WALK interval [s], at least :data:`MIN_WALK_S`.
    walking_speed_m_s
        Walking speed *v_p* [m/s] for the clearance part.

    Returns
    -------
    float
        Minimum vehicle green [s], exact.

    Raises
    ------
    PlanError
        ``walk_s`` below 7 s, or a bad length or speed.

    Notes
    -----
    The whole pedestrian clearance is placed inside the vehicle green, none of
    it in the following yellow and all-red. MUTCD allows overlapping them, but
    the conservative form keeps the rule independent of the change interval.
    The HCM (2000, ch. 16) pedestrian minimum green, 3.2 s + D/v_p plus a term
    for the pedestrian platoon, targets capacity rather than the walk display
    and is not used.
    [MUTCD2009]_ allows a 4 s walk where pedestrian volumes are low; that is not
    offered here, since this corridor's crossings serve schools. The additional
    MUTCD check (walk + clearance covers the crossing at 0.9 m/s from the push
    button) is not applied.

    References
    ----------
    [MUTCD2009]_ 4E.06; HCM 2000 (TRB) ch. 16.
    """
    walk = _finite("walk_s", walk_s)
    if walk < MIN_WALK_S:
        raise PlanError(f"walk_s must be at least {MIN_WALK_S} s (MUTCD 4E.06), got {walk_s!r}")
    return walk + ped_clearance_s(crossing_length_m, walking_speed_m_s=walking_speed_m_s)
