"""Test doubles and a contract suite for runners.

* :class:`FakeClock` and :class:`FakeRunner`: trials scripted on a virtual timeline
  (Syne Tune's simulator backend), so an engine test runs a day of trials in milliseconds
  and never races the machine's clock. ``FakeRunner.wait`` returns at once while a trial
  has ended, else jumps the clock to the next scripted event (a report, an end) or by its
  timeout, instead of sleeping.
* :class:`RunnerCase` and :func:`runner_checks`: the behaviour every runner owes the engine
  (reports arrive incrementally, stop is SIGTERM then SIGKILL after the grace period, exit
  codes, failure details, recovery after the engine died, start errors), checked against
  any runner through a factory. Trials are the scripts of :data:`CONTRACT_TRIAL` (a command)
  and :func:`contract_trial` (a function), or :func:`contract_behaviour` for the fake.

Nothing here imports pytest; a check fails with ``AssertionError`` and is skipped by raising
:class:`NotApplicable`.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import signal
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from tunelab.errors import TrialStartError
from tunelab.runners._base import Recovered, Runner, TrialHandle, TrialJob
from tunelab.trial._channel import BadReport, Report, ReportKind, decode, encode

__all__ = [
    "CONTRACT_TRIAL",
    "FakeClock",
    "FakeRunner",
    "FakeTrial",
    "NotApplicable",
    "RunnerCase",
    "RunnerContract",
    "contract_behaviour",
    "contract_trial",
    "runner_checks",
]


class FakeClock:
    """A :class:`tunelab._clock.Clock` whose time moves only when told (``advance``, ``sleep``)."""

    def __init__(self, start: float = 0.0, epoch: float = 1_700_000_000.0) -> None:
        self._now = float(start)
        self._epoch = float(epoch)

    def monotonic(self) -> float:
        return self._now

    def time(self) -> float:
        """Wall-clock seconds: ``epoch`` plus the virtual time elapsed."""
        return self._epoch + self._now

    def sleep(self, seconds: float) -> None:
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError(f"a clock cannot go back, got advance({seconds!r})")
        self._now += seconds


@dataclass(frozen=True)
class FakeTrial:
    """One scripted attempt; times are seconds after its start.

    ``reports``: ``(t, Report)`` or ``(t, value)`` (an intermediate report, steps 0, 1, ...).
    ``final``: ``(t, value)``. ``raw_lines``: ``(t, bytes)`` written to the channel as they are
    (bad reports). The trial ends at ``end`` (default: its last event) with ``exit_code``.
    On SIGTERM (``stop``) it ends ``stop_delay`` later with -15 (``on_sigterm="exit"``), first
    reporting ``final_on_sigterm`` and exiting 0 if that is set, or keeps running until SIGKILL
    at the end of the grace period (``"ignore"``, exit -9). On ``request_stop`` it ends
    ``stop_delay`` later with exit 0 when ``honours_request_stop``, first reporting
    ``final_on_request_stop`` if that is set. ``fail_to_start``
    makes ``start`` raise :class:`~tunelab.errors.TrialStartError`; ``stderr`` is its
    :meth:`~tunelab.runners.TrialHandle.failure_detail`.
    """

    reports: Sequence[tuple[float, Report | float | None]] = ()
    final: tuple[float, float | None] | None = None
    exit_code: int = 0
    end: float | None = None
    on_sigterm: Literal["exit", "ignore"] = "exit"
    final_on_sigterm: float | None = None
    honours_request_stop: bool = True
    final_on_request_stop: float | None = None
    stop_delay: float = 0.0
    fail_to_start: bool | str = False
    raw_lines: Sequence[tuple[float, bytes]] = ()
    stderr: str = ""


class _FakeHandle(TrialHandle):
    def __init__(self, runner: FakeRunner, job: TrialJob, trial: FakeTrial, pid: int) -> None:
        self.job = job
        self.pid = pid
        self.trial = trial
        #: What the trial was sent, in order, for assertions: ``"request_stop"``, ``"SIGTERM"``, ``"SIGKILL"``.
        self.signals: list[str] = []
        self._clock = runner.clock
        self._start = runner.clock.monotonic()
        self._wall = runner.clock.time()
        self._events: list[tuple[float, Report | BadReport]] = []
        for step, (t, item) in enumerate(trial.reports):
            report = item if isinstance(item, Report) else Report(ReportKind.INTERMEDIATE, item, step)
            self._add(t, report)
        if trial.final is not None:
            self._add(trial.final[0], Report(ReportKind.FINAL, trial.final[1]))
        for t, line in trial.raw_lines:
            self._events.append((self._start + t, decode(line)))
        self._events.sort(key=lambda event: event[0])
        last = max((t for t, _ in self._events), default=self._start)
        end = self._start + trial.end if trial.end is not None else last
        #: Ways the trial may end, ``(time, exit code)``; the earliest wins.
        self._endings: list[tuple[float, int]] = [(end, trial.exit_code)]
        self._delivered = 0
        self._exit: int | None = None

    def _add(self, t: float, report: Report) -> None:
        stamped = report._replace(time=self._wall + t, attempt=self.job.attempt)
        self._events.append((self._start + t, decode(encode(stamped))))  # through the real channel

    @property
    def end_time(self) -> float:
        return min(self._endings, key=lambda ending: ending[0])[0]

    def _code_at(self, now: float) -> int | None:
        when, code = min(self._endings, key=lambda ending: ending[0])
        return code if now >= when else None

    def poll(self) -> int | None:
        if self._exit is None:
            self._exit = self._code_at(self._clock.monotonic())
        return self._exit

    def read_reports(self) -> list[Report | BadReport]:
        cutoff = min(self._clock.monotonic(), self.end_time)
        out = []
        while self._delivered < len(self._events) and self._events[self._delivered][0] <= cutoff:
            out.append(self._events[self._delivered][1])
            self._delivered += 1
        return out

    def stop(self, grace: float) -> None:
        if self.poll() is not None:
            return
        now = self._clock.monotonic()
        self.signals.append("SIGTERM")
        if self.trial.on_sigterm == "ignore":
            self._endings.append((now + max(0.0, grace), -signal.SIGKILL))
            self.signals.append("SIGKILL")  # scheduled: it comes at the end of the grace period
        elif self.trial.final_on_sigterm is not None:
            self._insert(now + self.trial.stop_delay, Report(ReportKind.FINAL, self.trial.final_on_sigterm))
            self._endings.append((now + self.trial.stop_delay, 0))
        else:
            self._endings.append((now + self.trial.stop_delay, -signal.SIGTERM))

    def request_stop(self) -> None:
        if self.poll() is not None:
            return
        self.signals.append("request_stop")
        if self.trial.honours_request_stop:
            at = self._clock.monotonic() + self.trial.stop_delay
            if self.trial.final_on_request_stop is not None:
                self._insert(at, Report(ReportKind.FINAL, self.trial.final_on_request_stop))
            self._endings.append((at, 0))

    def _insert(self, at: float, report: Report) -> None:
        stamped = report._replace(time=self._wall + (at - self._start), attempt=self.job.attempt)
        pending = [e for e in self._events[self._delivered :] if e[0] <= at]
        index = self._delivered + len(pending)
        self._events.insert(index, (at, decode(encode(stamped))))

    def failure_detail(self) -> str:
        return " | ".join(line.strip() for line in self.trial.stderr.splitlines() if line.strip())

    def _ended(self, now: float) -> bool:
        return self._code_at(now) is not None

    def _next_event(self, now: float) -> float:
        times = [t for t, _ in self._events[self._delivered :] if now < t <= self.end_time]
        return min([*times, self.end_time])


class FakeRunner(Runner):
    """Runs :class:`FakeTrial` scripts on a :class:`FakeClock`; nothing runs for real.

    ``behaviour(job)`` returns the script of each attempt the engine starts. Every started
    job is kept in ``jobs`` and its handle in ``handles`` (in start order). ``wait`` moves
    the clock to the next scripted event (or by ``timeout``). ``recover`` finds a trial by
    the pid its handle had: a live one is stopped as ``stop(grace)`` would (the clock moves
    on until it has ended, as a real recovery blocks), and what it wrote by then comes back.
    Set ``waiting`` to a reason to make :meth:`wait_reason` say why no trial may start.
    """

    def __init__(self, clock: FakeClock, behaviour: Callable[[TrialJob], FakeTrial]) -> None:
        self.clock = clock
        self.behaviour = behaviour
        self.jobs: list[TrialJob] = []
        self.handles: list[_FakeHandle] = []
        self.waiting = ""
        self.closed = 0
        self._pids = itertools.count(10_000)

    def start(self, job: TrialJob) -> TrialHandle:
        trial = self.behaviour(job)
        self.jobs.append(job)
        if trial.fail_to_start:
            why = trial.fail_to_start if isinstance(trial.fail_to_start, str) else "scripted to fail"
            raise TrialStartError(f"cannot start trial {job.number}: {why}")
        handle = _FakeHandle(self, job, trial, next(self._pids))
        self.handles.append(handle)
        return handle

    def wait(self, handles: Sequence[TrialHandle], timeout: float) -> None:
        now = self.clock.monotonic()
        fakes = [h for h in handles if isinstance(h, _FakeHandle)]
        if any(h._ended(now) for h in fakes):  # as a real trial's descriptor stays readable once it ended
            return
        target = min([h._next_event(now) for h in fakes] + [now + max(0.0, timeout)])
        self.clock.advance(max(0.0, target - now))

    def recover(self, job: TrialJob, pid: int | None, pid_start: str | None, grace: float) -> Recovered:
        # Without a recorded pid (the engine died between starting it and storing its pid), the attempt is
        # found by its number and attempt, as a real runner finds it by what it left in the trial's folder.
        handle = next(
            (
                h
                for h in self.handles
                if (h.pid == pid if pid else (h.job.number, h.job.attempt) == (job.number, job.attempt))
            ),
            None,
        )
        if handle is None:
            return Recovered()
        alive = handle.poll() is None
        if alive:
            handle.stop(grace)
            self.clock.advance(max(0.0, handle.end_time - self.clock.monotonic()))
            handle.poll()
        cutoff = min(self.clock.monotonic(), handle.end_time)
        return Recovered(reports=tuple(r for t, r in handle._events if t <= cutoff), was_alive=alive)

    def wait_reason(self) -> str:
        return self.waiting

    def close(self) -> None:
        self.closed += 1


# The contract. Trials are chosen by ``params["script"]``:
#   quick     reports 0.0 and 1.0 (steps 0, 1), writes a line to stderr, final 2.0, sys.exit(params["exit"]) (0)
#             (os._exit with params["hard"]: its process ends with it, even a reused worker)
#   exit      os._exit(params["exit"]) at once (no clean-up: a crash isolation check)
#   raise     raises ValueError("boom")
#   leak      changes its process (an environment variable, the working folder, SIGTERM's handler,
#             the random seed), reports final 1.0
#   probe     reports final 0.0 with metrics describing its process (what a leak would have changed)
#   forever   reports 0.0, then runs until it is killed (SIGTERM's default action: -15)
#   stubborn  ignores SIGTERM, reports 0.0, runs until SIGKILL (-9)
#   graceful  on SIGTERM reports final 5.0 and exits 0; reports 0.0, runs until then
#   polite    reports 0.0, and on tunelab.should_stop() reports final 1.0 and exits 0
#   suicide   kills itself with SIGKILL (-9)
#   params    reports final params["x"] and writes its parameters as JSON to stdout

CONTRACT_TRIAL = r"""
import json, os, signal, sys, time
import tunelab

