"""Answers questions with NNI 3.0's own code, for tests/compat/test_nni_differential.py.

Run by the interpreter of the separate NNI virtual environment (``.compat/nni/bin/python``),
never imported by the test suite: it reads one JSON list of requests on stdin and prints one
JSON list of answers on stdout. Each request is ``{"op": ..., ...}``:

* ``sample``: ``{space, n, seed}`` -> ``n`` parameter sets from NNI's ``RandomTuner`` (fewer when
  a finite space is used up: NNI's tuner never repeats a configuration); ``dedup: false`` draws
  with the tuner's own sampler but without its deduplication.
* ``grid``: ``{space, limit}`` -> every parameter set NNI's ``GridSearchTuner`` gives before
  ``NoMoreTrialError`` (or ``limit`` of them, then ``"truncated": true``).
* ``assess``: ``{assessor, class_args, trials, seed}`` -> for each trial (fed in order, one
  intermediate result at a time, as NNI's dispatcher does) the step at which the assessor said
  ``Bad`` (1-based count of results), or None; a stopped trial ends with ``success=False``, the
  others with ``success=True``.
* ``defaults``: ``{}`` -> ``{builtinName: default optimize_mode or None}`` for every built-in
  tuner and assessor, read from the classes' ``__init__`` signatures (by parsing the source, so
  that tuners with heavy dependencies need not import).
* ``to_v2``: ``{v1}`` -> NNI's conversion of a v1 config dict (``nni.experiment.config.convert``).
"""

from __future__ import annotations

import ast
import importlib.util
import json
import logging
import sys
from pathlib import Path
from typing import Any

logging.disable(logging.CRITICAL)


def _sample(request: dict[str, Any]) -> list[Any]:
    import nni
    from nni.algorithms.hpo.random_tuner import RandomTuner

    tuner = RandomTuner(seed=request["seed"])
    tuner.update_search_space(request["space"])
    if not request.get("dedup", True):
        # RandomTuner's own draw without its Deduplicator, which crashes on qnormal/qlognormal
        # (after the first repeated value it falls back to grid search, whose erfinv(-1) is -inf).
        from nni.algorithms.hpo.random_tuner import suggest
        from nni.common.hpo_utils import deformat_parameters

        return [deformat_parameters(suggest(tuner.rng, tuner.space), tuner.space) for _ in range(request["n"])]
    out = []
    for i in range(request["n"]):
        try:
            out.append(tuner.generate_parameters(i))
        except nni.NoMoreTrialError:  # a finite space whose every point was drawn
            break
    return out


def _grid(request: dict[str, Any]) -> dict[str, Any]:
    import nni
    from nni.algorithms.hpo.gridsearch_tuner import GridSearchTuner

    tuner = GridSearchTuner()
    tuner.update_search_space(request["space"])
    points = []
    limit = request.get("limit", 100000)
    while len(points) < limit:
        try:
            points.append(tuner.generate_parameters(len(points)))
        except nni.NoMoreTrialError:
            return {"points": points, "truncated": False}
    return {"points": points, "truncated": True}


def _assess(request: dict[str, Any]) -> list[int | None]:
    import numpy as np
    from nni.assessor import AssessResult

    np.random.seed(request.get("seed", 0))  # Curvefitting's MCMC draws from numpy's global generator
    if request["assessor"] == "Medianstop":
        from nni.algorithms.hpo.medianstop_assessor import MedianstopAssessor as cls
    else:
        from nni.algorithms.hpo.curvefitting_assessor import CurvefittingAssessor as cls
    assessor = cls(**request["class_args"])
    stops: list[int | None] = []
    for number, curve in enumerate(request["trials"]):
        trial_id = f"trial{number}"
        stopped = None
        for step in range(1, len(curve) + 1):
            if assessor.assess_trial(trial_id, curve[:step]) is AssessResult.Bad:
                stopped = step
                break
        assessor.trial_end(trial_id, stopped is None)
        stops.append(stopped)
    return stops


def _init_default(path: Path, class_name: str) -> tuple[bool, Any]:
    """(found, default) of ``optimize_mode`` in ``class_name.__init__`` in the source file at ``path``."""
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name == class_name:
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.name == "__init__":
                    args = item.args
                    positional = args.posonlyargs + args.args
                    defaults = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
                    pairs = list(zip(positional, defaults, strict=True)) + list(
                        zip(args.kwonlyargs, args.kw_defaults, strict=True)
                    )
                    for arg, default in pairs:
                        if arg.arg == "optimize_mode":
                            return True, None if default is None else ast.literal_eval(default)
                    return True, "<no optimize_mode argument>"
    return False, None


def _defaults(request: dict[str, Any]) -> dict[str, Any]:
    import nni
    import yaml

    root = Path(nni.__file__).parent
    table = yaml.safe_load((root / "runtime/default_config/builtin_algorithms.yml").read_text())
    out = {}
    for kind in ("tuners", "assessors", "advisors"):
        for entry in table.get(kind) or []:
            module, _, cls = entry["className"].rpartition(".")
            spec = importlib.util.find_spec(module.rsplit(".", 1)[0])
            assert spec is not None and spec.submodule_search_locations, module
            base = Path(next(iter(spec.submodule_search_locations)))
            leaf = module.rsplit(".", 1)[1]
            candidates = [base / f"{leaf}.py", *sorted((base / leaf).glob("*.py"))]
            found, default = False, None
            for path in candidates:
                if path.is_file():
                    found, default = _init_default(path, cls)
                    if found:
                        break
            default = (entry.get("classArgs") or {}).get("optimize_mode", default)
            out[entry["builtinName"]] = default if found else "<class not found>"
    return out


def _to_v2(request: dict[str, Any]) -> dict[str, Any]:
    from nni.experiment.config.convert import to_v2

    return to_v2(request["v1"])


_OPS = {"sample": _sample, "grid": _grid, "assess": _assess, "defaults": _defaults, "to_v2": _to_v2}


def main() -> None:
    requests = json.load(sys.stdin)
    answers = []
    for request in requests:
        try:
            answers.append({"ok": _OPS[request["op"]](request)})
        except Exception as exc:  # noqa: BLE001 - reported to the test, which shows it
            answers.append({"error": f"{type(exc).__name__}: {exc}"})
    json.dump(answers, sys.stdout, default=lambda v: v.item() if hasattr(v, "item") else repr(v))


if __name__ == "__main__":
    main()
