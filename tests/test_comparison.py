"""A plan worse than the existing timing on a headline measure, beyond its CI, is flagged in the comparison's
rows, notes, printed table and report (real SUMO on the isolated junction)."""

from __future__ import annotations

from pathlib import Path

import pytest

from signalopt.comparison import HEADLINE_MEASURES, compare
from signalopt.executors import SerialExecutor
from signalopt.plan import PlanSet
from signalopt.report import write_report
from signalopt.session import Session

# N heavy, E and W light, nothing from the south
LOADED = (("n2center", "center2s", 700), ("e2center", "center2w", 120), ("w2center", "center2e", 120))
SEEDS = (101, 102, 103)


@pytest.fixture(scope="module")
def comparison(tmp_path_factory, isolated_net, sumocfg_scenario, make_flows):
    folder = tmp_path_factory.mktemp("cmp")
    toml = sumocfg_scenario(folder, isolated_net, make_flows(*LOADED), name="loaded", end_s=900, warmup_s=180)
    with Session(toml, executor=SerialExecutor()) as session:
        plan = session.existing["center"]
        greens = [p.green_s for p in plan.phases]
        # the heavy north's through stage cut to 7 s, the time given to the empty east-west through stage
        starved = PlanSet((plan.with_timings([greens[0], 7.0, greens[2], greens[3] + greens[1] - 7.0]),),
                          name="starved")
        same = PlanSet(session.existing.plans, name="same-as-existing")
        return compare(session, [starved, same], seeds=SEEDS, optimiser_seeds=(1,))


def test_a_worse_plan_is_flagged_on_the_measures_it_loses(comparison) -> None:
    starved = comparison.row("starved")
    flagged = {w.measure for w in starved.worse}
    assert {"delay_s", "mean_max_queue_m"} <= flagged <= set(HEADLINE_MEASURES)
    for w in starved.worse:
        assert w.ci95[0] > 0 and w.ci95[0] <= w.diff <= w.ci95[1]
    # the existing plans under another name differ from them by nothing, so nothing is beyond a CI
    assert comparison.row("same-as-existing").worse == () and comparison.row("existing").worse == ()
    note = next(n for n in comparison.notes if n.startswith("starved is WORSE"))
    assert "delay +" in note and "not recommended" in note


def test_the_result_in_one_sentence(comparison) -> None:
    text = comparison.headline("starved")
    assert text.startswith("The starved plans raised the mean delay by ")
    assert "raised the 95th-percentile queue by " in text and "paired over 3 held-out seeds" in text
    assert "the queue gets longer on 1 approach (center:N)" in text
    same = comparison.headline("same-as-existing")
    assert "left the mean delay level (+0% [+0, +0])" in same and "no approach's queue gets longer" in same


def test_the_flag_is_in_the_printed_table_and_in_bold_in_the_report(comparison, tmp_path: Path) -> None:
    lines = {line.split()[0]: line for line in str(comparison).splitlines() if line.split()}
    assert "delay" in lines["starved"].split("  ")[-1] and lines["existing"].rstrip().endswith("-")
    assert "WORSE" in str(comparison)  # the note
    report = write_report(tmp_path, comparison, figures=[], title="t", provenance={}).read_text()
    starved_row = next(r for r in report.split("<tr>") if r.startswith("<td>starved</td>"))
    assert '<strong class="worse">WORSE: ' in starved_row and starved_row.count('<strong class="worse">') >= 3
    same_row = next(r for r in report.split("<tr>") if r.startswith("<td>same-as-existing</td>"))
    assert "worse" not in same_row


def test_the_comparison_shows_its_progress(isolated_net, sumocfg_scenario, make_flows, tmp_path, capsys) -> None:
    toml = sumocfg_scenario(tmp_path, isolated_net, make_flows(*LOADED), name="progress", end_s=600, warmup_s=120)
    table = compare(toml, [], seeds=(101, 102), optimiser_seeds=(1,), workers=1, progress=True)
    err = capsys.readouterr().err
    n = 2 * len(table.rows)  # every candidate on both seeds, counted as each simulation ends
    assert "comparing" in err and f"{n}/{n}" in err and ("sim/s" in err or "s/sim" in err)


def test_the_report_holds_both_plans_timing_sheets(comparison, tmp_path: Path) -> None:
    from dataclasses import replace

    from signalopt.comparison import Comparison

    plans = dict(comparison.plans)
    plans["optimised"] = plans["starved"]
    with_optimised = replace(comparison, plans=plans)
    assert isinstance(with_optimised, Comparison)
    report = write_report(tmp_path, with_optimised, figures=[], title="t", provenance={}).read_text()
    sheet = report[report.index('<table class="sheet">'):]
    sheet = sheet[:sheet.index("</table>")]
    old, new = comparison.plans["existing"]["center"], comparison.plans["starved"]["center"]
    assert f"existing: cycle {old.cycle_s:g} s, offset {old.offset_s:g} s" in sheet
    assert f"optimised: cycle {new.cycle_s:g} s" in sheet
    rows = sheet.split("<tr>")[3:]  # after the two header rows
    assert len(rows) == len(old.phases)
    # stage 2, the north's through: its green in the existing plan, then 7 s in the starved one
    cells = [c.split("</td>")[0] for c in rows[1].split("<td>")[1:]]
    assert cells[2] == f"{old.phases[1].green_s:g}" and cells[8] == "7"


def _metrics(delays: list[float], queues: list[float]):  # noqa: ANN202
    from signalopt.metrics import Metrics, RunMetrics

    runs = tuple(RunMetrics(k + 1, d, q, q, q, 0, 100, 100, 1.0, 0.0, 0, 0, ()) for k, (d, q) in
                 enumerate(zip(delays, queues)))
    return Metrics("x", "p", "static", runs)


def test_the_retimed_plans_are_recommended_only_if_no_worse_on_delay_and_queue() -> None:
    from signalopt.comparison import recommendation

    existing = _metrics([40, 42, 44], [100, 100, 100])
    ok, text = recommendation(_metrics([30, 31, 32], [90, 95, 100]), existing)
    assert ok and text.startswith("Recommendation: the optimised plans")
    ok, text = recommendation(_metrics([30, 31, 32], [110, 110, 110]), existing)  # shorter waits, longer queues
    assert not ok and "keep the existing timing" in text and "95th-percentile queue +10%" in text
    ok, text = recommendation(_metrics([46, 46, 46], [90, 90, 90]), existing, name="knee")
    assert not ok and "knee plans were worse on delay +10%" in text
    assert recommendation(_metrics([42.3, 42.3, 42.3], [100, 100, 100]), existing)[0]  # +0.7%: level
