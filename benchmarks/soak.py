"""Soak: SIGKILL the engine at random moments, resume, and count what was lost or run twice.

Four experiments (command and function trials, each under ASHA and under Hyperband) are
run by a real engine process that is SIGKILLed after a random delay and resumed, again and
again, until the kills are used up; then each is resumed to its end. Trials report an epoch
every few tens of milliseconds and their final result; each attempt's reports stay in the
trial's folder (``reports.jsonl``, ``reports.attemptN.jsonl``), which is the ground truth:

* **lost results**: a trial whose stored value is not the final result one of its attempts
  wrote (or, stopped at its budget or early, not the last epoch it wrote), or a trial not
  ended at all;
* **duplicate runs**: a trial with more than one attempt that wrote its final result;
* **resume failures**: a resume that exited with an error, or an experiment not ending DONE.

Usage: ``python -m benchmarks.soak [--kills 50] [--seed 0]``; writes ``benchmarks/results/soak.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "soak.md"

TRIAL = """
import time, tunelab
p = tunelab.get_params()
epochs = tunelab.get_budget() or 9
for epoch in range(epochs):
    time.sleep(0.05)
    tunelab.report(p["x"] + 1.0 / (epoch + 1), step=epoch)
    if tunelab.should_stop():
        break
else:
    tunelab.report_final(p["x"])
"""

OBJECTIVE = """
import time, tunelab

def objective(params):
    epochs = tunelab.get_budget() or 9
    for epoch in range(epochs):
        time.sleep(0.05)
        tunelab.report(params["x"] + 1.0 / (epoch + 1), step=epoch)
        if tunelab.should_stop():
            return None
    return params["x"]
"""

DRIVER = """
import sys
from tunelab import Experiment
from objective import objective
if sys.argv[1] == "run":
    import yaml
    config = yaml.safe_load(open(sys.argv[2]))
    config.pop("trial")
    Experiment(objective=objective, **config).run()
else:
    Experiment.load(sys.argv[2], objective=objective).resume()
