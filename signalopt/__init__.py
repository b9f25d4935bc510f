"""signalopt: traffic signal-timing optimisation in SUMO."""

__version__ = "0.1.0"
