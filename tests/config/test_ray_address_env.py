"""TUNELAB_RAY_ADDRESS puts the trials of configs whose format cannot name a runner (NNI, T9k, Auptimizer) on Ray."""

from __future__ import annotations

import importlib.util

import pytest

from tunelab.config import load_config_dict

SPACE = {"x": {"_type": "uniform", "_value": [0, 1]}}
NNI = {"searchSpace": SPACE, "trialCommand": "python3 t.py", "tuner": {"name": "TPE"}}
AUPTIMIZER = {
    "proposer": "random",
    "script": "t.py",
    "n_samples": 2,
    "parameter_config": [{"name": "x", "range": [0, 1], "type": "float"}],
}
TUNELAB = {"search_space": SPACE, "trial": {"command": "python3 t.py"}, "runner": "local"}


@pytest.mark.parametrize(
    ("address", "expected"), [("127.0.0.1:6379", "127.0.0.1:6379"), ("auto", "auto"), ("local", None)]
)
@pytest.mark.parametrize("data", [NNI, AUPTIMIZER], ids=["nni", "auptimizer"])
def test_foreign_configs_run_on_the_cluster_it_names(monkeypatch, tmp_path, data, address, expected):
    (tmp_path / "t.py").write_text("")
    monkeypatch.setenv("TUNELAB_RAY_ADDRESS", address)
    config = load_config_dict(data, base_dir=tmp_path).config
    assert config.runner == "ray" and config.ray.address == expected


def test_a_tunelab_config_keeps_its_own_runner_and_an_empty_value_changes_nothing(monkeypatch):
    monkeypatch.setenv("TUNELAB_RAY_ADDRESS", "auto")
    assert load_config_dict(TUNELAB).config.runner == "local"
    monkeypatch.setenv("TUNELAB_RAY_ADDRESS", " ")
    assert load_config_dict(NNI).config.runner == "local"


@pytest.mark.skipif(importlib.util.find_spec("ray") is not None, reason="checks the message without Ray installed")
def test_without_ray_the_startup_check_says_how_to_install_it(monkeypatch):
    from tunelab.errors import ConfigError

    monkeypatch.setenv("TUNELAB_RAY_ADDRESS", "auto")
    with pytest.raises(ConfigError, match="ray"):
        load_config_dict(NNI, startup=True)
