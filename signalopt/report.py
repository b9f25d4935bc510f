"""Reports: figures (PNG) and a self-contained ``report.html`` from a comparison and its traces."""

from __future__ import annotations

import base64
import html
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ._clock import clock_text
from ._xml import atomic_write_bytes, atomic_write_text
from .comparison import HEADLINE_MEASURES, Comparison
from .plan import PlanSet, TimingPlan
from .trace import Trace

_COLOURS = {"G": "#2ca02c", "g": "#98df8a", "y": "#ffbf00", "r": "#d62728"}
_CANDIDATE_COLOURS = ["#7f7f7f", "#1f77b4", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#2ca02c", "#ff7f0e"]


def pyplot():  # noqa: ANN202 - matplotlib module
    """matplotlib.pyplot on the Agg back-end (files only, no display), imported on first use."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, path: Path) -> Path:  # noqa: ANN001 - matplotlib figure
    """Write ``fig`` as a PNG atomically, close it, and return ``path``."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    pyplot().close(fig)
    return atomic_write_bytes(path, buf.getvalue())


def clock_axis(ax, *, label: str = "time of day") -> None:  # noqa: ANN001 - matplotlib axes
    """Label the x axis of times in seconds of the day with clock times (``07:30``), as engineers read them."""
    from matplotlib.ticker import FuncFormatter, MultipleLocator

    lo, hi = ax.get_xlim()  # call after plotting: ticks every whole 1, 2, 5, 10, 15, 30 min or 1, 2, 3, 6 h
    step = next((s for s in (60, 120, 300, 600, 900, 1800, 3600, 7200, 10800) if (hi - lo) / s <= 8), 21600)
    ax.xaxis.set_major_locator(MultipleLocator(step))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda t, _pos: clock_text(round(t / 60) * 60)))
    ax.set_xlabel(label, fontsize=8)


def plot_queue_over_time(traces: Sequence[Trace], path: Path) -> Path:
    """Queue length [m] over time per approach, one line per trace (e.g. existing vs optimised)."""
    plt = pyplot()
    approaches = sorted({a for t in traces for a in t.queues_m})
    cols = 4
    rows = max(1, int(np.ceil(len(approaches) / cols)))
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 2.4 * rows), sharex=True, squeeze=False)
    for ax, a in zip(axes.flat, approaches):
        for k, t in enumerate(traces):
            if a in t.queues_m:
                ax.plot(np.asarray(t.times_s), t.queues_m[a], label=t.label, color=_CANDIDATE_COLOURS[k % len(_CANDIDATE_COLOURS)],
                        lw=1.2)
        ax.set_title(a, fontsize=9)
        ax.set_ylabel("queue [m]", fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(approaches):]:
        ax.axis("off")
    for ax in axes.flat:
        clock_axis(ax)
    axes.flat[0].legend(fontsize=7)
    fig.suptitle("Maximum queue per minute, by approach")
    return save_figure(fig, path)


