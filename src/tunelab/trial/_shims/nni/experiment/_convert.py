"""From NNI's ``Experiment.config`` to tunelab's experiment, and from tunelab's records to NNI's shapes.

The config goes through tunelab's NNI v2 loader (``tunelab.config.load_config_dict``), the one
reading ``config.yml`` files, so the Python API and ``nnictl``-style files mean the same.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tunelab.config import ExperimentConfig as TunelabConfig
from tunelab.config import load_config_dict
from tunelab.errors import ConfigError
from tunelab.storage import Phase, TrialRecord, TrialState

#: tunelab's trial states as NNI names them.
TRIAL_STATUS = {
    TrialState.WAITING: "WAITING",
    TrialState.RUNNING: "RUNNING",
    TrialState.SUCCEEDED: "SUCCEEDED",
    TrialState.FAILED: "FAILED",
    TrialState.EARLY_STOPPED: "EARLY_STOPPED",
    TrialState.CANCELED: "USER_CANCELED",
}

#: tunelab's experiment phases as NNI's ``get_status()`` names them (NNI ends a timed-out experiment DONE).
PHASE_STATUS = {
    Phase.PENDING: "INITIALIZED",
    Phase.RUNNING: "RUNNING",
    Phase.DONE: "DONE",
    Phase.TIMEOUT: "DONE",
    Phase.STOPPED: "STOPPED",
    Phase.ERROR: "ERROR",
}

SOURCE = "Experiment.config"


def nni_json(config: Any) -> dict[str, Any]:
    """The config as NNI's canonical camelCase JSON: placeholders dropped, ``advisor`` as given."""
    data = config.json()
    for kind in ("tuner", "assessor", "advisor"):
        algorithm = data.get(kind)
        if isinstance(algorithm, dict) and algorithm.get("name") == "_none_":
            del data[kind]
    return data


def to_tunelab(config: Any) -> tuple[TunelabConfig, tuple[str, ...], Path | None]:
    """tunelab's config for an NNI ``ExperimentConfig``, the loader's warnings, and NNI's working directory.

    Raises :class:`~tunelab.errors.ConfigError` naming the field, as ``tunelab validate`` does
    for a ``config.yml``.
    """
    data = nni_json(config)
    if data.pop("useAnnotation", False):
        raise ConfigError(f"{SOURCE}: use_annotation: NNI annotation is not supported by the Python experiment API")
    kind = data.pop("experimentType", "hpo")
    if kind != "hpo":
        raise ConfigError(f"{SOURCE}: experiment_type: {kind!r} experiments are not supported (only 'hpo')")
    if data.get("debug") is False:
        del data["debug"]
    workdir = data.pop("experimentWorkingDirectory", None)
    services = data.get("trainingService")
    for service in services if isinstance(services, list) else [services]:
        if isinstance(service, dict):
            if service.get("reuseMode") is False:
                del service["reuseMode"]
            if service.get("maxTrialNumberPerGpu") == 1 and not (
                service.get("trialGpuNumber") or data.get("trialGpuNumber")
            ):
                del service["maxTrialNumberPerGpu"]
            for key in ("debug",):
                if service.get(key) is None:
                    service.pop(key, None)
    loaded = load_config_dict(data, base_dir=config._base_path, format="nni", source=SOURCE, startup=True)
    return loaded.config, loaded.warnings, None if workdir is None else Path(workdir)


def final_metric(trial: TrialRecord) -> Any:
    """What the trial reported as its final result: the number, or NNI's dict with its other keys."""
    if not trial.metrics:
        return trial.value
    return {"default": trial.value, **dict(trial.metrics)}


def _ms(seconds: float | None) -> int | None:
    return None if seconds is None else int(seconds * 1000)


def _dumps(value: Any) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        return json.dumps(str(value))
    return json.dumps(value, default=str)


def trial_job(trial: TrialRecord) -> dict[str, Any]:
    """A trial in the shape of NNI's ``GET /trial-jobs`` (what ``TrialJob(**...)`` takes)."""
    job_id = trial.id
    hyper = {
        "parameter_id": trial.number,
        "parameter_source": "algorithm" if trial.parent is None else "customized",
        "parameters": dict(trial.params),
        "parameter_index": 0,
    }
    out: dict[str, Any] = {
        "trialJobId": job_id,
        "status": TRIAL_STATUS.get(trial.state, "UNKNOWN"),
        "sequenceId": trial.number,
        "startTime": _ms(trial.started_at if trial.started_at is not None else trial.created_at) or 0,
        "hyperParameters": [json.dumps(hyper, default=str)],
        "message": trial.message or "--",
    }
    if trial.trial_dir:
        out["logPath"] = f"file://localhost:{trial.trial_dir}"
        out["stderrPath"] = f"file://localhost:{Path(trial.trial_dir) / 'stderr.log'}"
    if trial.state.is_final and trial.ended_at is not None:
        out["endTime"] = _ms(trial.ended_at)
    if trial.state == TrialState.SUCCEEDED and trial.value is not None:
        out["finalMetricData"] = [
            {
                "timestamp": _ms(trial.ended_at) or 0,
                "trialJobId": job_id,
                "parameterId": str(trial.number),
                "type": "FINAL",
                "sequence": 0,
                "data": json.dumps(_dumps(final_metric(trial))),
            }
        ]
    return out


def intermediate_metrics(trial: TrialRecord) -> list[dict[str, Any]]:
    """The trial's intermediate reports in the shape of NNI's ``GET /metric-data``."""
    out = []
    for index, report in enumerate(trial.intermediate):
        value: Any = report.value if not report.metrics else {"default": report.value, **dict(report.metrics)}
        out.append(
            {
                "timestamp": _ms(report.time) or 0,
                "trialJobId": trial.id,
                "parameterId": str(trial.number),
                "type": "PERIODICAL",
                "sequence": index,
                "data": json.dumps(_dumps(value)),
            }
        )
    return out


def statistics(trials: list[TrialRecord]) -> list[dict[str, Any]]:
    """NNI's ``GET /job-statistics``: how many trials are in each status, in order of first appearance."""
    counts: dict[str, int] = {}
    for trial in trials:
        status = TRIAL_STATUS.get(trial.state, "UNKNOWN")
        counts[status] = counts.get(status, 0) + 1
    return [{"trialJobStatus": status, "trialJobNumber": number} for status, number in counts.items()]


def limits_in(params: dict[str, Any], config: Mapping[str, Any]) -> dict[str, Any]:
    """NNI's profile ``params`` with the limits the experiment has now (they change with ``update_*``)."""
    out = dict(params)
    if "max_trials" in config:
        if config["max_trials"] is None:
            out.pop("maxTrialNumber", None)
        else:
            out["maxTrialNumber"] = config["max_trials"]
    if config.get("concurrency") is not None:
        out["trialConcurrency"] = config["concurrency"]
    if "max_duration" in config:
        seconds = config["max_duration"]
        if seconds is None:
            out.pop("maxExperimentDuration", None)
        elif not isinstance(params.get("maxExperimentDuration"), str) or _seconds(
            params["maxExperimentDuration"]
        ) != float(seconds):
            out["maxExperimentDuration"] = f"{float(seconds):g}s"
    return out


def _seconds(text: Any) -> float | None:
    from tunelab.config import parse_duration

    try:
        value = parse_duration(text)
    except (ConfigError, ValueError, TypeError):
        return None
    return None if value is None else float(value)
