"""Several objectives through the engine, on the virtual timeline: scoring, constraints, the front, best_params.json."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from tunelab import hp
from tunelab.runners import TrialJob
from tunelab.schedulers._registry import SCHEDULERS
from tunelab.storage import KNEE_RULE, Phase, TrialRecord, TrialState
from tunelab.testing import FakeTrial
from tunelab.trial._channel import Report, ReportKind, encode

SPACE = {"x": hp.uniform(0, 1)}
OBJECTIVES = {"accuracy": "max", "size": "min"}


def final(t: float, **metrics: Any) -> tuple[float, bytes]:
    """A final report of a dict of objective values, as ``tunelab.report_final({...})`` writes it."""
    return t, encode(Report(ReportKind.FINAL, None, None, metrics, time=t))


def step(k: int, **metrics: Any) -> tuple[float, Report]:
    return k + 1.0, Report(ReportKind.INTERMEDIATE, None, k, metrics)


def tradeoff(job: TrialJob) -> FakeTrial:
    """accuracy = x, size = 10 x^2 (both grow with x: every trial is on the front); three epochs."""
    x = float(job.params["x"])
    reports = [step(k, accuracy=x * (k + 1) / 3, size=10 * x * x) for k in range(3)]
    return FakeTrial(reports=reports, raw_lines=[final(3.5, accuracy=x, size=10 * x * x, note="extra")])


def dominated_by_brute_force(trials: list[TrialRecord]) -> set[int]:
    """Numbers of competing trials some other competing trial dominates (accuracy max, size min)."""
    points = {t.number: (-(t.values or {})["accuracy"], (t.values or {})["size"]) for t in trials}
    return {
        n
        for n, p in points.items()
        if any(all(a <= b for a, b in zip(q, p, strict=True)) and q != p for m, q in points.items() if m != n)
    }


def test_two_objectives_are_stored_in_order_and_all_tradeoffs_are_the_front(fake):
    exp = fake(tradeoff, search_space=SPACE, tuner="random", seed=1, max_trials=8, objectives=OBJECTIVES)
    assert exp.run().phase == Phase.DONE
    trials = exp.trials
    assert all(t.state == TrialState.SUCCEEDED for t in trials)
    for t in trials:
        x = t.params["x"]
        assert t.values == {"accuracy": pytest.approx(x), "size": pytest.approx(10 * x * x)}
        assert list(t.values or ()) == ["accuracy", "size"] and t.value == pytest.approx(x)
        assert t.metrics == {"note": "extra"} and t.violation is None
        assert [r.values for r in t.intermediate] == [
            {"accuracy": pytest.approx(x * (k + 1) / 3), "size": pytest.approx(10 * x * x)} for k in range(3)
        ]
    front = exp.experiment.pareto_front
    assert [t.number for t in front] == [t.number for t in trials]  # a pure trade-off: nobody is dominated
    assert exp.experiment.best_value is None and exp.experiment.best_trial in front


def test_dominated_trials_are_off_the_front_and_best_params_json_holds_front_and_knee(fake):
    def mixed(job: TrialJob) -> FakeTrial:
        x = float(job.params["x"])  # above 0.6 all are as big: only the most accurate of them is on the front
        return FakeTrial(raw_lines=[final(1.0, accuracy=x, size=x if x < 0.6 else 2.0)])

    exp = fake(mixed, search_space=SPACE, tuner="random", seed=4, max_trials=12, objectives=OBJECTIVES)
    exp.run()
    trials = exp.trials
    dominated = dominated_by_brute_force(trials)
    assert dominated, "the script makes some trials dominated"
    front = [t.number for t in exp.experiment.pareto_front]
    assert front == sorted(set(range(12)) - dominated)
    artifact = json.loads((Path(exp.storage.get_experiment(exp.id).experiment_dir) / "best_params.json").read_text())
    assert artifact["objectives"] == OBJECTIVES
    assert [entry["trial"] for entry in artifact["front"]] == front
    assert artifact["rule"] == f"suggested single choice: {KNEE_RULE}"
    knee = exp.experiment.best_trial
    assert knee is not None and artifact["trial"] == knee.number and artifact["params"] == knee.params
    from tunelab import load_best

    assert load_best(Path(exp.storage.get_experiment(exp.id).experiment_dir)) == knee.params  # the suggested one
    # The knee by its rule: scaled to [0, 1] over the front, nearest the ideal point.
    on_front = [t for t in trials if t.number in front]
    acc = [-(t.values or {})["accuracy"] for t in on_front]
    size = [(t.values or {})["size"] for t in on_front]

    def scaled(v: float, vs: list[float]) -> float:
        return (v - min(vs)) / (max(vs) - min(vs))

    distances = [math.hypot(scaled(a, acc), scaled(s, size)) for a, s in zip(acc, size, strict=True)]
    assert knee.number == on_front[distances.index(min(distances))].number


@pytest.mark.parametrize(
    ("metrics", "problem"),
    [
        ({"accuracy": 0.9}, "objective 'size' is missing"),
        ({"accuracy": 0.9, "sise": 3.0}, "did you mean 'sise'"),
        ({"accuracy": float("nan"), "size": 3.0}, "objective 'accuracy' is nan, not a finite number"),
        ({"accuracy": 0.9, "size": float("inf")}, "objective 'size' is inf, not a finite number"),
        ({"accuracy": "high", "size": 3.0}, "objective 'accuracy': expected a number"),
    ],
)
def test_a_result_missing_an_objective_or_not_finite_fails_the_trial(fake, metrics, problem):
    exp = fake(
        lambda job: FakeTrial(raw_lines=[final(1.0, **metrics)]),
        search_space=SPACE,
        tuner="random",
        max_trials=1,
        objectives=OBJECTIVES,
        failure={"ignore": True},
    )
    record = exp.run()
    [trial] = exp.trials
    assert trial.state == TrialState.FAILED and problem in trial.message and trial.values is None
    assert record.phase == Phase.ERROR and "no trial succeeded" in record.message  # nothing succeeded: not DONE
    assert exp.experiment.pareto_front == []


def test_constraints_keep_infeasible_trials_off_the_front(fake):
    def sized(job: TrialJob) -> FakeTrial:
        x = float(job.params["x"])
        own = 0.5 if job.number == 0 else -1.0  # trial 0 breaks its own reported constraint
        return FakeTrial(raw_lines=[final(1.0, accuracy=x, size=10 * x, model_mb=100 * x, constraint=own)])

    exp = fake(
        sized,
        search_space=SPACE,
        tuner="random",
        seed=2,
        max_trials=10,
        objectives=OBJECTIVES,
        constraints={"model_mb": "<= 50"},
    )
    assert exp.run().phase == Phase.DONE
    trials = exp.trials
    for t in trials:
        expected = max(0.0, 100 * t.params["x"] - 50) + (0.5 if t.number == 0 else 0.0)
        assert t.state == TrialState.SUCCEEDED and t.violation == pytest.approx(expected)
    feasible = [t.number for t in trials if t.feasible]
    assert 0 < len(feasible) < 10
    front = exp.experiment.pareto_front
    assert front and all(t.feasible for t in front)
    assert {t.number for t in front} == set(feasible)  # feasible ones are all trade-offs here


def test_a_missing_constraint_metric_fails_the_trial(fake):
    exp = fake(
        lambda job: FakeTrial(raw_lines=[final(1.0, accuracy=0.5, size=1.0)]),
        search_space=SPACE,
        tuner="random",
        max_trials=1,
        objectives=OBJECTIVES,
        constraints={"model_mb": "<= 50"},
        failure={"ignore": True},
    )
    exp.run()
    [trial] = exp.trials
    assert trial.state == TrialState.FAILED and "no metric 'model_mb' for constraints" in trial.message


def test_resume_after_an_interruption_keeps_the_front(fake):
    exp = fake(
        tradeoff, search_space=SPACE, tuner="random", seed=7, max_trials=10, concurrency=2, objectives=OBJECTIVES
    )
    exp.experiment.config = exp.experiment.config.model_copy(update={"max_duration": 9.0})
    assert exp.run().phase == Phase.TIMEOUT
    before = {t.number: t.values for t in exp.trials if t.state == TrialState.SUCCEEDED}
    assert before and len(before) < 10
    exp.experiment.config = exp.experiment.config.model_copy(update={"max_duration": None})
    assert exp.run(resume=True).phase == Phase.DONE
    trials = exp.trials
    assert {t.number: t.values for t in trials if t.number in before} == before  # finished ones kept exactly
    assert [t.number for t in exp.experiment.pareto_front] == list(range(10))


def test_tunelab_best_lists_the_whole_front_with_the_knee(fake):
    from click.testing import CliRunner

    from tunelab.cli import main

    exp = fake(tradeoff, search_space=SPACE, tuner="random", seed=3, max_trials=5, objectives=OBJECTIVES)
    exp.run()
    url = str(exp.storage.path)
    result = CliRunner().invoke(main, ["best", exp.id, "--storage", url, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    knee = exp.experiment.best_trial
    assert knee is not None and data["trial"] == knee.number and data["params"] == knee.params
    assert [e["trial"] for e in data["front"]] == list(range(5)) and data["objectives"] == OBJECTIVES
    assert data["front"][0]["metrics"] == {"note": "extra"} and data["rule"].endswith(KNEE_RULE)
    text = CliRunner().invoke(main, ["best", exp.id, "--storage", url])
    assert text.exit_code == 0, text.output
    lines = text.output.splitlines()
    assert lines[0].startswith("Pareto front: 5 trials of 5 that succeeded; accuracy (max), size (min)")
    assert sum("<- suggested (knee)" in line for line in lines) == 1
    assert f"  trial {knee.number}: accuracy=" in text.output


def test_tunelab_best_without_a_feasible_trial_is_an_error(fake):
    from click.testing import CliRunner

    from tunelab.cli import main

    exp = fake(
        lambda job: FakeTrial(raw_lines=[final(1.0, accuracy=0.5, size=1.0, model_mb=80.0)]),
        search_space=SPACE,
        tuner="random",
        max_trials=2,
        objectives=OBJECTIVES,
        constraints={"model_mb": "<= 50"},
    )
    record = exp.run()
    assert record.phase == Phase.ERROR  # nothing feasible was found: not DONE
    assert record.message == "no trial met the constraints: all 2 trials that succeeded broke them"
    result = CliRunner().invoke(main, ["best", exp.id, "--storage", str(exp.storage.path)])
    assert result.exit_code != 0
    assert "no successful feasible trial yet (2 succeeded but broke the constraints)" in result.output


def test_nni_and_auptimizer_results_promote_secondary_metrics_to_objectives(fake):
    """NNI's {"default": v, ...} and Auptimizer's [v, x, y] with multi_res_labels: the main value is the first
    objective's, the secondary results are objectives by name (unmodified scripts)."""
    from tunelab.trial._context import _split

    value, metrics = _split([0.75, 4.0, 9.0], {}, ["size", "flops"])  # Auptimizer's print_result([...])
    assert (value, metrics) == (0.75, {"size": 4.0, "flops": 9.0})

    def nni_style(job: TrialJob) -> FakeTrial:
        line = encode(Report(ReportKind.FINAL, 0.5 + job.number / 10, None, {"size": 3.0 - job.number}, time=1.0))
        return FakeTrial(raw_lines=[(1.0, line)])

    exp = fake(nni_style, search_space=SPACE, tuner="random", max_trials=3, objectives=OBJECTIVES)
    assert exp.run().phase == Phase.DONE
    assert [t.values for t in exp.trials] == [
        {"accuracy": 0.5 + n / 10, "size": pytest.approx(3.0 - n)} for n in range(3)
    ]
    assert all(t.metrics == {} for t in exp.trials)  # the promoted values are objectives, not metrics too
    assert [t.number for t in exp.experiment.pareto_front] == [2]  # trial 2 is better on both


