"""NNI's own example configs (tests/config/nni_examples, copied from NNI's examples/) load as they are.

Each one loads, or fails with the specific message for what tunelab does not support
(docs/migrating-nni.md, "NNI config files"). The trial scripts are not copied, so the
start-up checks (the trial's script exists) are left out.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tunelab.config import load_config_dict
from tunelab.config._load import read_config_file
from tunelab.errors import ConfigError, NotImplementedTunerError
from tunelab.tuners import TUNERS

ROOT = Path(__file__).parent / "nni_examples"

_CUSTOM = (ConfigError, r"\.(codeDir|className): custom NNI algorithm classes .*are not supported")
#: None: loads. Otherwise (error class, message pattern).
EXPECTED: dict[str, tuple[type[Exception], str] | None] = {
    "nas/legacy/classic_nas/config_ppo.yml": (
        NotImplementedTunerError,
        r"tuner.builtinTunerName: tuner 'PPOTuner' .* is not available in tunelab; the nearest is 'evolution'",
    ),
    "nas/legacy/classic_nas/config_random_search.yml": _CUSTOM,
    "trials/auto-gbdt/config.yml": None,
    "trials/auto-gbdt/config_metis.yml": None,
    "trials/cifar10_pytorch/config_adl.yml": None,
    "trials/ga_squad/config.yml": _CUSTOM,
    "trials/kaggle-tgs-salt/config.yml": (ConfigError, "useAnnotation: annotations .* are not supported"),
    "trials/mnist-advisor/config_bohb.yml": None,
    "trials/mnist-advisor/config_hyperband.yml": None,
    "trials/mnist-batch-tune-keras/config.yml": None,
    "trials/mnist-distributed-pytorch/config_kubeflow.yml": None,
    "trials/mnist-keras/config.yml": None,
    "trials/mnist-keras/config_pai.yml": None,
    "trials/mnist-keras/config_windows.yml": None,
    "trials/mnist-nested-search-space/config.yml": None,
    "trials/mnist-pbt-tuner-pytorch/config.yml": None,
    "trials/mnist-pytorch/config.yml": None,
    "trials/mnist-pytorch/config_adl.yml": None,
    "trials/mnist-pytorch/config_assessor.yml": None,
    "trials/mnist-pytorch/config_detailed.yml": None,
    # Its trials are defined in a frameworkcontroller template file: no command to run here.
    "trials/mnist-pytorch/config_frameworkcontroller_custom.yml": (ConfigError, "trial.command: this field is requ"),
    "trials/mnist-pytorch/config_hybrid.yml": None,
    "trials/mnist-pytorch/config_kubeflow.yml": None,
    "trials/mnist-pytorch/config_remote.yml": None,
    "trials/mnist-tfv1/config.yml": None,
    "trials/mnist-tfv1/config_aml.yml": None,
    "trials/mnist-tfv1/config_assessor.yml": None,
    "trials/mnist-tfv1/config_dlts.yml": None,
    "trials/mnist-tfv1/config_frameworkcontroller.yml": None,
    "trials/mnist-tfv1/config_hybrid.yml": None,
    "trials/mnist-tfv1/config_kubeflow.yml": None,
    "trials/mnist-tfv1/config_pai.yml": None,
    "trials/mnist-tfv1/config_windows.yml": None,
    # searchSpace: {} -- NetworkMorphism brings its own space, and tunelab has no NetworkMorphism.
    "trials/network_morphism/cifar10/config.yml": (
        NotImplementedTunerError,
        "tuner.name: tuner 'NetworkMorphism' .* is not available in tunelab; the nearest is 'evolution'",
    ),
    "trials/sklearn/classification/config.yml": None,
    "trials/systems_auto_tuning/opevo/src/experiments/mm/N512K1024M1024/config_gbfs.yml": _CUSTOM,
    "trials/systems_auto_tuning/rocksdb-fillrandom/config_smac.yml": None,
    "trials/systems_auto_tuning/rocksdb-fillrandom/config_tpe.yml": None,
    "trials/weight_sharing/ga_squad/config_remote.yml": _CUSTOM,
    "tuners/mnist_keras_customized_advisor/config.yml": _CUSTOM,
}


def _files() -> list[str]:
    return sorted(path.relative_to(ROOT).as_posix() for path in ROOT.rglob("config*.yml"))


def test_every_copied_config_is_classified():
    assert _files() == sorted(EXPECTED)
    versions = [("trainingServicePlatform" in read_config_file(ROOT / name)) for name in _files()]
    assert versions.count(True) >= 15 and versions.count(False) >= 10  # v1 and v2 both


@pytest.mark.parametrize("name", _files())
def test_nni_example_config_loads_or_says_what_is_unsupported(name):
    path = ROOT / name
    data = read_config_file(path)
    expected = EXPECTED[name]
    if "smac" in name and "smac" not in TUNERS:
        pytest.skip("the smac tuner is not registered in this build")
    if expected is None:
        loaded = load_config_dict(data, base_dir=path.parent, source=name)
        assert loaded.format == "nni"
        assert loaded.config.trial.command
        assert loaded.config.search_space
        return
    error, pattern = expected
    with pytest.raises(error, match=pattern) as info:
        load_config_dict(data, base_dir=path.parent, source=name)
    assert "\n" not in str(info.value)


def test_v1_examples_keep_their_meaning():
    path = ROOT / "trials/mnist-tfv1/config_assessor.yml"
    config = load_config_dict(read_config_file(path), base_dir=path.parent).config
    assert (config.max_trials, config.max_duration, config.concurrency) == (50, 3600, 1)
    assert (config.tuner.name, config.mode, config.assessor.name) == ("TPE", "max", "Curvefitting")
    assert config.trial.command == "python3 mnist.py" and config.trial.code_dir == path.parent
    assert set(config.search_space) == {"dropout_rate", "conv_size", "hidden_size", "batch_size", "learning_rate"}


def test_remote_platform_examples_warn_that_trials_run_here():
    path = ROOT / "trials/mnist-tfv1/config_pai.yml"
    loaded = load_config_dict(read_config_file(path), base_dir=path.parent)
    assert any(w.startswith("trainingServicePlatform: 'pai' is not supported") for w in loaded.warnings)
    assert any(w.startswith("paiConfig:") for w in loaded.warnings)
