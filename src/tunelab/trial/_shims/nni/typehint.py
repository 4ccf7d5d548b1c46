"""NNI's ``nni.typehint``: the types trial scripts and tuners annotate with."""

from __future__ import annotations

import sys
from typing import Any, Literal, TypedDict

if sys.version_info >= (3, 11):
    from typing import NotRequired
else:  # pydantic, which tunelab needs, brings typing_extensions
    from typing_extensions import NotRequired

__all__ = ["ParameterRecord", "Parameters", "SearchSpace", "TrialMetric", "TrialRecord"]

Parameters = dict[str, Any]
"""What ``nni.get_next_parameter()`` returns."""


class _ParameterSearchSpace(TypedDict):
    _type: Literal[
        "choice",
        "randint",
        "uniform",
        "loguniform",
        "quniform",
        "qloguniform",
        "normal",
        "lognormal",
        "qnormal",
        "qlognormal",
    ]
    _value: list[Any]


SearchSpace = dict[str, _ParameterSearchSpace]
"""The type of ``experiment.config.search_space``."""

TrialMetric = float
"""What ``nni.report_final_result`` and ``nni.report_intermediate_result`` take."""


class TrialRecord(TypedDict):
    parameter: Parameters
    value: TrialMetric


class ParameterRecord(TypedDict):
    parameter_id: int | None
    parameters: Parameters
    parameter_source: NotRequired[Literal["algorithm", "customized", "resumed"]]
    parameter_index: NotRequired[int]
    trial_job_id: NotRequired[str]
    version_info: NotRequired[dict[str, Any]]
