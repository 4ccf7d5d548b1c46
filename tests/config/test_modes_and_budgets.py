"""Which direction an experiment optimizes, and how a scheduler's budget reaches its trials.

A mode stated anywhere (``mode:``, ``optimize_mode`` of a tuner or assessor, a scheduler's
``mode``) beats any default; two stated modes that disagree are a ConfigError naming both fields.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from tunelab.config import build_config, load_config_dict
from tunelab.errors import ConfigError
from tunelab.schedulers import Decision, NewTrial, Outcome, build_scheduler
from tunelab.tuners import nni_default_mode

SPACE = {"x": {"_type": "uniform", "_value": [0, 1]}}


def nni(**changes):
    data = {"searchSpace": SPACE, "trialCommand": "python3 model.py", "tuner": {"name": "Random"}}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def t9k(tuner: dict, assessor: dict | None = None) -> dict:
    container = {"command": ["python3", "train.py"], "workingDir": "."}
    spec = {
        "searchSpace": json.dumps(SPACE),
        "trainingConfig": {"tasks": [{"template": {"spec": {"containers": [container]}}}]},
        "tuner": tuner,
    }
    if assessor is not None:
        spec["assessor"] = assessor
    return {"apiVersion": "tensorstack.dev/v1beta1", "kind": "AutoTuneExperiment", "spec": spec}


def stops(rule, curves: dict[int, list[float]], candidate: list[float]) -> bool:
    """Feed finished curves, then whether the rule stops the candidate at some step."""
    for number, curve in curves.items():
        rule.on_start(number, {}, NewTrial())
        for step, value in enumerate(curve):
            rule.on_result(number, step + 1, value)
        rule.on_end(number, Outcome.COMPLETED, curve[-1])
    rule.on_start(99, {}, NewTrial())
    return any(rule.on_result(99, step + 1, v) == Decision.STOP for step, v in enumerate(candidate))


# ------------------------------------------------------------------ NNI
def test_nni_assessor_mode_beats_the_tuners_implicit_default():
    """Random has no direction in NNI; Medianstop says minimize, so tunelab minimizes and stops the worst."""
    config = load_config_dict(
        nni(assessor={"name": "Medianstop", "classArgs": {"optimize_mode": "minimize", "start_step": 2}})
    ).config
    assert config.mode == "min"
    rule = build_scheduler(config)
    finished = {i: [1.0 + i * 0.1] * 6 for i in range(3)}  # losses around 1.0-1.2
    assert stops(rule, finished, [9.0] * 6)  # a much larger loss is the worst: stopped
    assert not stops(build_scheduler(config), finished, [0.1] * 6)  # the best runs to the end


def test_nni_tuner_default_is_used_when_nothing_is_stated():
    assert load_config_dict(nni(tuner={"name": "TPE"}, assessor={"name": "Medianstop"})).config.mode == "min"
    assert load_config_dict(nni(tuner={"name": "Evolution"}, assessor={"name": "Medianstop"})).config.mode == "max"


def test_nni_stated_tuner_and_assessor_modes_that_disagree_name_both_fields():
    data = nni(
        tuner={"name": "TPE", "classArgs": {"optimize_mode": "maximize"}},
        assessor={"name": "Medianstop", "classArgs": {"optimize_mode": "minimize"}},
    )
    with pytest.raises(ConfigError) as info:
        load_config_dict(data)
    message = str(info.value)
    assert "assessor.classArgs.optimize_mode" in message and "tuner.classArgs.optimize_mode" in message
    assert "\n" not in message


def test_nni_stated_modes_that_agree_are_fine():
    data = nni(
        tuner={"name": "TPE", "classArgs": {"optimize_mode": "maximize"}},
        assessor={"name": "Medianstop", "classArgs": {"optimize_mode": "maximize"}},
    )
    loaded = load_config_dict(data)
    assert loaded.config.mode == "max" and loaded.warnings == ()


def test_nni_scheduler_tuner_with_an_assessor_mode():
    data = nni(tuner={"name": "Hyperband", "classArgs": {"R": 9}}, assessor={"name": "Medianstop"})
    assert load_config_dict(data).config.mode == "max"  # NNI's Hyperband maximizes by default
    data["assessor"] = {"name": "Medianstop", "classArgs": {"optimize_mode": "minimize"}}
    assert load_config_dict(data).config.mode == "min"


# NNI 3.0's own defaults (nni/algorithms/hpo/*: the optimize_mode default of each tuner's __init__).
NNI_3_DEFAULTS = {
    "TPE": "min",
    "Anneal": "min",
    "Evolution": "max",
    "GPTuner": "max",
    "Random": None,
    "GridSearch": None,
    "BatchTuner": None,
}


@pytest.mark.parametrize(("name", "mode"), sorted(NNI_3_DEFAULTS.items()))
def test_nni_default_modes_match_nni_3(name, mode):
    assert nni_default_mode(name) == mode


_NNI_SOURCES = {
    "TPE": ("tpe_tuner.py", "optimize_mode: Literal['minimize', 'maximize'] = 'minimize'"),
    "Anneal": ("hyperopt_tuner.py", "def __init__(self, algorithm_name, optimize_mode='minimize'"),
    "Evolution": ("evolution_tuner.py", "def __init__(self, optimize_mode='maximize'"),
    "GPTuner": ("gp_tuner/gp_tuner.py", 'def __init__(self, optimize_mode="maximize"'),
    "Random": ("random_tuner.py", "optimize_mode: str | None = None"),
    "GridSearch": ("gridsearch_tuner.py", "def __init__(self, optimize_mode=None)"),
    "BatchTuner": ("batch_tuner.py", "def __init__(self):"),
}


def test_the_table_was_read_from_nni_3_source():
    """Runs where NNI 3.0's wheel has been downloaded (``pip download nni==3.0 --no-deps -d DIR``)."""
    wheels = sorted(Path("/tmp/nniwheel").glob("nni-3.0-*.whl"))
    if not wheels:
        pytest.skip("NNI 3.0's wheel is not in /tmp/nniwheel")
    with zipfile.ZipFile(wheels[0]) as wheel:
        for name, (module, signature) in _NNI_SOURCES.items():
            source = wheel.read(f"nni/algorithms/hpo/{module}").decode()
            assert signature in source, name
    assert set(_NNI_SOURCES) == set(NNI_3_DEFAULTS)


