"""Where the time of a TPE experiment goes: the tuner, or tunelab's bookkeeping?

Runs ``--trials`` trivial function trials with the TPE tuner (inline isolation, durable SQLite
storage) under cProfile and splits the time into the tuner's (``suggest``/``observe`` and what
they call), storage, the runner and the rest of the engine. Writes
``benchmarks/results/profile_tpe.md``.

    nice -n 10 python -m benchmarks.profile_tpe --trials 2000
"""

from __future__ import annotations

import argparse
import cProfile
import os
import platform
import pstats
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "profile_tpe.md"


def _trivial(params: dict) -> float:
    return params["x"] ** 2 + params["y"]


def _cumulative(stats: pstats.Stats, match: str, names: tuple[str, ...]) -> float:
    """The largest cumulative time among functions named ``names`` in files containing ``match``."""
    best = 0.0
    for (filename, _line, name), (_cc, _nc, _tt, ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        if match in filename and name in names:
            best = max(best, ct)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=2000)
    parser.add_argument("--isolation", default="inline")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="tunelab-profile-"))
    os.environ["TUNELAB_HOME"] = str(workdir)

    import tunelab
    import tunelab.engine
    import tunelab.tuners
    from tunelab import hp

    space = {"x": hp.uniform(-5, 5), "y": hp.uniform(0, 1)}
    profile = cProfile.Profile()
    start = time.perf_counter()
    profile.enable()
    result = tunelab.optimize(
        _trivial,
        space,
        tuner="tpe",
        max_trials=args.trials,
        seed=0,
        isolation=args.isolation,
        storage=str(workdir / "tpe.db"),
        verbose=False,
    )
    profile.disable()
    wall = time.perf_counter() - start
    assert result.phase.value == "DONE" and len(result.trials) == args.trials, result.message
    stats = pstats.Stats(profile)
    total = _cumulative(stats, "engine/_loop.py", ("run",))
    suggest = _cumulative(stats, "tuners/", ("suggest",))
    observe = _cumulative(stats, "tuners/", ("observe",))
    storage = sum(
        ct
        for (filename, _l, name), (_cc, _nc, _tt, ct, _c) in stats.stats.items()  # type: ignore[attr-defined]
        if "storage/_sql.py" in filename
        and name
        in ("update_trial", "create_trial", "add_intermediate", "update_experiment", "get_requests", "get_experiment")
    )
    runner = _cumulative(stats, "runners/", ("start",))
    rows = [
        ("the tuner: suggest", suggest),
        ("the tuner: observe", observe),
        ("storage (SQLite writes and the engine's reads)", storage),
        ("the runner (start: the call of the objective, its folder, its state put back)", runner),
        (
            "the rest of the engine (limits, scheduler, ledger, progress)",
            max(0.0, total - suggest - observe - storage - runner),
        ),
    ]
    lines = [
        "# Where a TPE experiment's time goes",
        "",
        f"{args.trials} trivial function trials (2 parameters), TPE, isolation {args.isolation}, durable SQLite, "
        f"under cProfile (which slows Python code down, the tuner's most). Measured on a loaded "
        f"{os.cpu_count()}-core machine (other engineers' test suites running); {platform.machine()}, "
        f"Python {platform.python_version()}.",
        f"Wall time {wall:.1f} s ({wall / args.trials * 1000:.1f} ms per trial under the profiler).",
        "",
        f"Reproduce: `nice -n 10 python -m benchmarks.profile_tpe --trials {args.trials}`",
        "",
        "| part | seconds | share of the engine's run |",
        "| --- | ---: | ---: |",
    ]
    for name, seconds in rows:
        lines.append(f"| {name} | {seconds:.2f} | {seconds / total:.0%} |")
    lines += [""]
    lines += ["Top functions by own time:", "", "```"]
    import io

    buffer = io.StringIO()
    pstats.Stats(profile, stream=buffer).sort_stats("tottime").print_stats(15)
    lines += [line for line in buffer.getvalue().splitlines() if line.strip()][-16:]
    lines += ["```", ""]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
