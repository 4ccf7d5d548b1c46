"""The experiment loop: asks the tuner, starts trials on the runner, records everything.

The engine owns no algorithm. It wires a tuner (what to try), a runner (where it runs)
and storage (what happened), and enforces the limits and the failure policy. Every
state change is written to storage the moment it happens, so a killed engine can be
resumed from storage alone: finished trials are replayed into a new tuner and scheduler
(with the budget and parent each was started with), trials that were running are
recovered from their report files or run again with the same budget and checkpoint.
"""

from __future__ import annotations

import hashlib
import logging
import os
import select
import signal
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from tunelab.config import ExperimentConfig
from tunelab.errors import SearchSpaceExhausted, TunelabError
from tunelab.runners import (
    Runner,
    TrialHandle,
    TrialJob,
    create_runner,
    is_same_process_alive,
    process_start_time,
    signal_group,
)
from tunelab.runners._local import STDERR_FILE, _ReportTail
from tunelab.schedulers import Decision, NewTrial, Outcome, Resume, Wait, build_scheduler
from tunelab.storage import (
    ExperimentRecord,
    IntermediateResult,
    Phase,
    Request,
    RequestKind,
    Storage,
    TrialRecord,
    TrialState,
)
from tunelab.trial._context import REPORTS_FILE
from tunelab.tuners import Tuner, create_tuner, split_value, tuner_arguments

logger = logging.getLogger("tunelab")

_HEARTBEAT_SECONDS = 2.0
_STOP_CHECK_SECONDS = 0.5
_STDERR_TAIL_LINES = 8


@dataclass
class Progress:
    """A snapshot for progress displays: counts, best so far, time."""

    phase: Phase
    max_trials: int | None
    max_duration: float | None
    elapsed: float
    succeeded: int = 0
    failed: int = 0
    early_stopped: int = 0
    canceled: int = 0
    running: int = 0
    waiting: int = 0
    best_value: float | None = None
    best_params: dict[str, Any] | None = None
    best_number: int | None = None
    waiting_reason: str = ""

    @property
    def finished(self) -> int:
        return self.succeeded + self.failed + self.early_stopped + self.canceled


class Listener(Protocol):
    def on_progress(self, progress: Progress) -> None: ...


@dataclass
class _Active:
    """A trial attempt that the runner is executing."""

    number: int
    attempt: int
    params: dict[str, Any]
    seed: int
    handle: TrialHandle
    started_at: float
    deadline: float | None
    final: tuple[float | None, dict[str, Any]] | None = None
    last_intermediate: float | None = None
    stop_state: TrialState | None = None
    stop_message: str = ""
    reports_seen: int = 0
    budget: int | None = None
    budget_reached_at: float | None = None  # when it reported its budget and was asked to end
    budget_stop_sent: bool = False


@dataclass
class _Queued:
    number: int
    params: dict[str, Any]
    attempt: int
    reason: str


@dataclass
class _Counts:
    succeeded: int = 0
    failed: int = 0
    early_stopped: int = 0
    canceled: int = 0

    def add(self, state: TrialState) -> None:
        name = state.value.lower()
        if hasattr(self, name):
            setattr(self, name, getattr(self, name) + 1)


def trial_seed(experiment_seed: int, number: int) -> int:
    """A per-trial seed derived from the experiment's, stable across processes and resumes."""
    digest = hashlib.sha256(f"{experiment_seed}:{number}".encode()).digest()
    return int.from_bytes(digest[:4], "little") & 0x7FFFFFFF


def build_tuner(config: ExperimentConfig) -> Tuner:
    """The configured tuner; tuners that plan by budget (``auto``) also get the limits."""
    args = dict(config.tuner.args)
    # NNI puts the seed among the tuner's classArgs; the experiment's seed wins when both are set.
    seed = config.seed if config.seed is not None else args.pop("seed", None)
    args.pop("seed", None)
    accepted = tuner_arguments(config.tuner.name)
    if "max_trials" in accepted:
        args.setdefault("max_trials", config.max_trials)
    if "concurrency" in accepted:
        args.setdefault("concurrency", config.concurrency)
    return create_tuner(config.tuner.name, config.space(), mode=config.mode, seed=seed, **args)


