"""NNI 3.0's ``nni.experiment.Experiment`` on top of tunelab's engine.

What NNI's manager process does (run trials, serve the web portal, answer the REST calls
behind ``get_status()`` and friends) is done here by tunelab's engine, its dashboard and
its storage, in this process: ``run()`` runs the engine in the calling thread, ``start()``
in a background thread. Semantics follow NNI 3.0's ``nni/experiment/experiment.py``; the
differences are tunelab's rules (an experiment in which no trial succeeded ends ERROR, so
``run()`` returns False; a timed-out one is DONE to NNI, as in NNI).
"""

from __future__ import annotations

import atexit
import enum
import json
import logging
import os
import re
import sys
import threading
import time
from pathlib import Path
from typing import Any

from tunelab.errors import ConfigError, ExperimentNotFound, StorageError, TunelabError, escape
from tunelab.storage import Phase, RequestKind, Storage, TrialRecord, open_storage

from . import _convert
from .config import ExperimentConfig
from .data import TrialJob, TrialMetricData, TrialResult

__all__ = ["Experiment", "RunMode"]

_logger = logging.getLogger("nni.experiment")
_ID = re.compile(r"^[0-9a-zA-Z_-]{1,32}$")
#: Written to the experiment's folder when it starts: what ``resume``/``view`` give back as ``.config``.
CONFIG_FILE = "nni_config.json"


class RunMode(enum.Enum):
    """NNI's run modes; every mode runs the engine in this process, so ``Detach`` ends with it too."""

    Background = "background"
    Foreground = "foreground"
    Detach = "detach"


def _say(message: str) -> None:
    """One line on stderr, as NNI's experiment logger prints them (the user asked for the experiment)."""
    sys.stderr.write(f"[{time.strftime('%Y-%m-%d %H:%M:%S')}] {message}\n")
    sys.stderr.flush()


def _storage_url() -> str | None:
    return os.environ.get("TUNELAB_STORAGE") or None


