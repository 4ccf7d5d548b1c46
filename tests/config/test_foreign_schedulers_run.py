"""NNI's Hyperband and Auptimizer's hyperband proposer and early_stop, run end to end from their own configs."""

from __future__ import annotations

import json
import sys
import textwrap

import pytest

from tunelab import Experiment
from tunelab.storage import TrialState

pytestmark = pytest.mark.slow


def test_nni_hyperband_advisor_gives_trials_their_budgets(tmp_path):
    (tmp_path / "trial.py").write_text(
        textwrap.dedent("""
        import nni
        params = nni.get_next_parameter()
        for epoch in range(int(params["TRIAL_BUDGET"])):
            nni.report_intermediate_result(params["x"] * (epoch + 1))
        nni.report_final_result({"default": params["x"] * params["TRIAL_BUDGET"], "budget": params["TRIAL_BUDGET"]})
    """)
    )
    (tmp_path / "config.yml").write_text(
        textwrap.dedent(f"""
        searchSpace: {{x: {{_type: uniform, _value: [0, 1]}}}}
        trialCommand: {sys.executable} trial.py
        trialConcurrency: 2
        maxTrialNumber: 6
        advisor: {{name: Hyperband, classArgs: {{R: 3, eta: 3, optimize_mode: maximize}}}}
        trainingService: {{platform: local}}
    """)
    )
    result = Experiment.from_file(tmp_path / "config.yml", storage=f"sqlite:///{tmp_path}/db.sqlite").run()
    assert len(result.trials) == 6 and all(t.state == TrialState.SUCCEEDED for t in result.trials)
    budgets = sorted(t.metrics["budget"] for t in result.trials)
    assert budgets[0] == 1 and budgets[-1] == 3
    for trial in result.trials:
        assert len(trial.intermediate) == trial.metrics["budget"]


def test_auptimizer_hyperband_proposer_runs_as_many_jobs_as_auptimizer(tmp_path):
    (tmp_path / "train.py").write_text(
        textwrap.dedent("""
        import json, sys
        from aup import print_result
        config = json.load(open(sys.argv[1]))
        print_result([config["x"] * config["n_iterations"], config["n_iterations"]])
    """)
    )
    (tmp_path / "experiment.json").write_text(
        json.dumps(
            {
                "proposer": "hyperband",
                "max_iter": 3,
                "eta": 3,
                "script": "train.py",
                "target": "max",
                "n_parallel": 2,
                "resource_args": {"multi_res_labels": ["budget"]},
                "parameter_config": [{"name": "x", "range": [0, 1], "type": "float"}],
            }
        )
    )
    result = Experiment.from_file(tmp_path / "experiment.json", storage=f"sqlite:///{tmp_path}/db.sqlite").run()
    # brackets s=1 (3 jobs at 1 iteration, the best at 3) and s=0 (2 jobs at 3 iterations)
    assert len(result.trials) == 6 and all(t.state == TrialState.SUCCEEDED for t in result.trials)
    assert sorted(t.metrics["budget"] for t in result.trials) == [1, 1, 1, 3, 3, 3]
    assert all(t.value == pytest.approx(t.params["x"] * t.metrics["budget"]) for t in result.trials)


def test_auptimizer_early_stop_stops_the_worst_jobs(tmp_path):
    (tmp_path / "train.py").write_text(
        textwrap.dedent("""
        import json, sys, time
        from aup import print_result
        config = json.load(open(sys.argv[1]))
        for epoch in range(8):  # with track_intermediate_results, every print_result is an intermediate
            time.sleep(0.05)
            print_result(config["x"] * (epoch + 1))
    """)
    )
    (tmp_path / "experiment.json").write_text(
        json.dumps(
            {
                "proposer": "sequence",
                "script": "train.py",
                "target": "max",
                "n_parallel": 1,
                "parameter_config": [{"name": "x", "range": [0.9, 0.7, 0.1, 0.05], "type": "choice"}],
                "resource_args": {
                    "track_intermediate_results": True,
                    "early_stop": {"aup_policy": "median", "aup_policy_steps": 1, "warmup": 2},
                },
            }
        )
    )
    result = Experiment.from_file(tmp_path / "experiment.json", storage=f"sqlite:///{tmp_path}/db.sqlite").run()
    states = {t.params["x"]: t.state for t in result.trials}
    assert states[0.9] == states[0.7] == TrialState.SUCCEEDED
    assert states[0.05] == TrialState.EARLY_STOPPED
