"""The experiment loop: asks the tuner, starts trials on the runner, records everything.

The engine owns no algorithm. It wires a tuner (what to try), a scheduler (when to stop,
how much budget), a runner (where it runs) and storage (what happened), enforces the
limits, and turns what each trial did into a verdict through the pure rules of
:mod:`tunelab.engine._outcome`. Every report and state change is written to storage the
moment it is seen, so a killed engine can be resumed from storage alone
(:mod:`tunelab.engine._resume`). Time comes from an injected :class:`~tunelab._clock.Clock`
and waiting from the runner, so a test drives the whole loop on a virtual timeline.
"""

from __future__ import annotations

import logging
import os
import socket
from collections import deque
from collections.abc import Callable, Mapping
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tunelab._clock import SYSTEM_CLOCK, Clock
from tunelab.config import ExperimentConfig
from tunelab.engine._attempt import Attempt, Scoring
from tunelab.engine._discovery import Discovery, with_space
from tunelab.engine._intake import Intake
from tunelab.engine._ledger import Ledger
from tunelab.engine._outcome import (
    StopCause,
    Verdict,
    classify,
    final_phase,
)
from tunelab.engine._progress import Listener, Progress, Tally, write_best
from tunelab.engine._requests import Controls, Limits
from tunelab.engine._setup import build_tuner, trial_seed
from tunelab.engine._shared import Workers
from tunelab.engine._signals import interrupts
from tunelab.errors import SearchSpaceExhausted, TrialStartError, TunelabError, escape
from tunelab.runners import Runner, TrialJob, create_runner, process_start_time
from tunelab.runners._files import distributed_job
from tunelab.schedulers import NewTrial, Resume, Wait, build_scheduler
from tunelab.storage import (
    ExperimentRecord,
    Phase,
    Storage,
    TrialNumberTaken,
    TrialState,
)
from tunelab.trial._channel import Report

logger = logging.getLogger("tunelab")

_HEARTBEAT_SECONDS = 2.0
#: A tuner whose last proposal took this long (seconds) proposes outside a transaction, and says so meanwhile.
_SLOW_PROPOSAL = 0.05