def plot_approach_queues(comparison: Comparison, path: Path) -> Path:
    """Per-approach mean per-cycle max queue with 95% CIs, one bar per candidate, one panel per intersection
    (two panels a row), so the figure stays a page wide however many signals and candidates there are."""
    plt = pyplot()
    tables = {r.name: {a["label"]: a for a in r.to_dict()["approaches"]} for r in comparison.rows}
    signal_of = {lab: a["signal_id"] for t in tables.values() for lab, a in t.items()}
    signals = sorted(set(signal_of.values())) or [""]
    cols = min(2, len(signals))
    rows = int(np.ceil(len(signals) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(6.5 * cols, 3.2 * rows), squeeze=False, sharey=True)
    width = 0.8 / max(1, len(tables))
    for ax, sid in zip(axes.flat, signals):
        labels = sorted(lab for lab, s in signal_of.items() if s == sid)
        x = np.arange(len(labels))
        for k, (name, t) in enumerate(tables.items()):
            means = np.array([t[lab]["mean_max_queue_m"] if lab in t else 0.0 for lab in labels])
            lo = np.array([t[lab]["mean_max_queue_m_ci95"][0] if lab in t else 0.0 for lab in labels])
            hi = np.array([t[lab]["mean_max_queue_m_ci95"][1] if lab in t else 0.0 for lab in labels])
            err = np.vstack([np.maximum(means - lo, 0), np.maximum(hi - means, 0)])
            ax.bar(x + k * width - 0.4 + width / 2, means, width, yerr=err, capsize=1.5, label=name,
                   color=_CANDIDATE_COLOURS[k % len(_CANDIDATE_COLOURS)])
        ax.set_xticks(x, [lab.split(":", 1)[-1] for lab in labels], fontsize=8)
        ax.set_title(sid, fontsize=10)
    for ax in axes.flat[len(signals):]:
        ax.set_visible(False)
    for row in axes:
        row[0].set_ylabel("mean per-cycle max queue [m]", fontsize=8)
    handles, names = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, names, fontsize=8, ncol=min(5, len(names)), loc="upper center", bbox_to_anchor=(0.5, 0.0))
    fig.suptitle(f"Queues per approach on held-out seeds {comparison.seeds[0]}..{comparison.seeds[-1]} (95% CI)")
    fig.tight_layout()
    return save_figure(fig, path)


def plot_ring_diagrams(plan_sets: Sequence[PlanSet], path: Path) -> Path:
    """Cycle/split diagram per intersection: each plan as a bar of stage greens, yellows and all-reds.

    The time axis is shared: it spans the longest cycle, and a plan of a shorter cycle repeats along it, so
    plans of different cycles are drawn to one scale.  A stage cut by the axis's ends keeps its label on its
    larger piece.
    """
    plt = pyplot()
    signals = list(dict.fromkeys(s for ps in plan_sets for s in ps.signal_ids))
    fig, axes = plt.subplots(len(signals), 1, figsize=(10, 1.0 + 0.55 * len(plan_sets) * len(signals)),
                             squeeze=False)
    for ax, sid in zip(axes[:, 0], signals):
        span = max(ps[sid].cycle_s for ps in plan_sets if sid in ps.signal_ids)
        for row, ps in enumerate(plan_sets):
            if sid not in ps.signal_ids:
                continue
            plan = ps[sid]
            # whole cycles from one before the axis to past its end, shifted by the offset
            start = plan.offset_s % plan.cycle_s - plan.cycle_s
            while start < span:
                t = start
                for k, ph in enumerate(plan.phases):
                    for dur, colour in ((ph.green_s, "#2ca02c" if k % 2 else "#1f9e89"), (ph.yellow_s, "#ffbf00"),
                                        (ph.all_red_s, "#d62728")):
                        a, b = max(t, 0.0), min(t + dur, span)
                        if b > a:
                            ax.broken_barh([(a, b - a)], (row - 0.35, 0.7), color=colour, edgecolor="white", lw=0.5)
                            # label the stage where the most of it shows (a wrapped stage shows twice)
                            if colour not in ("#ffbf00", "#d62728") and b - a >= max(6.0, dur / 2):
                                ax.text((a + b) / 2, row, f"{k + 1}:{dur:.0f}", ha="center", va="center",
                                        fontsize=7, color="white")
                        t += dur
                start += plan.cycle_s
        ax.set_yticks(range(len(plan_sets)),
                      [f"{ps.name} (C={ps[sid].cycle_s:.0f}s, off={ps[sid].offset_s:.0f}s)" if sid in ps.signal_ids
                       else ps.name for ps in plan_sets], fontsize=8)
        ax.set_xlim(0, span)
        ax.set_title(sid, fontsize=9, loc="left")
        ax.set_xlabel("time in cycle from the shared reference [s]  (green: stage number:seconds)", fontsize=8)
    fig.tight_layout()
    return save_figure(fig, path)


