"""Bad turning-movement and pedestrian counts: refused with one line naming file, CSV line and value.

Pure: the reading and checking functions are called directly (networks are
read with sumolib, no simulation). Each case breaks one thing that used to be
accepted: a repeated row (summed), an absurd count (routeSampler never
finished), an interval off the scenario's grid, a pedestrian row outside the
scenario window, a count that is not finite.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from signalopt.demand import (MAX_PED_H_PER_CROSSING, MAX_VEH_H_PER_MOVEMENT, PedCount, check_counts,
                              check_ped_counts, read_ped_counts, read_turn_counts, write_pedestrian_flows)
from signalopt.errors import InputError
from signalopt.network import Network, read_network
from signalopt.prepare import prepare
from signalopt.scenario import read_scenario

ROOT = Path(__file__).resolve().parents[1]
VEH_HEADER = "interval,intersection,approach,movement,vehicles\n"
PED_HEADER = "interval,intersection,crossing,pedestrians\n"
#: 07:00-08:00 in 15-minute intervals, as the bundled AM scenarios
WINDOW = {"begin_s": 25200.0, "end_s": 27000.0, "interval_s": 900.0}  # 07:00-07:30, two quarters
ONE_QUARTER = {"begin_s": 25200.0, "end_s": 26100.0, "interval_s": 900.0}  # 07:00-07:15
HOUR = {"begin_s": 25200.0, "end_s": 28800.0, "interval_s": 900.0}  # 07:00-08:00


def _csv(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _says(error: pytest.ExceptionInfo[InputError], *parts: str) -> None:
    """The error is one line and names every part (file, line, value, ...)."""
    text = str(error.value)
    assert "\n" not in text and "Traceback" not in text, text
    for part in parts:
        assert part in text, (part, text)


@pytest.fixture(scope="module")
def iso(isolated_net: Path) -> Network:
    return read_network(isolated_net)


# ------------------------------------------------------------------------- repeated rows


def test_repeated_vehicle_row_is_refused_not_summed(tmp_path: Path) -> None:
    path = _csv(tmp_path, "counts.csv", VEH_HEADER + "07:00,center,N,T,40\n07:00,center,E,L,10\n"
                                                     "07:00,center,N,T,35\n")
    with pytest.raises(InputError) as info:
        read_turn_counts(path)
    _says(info, "counts.csv", "line 4", "repeats line 2", "07:00 center N T", "35")


def test_repeated_vehicle_row_is_found_with_lowercase_movement(tmp_path: Path) -> None:
    # the reader upper-cases movement codes, so 't' is the same movement as 'T'
    path = _csv(tmp_path, "counts.csv", VEH_HEADER + "07:00,center,N,T,40\n07:00,center,N,t,40\n")
    with pytest.raises(InputError) as info:
        read_turn_counts(path)
    _says(info, "counts.csv", "line 3", "repeats line 2", "40")


def test_same_movement_by_leg_and_by_edge_id_is_refused(tmp_path: Path, iso: Network) -> None:
    # 'N' and 'n2center' are one approach: routeSampler would get the sum of both rows
    path = _csv(tmp_path, "counts.csv", VEH_HEADER + "00:00,center,N,T,40\n00:00,center,n2center,T,5\n")
    counts = read_turn_counts(path)
    with pytest.raises(InputError) as info:
        check_counts(iso, counts, source=path, begin_s=0, end_s=900, interval_s=900)
    _says(info, "counts.csv", "line 3", "repeats line 2", "n2center", "5")


def test_repeated_pedestrian_row_is_refused_not_summed(tmp_path: Path) -> None:
    path = _csv(tmp_path, "peds.csv", PED_HEADER + "07:00,pingshan,N,85\n07:00,pingshan,E,20\n"
                                                   "07:00,pingshan,N,90\n")
    with pytest.raises(InputError) as info:
        read_ped_counts(path)
    _says(info, "peds.csv", "line 4", "repeats line 2", "pingshan N", "90")


def test_same_crossing_by_leg_and_by_edge_id_is_refused(tmp_path: Path, qixiangtai_net: Path) -> None:
    path = _csv(tmp_path, "peds.csv", PED_HEADER + "07:00,pingshan,N,85\n07:00,pingshan,pingquan2pingshan,9\n")
    peds = read_ped_counts(path, **ONE_QUARTER)
    with pytest.raises(InputError) as info:
        write_pedestrian_flows(read_network(qixiangtai_net), peds, tmp_path / "p.rou.xml", source=path,
                               interval_s=900)
    _says(info, "peds.csv", "line 3", "repeats line 2", "pingquan2pingshan", "9")


def test_same_time_written_two_ways_is_a_repeat(tmp_path: Path) -> None:
    path = _csv(tmp_path, "counts.csv", VEH_HEADER + "07:00,center,N,T,40\n25200,center,N,T,40\n")
    with pytest.raises(InputError) as info:
        read_turn_counts(path)
    _says(info, "counts.csv", "line 3", "repeats line 2")


# ------------------------------------------------------------------------- absurd counts


@pytest.mark.parametrize("value, shown", [("1e300", "1e+300"), ("2501", "2501"), ("1000000", "1e+06")])
def test_vehicle_count_above_the_ceiling_is_refused(tmp_path: Path, value: str, shown: str) -> None:
    path = _csv(tmp_path, "counts.csv", VEH_HEADER + f"07:00,center,N,L,10\n07:15,center,N,T,{value}\n")
    with pytest.raises(InputError) as info:
        read_turn_counts(path, **WINDOW)
    _says(info, "counts.csv", "line 3", shown, f"{MAX_VEH_H_PER_MOVEMENT:g} veh/h", "900 s")


def test_vehicle_ceiling_is_refused_on_the_simulator_path(tmp_path: Path, iso: Network) -> None:
    path = _csv(tmp_path, "counts.csv", VEH_HEADER + "00:00,center,N,T,1e300\n")
    with pytest.raises(InputError) as info:
        check_counts(iso, read_turn_counts(path), source=path, begin_s=0, end_s=900, interval_s=900)
    _says(info, "counts.csv", "line 2", "1e+300", "10000 veh/h")


def test_vehicle_count_at_the_ceiling_is_accepted(tmp_path: Path) -> None:
    at_ceiling = MAX_VEH_H_PER_MOVEMENT * 900 / 3600  # 2500 vehicles in 15 minutes
    path = _csv(tmp_path, "counts.csv", VEH_HEADER + f"07:00,center,N,T,{at_ceiling:g}\n")
    assert read_turn_counts(path, **ONE_QUARTER)[0].vehicles == at_ceiling


def test_pedestrian_count_above_the_ceiling_is_refused(tmp_path: Path) -> None:
    path = _csv(tmp_path, "peds.csv", PED_HEADER + "07:00,pingshan,N,85\n07:00,pingshan,E,1e300\n")
    with pytest.raises(InputError) as info:
        read_ped_counts(path, **WINDOW)
    _says(info, "peds.csv", "line 3", "1e+300", f"{MAX_PED_H_PER_CROSSING:g} ped/h")
    at_ceiling = MAX_PED_H_PER_CROSSING * 900 / 3600
    ok = _csv(tmp_path, "ok.csv", PED_HEADER + f"07:00,pingshan,N,{at_ceiling:g}\n")
    assert read_ped_counts(ok, **ONE_QUARTER)[0].pedestrians == at_ceiling
    over = _csv(tmp_path, "over.csv", PED_HEADER + f"07:00,pingshan,N,{at_ceiling + 1:g}\n")
    with pytest.raises(InputError) as info:
        read_ped_counts(over, **WINDOW)
    _says(info, "over.csv", "line 2", f"{at_ceiling + 1:g}", "20000 ped/h")


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "Infinity"])
@pytest.mark.parametrize("kind", ["vehicles", "pedestrians"])
def test_count_that_is_not_finite_is_refused(tmp_path: Path, kind: str, value: str) -> None:
    if kind == "vehicles":
        path = _csv(tmp_path, "counts.csv", VEH_HEADER + f"07:00,center,N,L,10\n07:00,center,N,T,{value}\n")
        read = read_turn_counts
    else:
        path = _csv(tmp_path, "counts.csv", PED_HEADER + f"07:00,pingshan,N,85\n07:00,pingshan,E,{value}\n")
        read = read_ped_counts
    with pytest.raises(InputError) as info:
        read(path)
    _says(info, "counts.csv", "line 3", kind, value)


# ------------------------------------------------------------------------- interval grid


@pytest.mark.parametrize("when, seconds", [("07:07", "25620"), ("25620", "25620"), ("07:15:30", "26130")])
def test_vehicle_interval_off_the_grid_is_refused(tmp_path: Path, when: str, seconds: str) -> None:
    path = _csv(tmp_path, "counts.csv", VEH_HEADER + f"07:00,center,N,T,40\n{when},center,N,T,40\n")
    with pytest.raises(InputError) as info:
        read_turn_counts(path, **HOUR)
    _says(info, "counts.csv", "line 3", seconds, "interval_s = 900 s", "07:00")


def test_vehicle_interval_off_the_grid_is_refused_on_the_simulator_path(tmp_path: Path, iso: Network) -> None:
    path = _csv(tmp_path, "counts.csv", VEH_HEADER + "00:00,center,N,T,40\n00:10,center,N,T,40\n")
    with pytest.raises(InputError) as info:
        check_counts(iso, read_turn_counts(path), source=path, begin_s=0, end_s=1800, interval_s=900)
    _says(info, "counts.csv", "line 3", "00:10", "600", "interval_s = 900 s")


def test_pedestrian_interval_off_the_grid_is_refused(tmp_path: Path) -> None:
    path = _csv(tmp_path, "peds.csv", PED_HEADER + "07:00,pingshan,N,85\n07:20,pingshan,N,85\n")
    with pytest.raises(InputError) as info:
        read_ped_counts(path, **HOUR)
    _says(info, "peds.csv", "line 3", "07:20", "26400", "interval_s = 900 s")


def test_interval_s_that_does_not_fit_the_15_minute_counts_is_refused(tmp_path: Path, isolated_net: Path) -> None:
    # 7 s would turn each 15-minute count into a 7 s burst (about 20000 veh/h); the grid says why
    _csv(tmp_path, "counts.csv", VEH_HEADER + "07:00,center,N,T,40\n07:15,center,N,T,45\n")
    _csv(tmp_path, "peds.csv", PED_HEADER + "07:00,center,N,10\n07:15,center,N,12\n")
    toml = _csv(tmp_path, "s.toml", f'schema_version = 1\nname = "seven"\nnetwork = "{isolated_net.as_posix()}"\n'
                                    "begin_s = 25200\nend_s = 27000\n[demand]\ncounts = \"counts.csv\"\n"
                                    "pedestrians = \"peds.csv\"\ninterval_s = 7\n")
    s = read_scenario(toml)
    window = {"begin_s": s.begin_s, "end_s": s.end_s, "interval_s": s.interval_s}
    with pytest.raises(InputError) as info:
        read_turn_counts(s.counts_path, **window)
    _says(info, "counts.csv", "line 3", "07:15", "26100", "interval_s = 7 s")
    with pytest.raises(InputError) as info:
        read_ped_counts(s.pedestrians_path, **window)
    _says(info, "peds.csv", "line 3", "07:15", "26100", "interval_s = 7 s")


# ------------------------------------------------------------------------- scenario window


@pytest.mark.parametrize("when, seconds", [("06:45", "24300"), ("08:00", "28800"), ("07:50", "28200")])
def test_pedestrian_row_outside_the_window_is_refused(tmp_path: Path, when: str, seconds: str) -> None:
    # 07:50 starts inside the window but its interval ends after it, as for vehicles
    path = _csv(tmp_path, "peds.csv", PED_HEADER + f"07:00,pingshan,N,85\n{when},pingshan,N,85\n")
    with pytest.raises(InputError) as info:
        read_ped_counts(path, **WINDOW)
    _says(info, "peds.csv", "line 3", "outside the scenario window", seconds, "pingshan")
    with pytest.raises(InputError) as info:
        check_ped_counts(read_ped_counts(path), source=path, **WINDOW)
    _says(info, "peds.csv", "line 3", "outside the scenario window", seconds)


def test_vehicle_row_outside_the_window_names_its_line(tmp_path: Path, iso: Network) -> None:
    path = _csv(tmp_path, "counts.csv", VEH_HEADER + "00:00,center,N,T,40\n01:00,center,N,T,5\n")
    with pytest.raises(InputError) as info:
        check_counts(iso, read_turn_counts(path), source=path, begin_s=0, end_s=900, interval_s=900)
    _says(info, "counts.csv", "line 3", "outside the scenario window", "3600")


def test_prepare_refuses_pedestrians_outside_the_window(tmp_path: Path, isolated_net: Path) -> None:
    # the simulator's own path: refused while reading, before routeSampler runs
    _csv(tmp_path, "counts.csv", VEH_HEADER + "00:00,center,N,T,40\n")
    _csv(tmp_path, "peds.csv", PED_HEADER + "00:00,center,N,10\n01:00,center,N,10\n")
    toml = _csv(tmp_path, "s.toml", f'schema_version = 1\nname = "late"\nnetwork = "{isolated_net.as_posix()}"\n'
                                    "begin_s = 0\nend_s = 900\n[demand]\ncounts = \"counts.csv\"\n"
                                    "pedestrians = \"peds.csv\"\n")
    with pytest.raises(InputError) as info:
        prepare(read_scenario(toml))
    _says(info, "peds.csv", "line 3", "outside the scenario window", "3600")


def test_a_partial_window_is_a_programming_error(tmp_path: Path) -> None:
    path = _csv(tmp_path, "counts.csv", VEH_HEADER + "07:00,center,N,T,40\n")
    with pytest.raises(TypeError):
        read_turn_counts(path, begin_s=25200, end_s=28800)


# ------------------------------------------------------------------------- valid counts still read


def test_a_quarter_without_any_vehicle_row_is_refused(tmp_path: Path) -> None:
    # simulated, the missing 07:15 quarter would carry no traffic at all: a gap in the data, most likely
    path = _csv(tmp_path, "c.csv", VEH_HEADER + "07:00,center,N,T,40\n07:30,center,N,T,40\n")
    three = {**WINDOW, "end_s": 27900.0}
    with pytest.raises(InputError) as info:
        read_turn_counts(path, **three)
    _says(info, "c.csv", "07:15", "give zeros explicitly", "interval_s")
    assert len(read_turn_counts(path)) == 2  # without the window nothing is known to be missing
    # a quarter without pedestrians is as plausible as one with zeros written out, and simulates the same
    peds = _csv(tmp_path, "p.csv", PED_HEADER + "07:00,pingshan,N,85\n07:30,pingshan,N,80\n")
    assert len(read_ped_counts(peds, **three)) == 2


def test_rows_keep_their_line_but_compare_as_before(tmp_path: Path) -> None:
    path = _csv(tmp_path, "peds.csv", PED_HEADER + "07:00,pingshan,N,85\n07:15,pingshan,N,80\n")
    peds = read_ped_counts(path, **WINDOW)
    assert [p.line for p in peds] == [2, 3]
    assert peds[0] == PedCount(25200.0, "pingshan", "N", 85.0)


@pytest.mark.parametrize("toml", sorted((ROOT / "scenarios").glob("*.toml")), ids=lambda p: p.stem)
def test_bundled_counts_still_read(toml: Path, tmp_path: Path) -> None:
    s = read_scenario(toml)
    window = {"begin_s": s.begin_s, "end_s": s.end_s, "interval_s": s.interval_s}
    network = read_network(s.network_path)
    counts = read_turn_counts(s.counts_path, **window)
    check_counts(network, counts, source=s.counts_path, **window)
    assert counts
    if s.pedestrians_path is not None:
        peds = read_ped_counts(s.pedestrians_path, **window)
        write_pedestrian_flows(network, peds, tmp_path / "p.rou.xml", source=s.pedestrians_path,
                               interval_s=s.interval_s)
        assert peds