# ------------------------------------------------------------------ T9k (NNI's algorithms)
def test_t9k_assessor_mode_beats_the_tuners_default():
    assessor = {"builtinAssessorName": "Medianstop", "classArgs": json.dumps({"optimize_mode": "minimize"})}
    config = load_config_dict(t9k({"builtinTunerName": "Random"}, assessor)).config
    assert config.mode == "min"


def test_t9k_contradicting_modes_name_both_fields():
    tuner = {"builtinTunerName": "TPE", "classArgs": json.dumps({"optimize_mode": "minimize"})}
    assessor = {"builtinAssessorName": "Medianstop", "classArgs": json.dumps({"optimize_mode": "maximize"})}
    with pytest.raises(ConfigError, match=r"spec\.assessor\.classArgs\.optimize_mode.*spec\.tuner\.classArgs"):
        load_config_dict(t9k(tuner, assessor))


# ------------------------------------------------------------------ tunelab YAML
BASE = {"search_space": SPACE, "trial": "python3 train.py"}


@pytest.mark.parametrize(
    "section",
    [
        {"assessor": {"name": "median", "args": {"optimize_mode": "maximize"}}},
        {"scheduler": {"name": "asha", "args": {"mode": "max", "max_t": 9}}},
        {"tuner": {"name": "tpe", "args": {"optimize_mode": "maximize"}}},
    ],
)
def test_tunelab_mode_stated_by_an_argument_beats_the_default(section):
    config = build_config({**BASE, **section})
    assert config.mode == "max"
    assert build_scheduler(config).mode == "max"


@pytest.mark.parametrize(
    ("section", "field"),
    [
        ({"assessor": {"name": "median", "args": {"optimize_mode": "maximize"}}}, "assessor.args.optimize_mode"),
        ({"scheduler": {"name": "asha", "args": {"mode": "max"}}}, "scheduler.args.mode"),
    ],
)
def test_tunelab_mode_contradicted_by_an_argument_names_both(section, field):
    with pytest.raises(ConfigError, match=rf"config: {field}: 'max' contradicts mode: 'min'"):
        build_config({**BASE, "mode": "min", **section})


def test_tunelab_two_arguments_that_disagree_name_both():
    data = {
        **BASE,
        "assessor": {"name": "median", "args": {"optimize_mode": "minimize"}},
        "scheduler": {"name": "asha", "args": {"mode": "max"}},
    }
    with pytest.raises(ConfigError, match=r"scheduler\.args\.mode: 'max' contradicts assessor\.args\.optimize_mode"):
        build_config(data)


# ------------------------------------------------------------------ Auptimizer
def test_auptimizer_target_reaches_the_scheduler(tmp_path):
    (tmp_path / "train.py").write_text("")
    data = {
        "proposer": "hyperband",
        "script": "train.py",
        "target": "min",
        "max_iter": 9,
        "parameter_config": [{"name": "x", "range": [0, 1], "type": "float"}],
    }
    config = load_config_dict(data, base_dir=tmp_path).config
    assert config.mode == "min" and build_scheduler(config).mode == "min"


# ------------------------------------------------------------------ budgets
def test_tunelab_asha_trials_get_no_budget_parameter():
    """A native trial's params are only its search space (``GradientBoostingClassifier(**params)`` works)."""
    config = build_config({**BASE, "scheduler": {"name": "asha", "args": {"max_t": 9}}})
    assert config.scheduler.budget_param is None


def test_python_api_schedulers_add_no_budget_parameter():
    config = build_config({**BASE, "scheduler": "hyperband"}, source="Experiment")
    assert config.scheduler.budget_param is None


def test_a_budget_parameter_can_still_be_asked_for():
    config = build_config({**BASE, "scheduler": {"name": "asha", "budget_param": "epochs"}})
    assert config.scheduler.budget_param == "epochs"


@pytest.mark.parametrize(("name", "expected"), [("Hyperband", "TRIAL_BUDGET"), ("BOHB", "TRIAL_BUDGET")])
def test_nni_hyperband_and_bohb_put_the_budget_in_the_params_as_nni_does(name, expected):
    config = load_config_dict(nni(tuner=None, advisor={"name": name})).config
    assert config.scheduler.budget_param == expected


def test_nni_assessors_and_pbt_add_no_budget_parameter():
    config = load_config_dict(nni(tuner={"name": "PBTTuner"})).config
    assert config.scheduler.budget_param is None
    assert load_config_dict(nni(assessor={"name": "Medianstop"})).config.scheduler is None
