"""Trial throughput: how much does tunelab add to running trivial trials?

Runs, in one process and one run, the same N trivial trials at concurrency 2:

* a bare loop of ``python -c pass`` processes (the floor for command trials),
* the same with ``import tunelab; tunelab.report_final(...)`` (what a real trial pays to report),
* tunelab command trials, and tunelab function trials (each in its own forked process),
* Optuna with ``n_jobs=2`` on the same command (subprocess per trial) and on a trivial function,
* NNI 3.0 on the same command, when an interpreter with NNI is given (``--nni-python``).

Usage: ``python -m benchmarks.throughput [--trials 20] [--repeat 3] [--nni-python PATH]``.
Writes ``benchmarks/results/throughput.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "throughput.md"
TRIAL_CODE = "import tunelab; p = tunelab.get_params(); tunelab.report_final(p.get('x', 0.0))"
CONCURRENCY = 2


def bare_loop(n: int, code: str) -> float:
    start = time.perf_counter()
    with ThreadPoolExecutor(CONCURRENCY) as pool:
        list(pool.map(lambda _: subprocess.run([sys.executable, "-c", code], check=True), range(n)))
    return time.perf_counter() - start


def tunelab_commands(n: int, workdir: Path) -> float:
    from tunelab import Experiment, hp

    experiment = Experiment(
        search_space={"x": hp.uniform(0, 1)},
        trial={"command": f'{sys.executable} -c "{TRIAL_CODE}"', "code_dir": str(workdir)},
        tuner="random",
        max_trials=n,
        concurrency=CONCURRENCY,
        seed=0,
        storage=str(workdir / "bench.db"),
        experiment_dir=str(workdir / f"cmd-{time.monotonic_ns()}"),
    )
    start = time.perf_counter()
    result = experiment.run()
    elapsed = time.perf_counter() - start
    assert sum(t.state.value == "SUCCEEDED" for t in result.trials) == n, result.message
    return elapsed


def _trivial(params: dict) -> float:
    return params["x"]


def tunelab_functions(n: int, workdir: Path) -> float:
    from tunelab import Experiment, hp

    experiment = Experiment(
        search_space={"x": hp.uniform(0, 1)},
        objective=_trivial,
        tuner="random",
        max_trials=n,
        concurrency=CONCURRENCY,
        seed=0,
        storage=str(workdir / "bench.db"),
        experiment_dir=str(workdir / f"fn-{time.monotonic_ns()}"),
    )
    start = time.perf_counter()
    result = experiment.run()
    elapsed = time.perf_counter() - start
    assert sum(t.state.value == "SUCCEEDED" for t in result.trials) == n, result.message
    return elapsed


def optuna_commands(n: int, workdir: Path) -> float:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)

    def objective(trial: optuna.Trial) -> float:
        x = trial.suggest_float("x", 0, 1)
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        return x

    study = optuna.create_study(storage=f"sqlite:///{workdir / f'optuna-{time.monotonic_ns()}.db'}")
    start = time.perf_counter()
    study.optimize(objective, n_trials=n, n_jobs=CONCURRENCY)
    return time.perf_counter() - start


def optuna_functions(n: int, workdir: Path) -> float:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(storage=f"sqlite:///{workdir / f'optuna-{time.monotonic_ns()}.db'}")
    start = time.perf_counter()
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=n, n_jobs=CONCURRENCY)
    return time.perf_counter() - start


NNI_DRIVER = textwrap.dedent(
    """
    import sys, time
    from nni.experiment import Experiment
    n, port, workdir = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    experiment = Experiment("local")
    experiment.config.trial_command = sys.executable + " trial.py"
    experiment.config.trial_code_directory = workdir
    experiment.config.search_space = {"x": {"_type": "uniform", "_value": [0, 1]}}
    experiment.config.tuner.name = "Random"
    experiment.config.max_trial_number = n
    experiment.config.trial_concurrency = 2
    experiment.config.experiment_working_directory = workdir + "/nni-experiments"
    start = time.perf_counter()
    experiment.start(port, debug=False)
    while True:
        status = experiment.get_status()
        if status in ("DONE", "STOPPED", "ERROR", "NO_MORE_TRIAL"):
            jobs = experiment.list_trial_jobs()
            if status != "NO_MORE_TRIAL" or all(j.status in ("SUCCEEDED", "FAILED") for j in jobs):
                break
        time.sleep(0.05)
    print("ELAPSED", time.perf_counter() - start, status, len(jobs))
    experiment.stop()
    """
)


def nni_commands(n: int, workdir: Path, nni_python: str) -> float:
    (workdir / "trial.py").write_text("import nni\nnni.report_final_result(nni.get_next_parameter()['x'])\n")
    (workdir / "driver.py").write_text(NNI_DRIVER)
    out = subprocess.run(
        [nni_python, "driver.py", str(n), "18089", str(workdir)],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=900,
    )
    for line in out.stdout.splitlines():
        if line.startswith("ELAPSED"):
            return float(line.split()[1])
    raise RuntimeError(f"NNI run failed: {out.stderr[-2000:]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3, help="runs per contender; the median is reported")
    parser.add_argument("--nni-python", default=None, help="an interpreter with nni==3.0 installed")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="tunelab-throughput-"))
    os.environ["TUNELAB_HOME"] = str(workdir / "home")
    n = args.trials
    contenders = {
        "bare loop: `python -c pass`": lambda: bare_loop(n, "pass"),
        "bare loop: `python -c 'import tunelab; report_final'`": lambda: bare_loop(n, TRIAL_CODE),
        "tunelab command trials": lambda: tunelab_commands(n, workdir),
        "tunelab function trials": lambda: tunelab_functions(n, workdir),
    }
    try:
        import optuna  # noqa: F401

        contenders["Optuna, subprocess per trial (n_jobs=2)"] = lambda: optuna_commands(n, workdir)
        contenders["Optuna, in-process function (n_jobs=2)"] = lambda: optuna_functions(n, workdir)
    except ImportError:
        print("optuna not installed: skipped", file=sys.stderr)
    if args.nni_python:
        contenders["NNI 3.0 command trials"] = lambda: nni_commands(n, workdir, args.nni_python)

    rows = []
    for name, run in contenders.items():
        times = []
        for _ in range(args.repeat if not name.startswith("NNI") else 1):
            times.append(run())
        median = statistics.median(times)
        rows.append((name, median, times))
        print(f"{name}: median {median:.2f} s over {len(times)} runs {[f'{t:.2f}' for t in times]}", file=sys.stderr)
    floor = rows[0][1]
    lines = [
        "# Trial throughput",
        "",
        f"{n} trivial trials at concurrency {CONCURRENCY}; median of {args.repeat} runs (NNI: 1 run).",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}.",
        f"Reproduce: `python -m benchmarks.throughput --trials {n} --repeat {args.repeat}"
        + (" --nni-python PATH`" if args.nni_python else "`"),
        "",
        "| contender | wall time (s) | trials/s | overhead per trial vs `python -c pass` (ms) |",
        "| --- | ---: | ---: | ---: |",
    ]
    for name, median, _ in rows:
        overhead = (median - floor) / n * CONCURRENCY * 1000
        lines.append(f"| {name} | {median:.2f} | {n / median:.1f} | {overhead:+.0f} |")
    lines += [
        "",
        "Overhead per trial is (wall time - bare loop) / trials x concurrency: the extra time one slot",
        "spends per trial. Function trials and in-process Optuna start no interpreter, so they can be",
        "below the floor.",
    ]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n")
    print(RESULTS.read_text())
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
