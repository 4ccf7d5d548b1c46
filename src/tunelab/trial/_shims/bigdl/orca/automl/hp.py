"""``bigdl.orca.automl.hp``: Orca's search-space functions (``choice_n`` and ``sample_from`` included)."""

from tunelab.integrations._orca_hp import *  # noqa: F403
from tunelab.integrations._orca_hp import __all__ as __all__