def main(params):
    script = params["script"]
    if script == "quick":
        tunelab.report(0.0, step=0)
        tunelab.report(1.0, step=1)
        print("quick trial: something went wrong", file=sys.stderr, flush=True)
        tunelab.report_final(2.0)
        sys.stdout.flush()
        (os._exit if params.get("hard") else sys.exit)(int(params.get("exit", 0)))
    if script == "exit":
        os._exit(int(params["exit"]))
    if script == "raise":
        raise ValueError("boom")
    if script == "leak":
        import random
        os.environ["TUNELAB_CONTRACT_LEAK"] = "1"
        os.chdir(os.path.dirname(os.getcwd()))
        if params.get("signals"):
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
        random.seed(12345)
        tunelab.report_final(1.0)
        return
    if script == "probe":
        import random
        tunelab.report_final(
            0.0,
            leaked=os.environ.get("TUNELAB_CONTRACT_LEAK"),
            cwd=os.getcwd(),
            sigterm=str(signal.getsignal(signal.SIGTERM)),
            random=random.random(),
            number=tunelab.get_trial_id(),
        )
        return
    if script == "params":
        print(json.dumps(params), flush=True)
        tunelab.report_final(float(params["x"]))
        return
    if script == "suicide":
        os.kill(os.getpid(), signal.SIGKILL)
    if script == "stubborn":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if script == "graceful":
        def on_term(signum, frame):
            tunelab.report_final(5.0)
            os._exit(0)
        signal.signal(signal.SIGTERM, on_term)
    tunelab.report(0.0, step=0)  # after the handlers: once this is read, they are in place
    while True:
        if script == "polite" and tunelab.should_stop():
            tunelab.report_final(1.0)
            return
        time.sleep(0.02)