def test_a_stored_config_of_several_objectives_builds_again(fake):
    """The stored config (what resume and overrides rebuild) has no mode beside the objectives."""
    from tunelab.config import build_config

    exp = fake(tradeoff, search_space=SPACE, tuner="random", max_trials=1, objectives=OBJECTIVES)
    stored = dict(exp.storage.get_experiment(exp.id).config)
    assert "mode" not in stored and stored["objectives"] == OBJECTIVES
    stored.pop("objective")  # the function's name, which the stored config records beside the settings
    rebuilt = build_config({**stored, "search_space": SPACE, "max_trials": 4})
    assert rebuilt.objectives == OBJECTIVES and rebuilt.max_trials == 4


def test_list_show_and_progress_name_the_front_and_its_knee(fake):
    from click.testing import CliRunner

    from tunelab.cli import main
    from tunelab.engine._display import summary_line

    lines: list[str] = []

    class Listener:
        def on_progress(self, progress: Any) -> None:
            lines.append(summary_line("x", progress))

    exp = fake(tradeoff, search_space=SPACE, tuner="random", seed=3, max_trials=4, objectives=OBJECTIVES)
    exp.run(listener=Listener())
    knee = exp.experiment.best_trial
    assert knee is not None and lines[-1].count(f"front of 4, knee trial {knee.number}") == 1
    url = str(exp.storage.path)
    shown = CliRunner().invoke(main, ["show", exp.id, "--storage", url])
    assert shown.exit_code == 0 and f"front of 4, knee trial {knee.number}" in shown.output, shown.output
    listed = CliRunner().invoke(main, ["list", "--storage", url])
    assert listed.exit_code == 0 and "knee trial" in listed.output, listed.output


