"""Webster cycle and splits, and the Webster / HCM / Akçelik delay and queue formulas.

Pure functions over one movement (lane group) or, by numpy broadcasting, over
many at once: every elementwise function returns a ``float`` for scalar inputs
and an array for array inputs. Flows are hourly rates [veh/h]; the formulas that
need a rate per second convert internally. Bad arguments raise
:class:`~signalopt.errors.PlanError` naming the argument and the offending value.

Symbols: *q* flow, *s* saturation flow, *y = q/s* flow ratio, *C* cycle,
*g* effective green, *λ = g/C* green ratio, *c = s·g/C* capacity,
*X = q/c* degree of saturation, *L* total lost time, *Y = Σ y* over the
critical movements.

References
----------
.. [Webster1958] F. V. Webster, *Traffic Signal Settings*, Road Research
   Technical Paper No. 39, HMSO, London, 1958.
.. [HCM2000] Transportation Research Board, *Highway Capacity Manual 2000*,
   ch. 16 (signalized intersections), eqs. 16-9 to 16-12.
.. [HCM6] Transportation Research Board, *Highway Capacity Manual, 6th ed.:
   A Guide for Multimodal Mobility Analysis*, 2016, ch. 19 (signalized
   intersections): lost time, capacity, control delay d = d1 + d2 + d3.
.. [Akcelik1981] R. Akçelik, *Traffic Signals: Capacity and Timing Analysis*,
   Research Report ARR No. 123, Australian Road Research Board, 1981.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from .errors import PlanError

__all__ = [
    "akcelik_back_of_queue_veh",
    "capacity_veh_h",
    "degree_of_saturation",
    "equisaturation_greens_s",
    "flow_ratio",
    "hcm_control_delay_s",
    "hcm_incremental_delay_s",
    "hcm_uniform_delay_s",
    "lost_time_s",
    "webster_cycle_s",
    "webster_delay_s",
]

FloatArray = npt.NDArray[np.float64]
FloatOrArray = float | FloatArray

_S_PER_H = 3600.0


# --------------------------------------------------------------------------- checks


def _array(name: str, value: npt.ArrayLike, *, low: float = -math.inf, strict: bool = False) -> FloatArray:
    """``value`` as a float array, every element finite and above ``low``."""
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise PlanError(f"{name} must be a real number or array of them, got {value!r}") from exc
    bad = ~np.isfinite(arr)
    with np.errstate(invalid="ignore"):
        bad |= (arr <= low) if strict else (arr < low)
    if bad.any():
        if low == -math.inf:
            rule = "finite"
        elif low == 0.0:
            rule = "positive and finite" if strict else "non-negative and finite"
        else:
            rule = f"finite and {'>' if strict else '>='} {low:g}"
        raise PlanError(f"{name} must be {rule}, got {_first(arr, bad)}")
    return arr


def _first(arr: FloatArray, bad: npt.NDArray[np.bool_]) -> str:
    """The first offending element, with its index when ``arr`` is not a scalar."""
    if arr.ndim == 0:
        return repr(float(arr))
    index = tuple(int(i) for i in np.argwhere(bad)[0])
    where = index[0] if len(index) == 1 else index
    return f"{float(arr[bad][0])!r} at index {where}"


def _scalar(name: str, value: float, *, low: float = -math.inf, strict: bool = False) -> float:
    arr = _array(name, value, low=low, strict=strict)
    if arr.ndim != 0:
        raise PlanError(f"{name} must be a single number, got an array of shape {arr.shape}")
    return float(arr)


def _green_and_cycle(effective_green_s: npt.ArrayLike, cycle_s: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    g = _array("effective_green_s", effective_green_s, low=0.0, strict=True)
    c = _array("cycle_s", cycle_s, low=0.0, strict=True)
    too_long = g > c
    if too_long.any():
        g_b, c_b = np.broadcast_arrays(g, c)
        raise PlanError(
            f"effective_green_s must not exceed cycle_s, got {_first(g_b, too_long)} "
            f"with cycle_s {_first(c_b, too_long)}"
        )
    return g, c


def _out(arr: FloatArray) -> FloatOrArray:
    return float(arr) if arr.ndim == 0 else arr


def _sqrt_excess(z: FloatArray, eps: FloatArray) -> FloatArray:
    """``z + sqrt(z² + eps)`` for ``eps >= 0`` without cancellation.

    For ``z < 0`` the two terms nearly cancel when ``eps`` is small (light
    traffic), so the rationalised form ``eps / (sqrt(z² + eps) - z)`` is used;
    it is exact algebra and keeps full precision.
    """
    root = np.sqrt(z * z + eps)
    with np.errstate(divide="ignore", invalid="ignore"):
        rational = np.where(root - z > 0.0, eps / (root - z), 0.0)
    return np.where(z >= 0.0, z + root, rational)


# --------------------------------------------------------------------------- timing


def lost_time_s(
    *,
    yellow_s: npt.ArrayLike,
    all_red_s: npt.ArrayLike,
    start_up_lost_s: npt.ArrayLike = 2.0,
    extension_s: npt.ArrayLike = 2.0,
) -> FloatOrArray:
    """Lost time of one phase (elementwise over phases).

    .. math:: l = l_1 + Y + AR - e

    Parameters
    ----------
    yellow_s
        Yellow change interval *Y* [s].
    all_red_s
        Red clearance interval *AR* [s].
    start_up_lost_s
        Start-up lost time *l₁* [s]; HCM default 2 s.
    extension_s
        Extension of effective green into the change interval *e* [s]; HCM
        default 2 s. With both defaults *l = Y + AR*.

    Returns
    -------
    float or ndarray
        Lost time per phase [s]. The cycle's total lost time *L* is the sum over
        the phases on the critical path: ``lost_time_s(...).sum()``.

    Raises
    ------
    PlanError
        A negative input, or a lost time below zero (an extension longer than
        the start-up loss plus the change interval).

    References
    ----------
    [HCM6]_ ch. 19 (lost time *l₁* and *e*); [Webster1958]_ (lost time per phase).
    """
    y = _array("yellow_s", yellow_s, low=0.0)
    ar = _array("all_red_s", all_red_s, low=0.0)
    l1 = _array("start_up_lost_s", start_up_lost_s, low=0.0)
    e = _array("extension_s", extension_s, low=0.0)
    lost = l1 + y + ar - e
    negative = lost < 0.0
    if negative.any():
        raise PlanError(
            f"lost time must be non-negative, got {_first(lost, negative)} "
            "(extension_s exceeds start_up_lost_s + yellow_s + all_red_s)"
        )
    return _out(lost)


def flow_ratio(flow_veh_h: npt.ArrayLike, sat_flow_veh_h: npt.ArrayLike) -> FloatOrArray:
    """Flow ratio *y = q/s* of a movement.

    Parameters
    ----------
    flow_veh_h
        Demand flow *q* [veh/h].
    sat_flow_veh_h
        Saturation flow *s* [veh/h of green].

    Returns
    -------
    float or ndarray
        Flow ratio *y* [-]; not capped, a value ≥ 1 means the movement cannot be
        served even with a permanent green.

    Raises
    ------
    PlanError
        Negative flow or non-positive saturation flow.

    References
    ----------
    [Webster1958]_; [HCM6]_ ch. 19 (flow ratio v/s).
    """
    q = _array("flow_veh_h", flow_veh_h, low=0.0)
    s = _array("sat_flow_veh_h", sat_flow_veh_h, low=0.0, strict=True)
    return _out(q / s)


def webster_cycle_s(
    total_lost_s: float,
    critical_flow_ratio_sum: float,
    *,
    min_cycle_s: float | None = None,
    max_cycle_s: float | None = None,
) -> float:
    """Webster's optimum cycle length, optionally clamped.

    .. math:: C_0 = \\frac{1.5 L + 5}{1 - Y}

    Parameters
    ----------
    total_lost_s
        Total lost time per cycle *L* [s].
    critical_flow_ratio_sum
        Sum of the critical flow ratios *Y* [-].
    min_cycle_s, max_cycle_s
        Optional bounds [s]; the result is clamped into them.

    Returns
    -------
    float
        Cycle length [s], exact (not rounded).

    Raises
    ------
    PlanError
        Negative *L* or *Y*, ``min_cycle_s > max_cycle_s``, a non-positive bound,
        or *Y* ≥ 1 without ``max_cycle_s``.

    Notes
    -----
    With *Y* ≥ 1 no cycle serves the demand; the formula has no meaning, so the
    longest allowed cycle ``max_cycle_s`` is returned when given (the
    oversaturated intersection then runs at its maximum capacity), otherwise
    :class:`PlanError` is raised. [Webster1958]_ found the delay within ~10-20 %
    of its minimum for cycles between 0.75 C₀ and 1.5 C₀, which is why
    clamping is acceptable.

    References
    ----------
    [Webster1958]_.
    """
    lost = _scalar("total_lost_s", total_lost_s, low=0.0)
    y_sum = _scalar("critical_flow_ratio_sum", critical_flow_ratio_sum, low=0.0)
    lo = None if min_cycle_s is None else _scalar("min_cycle_s", min_cycle_s, low=0.0, strict=True)
    hi = None if max_cycle_s is None else _scalar("max_cycle_s", max_cycle_s, low=0.0, strict=True)
    if lo is not None and hi is not None and lo > hi:
        raise PlanError(f"min_cycle_s must not exceed max_cycle_s, got {lo!r} > {hi!r}")
    if y_sum >= 1.0:
        if hi is None:
            raise PlanError(
                f"critical_flow_ratio_sum must be below 1 for Webster's cycle, got {y_sum!r} "
                "(pass max_cycle_s to use the longest cycle instead)"
            )
        return hi
    cycle = (1.5 * lost + 5.0) / (1.0 - y_sum)
    if lo is not None:
        cycle = max(cycle, lo)
    if hi is not None:
        cycle = min(cycle, hi)
    return cycle


def equisaturation_greens_s(
    cycle_s: float,
    critical_flow_ratios: npt.ArrayLike,
    *,
    total_lost_s: float,
) -> FloatArray:
    """Effective greens that give every critical movement the same *X*.

    .. math:: g_i = (C - L)\\,\\frac{y_i}{Y}

    Parameters
    ----------
    cycle_s
        Cycle length *C* [s].
    critical_flow_ratios
        Flow ratio *yᵢ* [-] of the critical movement of each phase, in phase
        order (1-D).
    total_lost_s
        Total lost time *L* [s].

    Returns
    -------
    ndarray
        Effective green per phase [s]; sums to *C - L*.

    Raises
    ------
    PlanError
        ``cycle_s <= total_lost_s``, negative *L* or *yᵢ*, or an empty or
        non-1-D ratio array.

    Notes
    -----
    *Y* ≥ 1 is allowed: the proportional split is still the one that equalises
    degrees of saturation (all above 1). If every *yᵢ* is 0 the green is split
    equally, the limit of equal small ratios. Minimum greens (pedestrians,
    clearance) are not applied; that is a plan rule.

    References
    ----------
    [Webster1958]_.
    """
    cycle = _scalar("cycle_s", cycle_s, low=0.0, strict=True)
    lost = _scalar("total_lost_s", total_lost_s, low=0.0)
    ratios = _array("critical_flow_ratios", critical_flow_ratios, low=0.0)
    if ratios.ndim != 1 or ratios.size == 0:
        raise PlanError(f"critical_flow_ratios must be a non-empty 1-D array, got shape {ratios.shape}")
    if cycle <= lost:
        raise PlanError(f"cycle_s must exceed total_lost_s, got cycle_s {cycle!r} <= total_lost_s {lost!r}")
    y_sum = float(ratios.sum())
    shares = ratios / y_sum if y_sum > 0.0 else np.full(ratios.shape, 1.0 / ratios.size)
    return (cycle - lost) * shares


def degree_of_saturation(
    flow_veh_h: npt.ArrayLike,
    sat_flow_veh_h: npt.ArrayLike,
    *,
    effective_green_s: npt.ArrayLike,
    cycle_s: npt.ArrayLike,
) -> FloatOrArray:
    """Degree of saturation (volume-to-capacity ratio).

    .. math:: X = \\frac{q\\,C}{s\\,g}

    Parameters
    ----------
    flow_veh_h
        Demand flow *q* [veh/h].
    sat_flow_veh_h
        Saturation flow *s* [veh/h of green].
    effective_green_s
        Effective green *g* [s], 0 < g ≤ C.
    cycle_s
        Cycle length *C* [s].

    Returns
    -------
    float or ndarray
        Degree of saturation *X* [-]; above 1 when demand exceeds capacity.

    Raises
    ------
    PlanError
        Negative flow, non-positive saturation flow, green or cycle, or g > C.

    References
    ----------
    [Webster1958]_; [HCM6]_ ch. 19 (X = v/c).
    """
    q = _array("flow_veh_h", flow_veh_h, low=0.0)
    capacity = np.asarray(capacity_veh_h(sat_flow_veh_h, effective_green_s=effective_green_s, cycle_s=cycle_s))
    return _out(q / capacity)


def capacity_veh_h(
    sat_flow_veh_h: npt.ArrayLike,
    *,
    effective_green_s: npt.ArrayLike,
    cycle_s: npt.ArrayLike,
) -> FloatOrArray:
    """Capacity of a movement.

    .. math:: c = s\\,\\frac{g}{C}

    Parameters
    ----------
    sat_flow_veh_h
        Saturation flow *s* [veh/h of green].
    effective_green_s
        Effective green *g* [s], 0 < g ≤ C.
    cycle_s
        Cycle length *C* [s].

    Returns
    -------
    float or ndarray
        Capacity *c* [veh/h].

    Raises
    ------
    PlanError
        Non-positive saturation flow, green or cycle, or g > C.

    References
    ----------
    [HCM6]_ ch. 19; [Webster1958]_.
    """
    s = _array("sat_flow_veh_h", sat_flow_veh_h, low=0.0, strict=True)
    g, c = _green_and_cycle(effective_green_s, cycle_s)
    return _out(s * g / c)


# --------------------------------------------------------------------------- delay


def webster_delay_s(
    flow_veh_h: npt.ArrayLike,
    sat_flow_veh_h: npt.ArrayLike,
    *,
    effective_green_s: npt.ArrayLike,
    cycle_s: npt.ArrayLike,
) -> FloatOrArray:
    """Webster's mean delay per vehicle (steady state, random arrivals).

    .. math::

        d = \\frac{C(1-λ)^2}{2(1-λx)} + \\frac{x^2}{2q(1-x)}
            - 0.65\\left(\\frac{C}{q^2}\\right)^{1/3} x^{2+5λ}

    with *q* in veh/s, *λ = g/C* and *x* the degree of saturation.

    Parameters
    ----------
    flow_veh_h
        Demand flow *q* [veh/h].
    sat_flow_veh_h
        Saturation flow *s* [veh/h of green].
    effective_green_s
        Effective green *g* [s], 0 < g ≤ C.
    cycle_s
        Cycle length *C* [s].

    Returns
    -------
    float or ndarray
        Mean delay [s/veh]; ``inf`` where *x* ≥ 1, because the formula is a
        steady-state result and no steady state exists at or above capacity
        (use :func:`hcm_control_delay_s` for a finite, time-limited estimate).
        At zero flow this is ``C(1-λ)²/2``, the limit of the formula.

    Raises
    ------
    PlanError
        Negative flow, non-positive saturation flow, green or cycle, or g > C.

    Notes
    -----
    The third term is Webster's empirical correction fitted to simulation; for
    very small green ratios (λ ≲ 0.05) with long cycles it makes *d* dip slightly
    as *q* grows. It is kept as published; :func:`hcm_control_delay_s` is
    monotone in the flow.

    References
    ----------
    [Webster1958]_.
    """
    x = np.asarray(
        degree_of_saturation(flow_veh_h, sat_flow_veh_h, effective_green_s=effective_green_s, cycle_s=cycle_s)
    )
    s = _array("sat_flow_veh_h", sat_flow_veh_h, low=0.0, strict=True) / _S_PER_H
    g, cycle = _green_and_cycle(effective_green_s, cycle_s)
    lam = g / cycle
    # x = q / (s λ), so x/q = 1/(s λ) is finite; writing the q-terms with it
    # removes the 0/0 at zero flow and the underflow of q² at tiny flows.
    seconds_per_veh = 1.0 / (s * lam)
    under = x < 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        uniform = cycle * (1.0 - lam) ** 2 / (2.0 * (1.0 - lam * x))
        random = x * seconds_per_veh / (2.0 * (1.0 - x))
        correction = 0.65 * np.cbrt(cycle) * seconds_per_veh ** (2.0 / 3.0) * x ** (4.0 / 3.0 + 5.0 * lam)
        delay = np.where(under, uniform + random - correction, np.inf)
    return _out(np.asarray(delay, dtype=np.float64))


def hcm_uniform_delay_s(
    *,
    cycle_s: npt.ArrayLike,
    effective_green_s: npt.ArrayLike,
    degree_of_saturation: npt.ArrayLike,
) -> FloatOrArray:
    """HCM uniform delay *d1* (uniform arrivals, one green per cycle).

    .. math:: d_1 = \\frac{0.5\\,C\\,(1 - g/C)^2}{1 - \\min(1, X)\\,g/C}

    Parameters
    ----------
    cycle_s
        Cycle length *C* [s].
    effective_green_s
        Effective green *g* [s], 0 < g ≤ C.
    degree_of_saturation
        Degree of saturation *X* [-], ≥ 0.

    Returns
    -------
    float or ndarray
        Uniform delay [s/veh]; capped at its X = 1 value for X > 1 since the
        overflow is counted in *d2*.

    Raises
    ------
    PlanError
        Negative *X*, non-positive green or cycle, or g > C.

    Notes
    -----
    [HCM6]_ computes d1 with the queue accumulation polygon; for a single
    effective green with uniform arrivals it reduces to this closed form.

    References
    ----------
    [HCM2000]_ eq. 16-11; [HCM6]_ ch. 19; [Webster1958]_ (first term).
    """
    g, cycle = _green_and_cycle(effective_green_s, cycle_s)
    x = _array("degree_of_saturation", degree_of_saturation, low=0.0)
    lam = g / cycle
    with np.errstate(divide="ignore", invalid="ignore"):
        # g = C (permanent green) and X >= 1 gives 0/0; there is no red, so no delay.
        d1 = np.where(lam < 1.0, 0.5 * cycle * (1.0 - lam) ** 2 / (1.0 - np.minimum(1.0, x) * lam), 0.0)
    return _out(d1.astype(np.float64))


def hcm_incremental_delay_s(
    *,
    degree_of_saturation: npt.ArrayLike,
    capacity_veh_h: npt.ArrayLike,
    analysis_period_h: npt.ArrayLike = 0.25,
    k: npt.ArrayLike = 0.5,
    upstream_filter: npt.ArrayLike = 1.0,
) -> FloatOrArray:
    """HCM incremental delay *d2* (random arrivals and oversaturation).

    .. math::

        d_2 = 900\\,T\\left[(X-1) + \\sqrt{(X-1)^2 + \\frac{8\\,k\\,I\\,X}{c\\,T}}\\right]

    Parameters
    ----------
    degree_of_saturation
        Degree of saturation *X* [-], ≥ 0; may exceed 1.
    capacity_veh_h
        Capacity *c* [veh/h].
    analysis_period_h
        Analysis period *T* [h]; 0.25 h is HCM's 15 min.
    k
        Incremental delay factor [-], 0 < k ≤ 0.5; 0.5 for pretimed control,
        lower for actuated control.
    upstream_filter
        Upstream filtering/metering factor *I* [-], 0 < I ≤ 1; 1.0 for an
        isolated intersection.

    Returns
    -------
    float or ndarray
        Incremental delay [s/veh], finite for every *X*: it assumes no queue at
        the start of the period and averages over the period *T*.

    Raises
    ------
    PlanError
        Negative *X*, non-positive capacity or period, or *k* or *I* outside
        their ranges.

    References
    ----------
    [HCM2000]_ eq. 16-12; [HCM6]_ ch. 19.
    """
    x = _array("degree_of_saturation", degree_of_saturation, low=0.0)
    cap = _array("capacity_veh_h", capacity_veh_h, low=0.0, strict=True)
    period = _array("analysis_period_h", analysis_period_h, low=0.0, strict=True)
    k_arr = _array("k", k, low=0.0, strict=True)
    if (k_arr > 0.5).any():
        raise PlanError(f"k must be in (0, 0.5], got {_first(k_arr, k_arr > 0.5)}")
    i_arr = _array("upstream_filter", upstream_filter, low=0.0, strict=True)
    if (i_arr > 1.0).any():
        raise PlanError(f"upstream_filter must be in (0, 1], got {_first(i_arr, i_arr > 1.0)}")
    eps = 8.0 * k_arr * i_arr * x / (cap * period)
    return _out(900.0 * period * _sqrt_excess(x - 1.0, eps))


def hcm_control_delay_s(
    flow_veh_h: npt.ArrayLike,
    sat_flow_veh_h: npt.ArrayLike,
    *,
    effective_green_s: npt.ArrayLike,
    cycle_s: npt.ArrayLike,
    analysis_period_h: npt.ArrayLike = 0.25,
    initial_queue_delay_s: npt.ArrayLike = 0.0,
) -> FloatOrArray:
    """HCM control delay per vehicle for a pretimed, isolated movement.

    .. math:: d = d_1 \\cdot PF + d_2 + d_3

    with *PF* = 1 (random arrivals, no coordination benefit), *k* = 0.5 and
    *I* = 1 in *d2*.

    Parameters
    ----------
    flow_veh_h
        Demand flow *q* [veh/h].
    sat_flow_veh_h
        Saturation flow *s* [veh/h of green].
    effective_green_s
        Effective green *g* [s], 0 < g ≤ C.
    cycle_s
        Cycle length *C* [s].
    analysis_period_h
        Analysis period *T* [h].
    initial_queue_delay_s
        Initial-queue delay *d3* [s/veh], supplied by the caller (0 when the
        period starts without a residual queue).

    Returns
    -------
    float or ndarray
        Control delay [s/veh], finite also for X > 1: unlike Webster's
        steady-state formula it describes a period of length *T*, which is what
        lets an optimiser rank oversaturated plans.

    Raises
    ------
    PlanError
        As the component functions, or a negative ``initial_queue_delay_s``.

    References
    ----------
    [HCM2000]_ eq. 16-9; [HCM6]_ ch. 19.
    """
    d3 = _array("initial_queue_delay_s", initial_queue_delay_s, low=0.0)
    cap = capacity_veh_h(sat_flow_veh_h, effective_green_s=effective_green_s, cycle_s=cycle_s)
    x = degree_of_saturation(flow_veh_h, sat_flow_veh_h, effective_green_s=effective_green_s, cycle_s=cycle_s)
    d1 = hcm_uniform_delay_s(cycle_s=cycle_s, effective_green_s=effective_green_s, degree_of_saturation=x)
    d2 = hcm_incremental_delay_s(degree_of_saturation=x, capacity_veh_h=cap, analysis_period_h=analysis_period_h)
    return _out(np.asarray(d1 + d2 + d3, dtype=np.float64))


# --------------------------------------------------------------------------- queue


def akcelik_back_of_queue_veh(
    flow_veh_h: npt.ArrayLike,
    sat_flow_veh_h: npt.ArrayLike,
    *,
    effective_green_s: npt.ArrayLike,
    cycle_s: npt.ArrayLike,
    analysis_period_h: npt.ArrayLike = 0.25,
) -> FloatOrArray:
    """Maximum back of queue per cycle, Akçelik's simple form.

    .. math::

        N_m = \\frac{q' r}{1 - q'/s} + N_0, \\qquad q' = \\min(q, c),\\; r = C - g

        N_0 = \\frac{cT}{4}\\left[(X-1) + \\sqrt{(X-1)^2 + \\frac{12(X - X_0)}{cT}}\\right]
        \\quad (X > X_0,\\ \\text{else } 0),\\qquad X_0 = 0.67 + \\frac{s\\,g}{600}

    with *q* and *s* in veh/s in the uniform term and in *X₀*.

    Parameters
    ----------
    flow_veh_h
        Demand flow *q* [veh/h].
    sat_flow_veh_h
        Saturation flow *s* [veh/h of green].
    effective_green_s
        Effective green *g* [s], 0 < g ≤ C.
    cycle_s
        Cycle length *C* [s].
    analysis_period_h
        Flow period *T* [h] for the overflow term.

    Returns
    -------
    float or ndarray
        Back of queue [veh] (all lanes of the movement together; divide by the
        lane count and multiply by a jam spacing for a length in metres).

    Raises
    ------
    PlanError
        As :func:`degree_of_saturation`, or a non-positive period.

    Notes
    -----
    The uniform term counts the vehicles that join the queue from the start of
    red until the discharge wave meets the last arrival, at *r/(1 - y)*. Above
    capacity the queue never clears within the cycle, so, as for HCM *d1*, the
    term is evaluated at capacity (it equals *s·g* there) and the excess is left
    to the overflow queue *N₀*. *X₀* is Akçelik's threshold below which random
    overflow is negligible; it grows slightly with the green's discharge *s·g*.

    References
    ----------
    [Akcelik1981]_ (back of queue, overflow queue *N₀* and *X₀*).
    """
    s_h = _array("sat_flow_veh_h", sat_flow_veh_h, low=0.0, strict=True)
    period = _array("analysis_period_h", analysis_period_h, low=0.0, strict=True)
    cap_h = np.asarray(capacity_veh_h(s_h, effective_green_s=effective_green_s, cycle_s=cycle_s))
    x = np.asarray(degree_of_saturation(flow_veh_h, s_h, effective_green_s=effective_green_s, cycle_s=cycle_s))
    g, cycle = _green_and_cycle(effective_green_s, cycle_s)
    red = cycle - g
    s = s_h / _S_PER_H
    q_served = np.minimum(x, 1.0) * cap_h / _S_PER_H
    with np.errstate(divide="ignore", invalid="ignore"):
        # red = 0 (permanent green) makes q' = s and 0/0: nothing ever queues.
        uniform = np.where(red > 0.0, q_served * red / (1.0 - q_served / s), 0.0)
    x0 = 0.67 + s * g / 600.0
    vehicles_per_period = cap_h * period
    eps = 12.0 * np.maximum(x - x0, 0.0) / vehicles_per_period
    overflow = np.where(x > x0, vehicles_per_period / 4.0 * _sqrt_excess(x - 1.0, eps), 0.0)
    return _out(np.asarray(uniform + overflow, dtype=np.float64))
