"""Plan encodings (signalopt.encoding): every point of the unit box is a safe plan set.

Property tests with hypothesis (derandomized: the suite never flakes) on both
bundled networks, with and without lead/lag and per-signal cycles.  Pure:
sumolib reads the nets, SUMO never runs.
"""

from __future__ import annotations

import functools
import itertools
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from signalopt.encoding import PlanEncoding, make_encoding
from signalopt._alloc import inverse_stick_breaking, round_preserving_sum, stick_breaking, water_fill
from signalopt.errors import InputError, PlanError
from signalopt.network import Network, read_network
from signalopt.plan import PlanSet, TimingPlan
from signalopt.programs import existing_plans
from signalopt.safety import check_plans
from signalopt.options import TimingOptions

ROOT = Path(__file__).resolve().parents[1]
NETS = {
    "isolated": ROOT / "networks" / "isolated" / "isolated.net.xml",
    "qixiangtai": ROOT / "networks" / "qixiangtai" / "qixiangtai_shared.net.xml",
}
TIMING = TimingOptions()
PROPERTY = settings(derandomize=True, deadline=None, max_examples=60,
                    suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SIGNALOPT_CACHE", str(tmp_path / "cache"))


@functools.cache
def network(name: str) -> Network:
    return read_network(NETS[name])


@functools.cache
def base(name: str, timing: TimingOptions = TIMING) -> PlanSet:
    return existing_plans(network(name), timing)[0]


@functools.cache
def encoding(name: str, per_signal_cycle: bool, lead_lag: bool, timing: TimingOptions = TIMING) -> PlanEncoding:
    return make_encoding(network(name), base(name, timing), timing, per_signal_cycle=per_signal_cycle,
                         lead_lag=lead_lag)


CASES = list(itertools.product(NETS, [False, True], [False, True]))
CASE_IDS = [f"{n}-{'percycle' if p else 'common'}-{'leadlag' if ll else 'fixed'}" for n, p, ll in CASES]


def unit_vectors(size: int):
    """Points of the unit box, corners and faces included."""
    return st.lists(st.one_of(st.floats(0.0, 1.0), st.sampled_from([0.0, 0.5, 1.0])),
                    min_size=size, max_size=size).map(np.asarray)


def assert_feasible(plans: PlanSet, enc: PlanEncoding, name: str) -> None:
    """Valid plans that pass the safety check, with the encoding's cycle bounds and offsets."""
    assert plans.signal_ids == base(name).signal_ids
    violations = check_plans(plans, network(name), timing=enc.timing)
    assert violations == [], [str(v) for v in violations]
    cycles = [p.cycle_s for p in plans]
    for k, p in enumerate(plans):
        assert isinstance(p, TimingPlan)
        lo, hi = enc.cycle_ranges[k if enc.per_signal_cycle else 0]
        assert lo - 1e-6 <= p.cycle_s <= hi + 1e-6
        assert enc.timing.min_cycle_s - 1e-6 <= p.cycle_s <= enc.timing.max_cycle_s + 1e-6
        assert p.cycle_s == round(p.cycle_s)  # whole seconds
        assert 0.0 <= p.offset_s < p.cycle_s
        assert p.offset_s == round(p.offset_s)
        for ph in p.phases:
            assert ph.green_s >= ph.effective_min_green_s - 1e-6
            assert ph.green_s <= ph.max_green_s + 1e-6
            assert abs(ph.green_s * 10 - round(ph.green_s * 10)) < 1e-6  # 0.1 s
        # the rebuilt plan (constructor checks) is identical
        assert TimingPlan.from_dict(p.to_dict()) == p
    if not enc.per_signal_cycle:
        assert len(set(cycles)) == 1
    assert plans.plans[0].offset_s == 0.0  # the first signal is the reference


@pytest.mark.parametrize(("name", "per_signal_cycle", "lead_lag"), CASES, ids=CASE_IDS)
def test_every_decoded_plan_is_safe(name: str, per_signal_cycle: bool, lead_lag: bool) -> None:
    enc = encoding(name, per_signal_cycle, lead_lag)

    @PROPERTY
    @given(unit_vectors(enc.size))
    def check(x: np.ndarray) -> None:
        assert_feasible(enc.decode(x), enc, name)

    check()


@pytest.mark.parametrize(("name", "per_signal_cycle", "lead_lag"), CASES, ids=CASE_IDS)
def test_encode_decode_is_stable(name: str, per_signal_cycle: bool, lead_lag: bool) -> None:
    enc = encoding(name, per_signal_cycle, lead_lag)

    @PROPERTY
    @given(unit_vectors(enc.size))
    def check(x: np.ndarray) -> None:
        plans = enc.decode(x)
        again = enc.decode(enc.encode(plans))
        assert again.plans == plans.plans
        assert np.all((enc.encode(plans) >= 0) & (enc.encode(plans) <= 1))

    check()


@pytest.mark.parametrize(("name", "per_signal_cycle", "lead_lag"), CASES, ids=CASE_IDS)
def test_corners_of_the_box(name: str, per_signal_cycle: bool, lead_lag: bool) -> None:
    enc = encoding(name, per_signal_cycle, lead_lag)
    lo = enc.decode(np.zeros(enc.size))
    hi = enc.decode(np.ones(enc.size))
    assert_feasible(lo, enc, name)
    assert_feasible(hi, enc, name)
    for k, (a, b) in enumerate(zip(lo, hi)):
        r_lo, r_hi = enc.cycle_ranges[k if per_signal_cycle else 0]
        assert a.cycle_s == math.ceil(r_lo - 1e-9)
        assert b.cycle_s == math.floor(r_hi + 1e-9)
    # outside the box is clipped, never an error
    assert enc.decode(np.full(enc.size, -3.0)) == lo
    assert enc.decode(np.full(enc.size, 7.0)) == hi


def test_layout_and_labels() -> None:
    enc = encoding("qixiangtai", False, False)
    # one common cycle, 3 split variables per 4-stage signal, one offset per signal but the first
    assert enc.size == 1 + 4 * 3 + 3
    assert enc.bounds == [(0.0, 1.0)] * enc.size
    labels = enc.labels()
    assert len(labels) == enc.size and labels[0] == "cycle"
    assert labels[1:4] == ["pingquan:split1", "pingquan:split2", "pingquan:split3"]
    assert "pingquan:offset" not in labels and labels.count("weidi:offset") == 1
    ll = encoding("qixiangtai", True, True)
    assert ll.size == 4 + 4 * 3 + 3 + 4 * len(ll.templates[0].pairs)
    assert len(ll.labels()) == ll.size
    assert all(t.pairs for t in ll.templates)  # every signal has a left stage followed by its through stage
    with pytest.raises(PlanError, match="decision vector has 3 components, the encoding 16"):
        enc.decode([0.5, 0.5, 0.5])


def test_existing_plans_encode_to_their_timing() -> None:
    """Encoding the existing plans keeps their cycles and their offsets relative to the first signal."""
    enc = encoding("qixiangtai", True, False)
    old = base("qixiangtai")
    new = enc.decode(enc.encode(old))
    ref_old, ref_new = old.plans[0].offset_s, new.plans[0].offset_s
    for a, b in zip(old, new):
        assert b.cycle_s == a.cycle_s
        assert (b.offset_s - ref_new) % b.cycle_s == pytest.approx((a.offset_s - ref_old) % a.cycle_s)


@pytest.mark.parametrize("shift", [1.0, 25.0, 79.0])
def test_a_global_time_shift_encodes_to_the_same_point(shift: float) -> None:
    """Only offsets relative to the first signal matter for coordination."""
    enc = encoding("qixiangtai", False, False)
    plans = enc.decode(np.linspace(0.1, 0.9, enc.size))
    cycle = plans.plans[0].cycle_s
    shifted = PlanSet(tuple(TimingPlan(p.signal_id, p.phases, offset_s=(p.offset_s + shift) % cycle,
                                       ped_links=p.ped_links) for p in plans))
    assert enc.encode(shifted) == pytest.approx(enc.encode(plans))
    assert enc.decode(enc.encode(shifted)) == plans


def test_lead_lag_swaps_left_and_through() -> None:
    enc = encoding("isolated", False, True)
    t = enc.templates[0]
    assert t.pairs == (0, 2)  # NS left -> NS through, EW left -> EW through
    x = np.full(enc.size, 0.5)
    lead = enc.decode(np.where(np.arange(enc.size) >= enc.size - 2, 0.0, x))
    lag = enc.decode(np.where(np.arange(enc.size) >= enc.size - 2, 1.0, x))
    states = [p.state for p in t.base.phases]
    assert [p.state for p in lead["center"].phases] == states
    assert [p.state for p in lag["center"].phases] == [states[1], states[0], states[3], states[2]]
    assert check_plans(lag, network("isolated")) == []
    # the left stage keeps its share of the green when it moves
    g_lead = {p.state: p.green_s for p in lead["center"].phases}
    g_lag = {p.state: p.green_s for p in lag["center"].phases}
    assert g_lead == pytest.approx(g_lag, abs=0.15)


@PROPERTY
@given(min_green=st.integers(5, 20), max_green=st.integers(20, 120), min_cycle=st.integers(30, 120),
       span=st.integers(1, 120), walk=st.integers(7, 12), u=st.floats(0, 1), data=st.data())
def test_decoded_plans_safe_under_other_timing_options(min_green: int, max_green: int, min_cycle: int, span: int,
                                                       walk: int, u: float, data) -> None:
    timing = TimingOptions(min_green_s=float(min_green), min_green_left_s=float(min(min_green, 8)),
                           max_green_s=float(max_green), min_cycle_s=float(min_cycle),
                           max_cycle_s=float(min_cycle + span), walk_s=float(walk))
    name = "qixiangtai" if u < 0.5 else "isolated"
    try:
        enc = encoding(name, u < 0.25 or u > 0.75, u > 0.5, timing)
    except InputError as exc:
        # refused only when the timing really does not fit: either the maximum greens cap every cycle below
        # the minimum cycle (with roomier greens it fits), or the same minimums under a roomy maximum cycle
        # and green need more than this maximum cycle
        options = (u < 0.25 or u > 0.75, u > 0.5)
        if "is longer than the maximum greens allow" in str(exc):
            assert encoding(name, *options, replace(timing, max_green_s=120.0)).cycle_ranges
        else:
            assert "maximum cycle" in str(exc) or "no common cycle" in str(exc)
            roomy = replace(timing, max_green_s=120.0, max_cycle_s=300.0)
            need = max(lo for lo, _ in encoding(name, *options, roomy).cycle_ranges)
            assert need > timing.max_cycle_s, (need, timing, str(exc))
        assume(False)
        return
    x = data.draw(unit_vectors(enc.size))
    plans = enc.decode(x)
    assert_feasible(plans, enc, name)


def test_infeasible_cycle_bounds_raise_input_error() -> None:
    # the minimum splits of the isolated junction need 47 s
    with pytest.raises(InputError, match=r"minimum splits need 4\d\.\d s \(whole seconds: 4\d s\), more than the maximum cycle or the "
                                         r"maximum greens allow \(45 s\)"):
        make_encoding(network("isolated"), base("isolated"), TimingOptions(max_cycle_s=45.0))
    # Weidi needs 80 s with its 22.4 m crossings (Pingquan 68 s, Pingshan 74 s fit in 77 s)
    with pytest.raises(InputError,
                       match=r"signal weidi: minimum splits need 80\.0 s \(whole seconds: 80 s\), more than the maximum "
                             r"cycle or the maximum greens allow \(77 s\)"):
        make_encoding(network("qixiangtai"), base("qixiangtai"), TimingOptions(max_cycle_s=77.0))
    # a common cycle is impossible when one signal's longest cycle is below another's shortest
    tight = TimingOptions(max_green_s=10.0)
    per_signal = make_encoding(network("qixiangtai"), base("qixiangtai"), tight, per_signal_cycle=True)
    los = [lo for lo, _ in per_signal.cycle_ranges]
    his = [hi for _, hi in per_signal.cycle_ranges]
    assert max(los) > min(his)
    with pytest.raises(InputError, match="no common cycle fits every signal"):
        make_encoding(network("qixiangtai"), base("qixiangtai"), tight)


# ------------------------------------------------------------------ building blocks


@PROPERTY
@given(st.lists(st.floats(0.0, 1.0), min_size=0, max_size=6))
def test_stick_breaking_shares(v: list[float]) -> None:
    shares = stick_breaking(np.asarray(v))
    assert len(shares) == len(v) + 1
    assert np.all(shares >= 0)
    assert shares.sum() == pytest.approx(1.0)
    back = stick_breaking(inverse_stick_breaking(shares))
    assert back == pytest.approx(shares, abs=1e-9)


@PROPERTY
@given(total=st.floats(0.0, 200.0), data=st.data())
def test_water_fill_respects_caps_and_total(total: float, data) -> None:
    n = data.draw(st.integers(1, 6))
    caps = np.asarray(data.draw(st.lists(st.floats(0.0, 80.0), min_size=n, max_size=n)))
    shares = np.asarray(data.draw(st.lists(st.floats(0.0, 1.0), min_size=n, max_size=n)))
    alloc = water_fill(total, shares, caps)
    assert np.all(alloc >= -1e-9) and np.all(alloc <= caps + 1e-9)
    assert alloc.sum() == pytest.approx(min(total, caps.sum()), abs=1e-6)


@PROPERTY
@given(st.lists(st.integers(0, 1000), min_size=1, max_size=6), st.data())
def test_round_preserving_sum(tenths: list[int], data) -> None:
    # values that sum to a whole number of tenths are rounded to tenths with the same sum
    total = sum(tenths) / 10
    noise = data.draw(st.lists(st.floats(0.0, 0.099), min_size=len(tenths), max_size=len(tenths)))
    values = np.asarray(tenths, dtype=float) / 10 + np.asarray(noise)
    values = values * (total / values.sum()) if values.sum() > 0 else values
    out = round_preserving_sum(values, total)
    assert out.sum() == pytest.approx(total, abs=1e-6)
    assert np.all(np.abs(out - values) < 0.1 + 1e-9)
