"""Write the existing school-term time-of-day schedule ``scenarios/data/school_term_schedule.json``.

Nothing here is surveyed: it is a plausible stand-in for the schedule the traffic police run on
Qixiangtai Rd South in term time (see scenarios/README.md), built from the bundled network and
the school-term day counts (``data/school_day_vehicles.csv``, written by make_counts.py).

    python scenarios/make_schedule.py            # (re)write data/school_term_schedule.json
    python scenarios/make_schedule.py --check    # exit 1 if the committed file would change
    python scenarios/make_schedule.py --table    # Markdown table of the periods and plans (README)

The school term's division of the day (PERIODS below, five periods as traffic police typically
use 4-6):

* the AM and PM peak periods run exactly the network's programmes (programID ``school``, what
  ``existing_plans(read_network(NETWORK), TimingOptions())`` returns): the plans made for the
  school peaks, kept in every detail (cycles 140/120/130/120 s, offsets, clearances);
* the other periods run the plans an engineer would have made for school-term demand in that
  period: :func:`signalopt.analytic.webster_plans` on the school-day counts of the period (its
  busiest hour), keeping the stages, their order and the offsets of the network plans (modulo the
  new cycle), each signal with its own Webster cycle (the peak plans are not coordinated either).
  Off the peaks Webster's cycle is below the sum of the minimum splits (walk + pedestrian
  clearance over the crossings, ITE yellow and all-red, 7 s for every vehicle stage: see
  ENGINEER_TIMING), so these plans are the shortest safe cycles with every stage at its minimum.
  Their programme ids are ``school-<period>``.

No randomness is involved: the same network and counts give the same bytes.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from signalopt.analytic import webster_plans  # noqa: E402
from signalopt.demand import read_turn_counts  # noqa: E402
from signalopt.network import read_network  # noqa: E402
from signalopt.plan import PlanSet  # noqa: E402
from signalopt.programs import existing_plans  # noqa: E402
from signalopt.options import TimingOptions
from signalopt.schedule import Schedule, SchedulePeriod, program_timeline, read_schedule  # noqa: E402

NETWORK = ROOT / "networks" / "qixiangtai" / "qixiangtai_shared.net.xml"
COUNTS = ROOT / "scenarios" / "data" / "school_day_vehicles.csv"
OUT = ROOT / "scenarios" / "data" / "school_term_schedule.json"
NAME = "school_term"

# (period name, begin, end, source of its plans): "network" = the network's programmes,
# "webster" = Webster plans on the school-day counts of the period.
PERIODS = [
    ("early", "06:00", "07:00", "webster"),     # before the drop-off; commuters building up
    ("am_peak", "07:00", "09:00", "network"),   # commuters + drop-off 07:15-08:00
    ("midday", "09:00", "16:00", "webster"),    # daytime, pupils at school
    ("pm_peak", "16:00", "19:00", "network"),   # pick-up 16:30-17:30 + evening commuters 17:00-19:00
    ("evening", "19:00", "22:00", "webster"),   # evening decline
]


def _s(clock: str) -> float:
    h, m = map(int, clock.split(":"))
    return float(h * 3600 + m * 60)


#: Minimums of the engineer's off-peak plans: signalopt's defaults, except that the 7 s vehicle
#: minimum green applies to the protected left-turn stages too (default 5 s): with every stage at
#: its minimum, a 5 s left-turn green (2-3 vehicles a cycle) would run at capacity already.
ENGINEER_TIMING = TimingOptions(min_green_left_s=7.0)


def build() -> Schedule:
    network = read_network(NETWORK)
    existing, _warnings = existing_plans(network, TimingOptions())  # shortfalls of the old plans kept as they run
    counts = read_turn_counts(COUNTS)
    periods = []
    for name, begin, end, source in PERIODS:
        b, e = _s(begin), _s(end)
        if source == "network":
            plans = PlanSet(existing.plans, name=f"{NAME}-{name}")
        else:
            web = webster_plans(network, existing, counts, ENGINEER_TIMING, begin_s=b, end_s=e, source=COUNTS)
            plans = PlanSet(tuple(replace(p, program_id=f"school-{name}") for p in web), name=f"{NAME}-{name}")
        periods.append(SchedulePeriod(name, b, e, plans))
    schedule = Schedule(NAME, tuple(periods))
    program_timeline(schedule)  # raises if a period boundary cannot be switched safely
    return schedule


def text(schedule: Schedule) -> str:
    doc = {**schedule.to_dict(), "provenance": {
        "generator": "scenarios/make_schedule.py",
        "network": NETWORK.relative_to(ROOT).as_posix(),
        "counts": COUNTS.relative_to(ROOT).as_posix(),
        "note": "plausible assumption, not surveyed: peak periods run the network's school-term programmes, "
                "the others Webster plans on the school-day counts of the period (see scenarios/README.md)",
    }}
    return json.dumps(doc, indent=2) + "\n"


def table_markdown(schedule: Schedule) -> str:
    lines = ["| period | time | programme | weidi | pingquan | pingshan | zijinshan |",
             "|---|---|---|---|---|---|---|"]
    order = ("weidi", "pingquan", "pingshan", "zijinshan")
    for p in schedule.periods:
        cells = []
        for sid in order:
            plan = p.plans[sid]
            greens = "/".join(f"{ph.green_s:g}" for ph in plan.phases)
            cells.append(f"{plan.cycle_s:g} s, off {plan.offset_s:g}, G {greens}")
        clock = f"{int(p.begin_s // 3600):02d}:{int(p.begin_s % 3600 // 60):02d}–" \
                f"{int(p.end_s // 3600):02d}:{int(p.end_s % 3600 // 60):02d}"
        lines.append(f"| {p.name} | {clock} | `{p.plans.plans[0].program_id}` | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the schedule differs from a fresh build")
    parser.add_argument("--table", action="store_true", help="print the periods and plans (Markdown)")
    args = parser.parse_args(argv)
    schedule = build()
    if args.table:
        print(table_markdown(schedule))
        return 0
    fresh = text(schedule)
    if args.check:
        if not OUT.exists() or OUT.read_text(encoding="utf-8") != fresh:
            print(f"differs from a fresh build: {OUT.name}", file=sys.stderr)
            return 1
        read_schedule(OUT, network=read_network(NETWORK))
        return 0
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(fresh, encoding="utf-8", newline="\n")
    read_schedule(OUT, network=read_network(NETWORK))  # the file loads and fits the network
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