class Experiment:
    """An NNI experiment: ``Experiment('local')`` (then fill ``.config``) or ``Experiment(config)``.

    ``id`` chooses the experiment's id (to resume or view a stored one, or to name a new one).
    Trials, results and the dashboard are tunelab's; they are stored in tunelab's storage
    (``$TUNELAB_STORAGE``, else ``$TUNELAB_HOME/tunelab.db``), so ``tunelab show ID`` sees them too.
    """

    def __init__(self, config_or_platform: ExperimentConfig | str | list[str] | None = None, id: str | None = None):
        if id is not None and not (isinstance(id, str) and _ID.match(id)):
            raise ValueError(
                f"Invalid experiment ID: {escape(repr(id))}. Experiment ID should only contain digits, alphanumeric "
                "characters, hyphens, and underscores, and should be no longer than 32 characters."
            )
        from tunelab.engine import new_experiment_id

        self.id: str = id if id is not None else new_experiment_id()
        self.port: int | None = None
        self.url_prefix: str | None = None
        self.config: ExperimentConfig | None
        if isinstance(config_or_platform, (str, list)):
            self.config = ExperimentConfig(config_or_platform)
        else:
            self.config = config_or_platform
        self._engine: Any = None  # tunelab.engine.Experiment once started
        self._thread: threading.Thread | None = None
        self._failure: BaseException | None = None
        self._dashboard: Any = None
        self._reader: Storage | None = None
        self._viewing = False

    # ------------------------------------------------------------------ starting
    def _build(self, resume: bool) -> Any:
        from tunelab.engine import Experiment as TunelabExperiment

        if resume:
            engine = TunelabExperiment.load(self.id, storage=_storage_url())
            if self.config is None:
                self.config = self._stored_config()
            return engine
        if self.config is None:
            raise ConfigError("Experiment: no config; give Experiment('local') or Experiment(config)")
        config, warnings, workdir = _convert.to_tunelab(self.config)
        updates: dict[str, Any] = {}
        if workdir is not None:
            updates["experiment_dir"] = workdir / self.id
        if _storage_url() and config.storage is None:
            updates["storage"] = _storage_url()
        if updates:
            config = config.model_copy(update=updates)
        for warning in warnings:
            _logger.warning("%s", warning)
            _say(f"WARNING: {warning}")
        engine = TunelabExperiment(config, format="nni", warnings=warnings)
        try:
            engine.storage.get_experiment(self.id)
        except ExperimentNotFound:
            pass
        else:
            raise StorageError(
                f"experiment {self.id} exists already; resume it with Experiment(None, id={self.id!r}).resume()"
            )
        _say(f"Creating experiment, Experiment ID: {self.id}")
        engine.create(self.id)
        self._save_config(engine)
        return engine

    def _save_config(self, engine: Any) -> None:
        folder = Path(engine.record.experiment_dir)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            (folder / CONFIG_FILE).write_text(json.dumps(_convert.nni_json(self.config), indent=2, default=str))
        except OSError as exc:  # the experiment runs without it; resume() then rebuilds .config from nothing
            _logger.warning("could not write %s: %s", folder / CONFIG_FILE, exc)

    def _stored_config(self) -> ExperimentConfig | None:
        record = self._store().get_experiment(self.id)
        try:
            data = json.loads((Path(record.experiment_dir) / CONFIG_FILE).read_text())
        except (OSError, ValueError):
            return None
        return ExperimentConfig(**data)

    def _serve(self, port: int | None, read_only: bool = False) -> None:
        if port is None:
            return
        from tunelab.server import Dashboard, ServeOptions

        _say("Starting web server...")
        options = ServeOptions(port=int(port), read_only=read_only, experiment_id=self.id)
        self._dashboard = Dashboard(open_storage(_storage_url()), options).start()
        self.port = self._dashboard.port
        for note in self._dashboard.notes[1:]:
            _say(note)
        _say(f"Web portal URLs: http://127.0.0.1:{self.port}")

    def _launch(self, port: int | None, resume: bool) -> None:
        if self._engine is not None and self._is_running():
            raise TunelabError(f"experiment {self.id} is running already")
        self._engine = self._build(resume)
        self._viewing = False
        atexit.register(self.stop)
        self._serve(port)

    def _run_engine(self, resume: bool) -> bool:
        engine = self._engine
        result = engine.resume() if resume else engine.run()
        if result.message and result.phase == Phase.ERROR:
            _say(f"Experiment {self.id} ended ERROR: {escape(result.message, 2000)}")
        return result.phase != Phase.ERROR

    def _background(self, resume: bool) -> None:
        def target() -> None:
            try:
                self._run_engine(resume)
            except BaseException as exc:  # kept for stop() and get_status() to report
                self._failure = exc
                _logger.exception("experiment %s failed", self.id)

        self._thread = threading.Thread(target=target, name=f"nni-experiment-{self.id}", daemon=True)
        self._thread.start()

    def start(self, port: int = 8080, debug: bool = False, run_mode: RunMode = RunMode.Background) -> None:
        """Start the experiment in the background (the engine in a thread of this process) and serve the dashboard."""
        self._launch(port, resume=False)
        self._background(resume=False)

    def run(self, port: int = 8080, wait_completion: bool = True, debug: bool = False) -> bool | None:
        """Run the experiment, serving the dashboard on ``port`` (127.0.0.1; the next free port if taken).

        Blocks until it ends and returns True when it ended DONE (or STOPPED, or at its
        duration limit), False when it ended in ERROR (no trial succeeded, or a trial failed
        under a strict failure policy). ``wait_completion=False`` starts it in the background
        and returns None. The dashboard keeps serving after ``run()`` returns, until
        :meth:`stop` (called at exit), as NNI's web portal does.
        """
        return self._run_impl(port, wait_completion, resume=False)

    def _run_impl(self, port: int, wait_completion: bool, resume: bool) -> bool | None:
        self._launch(port, resume=resume)
        if not wait_completion:
            self._background(resume)
            return None
        try:
            return self._run_engine(resume)
        except KeyboardInterrupt:
            _logger.warning("KeyboardInterrupt detected")
            self.stop()
            return None

    def run_or_resume(self, port: int = 8080, wait_completion: bool = True, debug: bool = False) -> bool | None:
        """:meth:`resume` when this id is stored, else :meth:`run`."""
        if self.has_checkpoint():
            return self.resume(port, wait_completion, debug)
        return self.run(port, wait_completion, debug)

    def has_checkpoint(self) -> bool:
        """Whether an experiment with this id is stored."""
        try:
            self._store().get_experiment(self.id)
        except ExperimentNotFound:
            return False
        return True

    def load_checkpoint(self) -> None:
        """Read the stored experiment's config into ``.config`` when there is none."""
        if self.config is None:
            self.config = self._stored_config()

    def save_checkpoint(self) -> None:
        """Nothing to do: tunelab stores everything the moment it happens."""

    def stop(self) -> None:
        """Stop the experiment (running trials get SIGTERM, then SIGKILL) and the dashboard; waits for both."""
        atexit.unregister(self.stop)
        if self._is_running():
            _say("Stopping experiment, please wait...")
            self._store().request_stop(self.id)
            if self._thread is not None and self._thread is not threading.current_thread():
                self._thread.join()
        if self._dashboard is not None:
            self._dashboard.stop()
            self._dashboard.storage.close()
            self._dashboard = None
            _say("Experiment stopped")
        self.port = None

    def _is_running(self) -> bool:
        if self._thread is not None and self._thread.is_alive():
            return True
        return False

    # ------------------------------------------------------------------ other experiments
    def resume(self, port: int = 8080, wait_completion: bool = True, debug: bool = False) -> bool | None:
        """Continue a stored experiment: ``Experiment(None, id=ID).resume(port)`` or ``Experiment.resume(ID, port)``.

        Returns as :meth:`run` does.
        """
        if isinstance(self, str):  # NNI 2's Experiment.resume(id, port)
            self = Experiment(None, id=self)
        elif isinstance(port, str):  # experiment.resume(id, port)
            self.id, port, wait_completion = port, _port_after_id(wait_completion), True
        if not self.has_checkpoint():
            raise RuntimeError(f"Experiment {self.id} does not exist thus cannot be resumed.")
        return self._run_impl(port, wait_completion, resume=True)

    def view(self, port: int = 8080, non_blocking: bool = False) -> Experiment:
        """Serve the dashboard (read-only) over a stored experiment: ``Experiment.view(ID, port)`` or
        ``Experiment(None, id=ID).view(port)``. Blocks until Ctrl-C unless ``non_blocking``."""
        if isinstance(self, str):  # NNI 2's Experiment.view(id, port)
            self = Experiment(None, id=self)
        elif isinstance(port, str):  # experiment.view(id, port)
            self.id, port, non_blocking = port, _port_after_id(non_blocking), False
        if not self.has_checkpoint():
            raise RuntimeError(f"Experiment {self.id} does not exist thus cannot be viewed.")
        self.load_checkpoint()
        self._serve(port, read_only=True)
        self._viewing = True
        if not non_blocking:
            try:
                while True:  # as NNI's view(): serve until Ctrl-C
                    time.sleep(10)
            except KeyboardInterrupt:
                _logger.warning("KeyboardInterrupt detected")
            finally:
                self.stop()
        return self

    @classmethod
    def connect(cls, port: int) -> Experiment:
        """The experiment whose dashboard serves on 127.0.0.1:``port`` (in another process, same storage)."""
        import urllib.request

        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{int(port)}/api/info", timeout=10) as response:
                info = json.loads(response.read())
        except OSError as exc:
            raise TunelabError(f"connect: no tunelab dashboard answers on port {port} ({exc})") from None
        experiment_id = info.get("experiment_id") if isinstance(info, dict) else None
        if not experiment_id:
            raise TunelabError(f"connect: the dashboard on port {port} serves no single experiment")
        experiment = cls(None, id=str(experiment_id))
        experiment.port = int(port)
        experiment.load_checkpoint()
        _say(f"Connect to port {port} success, experiment id is {experiment.id}, status is {experiment.get_status()}.")
        return experiment

    # ------------------------------------------------------------------ reading
    def _store(self) -> Storage:
        if self._reader is None:
            self._reader = open_storage(_storage_url())
        return self._reader

    def _trials(self, with_intermediate: bool = False) -> list[TrialRecord]:
        return self._store().get_trials(self.id, with_intermediate=with_intermediate)

    def get_status(self) -> str:
        """NNI's status: INITIALIZED, RUNNING, NO_MORE_TRIAL, DONE, STOPPED, ERROR or VIEWED."""
        if self._viewing and self._dashboard is not None:
            return "VIEWED"
        try:
            record = self._store().get_experiment(self.id)
        except ExperimentNotFound:
            return "INITIALIZED"
        if record.phase == Phase.RUNNING:
            limit = record.config.get("max_trials")
            if limit is not None and len(self._trials()) >= int(limit):
                return "NO_MORE_TRIAL"
        return _convert.PHASE_STATUS[record.phase]

    def get_trial_job(self, trial_job_id: str) -> TrialJob:
        """One trial, by NNI's trial job id (``<experiment>-<number>``, as ``nni.get_trial_id()`` gives it)."""
        for trial in self._trials():
            if trial.id == trial_job_id:
                return TrialJob(**_convert.trial_job(trial))
        raise TunelabError(f"experiment {self.id} has no trial job {escape(repr(trial_job_id))}")

    def list_trial_jobs(self) -> list[TrialJob]:
        """Every trial, as NNI's ``TrialJob`` records."""
        return [TrialJob(**_convert.trial_job(trial)) for trial in self._trials()]

    def get_job_statistics(self) -> list[dict[str, Any]]:
        """``[{'trialJobStatus': 'SUCCEEDED', 'trialJobNumber': 3}, ...]``, as NNI's manager answers."""
        return _convert.statistics(self._trials())

    def get_job_metrics(self, trial_job_id: str | None = None) -> dict[str, list[TrialMetricData]]:
        """Each trial's reports (``PERIODICAL`` then ``FINAL``), by trial job id."""
        out: dict[str, list[TrialMetricData]] = {}
        for trial in self._trials(with_intermediate=True):
            if trial_job_id is not None and trial.id != trial_job_id:
                continue
            rows = _convert.intermediate_metrics(trial) + _convert.trial_job(trial).get("finalMetricData", [])
            if rows:
                out[trial.id] = [TrialMetricData(**row) for row in rows]
        return out

    def export_data(self) -> list[TrialResult]:
        """Every succeeded trial's parameters and final result, as NNI's ``TrialResult`` records."""
        return [
            TrialResult(dict(t.params), json.dumps(_convert.final_metric(t)), t.id)
            for t in self._trials()
            if t.state.value == "SUCCEEDED" and t.value is not None
        ]

    def get_experiment_profile(self) -> dict[str, Any]:
        """NNI's experiment profile: ``id``, ``params`` (the config, with the limits as they are now), times in ms."""
        record = self._store().get_experiment(self.id)
        trials = self._trials()
        params = _convert.nni_json(self.config) if self.config is not None else {}
        profile: dict[str, Any] = {
            "id": self.id,
            "revision": 0,
            "execDuration": int(record.elapsed),
            "logDir": record.experiment_dir,
            "nextSequenceId": len(trials),
            "params": _convert.limits_in(params, record.config),
            "startTime": int((record.started_at or record.created_at) * 1000),
            "maxSequenceId": max((t.number for t in trials), default=-1) + 1,
        }
        if record.phase.is_final and record.ended_at is not None:
            profile["endTime"] = int(record.ended_at * 1000)
        return profile

    def get_experiment_metadata(self, exp_id: str) -> dict[str, Any]:
        """NNI's metadata of one stored experiment (``id``, ``status``, ``port``, ``startTime``, ``endTime``...)."""
        for item in self.get_all_experiments_metadata():
            if item["id"] == exp_id:
                return item
        return {}

    def get_all_experiments_metadata(self) -> list[dict[str, Any]]:
        out = []
        for record in self._store().list_experiments():
            item: dict[str, Any] = {
                "id": record.id,
                "experimentName": record.name,
                "status": _convert.PHASE_STATUS[record.phase],
                "platform": "local",
                "logDir": record.experiment_dir,
                "pid": record.engine_pid,
                "startTime": int((record.started_at or record.created_at) * 1000),
            }
            if record.ended_at is not None:
                item["endTime"] = int(record.ended_at * 1000)
            if record.id == self.id and self.port is not None:
                item["port"] = self.port
            out.append(item)
        return out

    # ------------------------------------------------------------------ changing
    def _update(self, what: str, payload: dict[str, Any]) -> None:
        record = self._store().get_experiment(self.id)
        if record.phase.is_final or record.phase == Phase.PENDING:
            raise TunelabError(
                f"{what}: experiment {self.id} is {record.phase.value}, not running; "
                f"change the limit and continue it with Experiment(None, id={self.id!r}).resume()"
                if record.phase.is_final
                else f"{what}: experiment {self.id} has not started; set experiment.config instead"
            )
        self._store().add_request(self.id, RequestKind.UPDATE_LIMITS, payload)
        _logger.info("Successfully update %s.", what.removeprefix("update_"))

    def update_trial_concurrency(self, value: int) -> None:
        """Run up to ``value`` trials at once from now on."""
        _positive("update_trial_concurrency", value)
        self._update("update_trial_concurrency", {"concurrency": value})

    def update_max_trial_number(self, value: int) -> None:
        """Stop proposing trials once ``value`` have been created."""
        _positive("update_max_trial_number", value)
        self._update("update_max_trial_number", {"max_trials": value})

    def update_max_experiment_duration(self, value: str | int) -> None:
        """End the experiment (DONE) once it has run this long: ``'1h'``, ``'30m'``, or seconds."""
        from tunelab.config import parse_duration

        try:
            seconds = parse_duration(value)
        except ValueError as exc:
            raise ConfigError(f"update_max_experiment_duration: {exc}") from None
        if seconds is None or seconds <= 0:
            raise ConfigError(f"update_max_experiment_duration: expected a positive duration, got {value!r}")
        self._update("update_max_experiment_duration", {"max_duration": seconds})

    def update_search_space(self, value: dict[str, Any]) -> None:
        """Use this search space (NNI's JSON) for every trial not suggested yet.

        Before the experiment starts it becomes the config's. Once it has started, tunelab's
        tuners keep one space, so the tuner is rebuilt over the new space from the trials so far
        (as a resume does): those whose parameters lie in the new space inform it, the others
        count but inform nothing. A running experiment (started in this process with
        :meth:`start`) is stopped for it and continued at once: its running trials get SIGTERM
        and run again with their own parameters. An ended one keeps the new space for
        :meth:`resume`.
        """
        from tunelab.config import build_config

        try:
            record = self._store().get_experiment(self.id)
        except ExperimentNotFound:
            record = None
        if record is None:
            if self.config is None:
                raise ConfigError("update_search_space: no config; give Experiment('local') or Experiment(config)")
            self.config.search_space = value
            self.config.search_space_file = None
            return
        if record.phase == Phase.RUNNING and self._thread is None:
            raise TunelabError(
                f"update_search_space: experiment {self.id} runs in the foreground or in another process; "
                "start it with experiment.start() to change its search space while it runs"
            )
        data = {k: v for k, v in record.config.items() if k not in ("objective", "storage")}
        checked = build_config({**data, "search_space": value}, source="update_search_space")
        running = self._is_running()
        if running:
            _say("Stopping experiment to change its search space...")
            self._store().request_stop(self.id)
            assert self._thread is not None
            self._thread.join()
        config = dict(self._store().get_experiment(self.id).config)
        config["search_space"] = checked.model_dump(mode="json")["search_space"]
        self._store().update_experiment(self.id, config=config)
        if self.config is not None:
            self.config.search_space = value
            self.config.search_space_file = None
        _logger.info("Successfully update search_space.")
        if running:
            self._engine = self._build(resume=True)
            if self.config is not None:
                self._save_config(self._engine)
            self._background(resume=True)
            # Until the engine marks it RUNNING (and clears the stop just asked for), a stop() would be lost.
            while self._is_running() and self._store().get_experiment(self.id).phase != Phase.RUNNING:
                time.sleep(0.05)

    def kill_trial_job(self, trial_job_id: str) -> None:
        """Cancel one trial (by trial job id)."""
        trial = next((t for t in self._trials() if t.id == trial_job_id), None)
        if trial is None:
            raise TunelabError(f"experiment {self.id} has no trial job {escape(repr(trial_job_id))}")
        self._store().add_request(self.id, RequestKind.CANCEL_TRIAL, {"number": trial.number})


def _port_after_id(value: Any) -> int:
    """The port in ``experiment.view(ID, PORT)``: the argument after the id, when it is a port number."""
    return value if isinstance(value, int) and not isinstance(value, bool) else 8080


def _positive(what: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{what}: expected an integer >= 1, got {escape(repr(value))}")