@dataclass
class Queued:
    """A trial waiting for a slot: a retry, or one to run again after an interruption."""

    number: int
    params: dict[str, Any]
    attempt: int
    reason: str


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
        clock: Clock = SYSTEM_CLOCK,
        workers: Workers | None = None,
        poll_interval: float = 0.1,
        stop_grace: float | None = None,
        discovery: Discovery | None = None,
    ) -> None:
        self.storage = storage
        self.experiment_id = experiment_id
        self.config = config
        self.objective = objective
        self.runner = runner or create_runner(config)
        self.listener = listener
        self.clock = clock
        self.workers = workers  # other engines on the same experiment (shared storage), if any
        self.poll_interval = poll_interval
        self.stop_grace = stop_grace if stop_grace is not None else (config.trial.stop_grace or 5.0)
        record = storage.get_experiment(experiment_id)
        self.experiment_dir = Path(record.experiment_dir)
        self._elapsed_before = record.elapsed
        #: The space a define-by-run objective declares as it runs (None for a declared space).
        self.discovery = discovery
        if discovery is not None:
            self.config = config = with_space(config, discovery.space.space)
        self.tuner = build_tuner(config)
        self.scheduler = build_scheduler(config)
        seed = config.seed if config.seed is not None else self.tuner.seed
        self.seed = seed if seed is not None else int.from_bytes(os.urandom(4), "little")
        self.active: dict[int, Attempt] = {}
        self.queue: deque[Queued] = deque()
        self.created = 0  # trial numbers below this exist
        self.exhausted = False
        self.tally = Tally(config.mode, config.objectives)
        self.ledger = Ledger(storage, experiment_id, clock, self.tuner, self.scheduler, self.tally, config.failure)
        self.intake = Intake(storage, experiment_id, self.scheduler, clock, Scoring.of(config), self.stop_grace)
        self.intake.on_space = self.on_space
        self.limits = Limits(config.max_trials, config.max_duration, config.concurrency)
        self._error: str | None = None
        self._interrupted = False
        self._scheduler_wait = ""
        self._waiting_reason = ""
        self._started = 0.0
        self._next_heartbeat = 0.0
        self._ticking = self._told_late = False
        self._unstored_pids: list[tuple[int, int, str | None]] = []
        self._starting: list[tuple[int, dict[str, Any], int]] = []  # recorded RUNNING, not yet started
        self._slow_tuner = False
        self._slots_busy = False
        self._runner_wait = ""
        self._job_constants: tuple[Path, Any] | None = None
        self.controls = Controls(storage, experiment_id, clock, self)

    @property
    def plans(self) -> dict[int, NewTrial | Resume]:
        """What the scheduler started each trial for."""
        return self.ledger.plans

    # ------------------------------------------------------------------ main loop
    def run(self, *, resume: bool = False) -> ExperimentRecord:
        try:
            with interrupts(self._on_interrupt):
                return self._run(resume)
        finally:
            self.runner.close()

    def _on_interrupt(self) -> None:
        if self._interrupted:  # a second Ctrl-C: stop waiting for the grace period
            for attempt in self.active.values():
                attempt.handle.stop(0.0)
        self._interrupted = True

    def _run(self, resume: bool) -> ExperimentRecord:
        self._started = self.clock.monotonic()
        now = self.clock.time()
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
        try:
            if resume:
                self.restore()
            else:
                for params in self.config.enqueue:
                    self.tuner.enqueue(params)
            self._notify()
            phase, message = self._loop()
        except TunelabError as exc:
            phase, message = Phase.ERROR, str(exc)
            self._stop_all("the experiment ended in ERROR")
        except BaseException as exc:
            # A bug or an interrupt inside the engine: say so in storage, so nobody waits on a dead RUNNING.
            self._stop_all("the engine stopped")
            self._end(
                Phase.ERROR, f"the engine crashed ({type(exc).__name__}: {escape(exc)}); tunelab resume continues it"
            )
            raise
        phase, message = final_phase(
            phase,
            message,
            succeeded=self.tally.succeeded,
            failed=self.tally.failed,
            first_failure=self.tally.first_failure,
            infeasible=self.tally.infeasible,
        )
        return self._end(phase, message)

    def _end(self, phase: Phase, message: str) -> ExperimentRecord:
        self.storage.update_experiment(
            self.experiment_id,
            phase=phase,
            message=message,
            ended_at=self.clock.time(),
            waiting_reason="",
            engine_pid=None,
            elapsed=self.elapsed(),
        )
        write_best(self.experiment_dir, self.experiment_id, self.tally, self.config.metric)
        self._notify(phase)
        logger.info("experiment %s ended %s%s", self.experiment_id, phase.value, f": {message}" if message else "")
        return self.storage.get_experiment(self.experiment_id)

    def _loop(self) -> tuple[Phase, str]:
        while True:
            ending = self._tick() or self._ending()  # the listener, told after the tick, may have asked to stop
            if ending is not None:
                phase, message, why = ending
                self._stop_all(why)
                return phase, message
            self._fill_slots()
            if self._error is not None:
                continue
            if not self.active and not self.queue:
                if self._scheduler_wait:
                    return Phase.DONE, self._scheduler_wait
                if not self._more_to_create():
                    exhausted = f"the search space is exhausted after {self.created} trials"
                    return Phase.DONE, exhausted if self.exhausted else ""
            self._heartbeat()
            if self.active and not self.queue and self.workers is None and self._more_to_create():
                self.runner.make_ahead(self.trial_dir(self.created))  # the next new trial's (alone, its number)
            self.runner.wait([a.handle for a in self.active.values()], self.poll_interval if self.active else 0.0)

    def _ending(self) -> tuple[Phase, str, str] | None:
        """Whether the experiment ends now: its phase, its message and why the running trials are stopped."""
        if self._error is not None:
            return Phase.ERROR, self._error, "another trial failed"
        if self._interrupted or self.controls.poll():
            message = "interrupted" if self._interrupted else "stopped by the user"
            return Phase.STOPPED, message, "the experiment was stopped"
        max_duration = self.limits.max_duration
        if max_duration is not None and self.elapsed() >= max_duration:
            message = f"max_duration ({max_duration:g} s) reached after {self.tally.ended} trials"
            return Phase.TIMEOUT, message, "the experiment reached max_duration"
        return None

    def _more_to_create(self) -> bool:
        return not self.exhausted and self._under_limit()

    def restore(self) -> None:
        """Replay what storage holds (see :mod:`tunelab.engine._resume`)."""
        from tunelab.engine._resume import restore

        if self.workers is None or not self.workers.restore(self):
            restore(self)

    # ------------------------------------------------------------------ starting trials
    def _fill_slots(self) -> None:
        """Start trials until every slot is busy: each is recorded (one transaction), then started."""
        if self.workers is not None:
            self.workers.sync(self)
        self._runner_wait = ""
        while self._error is None and self._slot_free() and (self.queue or self._under_limit()):
            slow = self._slow_tuner
            if slow:  # said while it proposes (a readable write of its own)
                self._set_waiting_reason("the tuner is proposing the next configuration")
            with nullcontext() if slow else self.storage.batch():  # a slow tuner holds no write lock
                recorded = self._record_next()
            if not recorded:
                break
            self._launch()
        busy = len(self.active) >= self.limits.concurrency
        pending = bool(self.queue) or self._more_to_create()
        self._slots_busy = busy and pending
        reason = f"all {self.limits.concurrency} slots busy" if self._slots_busy else self._runner_wait
        self._set_waiting_reason(reason or ("" if busy else self._scheduler_wait))

    def _under_limit(self) -> bool:
        return self.limits.max_trials is None or self.created < self.limits.max_trials

    def _slot_free(self) -> bool:
        return len(self.active) + len(self._starting) < self.limits.concurrency

    def _record_next(self) -> bool:
        """Record the next trial to start (a queued one, else a new one) in storage; False when none can start now.

        It is started by :meth:`_launch` once what was recorded is durable.
        """
        if not self._slot_free() or self._error is not None:
            return False
        runner_wait = self._runner_wait = self.runner.wait_reason()  # e.g. every GPU taken
        if runner_wait:
            return False
        try:
            if self.queue:
                queued = self.queue.popleft()
                self.start(queued.number, queued.params, queued.attempt)
                return True
            return self._under_limit() and self._propose()  # a used-up space may still have promotions to run
        except TrialNumberTaken as exc:
            if self.workers is None:
                raise
            self.workers.taken(self, exc)
            return True  # propose again

    def _propose(self) -> bool:
        """Create and start one new trial as the scheduler and the tuner say; False when none can be made now."""
        action = self.scheduler.next_trial()
        self._scheduler_wait = action.reason if isinstance(action, Wait) else ""
        if isinstance(action, Wait):
            return False
        if isinstance(action, Resume):
            # A configuration continues as a new trial: the tuner hears of it as pending.
            number, params = max(self.created, self.tuner.n_suggested), dict(action.params)
            self.tuner.restore(number, params, pending=True)
        else:
            if self.exhausted:
                self.scheduler.on_unused(action)
                return False
            began = self.clock.monotonic()
            try:
                if action.params is not None:
                    self.tuner.enqueue(action.params)
                number, params = self.tuner.suggest()
                self._slow_tuner = self.clock.monotonic() - began >= _SLOW_PROPOSAL
            except SearchSpaceExhausted as exc:
                if self.discovery is not None and self.active:  # a running trial may still grow the space
                    self.scheduler.on_unused(action)
                    self._scheduler_wait = "waiting for a running trial to declare the parameters it searches"
                    return False
                logger.info("%s", exc)
                self.exhausted = True
                self.scheduler.on_unused(action)
                return False
        self.created = max(self.created, number + 1)
        seed, folder = trial_seed(self.seed, number), self.trial_dir(number)
        if self.workers is not None:  # other engines share the experiment: created WAITING, then claimed
            self.ledger.create(number, params, action, seed, folder)
            self.start(number, params, attempt=1)
        else:  # recorded RUNNING at once; started by _launch once that is durable, as start() does
            self.ledger.create(number, params, action, seed, folder, started_at=self.clock.time())
            self._starting.append((number, params, 1))
        return True

    def trial_dir(self, number: int) -> Path:
        return self.experiment_dir / "trials" / str(number)

    def job(self, number: int, params: dict[str, Any], attempt: int) -> TrialJob:
        """What the runner needs to run one attempt of trial ``number``."""
        trial = self.config.trial
        plan = self.plans.get(number)
        source = plan.checkpoint_from if isinstance(plan, Resume) else None
        folder = self.trial_dir(number)
        if self._job_constants is None:  # the same for every trial of the experiment
            self._job_constants = (Path(trial.code_dir), distributed_job(trial))
        code_dir, distributed = self._job_constants
        return TrialJob(
            experiment_id=self.experiment_id,
            number=number,
            attempt=attempt,
            params=params,
            trial_dir=folder,
            code_dir=code_dir,
            seed=trial_seed(self.seed, number),
            command=trial.command,
            function=self._function(),
            env=trial.env,
            compat=tuple(trial.compat),
            params_as_argv=trial.params_as_argv,
            result_labels=tuple(trial.result_labels),
            budget=None if plan is None else plan.budget,
            budget_param=None if self.config.scheduler is None else self.config.scheduler.budget_param,
            checkpoint_dir=folder / "checkpoint",
            checkpoint_from=None if source is None else self.trial_dir(source) / "checkpoint",
            checkpoint_params=self.config.scheduler is not None and self.config.scheduler.checkpoint_params,
            distributed=distributed,
        )

    def _function(self) -> Callable[..., Any] | None:
        if self.discovery is None or self.objective is None:
            return self.objective
        return self.discovery.function(self.objective, self.seed)

    def on_space(self, attempt: Attempt, report: Report) -> None:
        """A define-by-run trial declared parameters: grow the space, keep the values it drew."""
        if self.discovery is not None:
            attempt.params = self.discovery.absorb(self, attempt.number, attempt.params, report)

    def start(self, number: int, params: dict[str, Any], attempt: int) -> None:
        """Record one attempt as RUNNING; :meth:`_launch` starts it once that is durable, so a resume after a kill
        at any moment knows of it."""
        if self.workers is not None and not self.workers.claim(self, number):
            return
        self.storage.update_trial(
            self.experiment_id,
            number,
            state=TrialState.RUNNING,
            attempt=attempt,
            started_at=self.clock.time(),
            ended_at=None,
            wait_reason="",
            message=self.ledger.note(number),
            pid=None,
            pid_start=None,
        )
        self._starting.append((number, params, attempt))

    def _launch(self) -> None:
        """Start on the runner the attempts :meth:`start` recorded (after the transaction that recorded them)."""
        starting, self._starting = self._starting, []
        for number, params, attempt in starting:
            job = self.job(number, params, attempt)
            try:
                handle = self.runner.start(job)
            except TrialStartError as exc:
                # The same for every trial (a missing program): end the experiment now, with the reason.
                self.finish(number, params, Verdict(TrialState.FAILED, message=f"could not start: {exc}"))
                self._error = f"trial {number} could not start: {exc}"
                continue
            timeout = self.config.trial.timeout
            deadline = self.clock.monotonic() + timeout if timeout else None
            self.active[number] = Attempt(number, attempt, params, handle, deadline, budget=job.budget)
            # Stored with the next tick's writes; until then a resume finds the trial's process by its pid file.
            self._unstored_pids.append((number, handle.pid, handle.pid_start))
            self._notify()

    # ------------------------------------------------------------------ trial events
    def _collect(self) -> None:
        for attempt in list(self.active.values()):
            self.intake.read(attempt)
            self.intake.enforce(attempt, self.config.trial.timeout)
            code = attempt.handle.poll()
            if code is not None:
                self.intake.read(attempt, exited=True)
                del self.active[attempt.number]
                self._ended(attempt, code)

    def _ended(self, attempt: Attempt, code: int) -> None:
        verdict = classify(attempt.end(code))
        if verdict.failure:
            detail = attempt.handle.failure_detail()
            message = verdict.message
            if code == 1 and message == "exit code 1" and self.config.trial.command is None:
                message = "the objective failed"  # a function's status 1 is tunelab's, not the user's
            if detail:
                message = f"{message}: {detail}"
            verdict = Verdict(verdict.state, verdict.value, verdict.metrics, message)
        self.settle(attempt.number, attempt.params, attempt.attempt, verdict)

    def settle(self, number: int, params: dict[str, Any], attempt: int, verdict: Verdict) -> None:
        """Record a verdict (see :meth:`Ledger.settle`) and do what it asks of the loop."""
        settled = self.ledger.settle(number, params, attempt, verdict)
        if settled.again:
            self.queue.append(Queued(number, params, settled.attempt, settled.reason))
        if settled.abort is not None and self._error is None:
            self._error = settled.abort
        self._notify()

    def finish(self, number: int, params: dict[str, Any], verdict: Verdict) -> None:
        self.ledger.finish(number, params, verdict)
        self._notify()

    def _stop_all(self, message: str) -> None:
        """Stop every running trial and wait for them, keeping all they reported; the rest run again on resume."""
        for attempt in self.active.values():
            attempt.stop_for(StopCause.INTERRUPTED, f"interrupted ({message}); runs again on resume", self.stop_grace)
        while self.active:
            self._collect()
            if self.active:
                self.runner.wait([a.handle for a in self.active.values()], self.poll_interval)
        for queued in self.queue:
            self.storage.update_trial(
                self.experiment_id, queued.number, state=TrialState.WAITING, wait_reason="runs on resume"
            )
        self.queue.clear()

    # ------------------------------------------------------------------ control requests (see Controls)
    def cancel(self, number: int) -> str:
        """Cancel a running or waiting trial (it does not run again)."""
        if number in self.active:
            self.active[number].stop_for(StopCause.CANCELED, "canceled by the user", self.stop_grace)
            return f"trial {number} is being stopped"
        for queued in list(self.queue):
            if queued.number == number:
                self.queue.remove(queued)
                self.finish(number, queued.params, Verdict(TrialState.CANCELED, message="canceled by the user"))
                return f"trial {number} canceled before it ran again"
        return f"rejected: trial {number} is not running or waiting"

    def add_trial(self, params: Mapping[str, Any]) -> str:
        """Run ``params`` next (the trial limit grows by one if it is reached)."""
        self.tuner.enqueue(params)
        self.exhausted = False
        if self.limits.max_trials is not None and self.created >= self.limits.max_trials:
            self.limits.max_trials = self.created + 1
            self.controls.persist_limits()
        return "queued to run next"

    # ------------------------------------------------------------------ housekeeping
    def elapsed(self) -> float:
        return self._elapsed_before + (self.clock.monotonic() - self._started)

    def _heartbeat(self) -> None:
        now = self.clock.monotonic()
        if now >= self._next_heartbeat:
            self._next_heartbeat = now + _HEARTBEAT_SECONDS
            self.storage.update_experiment(self.experiment_id, heartbeat_at=self.clock.time(), elapsed=self.elapsed())
            self._notify()

    def _set_waiting_reason(self, reason: str) -> None:
        if reason != self._waiting_reason:
            self._waiting_reason = reason
            self.storage.update_experiment(self.experiment_id, waiting_reason=reason)

    def _shown_waiting_reason(self) -> str:
        """Why trials wait, as of now: "all slots busy" only while they are (a trial may have ended since)."""
        if self._slots_busy and len(self.active) < self.limits.concurrency:
            return ""
        return self._waiting_reason

    def progress(self, phase: Phase | None = None) -> Progress:
        tally = self.tally
        return Progress(
            phase=phase or Phase.RUNNING,
            max_trials=self.limits.max_trials,
            max_duration=self.limits.max_duration,
            elapsed=self.elapsed(),
            succeeded=tally.succeeded,
            failed=tally.failed,
            early_stopped=tally.early_stopped,
            canceled=tally.canceled,
            running=len(self.active),
            waiting=len(self.queue),
            best_value=tally.best_value,
            best_params=tally.best_params,
            best_number=tally.best_number,
            waiting_reason=self._shown_waiting_reason(),
            front_size=None if tally.objectives is None else len(tally.front),
        )

    def _notify(self, phase: Phase | None = None) -> None:
        if self._ticking:  # told once what the tick recorded is durable
            self._told_late = True
        elif self.listener is not None:
            self.listener.on_progress(self.progress(phase))

    def _tick(self) -> tuple[Phase, str, str] | None:
        """Take in what every running trial did and record the next trial to start, as one storage transaction
        (:meth:`Storage.batch`); then start that trial. Returns how the experiment ends, if it ends now.

        Nothing recorded in the tick is acted on before it is durable: the next trial starts, and the
        listener hears that a trial ended, only after the batch has been committed.
        """
        self._ticking, self._told_late = True, False
        try:
            with self.storage.batch():
                self._collect()
                for number, pid, pid_start in self._unstored_pids:
                    if number in self.active:  # one that has ended needs no pid (a resume never looks for it)
                        pid_start = pid_start or process_start_time(pid)
                        self.storage.update_trial(self.experiment_id, number, pid=pid, pid_start=pid_start)
                self._unstored_pids.clear()
                ending = self._ending()
                if ending is None and not self._slow_tuner and self.workers is None:  # workers: sync first
                    self._record_next()  # the slot a trial just left, in the same transaction
        finally:
            self._ticking = False
        self._launch()
        if self._told_late:
            self._notify()
        return ending
