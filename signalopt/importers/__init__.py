"""Bring your own intersection: OpenStreetMap, Synchro UTDF, controller event logs and detector counts in.

Each importer reads one outside format at the edge of the package and writes what signalopt already reads
(a SUMO network, a scenario TOML, 15-minute movement counts, plan files), with an import report that says what
was read, what was guessed and what was dropped.
"""