def curves_of_two(job: TrialJob) -> FakeTrial:
    """Nine epochs a second apart: accuracy climbs towards x, size stays 10 x (a trade-off for every x)."""
    x = float(job.params["x"])
    reports = [step(k, accuracy=x * (1 - 0.5 ** (k + 1)), size=10 * x) for k in range(9)]
    return FakeTrial(reports=reports, raw_lines=[final(9.5, accuracy=x * (1 - 0.5**9), size=10 * x)])


@pytest.mark.skipif("moasha" not in SCHEDULERS, reason="MO-ASHA (the 'moasha' scheduler) is not registered yet")
def test_resume_rebuilds_the_moasha_rungs_exactly(fake):
    settings = dict(
        search_space=SPACE,
        tuner="random",
        seed=11,
        max_trials=14,
        concurrency=3,
        objectives=OBJECTIVES,
        scheduler={"name": "moasha", "args": {"max_t": 9, "grace_period": 1, "reduction_factor": 3}},
    )
    exp = fake(curves_of_two, **settings)
    # cut mid-run (fake time), with some trials stopped and some still to start
    exp.experiment.config = exp.experiment.config.model_copy(update={"max_duration": 12.0})
    first = exp.engine()
    assert first.run().phase == Phase.TIMEOUT
    trials = exp.trials
    finished = {t.number for t in trials if t.state.is_final}
    assert {t.state for t in trials} >= {TrialState.EARLY_STOPPED}, "MO-ASHA stopped some trials"
    rungs_before = [
        {level: {n: v for n, v in recorded.items() if n in finished} for level, recorded in bracket.items()}
        for bracket in first.scheduler.vector_rungs
    ]
    # A new engine rebuilds the rungs from storage alone (what a resume after SIGKILL has).
    second = exp.engine()
    second.restore()
    rebuilt = [
        {level: {n: v for n, v in recorded.items() if n in finished} for level, recorded in bracket.items()}
        for bracket in second.scheduler.vector_rungs
    ]
    assert rebuilt == rungs_before and any(any(bracket.values()) for bracket in rebuilt)
    exp.experiment.config = exp.experiment.config.model_copy(update={"max_duration": None})
    assert exp.run(resume=True).phase == Phase.DONE
    after = {t.number: t for t in exp.trials}
    for t in trials:
        if t.state.is_final:  # decisions made before the interruption stand
            assert (after[t.number].state, after[t.number].values) == (t.state, t.values)
    assert len(after) == 14 and all(t.state.is_final for t in after.values())
