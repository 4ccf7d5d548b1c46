"""The API a trial calls: ``get_params``, ``report``, ``report_final``, ``should_stop``.

Outside an experiment the same script still runs: ``get_params`` returns the defaults
it is given and reports are printed.
"""

from __future__ import annotations

from tunelab.trial._context import TrialContext, activate, current

TYPE_CHECKING = False  # a trial process imports only what the trial API needs (not typing, not pathlib)
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

__all__ = [
    "TrialContext",
    "activate",
    "current",
    "get_budget",
    "get_checkpoint_dir",
    "get_experiment_id",
    "get_params",
    "get_trial_id",
    "get_trial_seed",
    "report",
    "report_final",
    "should_stop",
]


def get_params(defaults: dict[str, Any] | None = None) -> dict[str, Any]:
    """This trial's parameters; outside an experiment, ``defaults`` (or an empty dict)."""
    context = current()
    if not context.in_experiment:
        return dict(defaults or {})
    return {**(defaults or {}), **context.params}


def report(value: Any, step: int | None = None, **metrics: Any) -> None:
    """An intermediate result (per epoch, say); ``step`` counts from 0 when omitted."""
    current().report(value, step, **metrics)


def report_final(value: Any, **metrics: Any) -> None:
    """The trial's result: a number, ``{"default": v, ...}`` or ``[v, x, y]``; extras become metrics."""
    current().report_final(value, **metrics)


def should_stop() -> bool:
    """True when the engine asks this trial to end (early stop, cancel); end cleanly soon after."""
    return current().should_stop()


def get_trial_id() -> str:
    return current().trial_id


def get_experiment_id() -> str:
    return current().experiment_id


def get_trial_seed() -> int | None:
    """The per-trial seed derived from the experiment's seed (None if unseeded)."""
    return current().seed


def get_budget(default: int | None = None) -> int | None:
    """The resource level (epochs, steps) to train up to when a scheduler gives budgets; else ``default``."""
    budget = current().budget
    return default if budget is None else budget


def get_checkpoint_dir() -> Path | None:
    """This trial's checkpoint folder (None outside an experiment).

    Save what is needed to continue training here; a trial that continues this one (a
    Hyperband promotion, a PBT generation) starts with a copy of the folder.
    """
    folder = current().checkpoint_dir
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)  # made when first asked for (a function trial's)
    return folder
