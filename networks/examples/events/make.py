"""Write the example controller event log of the bundled isolated junction, its maps and detector counts.

A 30-minute SUMO run (07:00-07:30, seed 1) of scenarios/isolated.toml with its existing 90 s plan,
logged as an Indiana hi-res event log (signalopt.eventlog_writer) under the controller number 1001:

    python networks/examples/events/make.py     # (re)write the files next to this script
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from signalopt.eventlog_writer import write_event_log
from signalopt.importers.detcounts import read_detector_map, write_detector_counts
from signalopt.importers.eventlog import channel_counts, read_event_log
from signalopt.prepare import load_network, prepare, scenario_plans
from signalopt.scenario import read_scenario

HERE = Path(__file__).resolve().parent
BEGIN_S, END_S = 7 * 3600.0, 7.5 * 3600.0


def main() -> None:
    scenario = read_scenario(HERE.parents[2] / "scenarios" / "isolated.toml")
    network = load_network(scenario)
    plans, _ = scenario_plans(scenario, network)
    run = write_event_log(replace(prepare(scenario, network), begin_s=BEGIN_S, end_s=END_S), network, plans, HERE,
                          controller_ids={"center": "1001"})
    detectors, _ = read_detector_map(run.detectors_path, network)
    write_detector_counts(channel_counts(read_event_log(run.log_path), detectors, begin_s=BEGIN_S, end_s=END_S,
                                         interval_s=900.0), HERE / "detector_counts.csv")
    for path in sorted(HERE.glob("*.csv")):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
