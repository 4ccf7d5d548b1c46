"""MO-ASHA's rung rule replayed on recorded learning curves: how many of a rung to keep, and a bound.

The MLP problem of :mod:`benchmarks.multiobjective` (random configurations, validation error
against log10 parameter count after each epoch) is trained once per seed for ``--max-t`` epochs
and every configuration's curve cached under ``benchmarks/.cache/``; the rung rule is then
replayed on the curves, the trials arriving in order, one at a time, as in that benchmark:

* ``floor``: tunelab's MO-ASHA, the top ``floor(n / eta)`` of the ``n`` trials at a rung;
* ``ceil``: the same ranking keeping ``ceil(n / eta)`` (MO-ASHA's rule before December 2026);
* ``oracle``: ``floor`` but ranking each trial by its losses after the last epoch, which no
  scheduler knows: a bound on what a better ranking could save with these rungs;
* ``moasha``, ``moasha-crowding``, ``mohyperband``: tunelab's schedulers themselves (the
  last two: ties by crowding distance; Hyperband's brackets over MO-ASHA) driven on the
  curves as :mod:`benchmarks.multiobjective` drives them (``moasha`` must match ``floor``).

Each run may try configurations until it has spent the epochs of ``--configs`` configurations
trained without stopping; the table gives the share of those epochs it took to reach their
final hypervolume ("not reached": not within the budget or the ``--cached`` configurations of
the seed; the cell says how close it came and with what share of the epochs).

With ``--explain`` it says, per seed and ``max_t`` (``--at``), which configurations on the front
of the search without stopping the ``floor`` rule stopped, where, with what losses then and
after the last epoch, and what each adds to that front's hypervolume; ``--grace`` sets the
first rung and ``--eta`` the reduction factor for the rules (tunelab's schedulers are replayed
with grace period 1 and reduction factor 3).

    nice -n 10 python -m benchmarks.moasha_replay --seeds 6 --max-t 27
    nice -n 10 python -m benchmarks.moasha_replay --seeds 5 --max-t 27 --cached 150 --at 9 --explain
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

from benchmarks.multiobjective import PROBLEMS, _TunelabStopper, mlp_epochs
from tunelab import pareto
from tunelab.schedulers._asha import rung_levels
from tunelab.schedulers._moasha import rung_order
from tunelab.tuners import create_tuner

CACHE = Path(__file__).parent / ".cache"
RULES: dict[str, tuple[Callable[[float], int], bool]] = {
    "floor": (lambda q: math.floor(q + 1e-9), False),
    "ceil": (lambda q: math.ceil(q - 1e-9), False),
    "oracle": (lambda q: math.floor(q + 1e-9), True),
}


def curves(seed: int, configs: int, max_t: int) -> list[list[list[float]]]:
    """Each configuration's losses after every epoch, cached (the random configurations of ``seed``)."""
    path = CACHE / f"moasha_replay_{seed}_{configs}_{max_t}.json"
    if path.exists():
        return list(json.loads(path.read_text()))
    problem = PROBLEMS["mlp"]
    tuner = create_tuner("random", problem.space, seed=seed, objectives=problem.objectives)
    out = []
    for _ in range(configs):
        trial_id, params = tuner.suggest()
        epochs = mlp_epochs(params)
        out.append([next(epochs) for _ in range(max_t)])
        tuner.observe(trial_id, out[-1][-1])
    CACHE.mkdir(exist_ok=True)
    path.write_text(json.dumps(out))
    return out


def replay(
    runs: list[list[list[float]]],
    max_t: int,
    budget: int,
    rule: str,
    eta: float = 3,
    grace: int = 1,
    ran: list[int] | None = None,
) -> list[tuple[int, float]]:
    """``(epochs spent, hypervolume)`` after each trial under ``rule``, until ``budget`` epochs are spent
    (each trial's epochs appended to ``ran`` where given)."""
    keep, oracle = RULES[rule]
    rungs: dict[int, list[list[float]]] = {level: [] for level in rung_levels(grace, eta, max_t)}
    reference = PROBLEMS["mlp"].reference
    spent, results, out = 0, [], []
    for curve in runs:
        if spent >= budget:
            break
        for epoch in range(1, max_t + 1):
            spent += 1
            if epoch in rungs:
                recorded = rungs[epoch]
                mine = curve[-1] if oracle else curve[epoch - 1]
                rows = np.asarray([*recorded, mine], dtype=float)
                arriving = len(rows) - 1
                passes = not recorded or rung_order(rows, "hypervolume", arriving).index(arriving) < keep(
                    len(rows) / eta
                )
                recorded.append(mine)
                if not passes:
                    break
        if ran is not None:
            ran.append(epoch)
        results.append(curve[epoch - 1])
        out.append((spent, pareto.hypervolume(np.asarray(results), reference)))
    return out


#: tunelab's schedulers replayed on the curves: scheduler name and its arguments.
SCHEDULERS: dict[str, tuple[str, dict[str, str]]] = {
    "moasha": ("moasha", {}),
    "moasha-crowding": ("moasha", {"tie_break": "crowding"}),
    "mohyperband": ("mohyperband", {}),
}