def plot_time_space(traces: Sequence[Trace], path: Path) -> Path:
    """Time-space diagram along the corridor: trajectories and signal states at each stop line."""
    plt = pyplot()
    usable = [t for t in traces if t.corridor is not None]
    fig, axes = plt.subplots(1, max(1, len(usable)), figsize=(7 * max(1, len(usable)), 5.5), sharey=True,
                             squeeze=False)
    for ax, t in zip(axes[0], usable):
        for pts in t.trajectories.values():
            if len(pts) > 1:
                ts, xs = zip(*pts)
                ax.plot(ts, xs, color="#1f77b4", lw=0.4, alpha=0.7)
        for sid, x, _ in t.corridor.stop_lines:
            seq = t.signal_states.get(sid, ())
            for (t0, c), (t1, _) in zip(seq, seq[1:]):
                ax.plot([t0, t1], [x, x], color=_COLOURS.get(c, "#d62728"), lw=3, solid_capstyle="butt")
            ax.text(seq[0][0] if seq else 0, x + 8, sid, fontsize=8) if seq else None
        ax.set_title(t.label)
        clock_axis(ax)
    axes[0][0].set_ylabel("distance along the corridor [m]")
    if not usable:
        axes[0][0].text(0.5, 0.5, "no corridor of two or more signals in this network", ha="center",
                        transform=axes[0][0].transAxes)
    fig.suptitle("Time-space diagram (through movement signal at each stop line)")
    return save_figure(fig, path)


def plot_pcd(traces: Sequence[Trace], path: Path) -> Path:
    """Purdue coordination diagrams: per coordinated approach (rows) and trace (columns), each vehicle's
    arrival at the stop bar by its time in the cycle (y, from the start of red) against the time of day (x),
    over the green (green band) and yellow of each cycle; the share of arrivals on green in the title."""
    plt = pyplot()
    labels = list(dict.fromkeys(label for t in traces for label in t.pcd))
    cols = max(1, len(traces))
    fig, axes = plt.subplots(max(1, len(labels)), cols, figsize=(5.5 * cols, 2.8 * max(1, len(labels))),
                             squeeze=False, sharey="row")
    for i, label in enumerate(labels):
        for j, t in enumerate(traces):
            ax = axes[i][j]
            cycles = t.pcd.get(label, ())
            xs, ys = [], []
            on_green = 0
            for c in cycles:
                ax.fill_between([c.start_s, c.start_s + c.length_s], c.green_at_s, c.yellow_at_s,
                                color=_COLOURS["G"], alpha=0.25, lw=0, step="post")
                ax.fill_between([c.start_s, c.start_s + c.length_s], c.yellow_at_s, c.length_s,
                                color=_COLOURS["y"], alpha=0.35, lw=0, step="post")
                xs += [c.start_s] * len(c.arrivals_s)
                ys += list(c.arrivals_s)
                on_green += sum(c.green_at_s <= a < c.yellow_at_s for a in c.arrivals_s)
            ax.scatter(xs, ys, s=2, color="#222222")
            share = f"{100 * on_green / len(ys):.0f}% arrivals on green" if ys else "no arrivals"
            ax.set_title(f"{label} - {t.label}: {share}", fontsize=9)
            if cycles:
                ax.set_ylim(0, max(c.length_s for c in cycles))
                clock_axis(ax)
            if j == 0:
                ax.set_ylabel("time in cycle [s]", fontsize=8)
    if not labels:
        axes[0][0].text(0.5, 0.5, "no approach with arrivals to draw", ha="center", transform=axes[0][0].transAxes)
    fig.suptitle("Purdue coordination diagrams (cycle from the start of red; green band, yellow above it)")
    fig.tight_layout()
    return save_figure(fig, path)


