"""NNI's PBTTuner semantics end to end: trials get save_checkpoint_dir and load_checkpoint_dir as NNI gives them."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest

from tunelab import Experiment
from tunelab.runners import TrialJob
from tunelab.storage import TrialState

pytestmark = pytest.mark.slow

#: A trial in the style of NNI's examples/trials/mnist-pbt-tuner-pytorch: load, train one step, save.
TRIAL = """
import json, os
import nni

params = nni.get_next_parameter()
load_path = os.path.join(params["load_checkpoint_dir"], "model.json")
state = {"steps": 0, "loaded_from": None}
if os.path.exists(load_path):
    with open(load_path) as f:
        state = json.load(f)
    state["loaded_from"] = params["load_checkpoint_dir"]
state["steps"] += 1
state["x"] = params["x"]
os.makedirs(params["save_checkpoint_dir"], exist_ok=True)
with open(os.path.join(params["save_checkpoint_dir"], "model.json"), "w") as f:
    json.dump(state, f)
with open("seen.jsonl", "a") as f:
    f.write(json.dumps({k: params[k] for k in ("save_checkpoint_dir", "load_checkpoint_dir")} | state) + "\\n")
nni.report_final_result(params["x"] * state["steps"])
"""


def test_nni_pbt_trials_save_and_load_checkpoints_through_their_params(tmp_path):
    (tmp_path / "trial.py").write_text(textwrap.dedent(TRIAL))
    (tmp_path / "config.yml").write_text(
        textwrap.dedent(f"""
        searchSpace: {{x: {{_type: uniform, _value: [0, 1]}}}}
        trialCommand: {sys.executable} trial.py
        trialConcurrency: 2
        maxTrialNumber: 8
        tuner:
          name: PBTTuner
          classArgs: {{optimize_mode: maximize, population_size: 4, fraction: 0.25, seed: 1}}
        trainingService: {{platform: local}}
    """)
    )
    result = Experiment.from_file(tmp_path / "config.yml", storage=f"sqlite:///{tmp_path}/db.sqlite").run()
    trials = {t.number: t for t in result.trials}
    assert len(trials) == 8 and all(t.state == TrialState.SUCCEEDED for t in trials.values())
    seen = {
        Path(r["save_checkpoint_dir"]): r for r in map(json.loads, (tmp_path / "seen.jsonl").read_text().splitlines())
    }
    by_dir = {Path(t.trial_dir) / "checkpoint": t for t in trials.values()}
    assert set(seen) == set(by_dir)  # each trial saves in its own folder
    exploited = 0
    for folder, record in seen.items():
        trial = by_dir[folder]
        assert "save_checkpoint_dir" not in trial.params  # NNI's names reach the trial, not the tuner's history
        if trial.checkpoint_from is None:  # the first generation: load dir == save dir, nothing there yet
            assert record["load_checkpoint_dir"] == record["save_checkpoint_dir"]
            assert record["steps"] == 1 and record["loaded_from"] is None
            continue
        source = Path(trials[trial.checkpoint_from].trial_dir) / "checkpoint"
        assert Path(record["load_checkpoint_dir"]) == source  # the better trial's save dir when exploited
        assert record["steps"] == 2 and Path(record["loaded_from"]) == source
        exploited += trial.checkpoint_from != trial.parent
    assert exploited == 1  # population 4, fraction 0.25: one member copies the best one


def test_trial_params_carry_the_checkpoint_dirs_only_when_asked(tmp_path):
    job = TrialJob("e", 3, 1, {"x": 1}, tmp_path / "3", tmp_path, checkpoint_dir=tmp_path / "3" / "checkpoint")
    assert job.trial_params() == {"x": 1}
    own = TrialJob(**{**job.__dict__, "checkpoint_params": True})
    assert own.trial_params() == {
        "x": 1,
        "save_checkpoint_dir": str(tmp_path / "3" / "checkpoint"),
        "load_checkpoint_dir": str(tmp_path / "3" / "checkpoint"),
    }
    copied = TrialJob(**{**own.__dict__, "checkpoint_from": tmp_path / "1" / "checkpoint"})
    assert copied.trial_params()["load_checkpoint_dir"] == str(tmp_path / "1" / "checkpoint")
