"""``zoo.orca.automl.hp``: Orca's search-space functions (``choice_n`` and ``sample_from`` included)."""

from tunelab.integrations._orca_hp import (
    choice,
    choice_n,
    grid_search,
    loguniform,
    qloguniform,
    qrandint,
    qrandn,
    quniform,
    randint,
    randn,
    sample_from,
    uniform,
)

__all__ = [
    "choice",
    "choice_n",
    "grid_search",
    "loguniform",
    "qloguniform",
    "qrandint",
    "qrandn",
    "quniform",
    "randint",
    "randn",
    "sample_from",
    "uniform",
]