def plot_split_monitor(traces: Sequence[Trace], path: Path) -> Path:
    """Split monitor (ATSPM): per signal (rows) and trace (columns), every phase's green in each cycle against
    the time of day: flat for fixed time, the gap-outs and max-outs of actuated control."""
    plt = pyplot()
    signals = list(dict.fromkeys(sid for t in traces for sid in t.splits))
    cols = max(1, len(traces))
    fig, axes = plt.subplots(max(1, len(signals)), cols, figsize=(5.5 * cols, 2.6 * max(1, len(signals))),
                             squeeze=False)
    for i, sid in enumerate(signals):
        top = max((g for t in traces for series in t.splits.get(sid, {}).values() for _, g in series), default=1.0)
        for j, t in enumerate(traces):
            ax = axes[i][j]
            for k, (phase, series) in enumerate(t.splits.get(sid, {}).items()):
                if series:
                    xs, ys = zip(*series)
                    ax.plot(xs, ys, "o-", drawstyle="steps-post", ms=2.5, lw=1.0, label=phase,
                            color=_CANDIDATE_COLOURS[(k + 1) % len(_CANDIDATE_COLOURS)])
            ax.set_title(f"{sid} - {t.label}", fontsize=9)
            ax.set_ylim(0, 1.1 * top)  # one scale per signal, so existing and retimed greens compare
            if t.splits.get(sid):
                clock_axis(ax)
            if j == 0:
                ax.set_ylabel("green [s]", fontsize=8)
            ax.legend(fontsize=6, loc="lower right", ncol=2)
    if not signals:
        axes[0][0].text(0.5, 0.5, "no signal states recorded", ha="center", transform=axes[0][0].transAxes)
    fig.suptitle("Split monitor: green of each phase per cycle (phases named by the lane groups they serve)")
    fig.tight_layout()
    return save_figure(fig, path)


def embed_png(path: Path) -> str:
    """An ``<img>`` element carrying the PNG at ``path`` inline (reports are one self-contained file)."""
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img alt="{html.escape(path.stem)}" src="data:image/png;base64,{data}">'


def _fmt_ci(row: dict[str, Any], key: str, digits: int = 1) -> str:
    """The figure with its CI; in bold when the row is worse than the existing timing on it."""
    lo, hi = row[f"{key}_ci95"]
    text = f"{row[key]:.{digits}f} <small>[{lo:.{digits}f}, {hi:.{digits}f}]</small>"
    return f'<strong class="worse">{text}</strong>' if key in _worse_keys(row) else text


def _worse_keys(row: dict[str, Any]) -> set[str]:
    return {w["measure"] for w in row.get("worse_than_existing", ())}


def _worse_cell(row: dict[str, Any]) -> str:
    names = [HEADLINE_MEASURES[w["measure"]][0] for w in row.get("worse_than_existing", ())]
    return f'<strong class="worse">WORSE: {html.escape(", ".join(names))}</strong>' if names else ""


def _sheet_cells(plan: TimingPlan | None, k: int) -> list[str]:
    if plan is None or k >= len(plan.phases):
        return [""] * 6
    ph = plan.phases[k]
    walk = ph.green_s - ph.ped_clearance_s if ph.serves_pedestrians else 0.0
    clear = ph.ped_clearance_s if ph.serves_pedestrians else 0.0
    return [html.escape(ph.name), *(f"{v:g}" if v else "-" for v in (ph.green_s, ph.yellow_s, ph.all_red_s, walk,
                                                                    clear))]


