"""``save_best_model``: run the best configuration once more and keep what it saves.

Auptimizer's ``save_model`` and TFX's trained best model: after the experiment, the best
trial's configuration runs again as an ordinary trial (same command or function, same
seed, no budget) in ``<experiment_dir>/best_model/``. Its checkpoint folder
(``tunelab.get_checkpoint_dir()``) is ``best_model/model``; Auptimizer scripts get
``save_model: true`` and ``folder_name`` (that folder) in their parameter file, as
Auptimizer gives them. The run is not a trial of the experiment: it is not stored and
counts against no limit. What it did is written to ``best_model/best_model.json``, and
``best_params.json`` gains ``model_dir``.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from pathlib import Path
from typing import Any

from tunelab._atomic import write_json
from tunelab.runners import LocalRunner, TrialJob
from tunelab.storage import Phase
from tunelab.trial._channel import BadReport, Report

logger = logging.getLogger("tunelab")

BEST_MODEL_DIR = "best_model"
MODEL_DIR = "model"
_POLL_SECONDS = 0.1


def rerun_best(experiment: Any, *, stop_grace: float = 5.0) -> Path | None:
    """Run the best configuration of a finished experiment again; returns its model folder (None if none)."""
    record = experiment.record
    best = experiment.best_trial
    if best is None or record.phase not in (Phase.DONE, Phase.TIMEOUT):
        logger.info("save_best_model: nothing to re-run (phase %s, best trial %s)", record.phase.value, best)
        return None
    folder = Path(record.experiment_dir) / BEST_MODEL_DIR
    if folder.exists():
        shutil.rmtree(folder)  # a resumed experiment keeps the model of its final best
    model_dir = folder / MODEL_DIR
    trial = experiment.config.trial
    params = dict(best.params)
    if trial.params_as_argv:
        params.update(save_model=True, folder_name=str(model_dir))  # Auptimizer's job keys
    job = TrialJob(
        experiment_id=record.id,
        number=best.number,
        attempt=1,
        params=params,
        trial_dir=folder,
        code_dir=Path(trial.code_dir),
        seed=best.seed,
        command=trial.command,
        function=_function(experiment),
        env=trial.env,
        compat=tuple(trial.compat),
        params_as_argv=trial.params_as_argv,
        result_labels=tuple(trial.result_labels),
        checkpoint_dir=model_dir,
    )
    logger.info("save_best_model: running trial %d's configuration again in %s", best.number, folder)
    code, value = _run(job, trial.timeout, stop_grace)
    summary = {
        "trial": best.number,
        "params": dict(best.params),
        "trial_value": best.value,
        "value": value,
        "exit_code": code,
        "model_dir": str(model_dir),
    }
    write_json(folder / "best_model.json", summary)
    if code != 0:
        logger.warning(
            "save_best_model: the re-run of trial %d failed (exit code %s); see %s", best.number, code, folder
        )
        return None
    _add_model_dir(Path(record.experiment_dir) / "best_params.json", model_dir)
    return model_dir


def _run(job: TrialJob, timeout: float | None, grace: float) -> tuple[int, float | None]:
    """Start the job and wait for it; ``(exit code, its last reported value)``."""
    runner = LocalRunner()
    handle = runner.start(job)
    deadline = None if timeout is None else time.monotonic() + timeout
    value: float | None = None
    try:
        while True:
            value = _last_value(handle.read_reports(), value)
            code = handle.poll()
            if code is not None:
                return code, _last_value(handle.read_reports(), value)
            if deadline is not None and time.monotonic() >= deadline:
                handle.stop(grace)
                deadline = None
            time.sleep(_POLL_SECONDS)
    finally:
        runner.close()


def _function(experiment: Any) -> Any:
    """The experiment's objective as its trials called it (a define-by-run one gets its ``HyperParameters``)."""
    if getattr(experiment, "discovered", None) is None or experiment.objective is None:
        return experiment.objective
    from tunelab.engine._discovery import stored_discovery
    from tunelab.trial._define_by_run import DefineByRun

    space = stored_discovery(experiment.record.config) or experiment.discovered
    return DefineByRun(experiment.objective, space.get_config(), seed=None)


def _last_value(reports: list[Report | BadReport], value: float | None) -> float | None:
    for report in reports:
        if isinstance(report, Report) and report.value is not None:
            value = report.value
        elif isinstance(report, BadReport):
            logger.warning("save_best_model: the re-run wrote a bad report: %s", report.reason)
    return value


def _add_model_dir(path: Path, model_dir: Path) -> None:
    if path.is_file():
        data = json.loads(path.read_text())
        data["model_dir"] = str(model_dir)
        write_json(path, data)
