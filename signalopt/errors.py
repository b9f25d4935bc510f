"""One exception hierarchy; the CLI turns every :class:`SignaloptError` into one line."""

from __future__ import annotations

from pathlib import Path


class SignaloptError(Exception):
    """Base of every error signalopt raises on purpose."""


class InputError(SignaloptError, ValueError):
    """Bad user input: a file, an element in it, and the offending value.

    Parameters
    ----------
    source
        The file (or other source) the bad input came from.
    what
        What is wrong, naming the element or key.
    value
        The offending value, shown in parentheses.
    """

    def __init__(self, source: str | Path | None, what: str, value: object = None) -> None:
        self.source = str(source) if source is not None else None
        self.what = what
        self.value = value
        super().__init__(self._format())

    def _format(self) -> str:
        text = f"{self.source}: {self.what}" if self.source else self.what
        if self.value is not None:
            text += f" ({self.value})"
        return " ".join(text.split())


class PlanError(SignaloptError, ValueError):
    """A timing plan that breaks a rule (minimum green, clearance, cycle sum, ...)."""


class UnsafePlanError(PlanError):
    """A plan refused by the safety check; ``violations`` lists every broken rule."""

    def __init__(self, violations: list[str], source: str | None = None) -> None:
        self.violations = list(violations)
        self.source = source
        head = f"{source}: " if source else ""
        super().__init__(f"{head}unsafe plan, {len(violations)} violation(s): " + "; ".join(violations))


class SimulationError(SignaloptError, RuntimeError):
    """SUMO failed or aborted during an evaluation."""


class SumoNotFoundError(SignaloptError, RuntimeError):
    """The SUMO wheels are not installed."""
