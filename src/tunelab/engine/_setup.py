"""What an engine is built from: the tuner a config names, per-trial seeds, and the scheduler's view of an end."""

from __future__ import annotations

import hashlib

from tunelab.config import ExperimentConfig
from tunelab.schedulers import Outcome
from tunelab.storage import TrialState
from tunelab.tuners import Tuner, create_tuner, tuner_arguments


def trial_seed(experiment_seed: int, number: int) -> int:
    """A per-trial seed derived from the experiment's, stable across processes and resumes."""
    digest = hashlib.sha256(f"{experiment_seed}:{number}".encode()).digest()
    return int.from_bytes(digest[:4], "little") & 0x7FFFFFFF


def build_tuner(config: ExperimentConfig) -> Tuner:
    """The configured tuner; tuners that plan by budget (``auto``) also get the limits.

    A define-by-run experiment before any parameter is declared has an empty space: random
    search proposes its one (empty) configuration until the space grows.
    """
    args = dict(config.tuner.args)
    # NNI puts the seed among the tuner's classArgs; the experiment's seed wins when both are set.
    seed = config.seed if config.seed is not None else args.pop("seed", None)
    args.pop("seed", None)
    accepted = tuner_arguments(config.tuner.name)
    if "max_trials" in accepted:
        args.setdefault("max_trials", config.max_trials)
    if "concurrency" in accepted:
        args.setdefault("concurrency", config.concurrency)
    space = config.space()
    if not space:
        return create_tuner("random", space, mode=config.mode, seed=seed)
    mode = None if config.objectives else config.mode  # several objectives carry their own directions
    return create_tuner(config.tuner.name, space, mode=mode, seed=seed, objectives=config.objectives, **args)


def scheduler_outcome(state: TrialState) -> Outcome:
    """How a scheduler hears of a trial that ended in ``state``."""
    if state == TrialState.SUCCEEDED:
        return Outcome.COMPLETED
    return Outcome.STOPPED if state == TrialState.EARLY_STOPPED else Outcome.FAILED