def _stored_plan(record: TrialRecord) -> NewTrial | Resume:
    """What the scheduler started a stored trial for, rebuilt from its budget, parent and checkpoint source."""
    if record.parent is None or record.budget is None:
        return NewTrial(budget=record.budget)
    return Resume(record.parent, dict(record.params), record.budget, checkpoint_from=record.checkpoint_from)


def _outcome(state: TrialState) -> Outcome:
    if state == TrialState.SUCCEEDED:
        return Outcome.COMPLETED
    return Outcome.STOPPED if state == TrialState.EARLY_STOPPED else Outcome.FAILED


class Engine:
    """Runs one experiment to a final phase. Not reentrant; one engine per experiment at a time."""

    def __init__(
        self,
        *,
        storage: Storage,
        experiment_id: str,
        config: ExperimentConfig,
        objective: Callable[[dict[str, Any]], Any] | None = None,
        runner: Runner | None = None,
        listener: Listener | None = None,
        poll_interval: float = 0.1,
        stop_grace: float | None = None,
    ) -> None:
        self.storage = storage
        self.experiment_id = experiment_id
        self.config = config
        self.objective = objective
        self.runner = runner or create_runner(config)
        self.listener = listener
        self.poll_interval = poll_interval
        self.stop_grace = stop_grace if stop_grace is not None else (config.trial.stop_grace or 5.0)
        record = storage.get_experiment(experiment_id)
        self.experiment_dir = Path(record.experiment_dir)
        self._elapsed_before = record.elapsed
        self.tuner = build_tuner(config)
        self.scheduler = build_scheduler(config)
        self._plans: dict[int, NewTrial | Resume] = {}  # what the scheduler started each trial for
        self._scheduler_wait = ""
        seed = config.seed if config.seed is not None else self.tuner.seed
        self._seed = seed if seed is not None else int.from_bytes(os.urandom(4), "little")
        self._active: dict[int, _Active] = {}
        self._queue: deque[_Queued] = deque()
        self._created = 0
        self._exhausted = False
        self._counts = _Counts()
        self._best: tuple[float, int, dict[str, Any], float] | None = None  # (loss, number, params, value)
        self._failed_attempts: dict[int, int] = {}
        # Limits a user may change while the experiment runs (dashboard, requests).
        self.max_trials = config.max_trials
        self.max_duration = config.max_duration
        self.concurrency = config.concurrency
        self._error: str | None = None
        self._interrupted = False
        self._waiting_reason = ""
        self._started_monotonic = 0.0
        self._next_heartbeat = 0.0
        self._next_stop_check = 0.0

    # ------------------------------------------------------------------ setup
    def _restore(self) -> None:
        """Replay what storage holds: finished trials into the tuner, interrupted ones back in the queue."""
        for record in self.storage.get_trials(self.experiment_id, with_intermediate=True):
            self._created = max(self._created, record.number + 1)
            curve = [(r.step + 1, r.value) for r in record.intermediate]
            plan = _stored_plan(record)
            if record.state.is_final:
                value = record.value if record.state in (TrialState.SUCCEEDED, TrialState.EARLY_STOPPED) else None
                self.tuner.restore(record.number, record.params, value)
                self.scheduler.restore(record.number, record.params, curve, _outcome(record.state), value, plan)
                self._counts.add(record.state)
                self._note_best(record.number, record.params, value)
                continue
            self._plans[record.number] = plan  # it runs again with the budget and checkpoint it was started with
            self.tuner.restore(record.number, record.params, pending=True)
            self.scheduler.restore(record.number, record.params, curve, None, None, plan)
            if record.state == TrialState.RUNNING and self._recover(record):
                continue
            self._queue.append(
                _Queued(record.number, dict(record.params), record.attempt + 1, "run again after an interruption")
            )
            self.storage.update_trial(
                self.experiment_id,
                record.number,
                state=TrialState.WAITING,
                wait_reason="run again after an interruption",
            )

    def _recover(self, record: TrialRecord) -> bool:
        """A trial that was running when the engine died: keep its result if it finished, else kill it."""
        if is_same_process_alive(record.pid, record.pid_start):
            logger.info("trial %d outlived the previous engine; stopping it to run it again", record.number)
            signal_group(record.pid, signal.SIGKILL)  # type: ignore[arg-type]
            return False
        tail = _ReportTail(Path(record.trial_dir) / REPORTS_FILE)
        reports = tail.read()
        stored = len(self.storage.get_trial(self.experiment_id, record.number).intermediate)
        intermediates = [r for r in reports if r.get("kind") == "intermediate"]
        for report in intermediates[stored:]:
            self._store_intermediate(record.number, report)
        finals = [r for r in reports if r.get("kind") == "final"]
        if not finals:
            return False
        value, metrics = self._main_value(finals[-1])
        self._finish(
            record.number, record.params, TrialState.SUCCEEDED, value, metrics, "recovered after an interruption"
        )
        return True

    # ------------------------------------------------------------------ main loop
    def run(self, *, resume: bool = False) -> ExperimentRecord:
        handlers = self._install_signal_handlers()
        try:
            return self._run(resume)
        finally:
            self._restore_signal_handlers(handlers)

    def _run(self, resume: bool) -> ExperimentRecord:
        self._started_monotonic = time.monotonic()
        now = time.time()
        self.storage.update_experiment(
            self.experiment_id,
            phase=Phase.RUNNING,
            message="resumed" if resume else "",
            engine_pid=os.getpid(),
            engine_host=socket.gethostname(),
            heartbeat_at=now,
            stop_requested=False,
            **({} if resume else {"started_at": now}),
        )
        if resume:
            self._restore()
        else:
            for params in self.config.enqueue:
                self.tuner.enqueue(params)
        self._notify()
        try:
            phase, message = self._loop()
        except TunelabError as exc:
            phase, message = Phase.ERROR, str(exc)
            self._stop_all(TrialState.CANCELED, "experiment error")
        except BaseException:
            self._stop_all(TrialState.CANCELED, "engine crashed")
            self._persist_elapsed()
            raise
        self._persist_elapsed()
        self.storage.update_experiment(
            self.experiment_id, phase=phase, message=message, ended_at=time.time(), waiting_reason="", engine_pid=None
        )
        self._write_best()
        self._notify(phase)
        logger.info("experiment %s ended %s%s", self.experiment_id, phase.value, f": {message}" if message else "")
        self.runner.close()
        return self.storage.get_experiment(self.experiment_id)

    def _loop(self) -> tuple[Phase, str]:
        while True:
            max_trials = self.max_trials
            self._collect()
            if self._error is not None:
                self._stop_all(TrialState.CANCELED, "another trial failed")
                return Phase.ERROR, self._error
            if self._interrupted or self._stop_requested():
                self._stop_all(TrialState.CANCELED, "experiment stopped")
                return Phase.STOPPED, "stopped by the user"
            if self.max_duration is not None and self._elapsed() >= self.max_duration:
                self._stop_all(TrialState.CANCELED, "experiment reached max_duration")
                done = self._counts.succeeded + self._counts.failed + self._counts.early_stopped
                return Phase.TIMEOUT, f"max_duration ({self.max_duration:g} s) reached after {done} trials"
            self._fill_slots()
            if not self._active and not self._queue and self._scheduler_wait:
                return Phase.DONE, self._scheduler_wait
            more_to_create = not self._exhausted and (max_trials is None or self._created < max_trials)
            if not self._active and not self._queue and not more_to_create:
                if self._exhausted:
                    return Phase.DONE, f"the search space is exhausted after {self._created} trials"
                return Phase.DONE, ""
            self._heartbeat()
            self._wait()

    def _fill_slots(self) -> None:
        max_trials = self.max_trials
        self._runner_wait = ""
        while len(self._active) < self.concurrency:
            self._runner_wait = self.runner.wait_reason()  # e.g. every GPU taken
            if self._runner_wait:
                break
            if self._queue:
                queued = self._queue.popleft()
                self._start(queued.number, queued.params, queued.attempt)
                continue
            if max_trials is not None and self._created >= max_trials:
                break
            action = self.scheduler.next_trial()
            self._scheduler_wait = action.reason if isinstance(action, Wait) else ""
            if isinstance(action, Wait):
                break
            if isinstance(action, Resume):
                # A configuration continues as a new trial: the tuner hears of it as pending.
                number, params = max(self._created, self.tuner.n_suggested), dict(action.params)
                self.tuner.restore(number, params, pending=True)
            else:
                if self._exhausted:
                    self.scheduler.on_unused(action)
                    break
                self._set_waiting_reason("the tuner is proposing the next configuration")
                try:
                    if action.params is not None:
                        self.tuner.enqueue(action.params)
                    number, params = self.tuner.suggest()
                except SearchSpaceExhausted as exc:
                    logger.info("%s", exc)
                    self._exhausted = True
                    self.scheduler.on_unused(action)
                    break
            self._created = max(self._created, number + 1)
            self._plans[number] = action
            self.scheduler.on_start(number, params, action)
            seed = trial_seed(self._seed, number)
            self.storage.create_trial(
                TrialRecord(
                    experiment_id=self.experiment_id,
                    number=number,
                    state=TrialState.WAITING,
                    params=params,
                    seed=seed,
                    wait_reason="proposed; starting",
                    trial_dir=str(self._trial_dir(number)),
                    budget=action.budget,
                    parent=action.parent if isinstance(action, Resume) else None,
                    checkpoint_from=action.checkpoint_from if isinstance(action, Resume) else None,
                )
            )
            self._start(number, params, attempt=1)
        busy = len(self._active) >= self.concurrency
        pending = bool(self._queue) or (not self._exhausted and (max_trials is None or self._created < max_trials))
        reason = f"all {self.concurrency} slots busy" if busy and pending else self._runner_wait
        self._set_waiting_reason(reason or ("" if busy else self._scheduler_wait))

    def _trial_dir(self, number: int) -> Path:
        return self.experiment_dir / "trials" / str(number)

    def _start(self, number: int, params: dict[str, Any], attempt: int) -> None:
        trial = self.config.trial
        seed = trial_seed(self._seed, number)
        plan = self._plans.get(number)
        source = plan.checkpoint_from if isinstance(plan, Resume) else None
        job = TrialJob(
            experiment_id=self.experiment_id,
            number=number,
            attempt=attempt,
            params=params,
            trial_dir=self._trial_dir(number),
            code_dir=Path(trial.code_dir),
            seed=seed,
            command=trial.command,
            function=self.objective,
            env=trial.env,
            compat=tuple(trial.compat),
            params_as_argv=trial.params_as_argv,
            result_labels=tuple(trial.result_labels),
            budget=None if plan is None else plan.budget,
            budget_param=None if self.config.scheduler is None else self.config.scheduler.budget_param,
            checkpoint_dir=self._trial_dir(number) / "checkpoint",
            checkpoint_from=None if source is None else self._trial_dir(source) / "checkpoint",
        )
        now = time.time()
        try:
            handle = self.runner.start(job)
        except OSError as exc:
            self.storage.update_trial(
                self.experiment_id, number, state=TrialState.RUNNING, attempt=attempt, started_at=now
            )
            self._failed(number, params, attempt, f"could not start: {exc}")
            return
        self._active[number] = _Active(
            number=number,
            attempt=attempt,
            params=params,
            seed=seed,
            handle=handle,
            started_at=now,
            deadline=time.monotonic() + trial.timeout if trial.timeout else None,
            budget=job.budget,
        )
        self.storage.update_trial(
            self.experiment_id,
            number,
            state=TrialState.RUNNING,
            attempt=attempt,
            started_at=now,
            ended_at=None,
            wait_reason="",
            message="" if plan is None else plan.note,
            pid=handle.pid,
            pid_start=process_start_time(handle.pid),
        )
        self._notify()

    # ------------------------------------------------------------------ trial events
    def _collect(self) -> None:
        for active in list(self._active.values()):
            self._ingest(active)
            if active.deadline is not None and active.stop_state is None and time.monotonic() >= active.deadline:
                active.stop_state = TrialState.FAILED
                active.stop_message = f"timed out after {self.config.trial.timeout:g} s"
                active.handle.stop(self.stop_grace)
            if active.budget_reached_at is not None and not active.budget_stop_sent and active.stop_state is None:
                if time.monotonic() >= active.budget_reached_at + self.stop_grace:
                    active.budget_stop_sent = True  # it reached its budget and did not end by itself
                    active.handle.stop(self.stop_grace)
            code = active.handle.poll()
            if code is not None:
                self._ingest(active)
                del self._active[active.number]
                self._ended(active, code)

    def _ingest(self, active: _Active) -> None:
        for report in active.handle.read_reports():
            if report.get("kind") == "final":
                active.final = self._main_value(report)
            elif report.get("kind") == "intermediate":
                value = self._store_intermediate(active.number, report)
                if value is not None:
                    active.last_intermediate = value
                    self._assess(active, int(report.get("step", 0)), value)

    def _assess(self, active: _Active, step: int, value: float) -> None:
        """The scheduler's decision on an intermediate result: stop the trial early, or end it at its budget."""
        if active.stop_state is not None:
            return
        resource = step + 1
        if self.scheduler.on_result(active.number, resource, value) is Decision.STOP:
            active.stop_state = TrialState.EARLY_STOPPED
            active.stop_message = f"stopped early by {self.scheduler.name} after step {step}"
            logger.info("trial %d: %s", active.number, active.stop_message)
            active.handle.stop(self.stop_grace)
        elif active.budget is not None and resource >= active.budget and active.budget_reached_at is None:
            active.budget_reached_at = time.monotonic()
            active.handle.request_stop()

    def _store_intermediate(self, number: int, report: dict[str, Any]) -> float | None:
        value, metrics = self._main_value(report)
        self.storage.add_intermediate(
            self.experiment_id,
            number,
            IntermediateResult(
                step=int(report.get("step", 0)), value=value, metrics=metrics, time=report.get("time", 0.0)
            ),
        )
        return value

    def _main_value(self, report: dict[str, Any]) -> tuple[float | None, dict[str, Any]]:
        try:
            value, extra = split_value(report.get("value"))
        except TunelabError:
            value, extra = None, {}
        metrics = {**extra, **(report.get("metrics") or {})}
        metric = self.config.metric
        if metric != "default" and metric in metrics:
            metrics.setdefault("default", value)
            value = metrics.pop(metric)
            value = None if value is None else float(value)
        return value, metrics

    def _ended(self, active: _Active, code: int) -> None:
        number, params = active.number, active.params
        if active.stop_state is TrialState.CANCELED:
            self._finish(number, params, TrialState.CANCELED, None, {}, active.stop_message, observe=False)
            return
        if active.stop_state is TrialState.FAILED:
            self._failed(number, params, active.attempt, active.stop_message)
            return
        if active.stop_state is TrialState.EARLY_STOPPED:
            # NNI's convention: the last intermediate result counts (a final one, if it sent one).
            value, metrics = active.final or (active.last_intermediate, {})
            self._finish(number, params, TrialState.EARLY_STOPPED, value, metrics, active.stop_message)
            return
        if active.budget_reached_at is not None and code != 0:
            value, metrics = active.final or (active.last_intermediate, {})
            message = f"reached its budget ({active.budget}) and was stopped after {self.stop_grace:g} s"
            self._finish(number, params, TrialState.SUCCEEDED, value, metrics, message)
            return
        if code == 0 and active.final is not None:
            self._finish(number, params, TrialState.SUCCEEDED, *active.final, "")
        elif code == 0 and active.last_intermediate is not None:
            self._finish(
                number,
                params,
                TrialState.SUCCEEDED,
                active.last_intermediate,
                {},
                "no final result reported; the last intermediate result counts",
            )
        elif code == 0:
            self._failed(
                number, params, active.attempt, "exited without reporting a result (call tunelab.report_final)"
            )
        else:
            how = f"killed by signal {-code}" if code < 0 else f"exit code {code}"
            self._failed(number, params, active.attempt, how)

    def _failed(self, number: int, params: dict[str, Any], attempt: int, reason: str) -> None:
        tail = self._stderr_tail(number)
        message = f"{reason}{': ' + tail if tail else ''}"
        failures = self._failed_attempts.get(number, 0) + 1
        self._failed_attempts[number] = failures
        if failures <= self.config.failure.retries:
            wait = f"retry {failures} of {self.config.failure.retries} after: {reason}"
            self.storage.update_trial(
                self.experiment_id,
                number,
                state=TrialState.WAITING,
                message=message,
                wait_reason=wait,
                ended_at=time.time(),
            )
            self._queue.append(_Queued(number, params, attempt + 1, wait))
            logger.info("trial %d failed (%s); %s", number, reason, wait)
            return
        self._finish(number, params, TrialState.FAILED, None, {}, message)
        if not self.config.failure.ignore and self._error is None:
            self._error = f"trial {number} failed ({message})"

    def _finish(
        self,
        number: int,
        params: dict[str, Any],
        state: TrialState,
        value: float | None,
        metrics: dict[str, Any],
        message: str,
        *,
        observe: bool = True,
    ) -> None:
        note = getattr(self._plans.get(number), "note", "")  # what the scheduler started it for
        message = f"{note}; {message}" if note and message else note or message
        self.storage.update_trial(
            self.experiment_id, number, state=state, value=value, metrics=metrics, message=message, ended_at=time.time()
        )
        self._counts.add(state)
        self.scheduler.on_end(number, _outcome(state), value)
        if observe:
            self.tuner.observe(number, value)
            self._note_best(number, params, value)
        else:
            self.tuner.forget(number)
        self._notify()

    def _note_best(self, number: int, params: Any, value: float | None) -> None:
        if value is None or value != value:
            return
        loss = value if self.config.mode == "min" else -value
        if self._best is None or loss < self._best[0]:
            self._best = (loss, number, dict(params), value)

    def _stderr_tail(self, number: int) -> str:
        path = self._trial_dir(number) / STDERR_FILE
        try:
            with open(path, "rb") as handle:
                handle.seek(0, os.SEEK_END)
                size = handle.tell()
                handle.seek(max(0, size - 4096))
                text = handle.read().decode(errors="replace")
        except OSError:
            return ""
        lines = [line for line in text.splitlines() if line.strip()][-_STDERR_TAIL_LINES:]
        return " | ".join(line.strip() for line in lines)

    def _stop_all(self, state: TrialState, message: str) -> None:
        """Stop every running trial and wait for them, keeping all they reported."""
        for active in self._active.values():
            if active.stop_state is None:
                active.stop_state, active.stop_message = state, message
            active.handle.stop(self.stop_grace)
        while self._active:
            self._collect()
            if self._active:
                self._wait()
        for queued in self._queue:
            self._finish(queued.number, queued.params, TrialState.CANCELED, None, {}, message, observe=False)
        self._queue.clear()

    # ------------------------------------------------------------------ housekeeping
    def _elapsed(self) -> float:
        return self._elapsed_before + (time.monotonic() - self._started_monotonic)

    def _persist_elapsed(self) -> None:
        self.storage.update_experiment(self.experiment_id, elapsed=self._elapsed())

    def _heartbeat(self) -> None:
        now = time.monotonic()
        if now >= self._next_heartbeat:
            self._next_heartbeat = now + _HEARTBEAT_SECONDS
            self.storage.update_experiment(self.experiment_id, heartbeat_at=time.time(), elapsed=self._elapsed())
            self._notify()

    def _stop_requested(self) -> bool:
        """Poll storage for a stop flag and other requests (from the CLI or the dashboard)."""
        now = time.monotonic()
        if now < self._next_stop_check:
            return False
        self._next_stop_check = now + _STOP_CHECK_SECONDS
        for request in self.storage.get_requests(self.experiment_id):
            self.storage.close_request(request.id, self._handle(request))
        return self.storage.get_experiment(self.experiment_id).stop_requested

    def _handle(self, request: Request) -> str:
        payload = request.payload
        try:
            if request.kind == RequestKind.CANCEL_TRIAL:
                return self._cancel(int(payload["number"]))
            if request.kind == RequestKind.UPDATE_LIMITS:
                return self._update_limits(payload)
            if request.kind == RequestKind.ADD_TRIAL:
                self.tuner.enqueue(payload["params"])
                self._exhausted = False
                if self.max_trials is not None and self._created >= self.max_trials:
                    self.max_trials = self._created + 1
                    self._persist_limits()
                return "queued to run next"
        except (KeyError, TypeError, ValueError, TunelabError) as exc:
            return f"rejected: {exc}"
        return f"rejected: unknown request {request.kind!r}"

    def _cancel(self, number: int) -> str:
        if number in self._active:
            active = self._active[number]
            active.stop_state, active.stop_message = TrialState.CANCELED, "canceled by the user"
            active.handle.stop(self.stop_grace)
            return f"trial {number} is being stopped"
        for queued in list(self._queue):
            if queued.number == number:
                self._queue.remove(queued)
                self._finish(
                    number, queued.params, TrialState.CANCELED, None, {}, "canceled by the user", observe=False
                )
                return f"trial {number} canceled before it ran again"
        return f"rejected: trial {number} is not running or waiting"

    def _update_limits(self, payload: Mapping[str, Any]) -> str:
        from tunelab.config import parse_duration

        changes = []
        if "max_trials" in payload:
            value = payload["max_trials"]
            if value is not None and (isinstance(value, bool) or int(value) < 1):
                raise ValueError(f"max_trials must be >= 1 or null, got {value!r}")
            self.max_trials = None if value is None else int(value)
            changes.append(f"max_trials={self.max_trials}")
        if "max_duration" in payload:
            self.max_duration = parse_duration(payload["max_duration"])
            changes.append(f"max_duration={self.max_duration}")
        if "concurrency" in payload:
            value = int(payload["concurrency"])
            if value < 1:
                raise ValueError(f"concurrency must be >= 1, got {value}")
            self.concurrency = value
            changes.append(f"concurrency={value}")
        self._persist_limits()
        return "set " + ", ".join(changes) if changes else "nothing to change"

    def _persist_limits(self) -> None:
        """Keep changed limits in the stored config, so a resume honours them."""
        config = dict(self.storage.get_experiment(self.experiment_id).config)
        config.update(max_trials=self.max_trials, max_duration=self.max_duration, concurrency=self.concurrency)
        self.storage.update_experiment(self.experiment_id, config=config)

    def _set_waiting_reason(self, reason: str) -> None:
        if reason != self._waiting_reason:
            self._waiting_reason = reason
            self.storage.update_experiment(self.experiment_id, waiting_reason=reason)

    def _wait(self) -> None:
        """Sleep until a trial exits or the poll interval passes (reports are read each round)."""
        fds = [a.handle.fileno() for a in self._active.values()]
        fds = [fd for fd in fds if fd >= 0]
        try:
            if fds:
                select.select(fds, [], [], self.poll_interval)
            else:
                time.sleep(self.poll_interval if self._active else 0.0)
        except InterruptedError:
            pass

    def _write_best(self) -> None:
        if self._best is None:
            return
        import json

        _, number, params, value = self._best
        artifact = {
            "experiment_id": self.experiment_id,
            "trial": number,
            "value": value,
            "mode": self.config.mode,
            "metric": self.config.metric,
            "params": params,
        }
        self.experiment_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.experiment_dir / "best_params.json.tmp"
        tmp.write_text(json.dumps(artifact, indent=2, default=repr))
        os.replace(tmp, self.experiment_dir / "best_params.json")

    def progress(self, phase: Phase | None = None) -> Progress:
        best = self._best
        return Progress(
            phase=phase or Phase.RUNNING,
            max_trials=self.max_trials,
            max_duration=self.max_duration,
            elapsed=self._elapsed(),
            succeeded=self._counts.succeeded,
            failed=self._counts.failed,
            early_stopped=self._counts.early_stopped,
            canceled=self._counts.canceled,
            running=len(self._active),
            waiting=len(self._queue),
            best_value=None if best is None else best[3],
            best_params=None if best is None else best[2],
            best_number=None if best is None else best[1],
            waiting_reason=self._waiting_reason,
        )

    def _notify(self, phase: Phase | None = None) -> None:
        if self.listener is not None:
            self.listener.on_progress(self.progress(phase))

    # ------------------------------------------------------------------ signals
    def _install_signal_handlers(self) -> dict[int, Any]:
        if threading.current_thread() is not threading.main_thread():
            return {}

        def interrupt(signum: int, frame: Any) -> None:
            if self._interrupted:  # a second Ctrl-C: stop waiting for the grace period
                for active in self._active.values():
                    signal_group(active.handle.pid, signal.SIGKILL)
            self._interrupted = True

        previous = {}
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, interrupt)
        return previous

    @staticmethod
    def _restore_signal_handlers(previous: dict[int, Any]) -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
