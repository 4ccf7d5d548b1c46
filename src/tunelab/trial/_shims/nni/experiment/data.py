"""NNI 3.0's records of trials (``nni.experiment.data``), built from NNI's REST shapes as NNI builds them.

``TrialResult.value`` and ``TrialMetricData.data`` are the metric a trial reported (a number,
or NNI's ``{"default": ..., ...}`` dict); the constructors take the JSON strings NNI's
manager sends, so code that builds these records itself keeps working.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

__all__ = ["TrialHyperParameters", "TrialJob", "TrialMetricData", "TrialResult"]


@dataclass
class TrialResult:
    """One finished trial: its ``parameter`` dict, its final ``value`` and its ``trialJobId``."""

    parameter: dict[str, Any]
    value: Any
    trialJobId: str

    def __init__(self, parameter: dict[str, Any], value: str, trialJobId: str) -> None:
        self.parameter = parameter
        self.value = json.loads(value)
        self.trialJobId = trialJobId


@dataclass
class TrialMetricData:
    """One report: ``type`` is ``PERIODICAL`` (intermediate) or ``FINAL``; ``data`` the metric."""

    timestamp: int
    trialJobId: str
    parameterId: int
    type: str
    sequence: int
    data: Any

    def __init__(
        self,
        timestamp: int,
        trialJobId: str,
        parameterId: int,
        type: str,
        sequence: int,
        data: str,
    ) -> None:
        self.timestamp = timestamp
        self.trialJobId = trialJobId
        self.parameterId = parameterId
        self.type = type
        self.sequence = sequence
        self.data = json.loads(json.loads(data))


@dataclass
class TrialHyperParameters:
    parameter_id: int
    parameter_source: str
    parameters: dict[str, Any]
    parameter_index: int
    placement_constraint: dict[str, Any] | None = None
    version_info: dict[str, Any] | None = None


@dataclass
class TrialJob:
    """One trial as NNI lists it (``status`` is one of NNI's: WAITING, RUNNING, SUCCEEDED, FAILED,
    USER_CANCELED, SYS_CANCELED, EARLY_STOPPED; times are milliseconds since the epoch)."""

    trialJobId: str
    status: str
    hyperParameters: list[TrialHyperParameters]
    logPath: str
    startTime: int
    endTime: int
    finalMetricData: list[TrialMetricData]
    stderrPath: str
    sequenceId: int
    message: str
    extra: dict[str, Any] = field(default_factory=dict, repr=False)

    def __init__(
        self,
        trialJobId: str,
        status: str,
        startTime: int,
        sequenceId: int,
        logPath: str = "",
        endTime: int = -1,
        stderrPath: str = "",
        hyperParameters: list[str] | None = None,
        finalMetricData: list[dict[str, Any]] | None = None,
        message: str = "--",
        **kwargs: Any,
    ) -> None:
        self.trialJobId = trialJobId
        self.status = status
        self.hyperParameters = [TrialHyperParameters(**json.loads(e)) for e in hyperParameters or []]
        self.logPath = logPath
        self.startTime = startTime
        self.endTime = endTime
        self.finalMetricData = [TrialMetricData(**e) for e in finalMetricData or []]
        self.stderrPath = stderrPath
        self.sequenceId = sequenceId
        self.message = message
        self.extra = dict(kwargs)