def timing_sheets_html(old: PlanSet, new: PlanSet, *, old_name: str = "existing",
                       new_name: str = "optimised") -> str:
    """Per intersection, the two plans' timing sheets side by side: cycle, offset, and per stage its green,
    yellow, all-red, pedestrian walk and clearance [s] (``-``: none)."""
    heads = "".join(f"<th>{h}</th>" for h in ("stage", "green", "yellow", "all-red", "walk", "ped clear"))
    out = []
    for sid in new.signal_ids:
        a = old[sid] if sid in old.signal_ids else None
        b = new[sid]
        n = max(len(b.phases), len(a.phases) if a else 0)
        rows = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in (str(k + 1), *_sheet_cells(a, k),
                                                                   *_sheet_cells(b, k))) + "</tr>"
                       for k in range(n))

        def cyc(p: TimingPlan | None) -> str:
            return f"cycle {p.cycle_s:g} s, offset {p.offset_s:g} s" if p else "not in the plans"

        out.append(f'<table class="sheet"><caption>{html.escape(sid)}</caption><thead><tr><th></th>'
                   f'<th colspan="6">{old_name}: {cyc(a)}</th><th colspan="6">{new_name}: {cyc(b)}</th></tr>'
                   f"<tr><th>#</th>{heads}{heads}</tr></thead><tbody>{rows}</tbody></table>")
    return "".join(out)


#: Background colour of each level of service (green A to red F), as HCM reports are usually shaded.
LOS_COLOURS = {"A": "#c7e9c0", "B": "#e5f5c0", "C": "#fff7bc", "D": "#fee391", "E": "#fdae6b", "F": "#fb6a4a"}


def _los_cell(los: str) -> str:
    return f'<td class="los los-{los}" style="background:{LOS_COLOURS[los]}">{los}</td>'


def _num(value: float | None, fmt: str) -> str:
    return "-" if value is None else format(value, fmt)


def _pct(share: float | None) -> str:
    return "-" if share is None else f"{100 * share:.0f}%"


def movement_tables_html(old: dict[str, Any], new: dict[str, Any]) -> str:
    """Per-intersection and per-movement tables of two comparison rows (``to_dict`` form) side by side:
    HCM control delay and LOS (colour-coded), v/c, 95th-percentile back of queue against storage, FHWA's
    arrivals on green and split failures."""
    if not new.get("movements"):
        return ""
    old_i = {r["signal_id"]: r for r in old.get("intersections", ())}
    heads = "".join(f"<th>{h}</th>" for h in ("delay [s/veh]", "LOS", "max v/c", "arrivals on green",
                                               "split failures"))

    def inter_cells(r: dict[str, Any] | None) -> str:
        if r is None:
            return "<td></td>" * 5
        return (f"<td>{r['control_delay_s']:.1f}</td>{_los_cell(r['los'])}<td>{_num(r['max_vc_ratio'], '.2f')}</td>"
                f"<td>{_pct(r['arrivals_on_green'])}</td>"
                f"<td>{_pct(r['split_failure_share'])}</td>")

    inter = "".join(f"<tr><td>{html.escape(r['signal_id'])}</td>{inter_cells(old_i.get(r['signal_id']))}"
                    f"{inter_cells(r)}</tr>" for r in new["intersections"])
    old_m = {r["group"]: r for r in old.get("movements", ())}
    mheads = "".join(f"<th>{h}</th>" for h in ("delay [s/veh]", "LOS", "v/c", "95% queue / storage [m]",
                                                "arrivals on green", "split failures"))

    def move_cells(r: dict[str, Any] | None) -> str:
        if r is None:
            return "<td></td>" * 6
        over = r["p95_queue_m"] >= 0.9 * r["storage_m"] > 0  # the back of queue reaches the end of storage
        queue = f"{r['p95_queue_m']:.0f} / {r['storage_m']:.0f}"
        queue = f'<strong class="worse">{queue}</strong>' if over else queue
        return (f"<td>{r['control_delay_s']:.1f}</td>{_los_cell(r['los'])}<td>{_num(r['vc_ratio'], '.2f')}</td>"
                f"<td>{queue}</td>"
                f"<td>{_pct(r['arrivals_on_green'])}</td><td>{_pct(r['split_failure_share'])}</td>")

    moves = "".join(f"<tr><td>{html.escape(r['label'])}</td><td>{r['volume_veh_h']:.0f}</td>"
                    f"{move_cells(old_m.get(r['group']))}{move_cells(r)}</tr>" for r in new["movements"])
    o, n = html.escape(old["name"]), html.escape(new["name"])
    return (f'<h2>Intersections</h2><table class="intersections"><thead><tr><th></th><th colspan="5">{o}</th>'
            f'<th colspan="5">{n}</th></tr><tr><th>signal</th>{heads}{heads}</tr></thead><tbody>{inter}</tbody>'
            f'</table><h2>Movements</h2><p>Lane groups (L left, T through, R right, U U-turn) as HCM reports them; '
            f'volume as simulated under the {n} plans; a back of queue within 10% of its storage in bold.</p>'
            f'<table class="movements"><thead><tr><th></th><th></th><th colspan="6">{o}</th>'
            f'<th colspan="6">{n}</th></tr><tr><th>movement</th><th>veh/h</th>{mheads}{mheads}</tr></thead>'
            f'<tbody>{moves}</tbody></table>{_crossings_html(old, new)}')