def replay_scheduler(
    runs: list[list[list[float]]], max_t: int, budget: int, name: str, seed: int
) -> list[tuple[int, float]]:
    """As :func:`replay`, the decisions made by one of :data:`SCHEDULERS` (trials in order, one at a time)."""
    scheduler_name, args = SCHEDULERS[name]
    stopper = _TunelabStopper(seed, max_t, scheduler_name, **args)
    reference = PROBLEMS["mlp"].reference
    spent, results, out = 0, [], []
    for number, curve in enumerate(runs):
        if spent >= budget:
            break
        stopper.start(number, {}, max_t)
        stopped = False
        for epoch in range(1, max_t + 1):
            spent += 1
            if epoch < max_t and stopper.stop(number, epoch, curve[epoch - 1]):
                stopped = True
                break
        stopper.end(number, stopped, curve[epoch - 1])
        results.append(curve[epoch - 1])
        out.append((spent, pareto.hypervolume(np.asarray(results), reference)))
    return out


def explain(runs: list[list[list[float]]], max_t: int, configs: int, grace: int, eta: float) -> str:
    """Why the ``floor`` rule needs what it needs on one seed: the front it stops, and how close it is at half."""
    reference = PROBLEMS["mlp"].reference
    budget = configs * max_t
    finals = np.asarray([c[-1] for c in runs[:configs]])
    target = pareto.hypervolume(finals, reference)
    contributions = pareto.hypervolume_contributions(finals, reference)
    ran: list[int] = []
    curve_of_run = replay(runs, max_t, budget, "floor", eta=eta, grace=grace, ran=ran)
    half = max((hv for spent, hv in curve_of_run if spent <= budget / 2), default=0.0)
    front = pareto.front_indices(finals)
    stopped = [i for i in front if i < len(ran) and ran[i] < max_t]
    shown = "; ".join(
        f"#{i} at epoch {ran[i]} ({', '.join(f'{v:.3f}' for v in runs[i][ran[i] - 1])} then, "
        f"{', '.join(f'{v:.3f}' for v in runs[i][-1])} after {max_t}; adds {contributions[i]:.4f})"
        for i in sorted(stopped, key=lambda i: -contributions[i])
    )
    return (
        f"hypervolume without stopping {target:.4f}, floor at half the epochs {half:.4f} "
        f"(short by {target - half:.4f}); {len(front)} of the {configs} configurations on its front, "
        f"{len(stopped)} of them stopped: {shown or 'none'}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=6)
    parser.add_argument("--rules", default=",".join([*RULES, *SCHEDULERS]), help="rules and schedulers replayed")
    parser.add_argument("--max-t", type=int, default=27, help="epochs cached per configuration")
    parser.add_argument("--configs", type=int, default=30, help="configurations trained without stopping")
    parser.add_argument("--cached", type=int, default=90, help="configurations trained per seed")
    parser.add_argument("--at", help="the max_t values replayed, comma-separated (default: 9, 27, --max-t)")
    parser.add_argument("--grace", type=int, default=1, help="the first rung of the rules (not the schedulers)")
    parser.add_argument("--eta", type=float, default=3, help="the reduction factor of the rules (not the schedulers)")
    parser.add_argument("--explain", action="store_true", help="per seed, the front the floor rule stops")
    args = parser.parse_args(argv)
    lines = [
        "| max_t | rule | share of the epochs to reach the final hypervolume without stopping, by seed | mean |",
        "| ---: | --- | --- | ---: |",
    ]
    recorded = {seed: curves(seed, args.cached, args.max_t) for seed in range(args.seeds)}
    wanted = [int(t) for t in args.at.split(",")] if args.at else [9, 27, args.max_t]
    for max_t in sorted({t for t in wanted if t <= args.max_t}):
        budget = args.configs * max_t
        for rule in args.rules.split(","):
            shares: list[float] = []
            cells: list[str] = []
            for seed in range(args.seeds):
                runs = [curve[:max_t] for curve in recorded[seed]]
                target = pareto.hypervolume(
                    np.asarray([c[-1] for c in runs[: args.configs]]), PROBLEMS["mlp"].reference
                )
                if rule in RULES:
                    curve_of_run = replay(runs, max_t, budget, rule, eta=args.eta, grace=args.grace)
                else:
                    curve_of_run = replay_scheduler(runs, max_t, budget, rule, seed)
                reach = next((s for s, hv in curve_of_run if hv >= target), None)
                shares.append(math.nan if reach is None else reach / budget)
                if reach is None:  # how close, when the cached configurations (or the budget) ran out
                    spent, hv = curve_of_run[-1]
                    cells.append(f"not reached ({hv / target:.1%} of it with {spent / budget:.0%})")
                else:
                    cells.append(f"{reach / budget:.0%}")
            shown = ", ".join(cells)
            reached = [v for v in shares if not math.isnan(v)]
            mean = f"{np.mean(reached):.0%}" if reached else ""
            lines.append(f"| {max_t} | {rule} | {shown} | {mean} |")
        if args.explain:
            for seed in range(args.seeds):
                runs = [curve[:max_t] for curve in recorded[seed]]
                why = explain(runs, max_t, args.configs, args.grace, args.eta)
                lines.append(f"- max_t {max_t}, seed {seed}: {why}")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
