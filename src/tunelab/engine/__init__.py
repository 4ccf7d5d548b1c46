"""The engine: the experiment loop, its Python API, limits, failure policy and resume."""

from tunelab.engine._experiment import Experiment, Result, new_experiment_id, optimize
from tunelab.engine._loop import Engine
from tunelab.engine._progress import Listener, Progress
from tunelab.engine._session import Session, discovered_space, seed_space
from tunelab.engine._setup import build_tuner, trial_seed
from tunelab.storage import best_trial

__all__ = [
    "Engine",
    "Experiment",
    "Listener",
    "Progress",
    "Result",
    "Session",
    "best_trial",
    "build_tuner",
    "discovered_space",
    "new_experiment_id",
    "optimize",
    "seed_space",
    "trial_seed",
]