"""

SCHEDULERS = {
    "asha": {"name": "asha", "args": {"max_t": 9, "grace_period": 1, "reduction_factor": 3}},
    "hyperband": {"name": "hyperband", "args": {"max_t": 9, "reduction_factor": 3}},
}


@dataclass
class Outcome:
    name: str
    kills: int = 0
    trials: int = 0
    lost: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    resume_failures: list[str] = field(default_factory=list)
    seconds: float = 0.0


def _config(kind: str, scheduler: str, folder: Path) -> Path:
    config = {
        "name": f"soak-{kind}-{scheduler}",
        "search_space": {"x": {"_type": "uniform", "_value": [0, 1]}},
        "trial": {"command": f"{sys.executable} trial.py", "code_dir": str(folder), "stop_grace": "2s"},
        "tuner": {"name": "random", "args": {"seed": 1}},
        "scheduler": SCHEDULERS[scheduler],
        "mode": "min",
        "max_trials": 120,
        "concurrency": 2,
    }
    path = folder / "config.yml"
    path.write_text(json.dumps(config))  # JSON is YAML
    return path


def _engine(kind: str, folder: Path, experiment_id: str | None) -> subprocess.Popen[bytes]:
    env = {**os.environ, "TUNELAB_HOME": str(folder / "home")}
    if kind == "command":
        argv = [sys.executable, "-m", "tunelab.cli"]
        argv += ["resume", experiment_id] if experiment_id else ["run", str(folder / "config.yml")]
    else:
        argv = [sys.executable, "driver.py", *(["resume", experiment_id] if experiment_id else ["run", "config.yml"])]
    return subprocess.Popen(argv, cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _phase(folder: Path, experiment_id: str) -> str:
    from tunelab.storage import open_storage

    store = open_storage(folder / "home" / "tunelab.db", create=False)
    try:
        return store.get_experiment(experiment_id).phase.value
    finally:
        store.close()


def _experiment_id(folder: Path) -> str | None:
    from tunelab.storage import open_storage

    try:
        store = open_storage(folder / "home" / "tunelab.db", create=False)
    except Exception:  # noqa: BLE001 - not created yet
        return None
    try:
        records = store.list_experiments()
        return records[0].id if records else None
    finally:
        store.close()


def soak(kind: str, scheduler: str, kills: int, rng: random.Random) -> Outcome:
    outcome = Outcome(f"{kind} trials, {scheduler}")
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="tunelab-soak-") as tmp:
        folder = Path(tmp)
        (folder / "trial.py").write_text(textwrap.dedent(TRIAL))
        (folder / "objective.py").write_text(textwrap.dedent(OBJECTIVE))
        (folder / "driver.py").write_text(textwrap.dedent(DRIVER))
        _config(kind, scheduler, folder)
        experiment_id: str | None = None
        finished = False
        while outcome.kills < kills:
            if experiment_id is not None and _phase(folder, experiment_id) == "DONE":
                finished = True  # it ended (a kill can come after DONE was written, before the process exited)
                break
            process = _engine(kind, folder, experiment_id)
            try:
                process.wait(timeout=rng.uniform(0.3, 2.5))
            except subprocess.TimeoutExpired:
                process.send_signal(signal.SIGKILL)
                process.wait()
                outcome.kills += 1
            else:
                if process.returncode != 0:
                    outcome.resume_failures.append(process.stderr.read().decode(errors="replace")[-300:])
                if process.returncode == 0:
                    finished = True
                    break  # it finished before the next kill
            experiment_id = experiment_id or _experiment_id(folder)
        if not finished:  # to the end (a fresh run if no kill left one to resume)
            process = _engine(kind, folder, experiment_id)
            _, err = process.communicate(timeout=900)
            if process.returncode != 0:
                outcome.resume_failures.append(err.decode(errors="replace")[-300:])
        _check(folder, experiment_id or _experiment_id(folder), outcome)
    outcome.seconds = time.perf_counter() - start
    return outcome


def _check(folder: Path, experiment_id: str | None, outcome: Outcome) -> None:
    from tunelab.storage import Phase, TrialState, open_storage
    from tunelab.trial._channel import BadReport, ReportKind, read_all

    if experiment_id is None:
        outcome.resume_failures.append("the experiment was never created")
        return
    store = open_storage(folder / "home" / "tunelab.db", create=False)
    record = store.get_experiment(experiment_id)
    if record.phase != Phase.DONE:
        outcome.resume_failures.append(f"ended {record.phase.value}: {record.message}")
    for trial in store.get_trials(experiment_id, with_intermediate=True):
        outcome.trials += 1
        folder_ = Path(trial.trial_dir)
        finals: list[tuple[int, float | None]] = []
        last_epoch: dict[int, float | None] = {}
        for path in sorted(folder_.glob("reports*.jsonl")):
            for report in read_all(path):
                if isinstance(report, BadReport):
                    continue
                if report.kind is ReportKind.FINAL:
                    finals.append((report.attempt, report.value))
                else:
                    last_epoch[report.attempt] = report.value
        if len({attempt for attempt, _ in finals}) > 1:
            outcome.duplicates.append(f"trial {trial.number}: final results from attempts {sorted(finals)}")
        if not trial.state.is_final:
            outcome.lost.append(f"trial {trial.number} left {trial.state.value}")
        elif trial.state == TrialState.SUCCEEDED:
            written = {value for _, value in finals} | {last_epoch.get(trial.attempt)}
            if trial.value not in written:
                outcome.lost.append(f"trial {trial.number}: stored {trial.value}, written {sorted(map(str, written))}")
        elif trial.state != TrialState.EARLY_STOPPED:
            outcome.lost.append(f"trial {trial.number} ended {trial.state.value}: {trial.message}")
        steps = [r.step for r in trial.intermediate]
        if steps != list(range(len(steps))):
            outcome.lost.append(f"trial {trial.number}: mixed curve {steps}")
    store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=50, help="SIGKILLs in all, spread over the four experiments")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    scenarios = [(kind, scheduler) for kind in ("command", "function") for scheduler in SCHEDULERS]
    share = [args.kills // len(scenarios) + (i < args.kills % len(scenarios)) for i in range(len(scenarios))]
    outcomes = [soak(kind, scheduler, n, rng) for (kind, scheduler), n in zip(scenarios, share, strict=True)]
    lines = [
        "# Soak: SIGKILL at random moments, then resume",
        "",
        f"`python -m benchmarks.soak --kills {args.kills} --seed {args.seed}` on {os.cpu_count()} cores.",
        "",
        "| experiment | kills | trials | lost results | duplicate runs | resume failures | seconds |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for o in outcomes:
        lines.append(
            f"| {o.name} | {o.kills} | {o.trials} | {len(o.lost)} | {len(o.duplicates)} | "
            f"{len(o.resume_failures)} | {o.seconds:.0f} |"
        )
    total = [sum(len(getattr(o, f)) for o in outcomes) for f in ("lost", "duplicates", "resume_failures")]
    lines += [
        "",
        f"Total: {sum(o.kills for o in outcomes)} kills; lost {total[0]}, duplicates {total[1]}, "
        f"resume failures {total[2]} (target 0 / 0 / 0).",
        "",
    ]
    for o in outcomes:
        for label, items in (("lost", o.lost), ("duplicate", o.duplicates), ("resume failure", o.resume_failures)):
            lines += [f"- {o.name}, {label}: {item}" for item in items[:10]]
    RESULTS.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