def _crossings_html(old: dict[str, Any], new: dict[str, Any]) -> str:
    if not new.get("crossings"):
        return ""
    old_c = {r["crossing"]: r for r in old.get("crossings", ())}

    def cells(r: dict[str, Any] | None) -> str:
        if r is None:
            return "<td></td>" * 3
        return f"<td>{_pct(r['walk_share'])}</td><td>{r['ped_delay_s']:.1f}</td>{_los_cell(r['los'])}"

    rows = "".join(f"<tr><td>{html.escape(r['label'])}</td>{cells(old_c.get(r['crossing']))}{cells(r)}</tr>"
                   for r in new["crossings"])
    heads = "<th>walk</th><th>delay [s/ped]</th><th>LOS</th>"
    return (f'<h2>Crossings</h2><p>Pedestrian delay of random arrivals for the walk signal as it ran (HCM); LOS '
            f'by HCM 2000 exhibit 18-9.</p><table class="crossings"><thead><tr><th></th>'
            f'<th colspan="3">{html.escape(old["name"])}</th><th colspan="3">{html.escape(new["name"])}</th></tr>'
            f'<tr><th>crossing</th>{heads}{heads}</tr></thead><tbody>{rows}</tbody></table>')


#: Names of the retimed plans a report is about, in order of preference: single-objective optimisation's, or
#: the knee of a Pareto front (whose ends, ``best-<objective>``, get a headline each too).
MAIN_CANDIDATES = ("optimised", "knee")


