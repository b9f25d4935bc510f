"""Time-of-day report: volume profile with old and new periods, queue over the day, per-period table."""

from __future__ import annotations

import html
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from .._xml import atomic_write_text
from ..demand import TurnCount
from ..report import clock_axis, embed_png, pyplot, save_figure
from ..plan import PlanSet
from ..schedule import Schedule
from .rows import lane_use_winners


def plot_volume_profile(counts: list[TurnCount], existing: Schedule, new: Schedule, path: Path,
                        interval_s: float) -> Path:
    """Vehicles counted per 15 minutes over the corridor, with the old and the new period boundaries."""
    plt = pyplot()
    totals: dict[float, float] = defaultdict(float)
    for c in counts:
        totals[c.begin_s] += c.vehicles
    ts = sorted(totals)
    fig, ax = plt.subplots(figsize=(11, 3.8))
    ax.step(ts, [totals[t] * 3600 / interval_s for t in ts], where="post", color="#444",
            label="counted volume (all movements)")
    for k, p in enumerate(existing.periods[1:]):
        ax.axvline(p.begin_s, color="#d62728", ls="--", lw=1.2, label="existing periods" if k == 0 else None)
    for k, p in enumerate(new.periods[1:]):
        ax.axvline(p.begin_s, color="#1f77b4", lw=2, alpha=0.7, label="new periods" if k == 0 else None)
    clock_axis(ax)
    ax.set_ylabel("counted volume [veh/h]")
    ax.legend(fontsize=8)
    ax.set_title("Daily demand profile and control periods")
    return save_figure(fig, path)


def plot_day_queues(result: Any, path: Path) -> Path:
    """Queue over the day (mean over approaches of the 15-min maximum, averaged over seeds)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(11, 3.8))
    colours = {"existing": "#7f7f7f", "retimed": "#1f77b4"}
    styles = ["-", "--", ":", "-."]
    variants = sorted({v for v, _ in result.metrics})
    for (variant, name), m in result.metrics.items():
        profiles = [r.queue_profile_m for r in m.runs if r.queue_profile_m]
        if not profiles:
            continue
        width = min(len(p) for p in profiles)
        mean = np.mean([p[:width] for p in profiles], axis=0)
        step = m.runs[0].profile_step_s or 900.0
        xs = [m.runs[0].profile_start_s + k * step for k in range(width)]
        ax.step(xs, mean, where="post", color=colours.get(name, "#2ca02c"),
                ls=styles[variants.index(variant) % len(styles)], label=f"{name} ({variant})")
    clock_axis(ax)
    ax.set_ylabel("queue [m]")
    ax.legend(fontsize=8)
    ax.set_title("Queue over the day: existing schedule vs retimed periods")
    return save_figure(fig, path)


def write_tod_report(out: Path, result: Any, existing: Schedule, counts: list[TurnCount],
                     provenance: dict[str, Any]) -> Path:
    """``report.html`` for a time-of-day run (figures embedded)."""

    figs = out / "figures"
    default = next(iter(result.schedules.values()))
    times = sorted({c.begin_s for c in counts})
    interval = min((b - a for a, b in zip(times, times[1:])), default=900.0)
    figures = [plot_volume_profile(counts, existing, default, figs / "volume_profile.png", interval),
               plot_day_queues(result, figs / "day_queues.png")]
    trs = []
    for r in result.rows:
        lo, hi = r.mean_max_queue_m_ci95
        dlo, dhi = r.delay_s_ci95
        delta = "" if r.delta_vs_existing_pct is None or r.schedule == "existing" else (
            f"{r.delta_vs_existing_pct:+.1f}% <small>[{r.delta_vs_existing_pct_ci95[0]:+.1f}, "
            f"{r.delta_vs_existing_pct_ci95[1]:+.1f}]</small>")
        queue = f"{r.mean_max_queue_m:.1f} <small>[{lo:.1f}, {hi:.1f}]</small>"
        delay = f"{r.delay_s:.1f} <small>[{dlo:.1f}, {dhi:.1f}]</small>"
        bold = '<strong class="worse">{}</strong>'.format
        worse = bold("WORSE: " + html.escape(", ".join(r.worse))) if r.worse else ""
        trs.append(f"<tr><td>{html.escape(r.variant)}</td><td>{html.escape(r.schedule)}</td>"
                   f"<td>{html.escape(r.period)}</td><td>{bold(queue) if 'mean max queue' in r.worse else queue}</td>"
                   f"<td>{delta}</td><td>{bold(delay) if 'delay' in r.worse else delay}</td><td>{worse}</td></tr>")
    winners = lane_use_winners(result.rows)
    win_html = ""
    if len({r.variant for r in result.rows}) > 1:
        win_html = "<h2>Lane use: which variant wins</h2><table><tr><th>period</th><th>best lane use</th>" \
                   "<th>mean max queue [m]</th></tr>" + "".join(
                       f"<tr><td>{html.escape(p)}</td><td>{html.escape(v)}</td><td>{q:.1f}</td></tr>"
                       for p, v, q in winners) + "</table>"
    periods = "".join(f"<li>{html.escape(p.name)}: {html.escape(period_summary(p.plans))}</li>"
                      for p in default.periods)
    prov = "".join(f"<li><b>{html.escape(str(k))}</b>: {html.escape(str(v))}</li>" for k, v in provenance.items())
    doc = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>signalopt time-of-day: {html.escape(provenance['scenario'])}</title>
<style>body{{font-family:system-ui,sans-serif;margin:2em;max-width:1200px}}table{{border-collapse:collapse;font-size:14px}}
td,th{{border:1px solid #ccc;padding:4px 8px}}img{{max-width:100%}}small{{color:#666}}.worse{{color:#b00020}}</style></head><body>
<h1>Time-of-day retiming: {html.escape(provenance['scenario'])}</h1>
<p>New periods from the movement-volume profile; one plan set per period; whole days simulated on held-out seeds
{html.escape(str(provenance['day_seeds']))} with plans switching through a transition cycle at each boundary.
Figures are means with 95% CIs; differences are paired per seed against the existing schedule.</p>
<h2>New periods</h2><ul>{periods}</ul>
<table><tr><th>lane use</th><th>schedule</th><th>period</th><th>mean max queue [m]</th><th>vs existing</th>
<th>delay [s/veh]</th><th>worse than existing (95% CI)</th></tr>{''.join(trs)}</table>
{win_html}
{''.join(f'<figure>{embed_png(p)}</figure>' for p in figures)}
<h2>Provenance</h2><ul>{prov}</ul></body></html>
"""
    return atomic_write_text(out / "report.html", doc)


def period_summary(plans: PlanSet) -> str:
    """A period's plans in a phrase: fixed-time cycles, or the actuated settings (maxima per stage, passage,
    detector distance, skipping)."""
    parts = []
    for pl in plans:
        act = pl.actuation
        if act is None:
            parts.append(f"{pl.signal_id} cycle {pl.cycle_s:g} s")
            continue
        maxima = "/".join(f"{st.max_green_s:g}" for st in act.stages)
        passages = sorted({st.passage_s for st in act.stages})
        distance = max((d.distance_m for d in act.detectors), default=0.0)
        parts.append(f"{pl.signal_id} {act.mode} actuated, maxima {maxima} s, passage "
                     f"{'/'.join(f'{v:g}' for v in passages)} s, detectors up to {distance:g} m"
                     f"{', skipping uncalled stages' if act.skips_stages else ''}")
    return "; ".join(parts)
