"""Trial throughput: how much does tunelab add to running trivial trials? Every contender in one run.

Function trials (a trivial objective, ``return x``), for each tuner (random, TPE) and
concurrency (1, 2):

* tunelab with durable SQLite storage, each ``trial.isolation``: ``inline`` (in the engine's
  process), ``worker`` (reused worker processes, the default) and ``process`` (a fork per trial);
* Optuna with in-memory, journal-file and SQLite storage (``n_jobs`` = concurrency).

Command trials (a new interpreter per trial that reads its parameters and reports), at
concurrency 2: a bare loop of ``python -c pass`` (the floor), the same loop with
``import tunelab; tunelab.report_final(...)``, tunelab command trials, Optuna running the
command as a subprocess per trial, and NNI 3.0 (``--nni-python``; NNI runs its REST server and
web UI on localhost, so it runs offline).

Also the import a trial pays: ``python -c "import tunelab; tunelab.report_final(1.0)"`` against
``python -c pass`` (and ``import nni`` of tunelab's compatibility module).

Interpreters start with a warm bytecode cache in a private folder (``PYTHONPYCACHEPREFIX``), as
they do on a user's machine, even where ``PYTHONDONTWRITEBYTECODE`` is set.

Usage: ``nice -n 10 python -m benchmarks.throughput [--function-trials 2000] [--process-trials 300]
[--command-trials 40] [--nni-python PATH]``. Writes ``benchmarks/results/throughput.md``.
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
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "throughput.md"
TRIAL_CODE = "import tunelab; p = tunelab.get_params(); tunelab.report_final(p.get('x', 0.0))"
COMMAND_CONCURRENCY = 2


def _trivial(params: dict) -> float:
    return params["x"]


# ------------------------------------------------------------------ function trials
def tunelab_functions(n: int, workdir: Path, tuner: str, concurrency: int, isolation: str) -> float:
    from tunelab import Experiment, hp

    experiment = Experiment(
        search_space={"x": hp.uniform(0, 1)},
        objective=_trivial,
        tuner=tuner,
        max_trials=n,
        concurrency=concurrency,
        seed=0,
        isolation=isolation,
        storage=str(workdir / "bench.db"),
        experiment_dir=str(workdir / f"fn-{time.monotonic_ns()}"),
    )
    start = time.perf_counter()
    result = experiment.run(verbose=False)
    elapsed = time.perf_counter() - start
    succeeded = sum(t.state.value == "SUCCEEDED" for t in result.trials)
    assert succeeded == n, f"{succeeded} of {n} succeeded: {result.message}"
    return elapsed


def optuna_functions(n: int, workdir: Path, tuner: str, concurrency: int, storage: str) -> float:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = optuna.samplers.TPESampler(seed=0) if tuner == "tpe" else optuna.samplers.RandomSampler(seed=0)
    backend: object
    if storage == "in-memory":
        backend = None
    elif storage == "journal-file":
        from optuna.storages import JournalStorage
        from optuna.storages.journal import JournalFileBackend

        backend = JournalStorage(JournalFileBackend(str(workdir / f"optuna-{time.monotonic_ns()}.log")))
    else:
        backend = f"sqlite:///{workdir / f'optuna-{time.monotonic_ns()}.db'}"
    study = optuna.create_study(storage=backend, sampler=sampler)  # type: ignore[arg-type]
    start = time.perf_counter()
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=n, n_jobs=concurrency)
    return time.perf_counter() - start


# ------------------------------------------------------------------ command trials
def bare_loop(n: int, code: str) -> float:
    start = time.perf_counter()

    def one(_: int) -> None:
        subprocess.run([sys.executable, "-c", code], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    with ThreadPoolExecutor(COMMAND_CONCURRENCY) as pool:
        list(pool.map(one, range(n)))
    return time.perf_counter() - start


def tunelab_commands(n: int, workdir: Path) -> float:
    from tunelab import Experiment, hp

    experiment = Experiment(
        search_space={"x": hp.uniform(0, 1)},
        trial={"command": f'{sys.executable} -c "{TRIAL_CODE}"', "code_dir": str(workdir)},
        tuner="random",
        max_trials=n,
        concurrency=COMMAND_CONCURRENCY,
        seed=0,
        storage=str(workdir / "bench.db"),
        experiment_dir=str(workdir / f"cmd-{time.monotonic_ns()}"),
    )
    start = time.perf_counter()
    result = experiment.run(verbose=False)
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
    study.optimize(objective, n_trials=n, n_jobs=COMMAND_CONCURRENCY)
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
    import socket

    with socket.socket() as probe:  # a free port on loopback for NNI's REST server and web UI
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    out = subprocess.run(
        [nni_python, "driver.py", str(n), str(port), str(workdir)],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    for line in out.stdout.splitlines():
        if line.startswith("ELAPSED"):
            return float(line.split()[1])
    raise RuntimeError(f"NNI run failed: {out.stderr[-2000:]}")


# ------------------------------------------------------------------ the trial-side import
def import_cost(code: str, runs: int) -> float:
    """Median wall time (s) of ``python -c code``."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _median(run: Callable[[], float], repeat: int) -> tuple[float, list[float]]:
    times = [run() for _ in range(repeat)]
    return statistics.median(times), times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--function-trials", type=int, default=2000)
    parser.add_argument("--tpe-trials", type=int, default=2000, help="function trials with TPE")
    parser.add_argument("--process-trials", type=int, default=300, help="for isolation: process (a fork each)")
    parser.add_argument("--sqlite-trials", type=int, default=2000, help="for Optuna's SQLite storage")
    parser.add_argument("--command-trials", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=1, help="runs per contender; the median is reported")
    parser.add_argument("--nni-python", default=None, help="an interpreter with nni==3.0 installed")
    parser.add_argument("--skip-commands", action="store_true")
    parser.add_argument(
        "--scratch",
        default=None,
        help="the folder the run's experiments, databases and journals go in (default: the system's temporary "
        "folder); making a file or folder costs several times more in some folders than in others of one disk",
    )
    args = parser.parse_args()

    load_before = os.getloadavg()[0]
    workdir = Path(tempfile.mkdtemp(prefix="tunelab-throughput-", dir=args.scratch))
    os.environ["TUNELAB_HOME"] = str(workdir / "home")
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ["PYTHONPYCACHEPREFIX"] = str(workdir / "pycache")
    subprocess.run([sys.executable, "-c", "import tunelab, tunelab.engine, optuna"], check=False)  # warm the cache
    try:
        import optuna  # noqa: F401

        have_optuna = True
    except ImportError:
        have_optuna = False
        print("optuna not installed: its rows are skipped", file=sys.stderr)

    for tuner in ("random", "tpe"):  # what a run imports the first time is not timed
        tunelab_functions(5, workdir, tuner, 1, "inline")
        if have_optuna:
            optuna_functions(5, workdir, tuner, 1, "in-memory")
    function_rows: list[tuple[str, str, int, int, float]] = []  # (contender, tuner, concurrency, trials, seconds)
    for tuner in ("random", "tpe"):
        for concurrency in (1, 2):
            contenders: dict[str, tuple[int, Callable[[], float]]] = {}
            trials = args.function_trials if tuner == "random" else args.tpe_trials
            for isolation in ("inline", "worker", "process"):
                n = min(trials, args.process_trials) if isolation == "process" else trials
                contenders[f"tunelab, isolation {isolation}, SQLite"] = (
                    n,
                    lambda n=n, i=isolation, t=tuner, c=concurrency: tunelab_functions(n, workdir, t, c, i),
                )
            if have_optuna:
                for storage in ("in-memory", "journal-file", "SQLite"):
                    n = min(trials, args.sqlite_trials) if storage == "SQLite" else trials
                    contenders[f"Optuna, {storage}"] = (
                        n,
                        lambda n=n, s=storage, t=tuner, c=concurrency: optuna_functions(n, workdir, t, c, s),
                    )
            for name, (n, run) in contenders.items():
                median, times = _median(run, args.repeat)
                function_rows.append((name, tuner, concurrency, n, median))
                print(f"{tuner} c={concurrency} {name}: {n / median:.0f} trials/s ({median:.2f} s)", file=sys.stderr)

    command_rows: list[tuple[str, float]] = []
    failures: list[str] = []
    if not args.skip_commands:
        n = args.command_trials
        commands: dict[str, Callable[[], float]] = {
            "bare loop: `python -c pass`": lambda: bare_loop(n, "pass"),
            "bare loop: `python -c 'import tunelab; report_final'`": lambda: bare_loop(n, TRIAL_CODE),
            "tunelab command trials": lambda: tunelab_commands(n, workdir),
        }
        if have_optuna:
            commands["Optuna, subprocess per trial (SQLite)"] = lambda: optuna_commands(n, workdir)
        if args.nni_python:  # absolute (NNI's driver runs in the work folder), not resolved (a venv's link)
            nni_python = os.path.abspath(args.nni_python)
            commands["NNI 3.0 command trials"] = lambda: nni_commands(n, workdir, nni_python)
        for name, run in commands.items():
            try:
                median, _ = _median(run, args.repeat if not name.startswith("NNI") else 1)
            except Exception as exc:  # noqa: BLE001 - a peer that cannot run here is reported, not fatal
                failures.append(f"{name}: could not run here ({type(exc).__name__}: {str(exc).splitlines()[0][:200]})")
                print(failures[-1], file=sys.stderr)
                continue
            command_rows.append((name, median))
            print(f"{name}: {median:.2f} s", file=sys.stderr)

    shims = str(Path(__file__).resolve().parents[1] / "src" / "tunelab" / "trial" / "_shims")
    base = import_cost("pass", 21)
    light = import_cost("import tunelab; tunelab.report_final(1.0)", 21)
    env_nni = f"import sys; sys.path.insert(0, {shims!r}); import nni; nni.report_final_result(1.0)"
    nni_import = import_cost(env_nni, 21)
    base_path = import_cost(f"import sys; sys.path.insert(0, {shims!r})", 21)

    lines = [
        "# Trial throughput",
        "",
        f"Measured on a {os.cpu_count()}-core machine, every contender side by side in the same run, so the",
        "comparison is fair whatever else the machine did; the absolute figures depend on that (the load",
        f"average, 1 min, as `uptime` says: {load_before:.1f} when the run began, {os.getloadavg()[0]:.1f} when it",
        f"ended). {platform.machine()}, Python {platform.python_version()}, one run per contender.",
        "",
        "Reproduce: `nice -n 10 python -m benchmarks.throughput "
        f"--function-trials {args.function_trials} --tpe-trials {args.tpe_trials} "
        f"--process-trials {args.process_trials} --sqlite-trials {args.sqlite_trials} "
        f"--command-trials {args.command_trials}"
        + (" --nni-python PATH" if args.nni_python else "")
        + (f" --scratch {args.scratch}`" if args.scratch else "`"),
        "",
        f"Every experiment, database and journal of the run is in `{workdir.parent}`.",
        "",
        "## Function trials (a trivial objective)",
        "",
        "| tuner | concurrency | contender | trials | trials/s | ms per trial |",
        "| --- | ---: | --- | ---: | ---: | ---: |",
    ]
    for name, tuner, concurrency, n, seconds in function_rows:
        lines.append(f"| {tuner} | {concurrency} | {name} | {n} | {n / seconds:.0f} | {seconds / n * 1000:.2f} |")
    lines += [
        "",
        "ms per trial is wall time / trials (the whole cost of a trial that does nothing). tunelab's rows",
        "store every trial, its reports and its state changes in SQLite before acting on them;",
        "Optuna's journal-file and SQLite rows are its durable storages.",
    ]
    if command_rows:
        floor = command_rows[0][1]
        lines += [
            "",
            f"## Command trials ({args.command_trials} trials at concurrency {COMMAND_CONCURRENCY})",
            "",
            "| contender | wall time (s) | trials/s | overhead per trial vs `python -c pass` (ms) |",
            "| --- | ---: | ---: | ---: |",
        ]
        n = args.command_trials
        for name, median in command_rows:
            overhead = (median - floor) / n * COMMAND_CONCURRENCY * 1000
            lines.append(f"| {name} | {median:.2f} | {n / median:.1f} | {overhead:+.0f} |")
        lines += [
            "",
            "Overhead per trial is (wall time - bare loop) / trials x concurrency: the extra time one slot",
            "spends per trial.",
        ]
        lines += ["", *[f"- {failure}" for failure in failures]] if failures else []
    lines += [
        "",
        "## The import a trial pays (median of 21 interpreter starts)",
        "",
        "| command | ms | above `python -c pass` (ms) |",
        "| --- | ---: | ---: |",
        f"| `python -c pass` | {base * 1000:.1f} | +0.0 |",
        f"| `import tunelab; tunelab.report_final(1.0)` | {light * 1000:.1f} | {(light - base) * 1000:+.1f} |",
        f"| `import nni; nni.report_final_result(1.0)` (tunelab's module) | {nni_import * 1000:.1f} | "
        f"{(nni_import - base_path) * 1000:+.1f} |",
    ]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n")
    print(RESULTS.read_text())
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
