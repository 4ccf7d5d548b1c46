"""An explicit setting the rest of the config leaves without effect is said, by the file loader and the Python API."""

from __future__ import annotations

import warnings

import pytest

from tunelab import Experiment, hp
from tunelab.config import load_config_dict

SPACE = {"x": {"_type": "uniform", "_value": [0, 1]}}


def objective(params):
    return params["x"]


@pytest.mark.parametrize("isolation", ["worker", "inline"])
def test_a_file_with_ray_and_a_local_isolation_warns_naming_the_field(isolation):
    data = {
        "search_space": SPACE,
        "trial": {"function": "train:objective", "isolation": isolation},
        "runner": "ray",
    }
    loaded = load_config_dict(data, source="config.yml")
    assert [w for w in loaded.warnings if w.startswith("trial.isolation:")] == [
        f"trial.isolation: {isolation!r} is for the local runner and is ignored with runner: ray, "
        "where every trial is a Ray task in one of Ray's reused worker processes"
    ]


@pytest.mark.parametrize(
    "settings",
    [{"runner": "ray"}, {"isolation": "worker"}, {"runner": "ray", "isolation": "process"}, {}],
)
def test_nothing_is_said_when_every_setting_takes_effect(settings):
    data = {"search_space": SPACE, "trial": {"function": "train:objective"}}
    if "isolation" in settings:
        data["trial"]["isolation"] = settings["isolation"]
    if "runner" in settings:
        data["runner"] = settings["runner"]
    assert not [w for w in load_config_dict(data).warnings if "isolation" in w]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Experiment(objective=objective, search_space={"x": hp.uniform(0, 1)}, **settings)


def test_the_python_api_warns_and_keeps_the_warning_with_the_experiment():
    with pytest.warns(UserWarning, match=r"trial\.isolation: 'inline' is for the local runner"):
        experiment = Experiment(
            objective=objective, search_space={"x": hp.uniform(0, 1)}, runner="ray", isolation="inline"
        )
    assert any(w.startswith("trial.isolation: 'inline'") for w in experiment.warnings)
