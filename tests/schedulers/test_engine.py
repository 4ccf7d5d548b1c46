"""Assessors and schedulers end to end through the engine, with command and function trials."""

from __future__ import annotations

import json
import textwrap
import time
from pathlib import Path

import pytest

import tunelab
from tunelab import Experiment, hp, optimize
from tunelab.storage import Phase, TrialState, open_storage

pytestmark = pytest.mark.slow

STOPPABLE = textwrap.dedent(
    """
    import signal, sys, time
    import tunelab

    p = tunelab.get_params({"x": 1.0, "coop": 0})
    if p["coop"]:
        signal.signal(signal.SIGTERM, lambda *a: None)  # handles SIGTERM by ending cleanly below
    else:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # ignores it: only SIGKILL ends it
    for step in range(400):
        tunelab.report(p["x"] + 1.0 / (step + 1), step=step)
        if p["coop"] and tunelab.should_stop():
            print("saw should_stop; ending cleanly")
            sys.exit(0)
        time.sleep(0.02 if step < 5 else 0.01)
    tunelab.report_final(p["x"])
    """
)


def test_command_trials_stopped_early_keep_their_reports(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text(STOPPABLE.replace("range(400)", "range(8) if p['x'] == 0 else range(400)"))
    exp = Experiment(
        search_space={"x": hp.choice([0, 5]), "coop": hp.choice([0, 1])},
        trial={"command": "python train.py", "code_dir": str(tmp_path), "stop_grace": 0.6},
        tuner="random",
        assessor={"name": "Medianstop", "args": {"start_step": 3, "optimize_mode": "minimize"}},
        enqueue=[{"x": 0, "coop": 0}, {"x": 5, "coop": 0}, {"x": 5, "coop": 1}],
        max_trials=3,
        mode="min",
    )
    result = exp.run()
    assert result.phase == Phase.DONE
    first, ignorer, cooperative = sorted(result.trials, key=lambda t: t.number)
    assert first.state == TrialState.SUCCEEDED and first.value == 0
    for trial in (ignorer, cooperative):
        assert trial.state == TrialState.EARLY_STOPPED, trial.message
        assert "stopped early by median" in trial.message
        assert len(trial.intermediate) >= 3
        assert trial.value == trial.intermediate[-1].value  # NNI: the last intermediate result counts
        assert [r.step for r in trial.intermediate] == list(range(len(trial.intermediate)))
    # The one that ignores SIGTERM ran on for the grace period and was killed; the other ended by itself.
    assert ignorer.duration is not None and ignorer.duration >= 0.6
    assert len(ignorer.intermediate) > len(cooperative.intermediate)
    assert "ending cleanly" in (Path(cooperative.trial_dir) / "stdout.log").read_text()
    assert result.best_params == {"x": 0, "coop": 0}


def bad_or_good(params):
    for step in range(300):
        tunelab.report(params["x"] + 1.0 / (step + 1), step=step)
        if tunelab.should_stop():
            return None
        if params["x"] == 0 and step == 6:
            return params["x"]
        __import__("time").sleep(0.01)
    return params["x"]


def test_function_trials_stop_the_same_way_without_killing_the_engine() -> None:
    result = optimize(
        bad_or_good,
        {"x": hp.choice([0, 3, 4])},
        tuner="random",
        assessor={"name": "median", "args": {"start_step": 2}},
        enqueue=[{"x": 0}, {"x": 3}, {"x": 4}],
        max_trials=3,
        trial={"stop_grace": 0.5},
    )
    states = {t.params["x"]: t for t in result.trials}
    assert states[0].state == TrialState.SUCCEEDED
    for x in (3, 4):
        assert states[x].state == TrialState.EARLY_STOPPED
        assert states[x].value == states[x].intermediate[-1].value
        assert len(states[x].intermediate) < 300


BUDGETED = textwrap.dedent(
    """
    import json, os, tunelab
    p = tunelab.get_params({"x": 1.0})
    budget = tunelab.get_budget(3)
    ckpt = tunelab.get_checkpoint_dir()
    state = ckpt / "state.json"
    start = json.loads(state.read_text())["epoch"] if state.exists() else 0
    lineage = json.loads(state.read_text())["lineage"] if state.exists() else []
    lineage.append(int(tunelab.get_trial_id().rsplit("-", 1)[1]))
    for epoch in range(start, budget):
        tunelab.report(p["x"] + 1.0 / (epoch + 1), step=epoch)
    state.write_text(json.dumps({"epoch": budget, "lineage": lineage}))
    print(json.dumps({"budget": budget, "env": os.environ.get("TUNELAB_TRIAL_BUDGET"),
                      "param": p.get("TRIAL_BUDGET"), "start": start, "lineage": lineage}))
    """
)


def test_hyperband_budgets_reach_command_trials_and_promotions_resume_from_checkpoints(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text(BUDGETED)
    exp = Experiment(
        search_space={"x": hp.choice([0.1, 0.2, 0.3, 0.4])},
        trial={"command": "python train.py", "code_dir": str(tmp_path)},
        tuner="grid",
        scheduler={"name": "hyperband", "args": {"R": 4, "eta": 2, "min_budget": 1}},
        max_trials=7,  # bracket s=2: 4 at budget 1, 2 at budget 2, 1 at budget 4
        concurrency=2,
    )
    result = exp.run()
    assert result.phase == Phase.DONE, result.message
    trials = sorted(result.trials, key=lambda t: t.number)
    assert all(t.state == TrialState.SUCCEEDED for t in trials), [t.message for t in trials]
    out = {t.number: json.loads((Path(t.trial_dir) / "stdout.log").read_text()) for t in trials}
    assert [out[n]["budget"] for n in range(7)] == [1, 1, 1, 1, 2, 2, 4]
    assert all(out[n]["env"] == str(out[n]["budget"]) and out[n]["param"] is None for n in range(7))
    assert [t.params for t in trials[:4]] and all("TRIAL_BUDGET" not in t.params for t in trials)
    # The two best of rung 0 (smallest x) were promoted and resumed from their checkpoints.
    promoted = sorted(trials[4:6], key=lambda t: t.params["x"])
    assert [t.params["x"] for t in promoted] == [0.1, 0.2]
    assert all(out[t.number]["start"] == 1 for t in promoted)
    assert [r.step for r in promoted[0].intermediate] == [1]
    assert "promoted from trial" in promoted[0].message
    final = trials[6]
    assert final.params["x"] == 0.1 and out[6]["start"] == 2 and len(out[6]["lineage"]) == 3
    assert result.best_params == {"x": 0.1}


def fake_training(params):
    """A function trial that checkpoints; its 'weights' remember where they came from."""
    budget = tunelab.get_budget()
    state = tunelab.get_checkpoint_dir() / "state.json"
    saved = json.loads(state.read_text()) if state.exists() else {"epoch": 0, "quality": 0.0, "origin": []}
    quality = saved["quality"]
    for epoch in range(saved["epoch"], budget):
        quality += params["lr"]  # larger lr trains faster here
        tunelab.report(quality, step=epoch)
    saved = {
        "epoch": budget,
        "quality": quality,
        "origin": saved["origin"] + [int(tunelab.get_trial_id().rsplit("-", 1)[1])],
    }
    state.write_text(json.dumps(saved))
    return quality


def test_pbt_copies_a_better_trials_checkpoint_and_perturbs_its_params() -> None:
    space = {"lr": hp.uniform(0.01, 1.0)}
    result = optimize(
        fake_training,
        space,
        tuner="random",
        mode="max",
        seed=1,
        max_trials=20,
        concurrency=2,
        scheduler={
            "name": "pbt",
            "args": {
                "population_size": 4,
                "perturbation_interval": 2,
                "max_t": 6,
                "quantile_fraction": 0.25,
                "resample_probability": 0.0,
            },
        },
    )
    assert result.phase == Phase.DONE, result.message
    trials = sorted(result.trials, key=lambda t: t.number)
    assert len(trials) == 12  # 4 members x 3 generations
    assert all(t.state == TrialState.SUCCEEDED for t in trials)
    exploits = [t for t in trials if "exploits trial" in t.message]
    assert len(exploits) == 2  # one loser per generation after the first
    for trial in exploits:
        source = int(trial.message.split("exploits trial ")[1].split()[0])
        origin = json.loads((Path(trial.trial_dir) / "checkpoint" / "state.json").read_text())["origin"]
        assert origin[-2] == source  # it continued from a copy of the better trial's checkpoint
        parent_lr = next(t for t in trials if t.number == source).params["lr"]
        assert trial.params["lr"] != parent_lr
        assert trial.params["lr"] == pytest.approx(min(1.0, parent_lr * 1.2)) or trial.params["lr"] == pytest.approx(
            parent_lr * 0.8
        )
        assert 0.01 <= trial.params["lr"] <= 1.0


def judged_curve(store_path: Path):
    """A trial that waits, after each report, until the engine has judged it (no race with its reaction time).

    The engine stores a report before it decides on it, so once the report is stored the decision
    is made or moments away: a stop shows at the latest while the next report waits.
    """

    def curve(params):
        store = open_storage(store_path, create=False)
        experiment_id, number = tunelab.get_experiment_id(), int(tunelab.get_trial_id().rsplit("-", 1)[1])
        deadline = time.monotonic() + 120
        for epoch in range(tunelab.get_budget()):
            tunelab.report(params["q"] * (1 - 0.5 ** (epoch + 1)), step=epoch)
            while len(store.get_trial(experiment_id, number).intermediate) <= epoch and not tunelab.should_stop():
                assert time.monotonic() < deadline, "the engine never stored the report"
                time.sleep(0.002)
            if tunelab.should_stop():
                return None  # stopped early: the last intermediate result counts
        return params["q"]

    return curve


def test_asha_stops_losers_at_rungs_and_runs_winners_to_max_t(tmp_path: Path) -> None:
    qs = [0.9, 0.1, 0.2, 0.95, 0.3, 0.15, 0.99, 0.25]
    result = optimize(
        judged_curve(tmp_path / "asha.db"),
        {"q": hp.choice(qs)},
        storage=str(tmp_path / "asha.db"),
        tuner="grid",
        mode="max",
        max_trials=8,
        scheduler={"name": "async_hyperband", "args": {"max_t": 9, "grace_period": 1, "reduction_factor": 3}},
        enqueue=[{"q": q} for q in qs],
    )
    by_q = {t.params["q"]: t for t in result.trials}
    # One at a time, each report judged before the next: the first arrivals pass the rungs (at 1 and 3),
    # later ones only in the top third there. Every loser is stopped at its first rung.
    winners = {q for q, t in by_q.items() if t.state == TrialState.SUCCEEDED}
    assert winners == {0.9, 0.95, 0.99}
    assert all(len(by_q[q].intermediate) == 9 for q in winners)
    for q in set(qs) - winners:
        trial = by_q[q]
        assert trial.state == TrialState.EARLY_STOPPED, (q, trial.message)
        assert 1 <= len(trial.intermediate) <= 2  # stopped at resource 1 (one more report may beat the stop)
        assert trial.value == trial.intermediate[-1].value
