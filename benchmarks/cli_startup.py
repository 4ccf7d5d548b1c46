"""Start time of the small commands: how long ``tunelab list``, ``show``, ``best`` and ``trials``
take from start to exit, beside ``python -c pass`` and ``python -c "import numpy"``.

Each command runs as a fresh process over a stored experiment of 50 trials; the table gives
the median and the fastest of ``--repeat`` runs (wall time), and which heavy modules the
command imported (none of numpy, scipy, pandas, pydantic should be there).

Usage: ``nice -n 10 python -m benchmarks.cli_startup [--repeat 15]``.
Writes ``benchmarks/results/cli_startup.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "cli_startup.md"
HEAVY = ("numpy", "scipy", "pandas", "pydantic", "fastapi", "yaml")
PROBE = (
    "import sys, runpy\n"
    "sys.argv = ['tunelab', *sys.argv[1:]]\n"
    "try:\n"
    "    runpy.run_module('tunelab.cli', run_name='__main__')\n"
    "except SystemExit:\n"
    "    pass\n"
    f"print('HEAVY', *[m for m in {HEAVY!r} if m in sys.modules], file=sys.stderr)\n"
)


def make_history(db: Path) -> None:
    from tunelab.storage import Phase, SQLiteStorage, TrialRecord, TrialState

    store = SQLiteStorage(db)
    store.create_experiment("bench001", name="bench", config={"mode": "min"}, format="tunelab", experiment_dir="/tmp")
    for number in range(50):
        store.create_trial(TrialRecord("bench001", number, TrialState.WAITING, {"lr": 0.1 / (number + 1)}))
        store.update_trial("bench001", number, state=TrialState.SUCCEEDED, value=float(number % 7))
    store.set_phase("bench001", Phase.DONE)
    store.close()


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, str]:
    """Wall time of one run, and the heavy modules a probe run reports."""
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    heavy = next((line for line in done.stderr.splitlines() if line.startswith("HEAVY")), "")
    return elapsed, " ".join(heavy.split()[1:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.db"
        make_history(db)
        env = {**os.environ, "TUNELAB_HOME": tmp, "TUNELAB_STORAGE": str(db)}
        script = str(Path(sys.executable).with_name("tunelab"))
        commands = {
            "tunelab --version": ["--version"],
            "tunelab list": ["list"],
            "tunelab show ID": ["show", "bench"],
            "tunelab best ID": ["best", "bench"],
            "tunelab trials ID": ["trials", "bench"],
        }
        cases = {
            "python -c pass": ([sys.executable, "-c", "pass"], None),
            'python -c "import numpy"': ([sys.executable, "-c", "import numpy"], None),
        }
        cases.update({name: ([script, *argv], [sys.executable, "-c", PROBE, *argv]) for name, argv in commands.items()})
        rows = []
        for name, (argv, probe) in cases.items():
            timed(argv, env)  # warm the file cache
            times = [timed(argv, env)[0] for _ in range(args.repeat)]
            heavy = "-" if probe is None else timed(probe, env)[1] or "none"
            rows.append((name, statistics.median(times), min(times), heavy))
            print(f"{name:28} median {statistics.median(times):.3f} s  min {min(times):.3f} s  heavy: {heavy}")
    lines = [
        "# CLI start time",
        "",
        f"Measured on a loaded 2-core machine (shared with other work), {platform.python_implementation()} "
        f"{platform.python_version()}, {args.repeat} runs each after one warm-up, wall time from start to exit "
        f"over an experiment of 50 trials in SQLite; load average {load:.1f} when it started (absolute times "
        "grow with the load: compare with the `python -c` rows of the same table).",
        f"Reproduce: `nice -n 10 .venv/bin/python -m benchmarks.cli_startup --repeat {args.repeat}`.",
        "",
        "| command | median (s) | fastest (s) | median / `import numpy`'s | heavy modules imported |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    numpy = rows[1][1]
    lines += [
        f"| `{name}` | {median:.3f} | {fastest:.3f} | {median / numpy:.2f} | {heavy} |"
        for name, median, fastest, heavy in rows
    ]
    RESULTS.write_text("\n".join(lines) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