if __name__ == "__main__":
    main(tunelab.get_params())
"""


def contract_trial(params: dict[str, Any]) -> None:
    """The function form of :data:`CONTRACT_TRIAL` (picklable: a module-level function)."""
    namespace: dict[str, Any] = {"__name__": "tunelab_contract_trial"}
    exec(compile(CONTRACT_TRIAL, "<contract trial>", "exec"), namespace)  # our own constant
    namespace["main"](params)


def contract_behaviour(job: TrialJob) -> FakeTrial:
    """The :class:`FakeTrial` form of the contract scripts."""
    script = job.params.get("script")
    if script == "quick":
        return FakeTrial(
            reports=[(1.0, 0.0), (2.0, 1.0)],
            final=(3.0, 2.0),
            exit_code=int(job.params.get("exit", 0)),
            stderr="quick trial: something went wrong",
        )
    if script == "params":
        return FakeTrial(final=(1.0, float(job.params["x"])))
    if script == "suicide":
        return FakeTrial(end=1.0, exit_code=-signal.SIGKILL)
    if script == "exit":
        return FakeTrial(end=1.0, exit_code=int(job.params["exit"]))
    if script == "raise":
        return FakeTrial(end=1.0, exit_code=1, stderr="Traceback (most recent call last): | ValueError: boom")
    if script == "unstartable":
        return FakeTrial(fail_to_start="no such program")
    forever = 10.0**9
    if script == "stubborn":
        return FakeTrial(reports=[(1.0, 0.0)], end=forever, on_sigterm="ignore", honours_request_stop=False)
    if script == "graceful":
        return FakeTrial(reports=[(1.0, 0.0)], end=forever, final_on_sigterm=5.0, honours_request_stop=False)
    if script == "polite":
        return FakeTrial(reports=[(1.0, 0.0)], end=forever, final_on_request_stop=1.0)
    return FakeTrial(reports=[(1.0, 0.0)], end=forever, honours_request_stop=False)  # forever


class NotApplicable(Exception):
    """Raised by a check that does not apply to a runner case (the suite skips it)."""


@dataclass
class RunnerCase:
    """A runner under test: how to make it and how to make a contract job for it.

    ``kind``: ``"command"`` (:data:`CONTRACT_TRIAL` as a script), ``"function"``
    (:func:`contract_trial`) or ``"fake"`` (:func:`contract_behaviour`; build the runner with
    it). ``processes``: the trials are real processes of this machine (zombies, pids and
    start times exist). ``pid_start`` gives what the engine would store with the pid.
    """

    name: str
    make_runner: Callable[[], Runner]
    kind: Literal["command", "function", "fake"] = "command"
    processes: bool = True
    pid_start: Callable[[TrialHandle], str | None] = field(default=lambda handle: _start_time(handle.pid))
    #: Real-time limit of one wait in a check (seconds); generous, checks never assert elapsed time.
    patience: float = 120.0
    #: ``recover`` finds a trial that still runs and stops it (a Ray trial dies with its driver instead).
    recovers_live_trials: bool = True
    #: ``start`` raises TrialStartError for a missing program (remote runners learn it later, as exit 127).
    start_errors: bool = True
    #: A trial's crash (``os._exit``, a signal) ends only that trial (false for ``trial.isolation: inline``).
    isolated: bool = True
    #: A running trial can be stopped (false when ``start`` returns only once the trial has ended).
    stoppable: bool = True

    def job(self, folder: Path, script: str, number: int = 0, attempt: int = 1, **params: Any) -> TrialJob:
        code_dir = folder / "code"
        code_dir.mkdir(parents=True, exist_ok=True)
        command = function = None
        if self.kind == "command":
            (code_dir / "trial.py").write_text(CONTRACT_TRIAL)
            command = f"{sys.executable} trial.py"
        elif self.kind == "function":
            function = contract_trial
        return TrialJob(
            experiment_id="contract",
            number=number,
            attempt=attempt,
            params={"script": script, **params},
            trial_dir=folder / "trials" / f"{number}",
            code_dir=code_dir,
            command=command,
            function=function,
        )


def _start_time(pid: int) -> str | None:
    from tunelab.runners._processes import process_start_time

    return process_start_time(pid)


class _Run:
    """One started trial in a check: its handle, what it reported so far, and waiting helpers."""

    def __init__(self, case: RunnerCase, runner: Runner, job: TrialJob) -> None:
        self.case, self.runner, self.job = case, runner, job
        self.handle = runner.start(job)
        self.reports: list[Report | BadReport] = []

    def collect(self) -> list[Report | BadReport]:
        new = self.handle.read_reports()
        self.reports += new
        return new

    def until(self, predicate: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + self.case.patience
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.case.name}: gave up waiting until {what}")
            self.runner.wait([self.handle], 0.05)

    def first_report(self) -> None:
        self.until(lambda: bool(self.collect()) or bool(self.reports), "the trial's first report")

    def end(self) -> int:
        self.until(lambda: self.handle.poll() is not None, "the trial ended")
        self.collect()
        code = self.handle.poll()
        assert code is not None
        return code


def _values(reports: Sequence[Report | BadReport]) -> list[tuple[str, int | None, float | None]]:
    assert all(isinstance(r, Report) for r in reports), reports
    return [(r.kind.value, r.step, r.value) for r in reports if isinstance(r, Report)]


def check_reports_are_incremental_and_the_exit_code_is_kept(case: RunnerCase, folder: Path) -> None:
    runner = case.make_runner()
    try:
        run = _Run(case, runner, case.job(folder, "quick"))
        seen: list[Report | BadReport] = []

        def ended() -> bool:
            seen.extend(run.handle.read_reports())  # read while it runs: each report comes once
            return run.handle.poll() is not None

        run.until(ended, "it ended")
        seen += run.handle.read_reports()
        assert _values(seen) == [("intermediate", 0, 0.0), ("intermediate", 1, 1.0), ("final", None, 2.0)]
        assert all(isinstance(r, Report) and r.attempt == 1 for r in seen)
        assert run.handle.read_reports() == []  # nothing twice
        assert run.handle.poll() == 0 and run.handle.poll() == 0
        run.handle.stop(0.0)  # after the end: nothing happens
        run.handle.request_stop()
        assert run.handle.poll() == 0
    finally:
        runner.close()
        runner.close()  # idempotent


def check_exit_codes(case: RunnerCase, folder: Path) -> None:
    runner = case.make_runner()
    try:
        assert _Run(case, runner, case.job(folder, "quick", 0, exit=3)).end() == 3
        if case.isolated:
            assert _Run(case, runner, case.job(folder, "suicide", 1)).end() == -signal.SIGKILL
            assert _Run(case, runner, case.job(folder, "exit", 2, exit=4)).end() == 4
        run = _Run(case, runner, case.job(folder, "params", 3, x=1.5))  # the runner still runs trials
        assert run.end() == 0 and _values(run.reports) == [("final", None, 1.5)]
    finally:
        runner.close()


def check_an_exception_fails_only_its_trial(case: RunnerCase, folder: Path) -> None:
    runner = case.make_runner()
    try:
        run = _Run(case, runner, case.job(folder, "raise"))
        assert run.end() == 1
        assert "ValueError: boom" in run.handle.failure_detail()
        assert [r for r in run.reports if isinstance(r, Report)] == []
        run = _Run(case, runner, case.job(folder, "params", 1, x=0.5))
        assert run.end() == 0 and _values(run.reports) == [("final", None, 0.5)]
    finally:
        runner.close()


def check_a_trial_does_not_see_what_an_earlier_one_changed(case: RunnerCase, folder: Path) -> None:
    """A runner that reuses a process (a worker, the engine's own) puts back what a trial changed in it."""
    if case.kind == "fake":
        raise NotApplicable("fake trials change nothing")
    runner = case.make_runner()
    try:
        first = dataclasses.replace(case.job(folder, "probe", 0), seed=7)  # each trial seeds random with its seed
        fresh = _Run(case, runner, first)
        assert fresh.end() == 0, fresh.handle.failure_detail()
        assert _Run(case, runner, case.job(folder, "leak", 1, signals=case.isolated)).end() == 0
        again = _Run(case, runner, first)
        assert again.end() == 0, again.handle.failure_detail()
        before, after = (run.reports[-1] for run in (fresh, again))
        assert isinstance(before, Report) and isinstance(after, Report)
        ignored = {"random"} if case.kind == "command" else set()  # a command seeds its generators itself
        shown = [{k: v for k, v in report.metrics.items() if k not in ignored} for report in (before, after)]
        assert shown[0] == shown[1], shown
        assert after.metrics["leaked"] is None and after.metrics["cwd"] == str(first.code_dir)
    finally:
        runner.close()


def check_failure_detail_shows_stderr(case: RunnerCase, folder: Path) -> None:
    runner = case.make_runner()
    try:
        run = _Run(case, runner, case.job(folder, "quick", exit=3))
        assert run.end() == 3
        assert "quick trial: something went wrong" in run.handle.failure_detail()
        assert "\n" not in run.handle.failure_detail()
    finally:
        runner.close()


def check_params_reach_the_trial(case: RunnerCase, folder: Path) -> None:
    runner = case.make_runner()
    try:
        run = _Run(case, runner, case.job(folder, "params", x=0.25, name="a b"))
        assert run.end() == 0
        assert _values(run.reports) == [("final", None, 0.25)]
        if case.processes:
            from tunelab.runners._files import trial_log_path

            assert json.loads(trial_log_path(run.job.trial_dir, "stdout").read_text()) == dict(run.job.params)
    finally:
        runner.close()


def check_stop_is_sigterm(case: RunnerCase, folder: Path) -> None:
    _needs_stop(case)
    runner = case.make_runner()
    try:
        run = _Run(case, runner, case.job(folder, "forever"))
        run.first_report()
        assert run.handle.poll() is None
        run.handle.stop(120.0)  # SIGTERM's default action ends it long before the grace period
        assert run.end() == -signal.SIGTERM
    finally:
        runner.close()


def check_a_trial_ignoring_sigterm_is_killed_after_the_grace_period(case: RunnerCase, folder: Path) -> None:
    _needs_stop(case)
    runner = case.make_runner()
    try:
        run = _Run(case, runner, case.job(folder, "stubborn"))
        run.first_report()
        run.handle.stop(0.5)
        assert run.end() == -signal.SIGKILL
    finally:
        runner.close()


def check_sigterm_lets_a_trial_report_before_it_ends(case: RunnerCase, folder: Path) -> None:
    _needs_stop(case)
    runner = case.make_runner()
    try:
        run = _Run(case, runner, case.job(folder, "graceful"))
        run.first_report()
        run.handle.stop(120.0)
        assert run.end() == 0
        assert _values(run.reports) == [("intermediate", 0, 0.0), ("final", None, 5.0)]
    finally:
        runner.close()


def check_request_stop_lets_the_trial_end_by_itself(case: RunnerCase, folder: Path) -> None:
    _needs_stop(case)
    runner = case.make_runner()
    try:
        run = _Run(case, runner, case.job(folder, "polite"))
        run.first_report()
        run.handle.request_stop()
        assert run.end() == 0
        assert _values(run.reports)[-1] == ("final", None, 1.0)
    finally:
        runner.close()


def _needs_stop(case: RunnerCase) -> None:
    if not case.stoppable:
        raise NotApplicable("its trials cannot be stopped while they run")


def check_recover_stops_a_live_orphan_with_sigterm_and_returns_all_it_wrote(case: RunnerCase, folder: Path) -> None:
    _check_recover_live_orphan(case, folder, pid_stored=True)


def check_recover_finds_a_live_orphan_whose_pid_was_never_stored(case: RunnerCase, folder: Path) -> None:
    _check_recover_live_orphan(case, folder, pid_stored=False)


def _check_recover_live_orphan(case: RunnerCase, folder: Path, *, pid_stored: bool) -> None:
    """The engine died while a trial ran: nobody calls its handle again; the runner finds it (by its pid, or
    by its attempt when the engine died before storing the pid), stops it with SIGTERM first, and returns
    everything it wrote."""
    if not case.recovers_live_trials or not case.stoppable:
        raise NotApplicable("its trials end with the engine")
    runner = case.make_runner()
    try:
        job = case.job(folder, "graceful")
        run = _Run(case, runner, job)
        run.first_report()
        pid, pid_start = (run.handle.pid, case.pid_start(run.handle)) if pid_stored else (None, None)
        recovered = runner.recover(job, pid, pid_start, 120.0)
        run.handle.poll()  # only so that the dead engine's process object notices (no warning when collected)
        assert recovered.was_alive
        assert _values(recovered.reports) == [("intermediate", 0, 0.0), ("final", None, 5.0)]
    finally:
        runner.close()


def check_recover_finds_a_finished_trial_dead_even_as_a_zombie(case: RunnerCase, folder: Path) -> None:
    if not case.processes:
        raise NotApplicable("no processes, no zombies")
    runner = case.make_runner()
    try:
        job = case.job(folder, "quick", hard=True)
        run = _Run(case, runner, job)
        pid, pid_start = run.handle.pid, case.pid_start(run.handle)
        # Wait without polling (polling would reap it): the exited child stays a zombie of this process.
        deadline = time.monotonic() + case.patience
        while _state(pid) not in ("Z", "X", None):
            assert time.monotonic() < deadline, "the trial never ended"
            time.sleep(0.02)
        recovered = runner.recover(job, pid, pid_start, 120.0)
        run.handle.poll()
        assert not recovered.was_alive
        assert _values(recovered.reports) == [("intermediate", 0, 0.0), ("intermediate", 1, 1.0), ("final", None, 2.0)]
    finally:
        runner.close()


def _state(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None


def check_a_missing_program_is_a_start_error(case: RunnerCase, folder: Path) -> None:
    if case.kind == "function":
        raise NotApplicable("a function always starts")
    if not case.start_errors:
        raise NotApplicable("the program is looked for where the trial runs")
    runner = case.make_runner()
    try:
        job = case.job(folder, "unstartable")
        if case.kind == "command":
            job = dataclasses.replace(job, command="no-such-program-tunelab --flag")
        try:
            runner.start(job)
        except TrialStartError as exc:
            assert "\n" not in str(exc)
            if case.kind == "command":
                assert "cannot start 'no-such-program-tunelab'" in str(exc) and "trial.command" in str(exc)
                assert "no-such-program-tunelab" in (job.trial_dir / "stderr.log").read_text()
        else:
            raise AssertionError("start() did not raise TrialStartError")
    finally:
        runner.close()


def check_compat_scripts_import_their_modules(case: RunnerCase, folder: Path) -> None:
    if case.kind != "command":
        raise NotApplicable("NNI and Auptimizer scripts are commands")
    runner = case.make_runner()
    try:
        code = folder / "compat"
        code.mkdir(parents=True, exist_ok=True)
        (code / "nni_trial.py").write_text(
            "import nni\n"
            "params = nni.get_next_parameter()\n"
            "nni.report_intermediate_result(params['x'] / 2)\n"
            "nni.report_final_result({'default': params['x'], 'other': 1})\n"
        )
        (code / "aup_trial.py").write_text(
            "import sys\n"
            "from aup import BasicConfig, print_result\n"
            "config = BasicConfig().load(sys.argv[1])\n"
            "print_result(config['x'] * 2)\n"
        )
        nni = TrialJob(
            "contract",
            0,
            1,
            {"x": 0.5},
            folder / "nni",
            code,
            command=f"{sys.executable} nni_trial.py",
            compat=("nni",),
        )
        aup = TrialJob(
            "contract",
            1,
            1,
            {"x": 0.5},
            folder / "aup",
            code,
            command=f"{sys.executable} aup_trial.py",
            compat=("aup",),
            params_as_argv=True,
        )
        run = _Run(case, runner, nni)
        assert run.end() == 0, run.handle.failure_detail()
        assert _values(run.reports) == [("intermediate", 0, 0.25), ("final", None, 0.5)]
        last = run.reports[-1]
        assert isinstance(last, Report) and last.metrics == {"other": 1}
        run = _Run(case, runner, aup)
        assert run.end() == 0, run.handle.failure_detail()
        assert [r.value for r in run.reports if isinstance(r, Report)][-1] == 1.0
    finally:
        runner.close()


def check_wait_returns_when_a_trial_ends(case: RunnerCase, folder: Path) -> None:
    runner = case.make_runner()
    try:
        run = _Run(case, runner, case.job(folder, "quick"))
        deadline = time.monotonic() + case.patience
        while run.handle.poll() is None:  # a wait that ignored the trial's end would only time out
            assert time.monotonic() < deadline
            runner.wait([run.handle], case.patience)
    finally:
        runner.close()


def check_folders_made_ahead_are_used_or_removed_and_no_other_folder_is(case: RunnerCase, folder: Path) -> None:
    """``make_ahead``: a trial started in a folder made ahead runs there and keeps it; at close a folder made
    ahead and never used is gone, and a folder that was there before (someone else's) is left alone."""
    runner = case.make_runner()
    job = case.job(folder, "params", number=3, x=0.5)
    unused, theirs = job.trial_dir.parent / "4", job.trial_dir.parent / "5"
    theirs.mkdir(parents=True)
    try:
        for made in (job.trial_dir, unused, theirs):
            runner.make_ahead(made)
        run = _Run(case, runner, job)
        assert run.end() == 0
        assert _values(run.reports) == [("final", None, 0.5)]
    finally:
        runner.close()
    assert job.trial_dir.is_dir() or not case.processes
    assert not unused.exists()
    assert theirs.is_dir()


class RunnerContract:
    """The contract as a class of pytest tests: subclass it and give it a ``runner_case`` fixture.

    ``class TestMyRunner(RunnerContract): @pytest.fixture ... def runner_case(self): return RunnerCase(...)``.
    A check that does not apply to the case is skipped.
    """

    def _run(self, check: Callable[[RunnerCase, Path], None], runner_case: RunnerCase, tmp_path: Path) -> None:
        import pytest

        try:
            check(runner_case, tmp_path)
        except NotApplicable as why:
            pytest.skip(str(why))


def _as_test(check: Callable[[RunnerCase, Path], None]) -> Callable[[RunnerContract, RunnerCase, Path], None]:
    def test(self: RunnerContract, runner_case: RunnerCase, tmp_path: Path) -> None:
        self._run(check, runner_case, tmp_path)

    test.__name__ = "test_" + check.__name__.removeprefix("check_")
    test.__doc__ = check.__doc__
    return test


def runner_checks() -> list[Callable[[RunnerCase, Path], None]]:
    """Every check of the runner contract, each ``check(case, empty_folder)``."""
    return [
        check_reports_are_incremental_and_the_exit_code_is_kept,
        check_exit_codes,
        check_an_exception_fails_only_its_trial,
        check_a_trial_does_not_see_what_an_earlier_one_changed,
        check_failure_detail_shows_stderr,
        check_params_reach_the_trial,
        check_stop_is_sigterm,
        check_a_trial_ignoring_sigterm_is_killed_after_the_grace_period,
        check_sigterm_lets_a_trial_report_before_it_ends,
        check_request_stop_lets_the_trial_end_by_itself,
        check_folders_made_ahead_are_used_or_removed_and_no_other_folder_is,
        check_recover_stops_a_live_orphan_with_sigterm_and_returns_all_it_wrote,
        check_recover_finds_a_live_orphan_whose_pid_was_never_stored,
        check_recover_finds_a_finished_trial_dead_even_as_a_zombie,
        check_a_missing_program_is_a_start_error,
        check_compat_scripts_import_their_modules,
        check_wait_returns_when_a_trial_ends,
    ]


for _check in runner_checks():
    setattr(RunnerContract, _as_test(_check).__name__, _as_test(_check))
del _check
