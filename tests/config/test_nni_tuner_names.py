"""Every built-in NNI HPO tuner name is accepted; names tunelab lacks say what is nearest."""

from __future__ import annotations

import logging

import pytest

from tunelab.config import load_config_dict
from tunelab.errors import NotImplementedTunerError, TunerError
from tunelab.tuners import TUNERS, create_tuner, resolve_tuner_name

SPACE = {"x": {"_type": "uniform", "_value": [0, 1]}, "k": {"_type": "choice", "_value": ["a", "b"]}}


def nni(tuner: str, **class_args):
    data = {"searchSpace": SPACE, "trialCommand": "python3 trial.py", "tuner": {"name": tuner}}
    if class_args:
        data["tuner"]["classArgs"] = class_args
    return data


#: NNI 3.0's nni/runtime/default_config/builtin_algorithms.yml (builtinName and alias of each
#: HPO tuner), plus the "...Tuner" spellings users write, and what tunelab runs for each.
NAMES = {
    "TPE": "tpe",
    "TPETuner": "tpe",
    "TPE_legacy": "tpe",
    "Random": "random",
    "RandomTuner": "random",
    "Anneal": "anneal",
    "AnnealTuner": "anneal",
    "Evolution": "evolution",
    "EvolutionTuner": "evolution",
    "RegularizedEvolutionTuner": "evolution",
    "Batch": "batch",
    "BatchTuner": "batch",
    "GridSearch": "grid",
    "GridSearchTuner": "grid",
    "GP": "gp",
    "GPTuner": "gp",
    "Metis": "gp",
    "MetisTuner": "gp",
    "DNGO": "gp",
    "DNGOTuner": "gp",
}


@pytest.mark.parametrize(("name", "canonical"), sorted(NAMES.items()))
def test_every_nni_tuner_name_resolves(name, canonical):
    assert resolve_tuner_name(name) == canonical
    assert resolve_tuner_name(name.lower()) == canonical  # NNI matches names ignoring case


@pytest.mark.parametrize(
    "name", ["TPE", "Random", "Anneal", "Evolution", "GridSearch", "GPTuner", "MetisTuner", "DNGO"]
)
def test_every_nni_tuner_name_loads_in_a_config(name):
    assert load_config_dict(nni(name)).config.tuner.name == name


def test_batch_tuner_loads_with_its_space():
    space = {"combine_params": {"_type": "choice", "_value": [{"x": 1}, {"x": 2}]}}
    assert load_config_dict({**nni("BatchTuner"), "searchSpace": space}).config.tuner.name == "BatchTuner"


@pytest.mark.parametrize(("name", "scheduler"), [("Hyperband", "hyperband"), ("BOHB", "bohb"), ("PBTTuner", "pbt")])
def test_scheduler_like_nni_tuners_load(name, scheduler):
    config = load_config_dict(nni(name)).config
    assert config.scheduler.name == scheduler and config.tuner.name == "random"


@pytest.mark.parametrize("name", ["SMAC", "SMACTuner", "smac"])
def test_smac_names_resolve_to_the_smac_tuner(name):
    if "smac" not in TUNERS:
        with pytest.raises(NotImplementedTunerError, match="NNI's SMAC"):
            resolve_tuner_name(name)
        pytest.skip("the smac tuner is not registered in this build")
    assert resolve_tuner_name(name) == "smac"


@pytest.mark.parametrize(("name", "algorithm"), [("MetisTuner", "NNI's Metis"), ("DNGOTuner", "NNI's DNGO")])
def test_metis_and_dngo_run_the_gp_with_a_warning_naming_both(name, algorithm, caplog):
    loaded = load_config_dict(nni(name, optimize_mode="maximize", cold_start_num=4, no_resampling=True))
    [warning] = [w for w in loaded.warnings if w.startswith("tuner.name:")]
    assert algorithm in warning and "tunelab's GP tuner" in warning
    if name == "MetisTuner":
        assert loaded.config.tuner.args == {"n_initial_points": 4}
        assert any(w.startswith("tuner.classArgs.no_resampling:") for w in loaded.warnings)
    else:
        assert loaded.config.tuner.args == {}
        assert any(w.startswith("tuner.classArgs.cold_start_num:") for w in loaded.warnings)
    assert loaded.config.mode == "max"
    with caplog.at_level(logging.WARNING, logger="tunelab.tuners"):
        tuner = create_tuner(name, SPACE, mode="max", seed=0)
    assert type(tuner).__name__ == "GPTuner"
    assert any(algorithm in record.getMessage() and "GP" in record.getMessage() for record in caplog.records)


@pytest.mark.parametrize(
    ("name", "nearest"),
    [
        ("PPOTuner", "evolution"),
        ("PPO", "evolution"),
        ("NetworkMorphism", "evolution"),
        ("eas", "evolution"),
        ("hebo", "gp"),
    ],
)
def test_other_systems_algorithms_name_the_nearest_tuner(name, nearest):
    with pytest.raises(
        NotImplementedTunerError, match=f"is not available in tunelab; the nearest is '{nearest}'"
    ) as info:
        resolve_tuner_name(name)
    assert "did you mean" not in str(info.value)


def test_dngo_no_longer_gets_a_misleading_spelling_suggestion():
    config = load_config_dict(nni("DNGOTuner")).config
    assert config.tuner.name == "DNGOTuner"
    with pytest.raises(TunerError, match="did you mean 'tpe'"):
        resolve_tuner_name("TPF")


def test_a_scheduler_name_as_a_tuner_says_where_it_belongs():
    with pytest.raises(NotImplementedTunerError, match=r"'hyperband' is a scheduler in tunelab.*scheduler: \{name"):
        resolve_tuner_name("hyperband")
