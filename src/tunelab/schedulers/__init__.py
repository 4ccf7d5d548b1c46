"""Assessors and schedulers: *when* a trial stops and *how much budget* it gets.

Pure decision logic over numbers (see :mod:`tunelab.schedulers._base` for the contract):
the engine asks what to start and what to do after each intermediate result. Assessors
(median, curve fitting, bandit, truncation) only stop trials; schedulers (ASHA,
Hyperband, BOHB, PBT) also give budgets and continue configurations from checkpoints.
FIFO, the default, does neither.
"""

from tunelab.schedulers._asha import ASHAScheduler, passes_rung, rung_levels
from tunelab.schedulers._base import (
    Action,
    Combined,
    Decision,
    FIFOScheduler,
    NewTrial,
    Outcome,
    Resume,
    Scheduler,
    TrialView,
    Wait,
)
from tunelab.schedulers._bohb import BOHBScheduler, propose_bohb
from tunelab.schedulers._compat import (
    from_auptimizer,
    from_auptimizer_proposer,
    from_nni,
    from_orca,
    nni_tuner_is_scheduler,
)
from tunelab.schedulers._curvefit import CurveFitting, extrapolate
from tunelab.schedulers._hyperband import HyperbandScheduler, bracket_plan, max_bracket
from tunelab.schedulers._moasha import MOASHAScheduler, MOHyperbandScheduler, mo_passes_rung
from tunelab.schedulers._momedian import MOMedianStop
from tunelab.schedulers._pbt import PBTScheduler, exploit_pairs, perturb
from tunelab.schedulers._registry import (
    ASSESSORS,
    SCHEDULERS,
    available_schedulers,
    build_scheduler,
    check_scheduler_config,
    create_scheduler,
    resolve_scheduler_name,
    scheduler_arguments,
)
from tunelab.schedulers._rules import BanditStop, MedianStop, TruncationStop

__all__ = [
    "ASSESSORS",
    "ASHAScheduler",
    "Action",
    "BOHBScheduler",
    "BanditStop",
    "Combined",
    "CurveFitting",
    "Decision",
    "FIFOScheduler",
    "HyperbandScheduler",
    "MOASHAScheduler",
    "MOHyperbandScheduler",
    "MOMedianStop",
    "MedianStop",
    "NewTrial",
    "Outcome",
    "PBTScheduler",
    "Resume",
    "SCHEDULERS",
    "Scheduler",
    "TrialView",
    "TruncationStop",
    "Wait",
    "available_schedulers",
    "bracket_plan",
    "build_scheduler",
    "check_scheduler_config",
    "create_scheduler",
    "exploit_pairs",
    "extrapolate",
    "from_auptimizer",
    "from_auptimizer_proposer",
    "from_nni",
    "from_orca",
    "max_bracket",
    "mo_passes_rung",
    "nni_tuner_is_scheduler",
    "passes_rung",
    "perturb",
    "propose_bohb",
    "resolve_scheduler_name",
    "rung_levels",
    "scheduler_arguments",
]
