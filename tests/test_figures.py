"""Report figures read as an engineer reads them: clock times on time axes, plans of different cycles to one
scale with every stage labelled (matplotlib, no simulation)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from signalopt.plan import Phase, PlanSet, TimingPlan  # noqa: E402
from signalopt.report import clock_axis, plot_ring_diagrams  # noqa: E402


def _labels(ax) -> list[str]:  # noqa: ANN001
    ax.figure.canvas.draw()
    lo, hi = ax.get_xlim()
    return [t.get_text() for t in ax.get_xticklabels() if lo <= t.get_position()[0] <= hi]


def test_time_axes_are_in_clock_time() -> None:
    fig, ax = plt.subplots()
    ax.plot([7 * 3600, 8 * 3600], [0, 1])
    clock_axis(ax)
    assert _labels(ax)[:3] == ["07:00", "07:10", "07:20"] and _labels(ax)[-1] == "08:00"
    fig, ax = plt.subplots()
    ax.plot([0, 24 * 3600], [0, 1])
    clock_axis(ax)
    assert _labels(ax) == ["00:00", "06:00", "12:00", "18:00", "24:00"]
    plt.close("all")


def _plan(greens: list[float], offset_s: float) -> TimingPlan:
    states = ["GGrr", "rrGG"]
    return TimingPlan("x", tuple(Phase(f"s{k + 1}", states[k % 2], g, 3.0, 2.0) for k, g in enumerate(greens)),
                      offset_s=offset_s)


def test_ring_diagrams_repeat_a_shorter_cycle_and_label_a_wrapped_stage(tmp_path, monkeypatch) -> None:
    long = PlanSet((_plan([40.0, 40.0], 0.0),), name="long")  # 90 s
    short = PlanSet((_plan([20.0, 10.0], 0.0),), name="short")  # 40 s: 2.25 cycles along the 90 s axis
    wrapped = PlanSet((_plan([20.0, 10.0], 30.0),), name="wrapped")  # stage 1 crosses the axis's start
    texts: list[str] = []
    real_text = matplotlib.axes.Axes.text

    def keep(self, x, y, s, *args, **kwargs):  # noqa: ANN001, ANN202
        texts.append(s)
        return real_text(self, x, y, s, *args, **kwargs)

    monkeypatch.setattr(matplotlib.axes.Axes, "text", keep)
    plot_ring_diagrams([long, short, wrapped], tmp_path / "ring.png")
    assert (tmp_path / "ring.png").stat().st_size > 0
    # the long plan once; the short one in each of its cycles along the axis (stage 1 at 0, 40 and 80 s, the last
    # cut to half at the axis's end; stage 2 at 25 and 65 s); the wrapped one likewise (stage 1 from -10 s, cut
    # to its second half, from 30 and 70 s; stage 2 at 15 and 55 s)
    assert texts.count("1:40") == 1 and texts.count("2:40") == 1
    assert texts.count("1:20") == 3 + 3 and texts.count("2:10") == 2 + 2


def test_approach_queues_are_grouped_by_intersection_and_stay_a_page_wide(tmp_path) -> None:
    """Nine signals of four approaches and eight candidates: one panel per signal, two a row, a page wide (the
    single bar chart this replaced was 4,700 pixels wide on the corridor)."""
    from PIL import Image

    from signalopt.comparison import CompareRow, Comparison
    from signalopt.metrics import ApproachMetrics, Metrics, RunMetrics
    from signalopt.report import plot_approach_queues

    def run(seed: int, scale: float) -> RunMetrics:
        apps = tuple(ApproachMetrics(f"e{s}{leg}", f"J{s}:{leg}", f"J{s}", scale * (10 + s), 0, 0, 0, 0, 0, 20)
                     for s in range(9) for leg in "NESW")
        return RunMetrics(seed, 30.0, 10.0, 12.0, 20.0, 0, 100, 100, 1.0, 0.0, 0, 0, apps)

    rows = tuple(CompareRow(f"cand{k}", "static", Metrics("x", f"cand{k}", "static", (run(1, 1 + k / 10),
                                                                                         run(2, 1 + k / 9))))
                 for k in range(8))
    path = plot_approach_queues(Comparison("x", (1, 2), rows), tmp_path / "aq.png")
    fig_w, fig_h = Image.open(path).size
    assert fig_w <= 1600
    plt.close("all")