def write_report(out_dir: str | Path, comparison: Comparison, *, figures: Sequence[Path], title: str,
                 provenance: dict[str, Any], notes: Sequence[str] = (), recommendation: str = "",
                 recommended: str | None = None) -> Path:
    """Write ``report.html`` (figures embedded) and ``summary.json`` (the comparison rows).

    ``recommendation``: the sentence saying which plans the job recommends (shown under the result), and
    ``recommended`` their name in ``summary.json``.
    """
    out = Path(out_dir)
    rows = comparison.to_dict()
    atomic_write_text(out / "summary.json", json.dumps({"scenario": comparison.scenario,
                                                        "seeds": list(comparison.seeds), "rows": rows,
                                                        "recommended": recommended,
                                                        "provenance": provenance}, indent=2) + "\n")
    trs = []
    for r in rows:
        dq = "" if r["delta_vs_existing_pct"] is None else (
            f'{r["delta_vs_existing_pct"]:+.1f}% <small>[{r["delta_vs_existing_pct_ci95"][0]:+.1f}, '
            f'{r["delta_vs_existing_pct_ci95"][1]:+.1f}]</small>')
        dd = "" if r["delay_delta_vs_existing_pct"] is None else (
            f'{r["delay_delta_vs_existing_pct"]:+.1f}% <small>[{r["delay_delta_vs_existing_pct_ci95"][0]:+.1f}, '
            f'{r["delay_delta_vs_existing_pct_ci95"][1]:+.1f}]</small>')
        trs.append(f"<tr><td>{html.escape(r['name'])}</td><td>{html.escape(r['controller'])}</td>"
                   f"<td>{_fmt_ci(r, 'mean_max_queue_m')}</td><td>{dq}</td><td>{_fmt_ci(r, 'delay_s')}</td>"
                   f"<td>{dd}</td><td>{_fmt_ci(r, 'not_inserted')}</td><td>{_fmt_ci(r, 'throughput_veh', 0)}</td>"
                   f"<td>{_fmt_ci(r, 'ped_wait_s')}</td><td>{_worse_cell(r)}</td></tr>")
    prov = "".join(f"<li><b>{html.escape(str(k))}</b>: {html.escape(str(v))}</li>" for k, v in provenance.items())
    note_html = "".join(f"<li>{html.escape(n)}</li>" for n in notes)
    names = [r.name for r in comparison.rows]
    # the retimed plans the report is about: the optimised plans, or a Pareto front's knee
    main = next((n for n in MAIN_CANDIDATES if n in names), None) if "existing" in names else None
    headlines = "".join(f'<p class="headline"><b>{html.escape(comparison.headline(n))}</b></p>'
                        for n in names if main is not None and (n == main or n.startswith("best-")))
    sheets = ""
    planned = next((n for n in MAIN_CANDIDATES if n in comparison.plans), None)
    if planned is not None and "existing" in comparison.plans:
        sheets = ("<h2>Timing sheets</h2><p>Times in seconds; offsets from the start of stage 1's green in the shared "
                  "clock.</p>" + timing_sheets_html(comparison.plans["existing"], comparison.plans[planned],
                                                    new_name=planned))
    movements = ""
    if main is not None:
        by_name = {r["name"]: r for r in rows}
        movements = movement_tables_html(by_name["existing"], by_name[main])
    advice = f'<p class="recommendation"><b>{html.escape(recommendation)}</b></p>' if recommendation else ""
    figs = "".join(f"<figure>{embed_png(p)}<figcaption>{html.escape(p.stem.replace('_', ' '))}</figcaption></figure>"
                   for p in figures)
    doc = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body{{font-family:system-ui,sans-serif;margin:2em;max-width:1200px;color:#222}}
table{{border-collapse:collapse;font-size:14px}}td,th{{border:1px solid #ccc;padding:4px 8px;text-align:right}}
td:first-child,th:first-child,td:nth-child(2){{text-align:left}}img{{max-width:100%}}
td.los{{text-align:center;font-weight:bold}}
table.sheet{{margin:1em 0}}caption{{text-align:left;font-weight:bold}}figure{{margin:1.5em 0}}figcaption{{color:#555;font-size:13px}}small{{color:#666}}.worse{{color:#b00020}}
</style></head><body>
<h1>{html.escape(title)}</h1>
{headlines}
{advice}
<p>Means over {len(comparison.seeds)} held-out seeds ({", ".join(map(str, comparison.seeds))}) with 95% confidence
intervals; differences are paired per seed against the existing plans. Queue: mean over approaches of the mean
per-cycle maximum queue. Delay: mean time loss per vehicle including the wait to enter the network.</p>
<table class="comparison"><thead><tr><th>candidate</th><th>control</th><th>mean max queue [m]</th><th>vs existing</th>
<th>delay [s/veh]</th><th>vs existing</th><th>not inserted [veh]</th><th>throughput [veh]</th>
<th>pedestrian wait [s]</th><th>worse than existing (95% CI)</th></tr></thead><tbody>{"".join(trs)}</tbody></table>
<ul>{note_html}</ul>
{movements}
{sheets}
{figs}
<h2>Provenance</h2><ul>{prov}</ul>
</body></html>
"""
    return atomic_write_text(out / "report.html", doc)
