"""Format detection, file reading, and tunelab's own YAML."""

from __future__ import annotations

from pathlib import Path

import pytest

from tunelab.config import ExperimentConfig, LoadedConfig, detect_format, load_config, load_config_dict
from tunelab.errors import ConfigError, TunerError

EXAMPLES = Path(__file__).parents[2] / "examples"

TUNELAB = """
name: digits-svm
search_space:
  C: {_type: loguniform, _value: [0.01, 100]}
  kernel: {_type: choice, _value: [rbf, poly]}
trial: {command: python3 train.py, code_dir: ., timeout: 600}
tuner: {name: random, args: {seed: 0}}
assessor: {name: median, args: {start_step: 3}}
mode: max
max_trials: 50
concurrency: 2
max_duration: 1h
failure: {retries: 1, ignore: true}
"""


def test_tunelab_yaml_from_the_issue(write, tmp_path):
    write("train.py", "")
    loaded = load_config(write("tunelab.yml", TUNELAB))
    assert isinstance(loaded, LoadedConfig) and loaded.format == "tunelab"
    c = loaded.config
    assert (c.name, c.mode, c.max_trials, c.concurrency, c.max_duration) == ("digits-svm", "max", 50, 2, 3600)
    assert c.trial.code_dir == tmp_path and c.trial.timeout == 600
    assert (c.failure.retries, c.failure.ignore) == (1, True)
    assert c.assessor.name == "median"
    assert loaded.source == tmp_path / "tunelab.yml"
    assert loaded.warnings == ()


def test_tunelab_relative_paths_and_shorthands(write, tmp_path):
    write("spaces/space.json", '{"x": {"_type": "uniform", "_value": [0, 1]}}')
    write("train.py", "")
    c = load_config(
        write(
            "sub/../exp.yml",
            """
        search_space: spaces/space.json
        trial: python3 train.py
        tuner: random
        experiment_dir: runs
        storage: db/tunelab.sqlite
    """,
        )
    ).config
    assert c.search_space == {"x": {"_type": "uniform", "_value": [0, 1]}}
    assert c.trial.command == "python3 train.py" and c.trial.code_dir.resolve() == tmp_path
    assert c.experiment_dir.resolve() == tmp_path / "runs"
    assert Path(c.storage).resolve() == tmp_path / "db" / "tunelab.sqlite"


def test_tunelab_storage_urls_are_kept():
    data = {"search_space": {"x": {"_type": "uniform", "_value": [0, 1]}}, "storage": "postgresql://db/tunelab"}
    assert load_config_dict(data).config.storage == "postgresql://db/tunelab"


@pytest.mark.parametrize(
    ("text", "message", "error"),
    [
        ("max_trial: 3", "max_trial: unknown field; did you mean 'max_trials'?", ConfigError),
        ("trial: {comand: x}", "trial.comand: unknown field; did you mean 'command'?", ConfigError),
        ("failure: {retry: 2}", "failure.retry: unknown field; did you mean 'retries'?", ConfigError),
        ("max_duration: soon", "max_duration: expected a duration", ConfigError),
        ("concurrency: many", "concurrency: Input should be a valid integer", ConfigError),
        ("tuner: tpee", "tuner.name: unknown tuner 'tpee'; did you mean 'tpe'?", TunerError),
        ("tuner: {name: grid, args: {n_point: 3}}", "tuner.args: tuner 'grid': unknown argument 'n_point'", TunerError),
        ("tuner: {name: grid, args: {n_points: 1}}", "tuner.args: grid: n_points must be an integer >= 2", TunerError),
        ("tuner: {name: random, args: {mode: max}}", "tuner.args: 'mode' is not a tuner argument", TunerError),
        ("search_space: missing.json", "search_space: file", ConfigError),
    ],
)
def test_tunelab_bad_input(write, text, message, error):
    base = "search_space: {x: {_type: uniform, _value: [0, 1]}}\n"
    if text.startswith("search_space"):
        base = ""
    path = write("c.yml", base + text)
    with pytest.raises(error) as info:
        load_config(path)
    assert str(info.value).startswith(f"{path}: ")
    assert message in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        ({"apiVersion": "tensorstack.dev/v1beta1", "kind": "AutoTuneExperiment"}, "t9k"),
        ({"proposer": "random"}, "auptimizer"),
        ({"script": "x.py"}, "auptimizer"),
        ({"trialCommand": "x"}, "nni"),
        ({"searchSpaceFile": "x"}, "nni"),
        ({"trial_command": "x", "search_space": {}}, "nni"),
        ({"search_space": {}, "trial": {}}, "tunelab"),
        ({}, "tunelab"),
    ],
)
def test_detect_format(data, kind):
    assert detect_format(data) == kind


def test_explicit_format_overrides_detection():
    with pytest.raises(ConfigError, match="trialCommand: this field is required"):
        load_config_dict({"search_space": {"x": {"_type": "uniform", "_value": [0, 1]}}}, format="nni")


def test_already_built_configs_pass_through():
    config = ExperimentConfig(search_space={"x": {"_type": "uniform", "_value": [0, 1]}})
    assert load_config_dict(config).config is config


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("bad.yml", "a: [1, 2\nb: 3\n", ":2:2: invalid YAML: expected ',' or ']', but got ':'"),
        ("bad.yml", "a: b: c\n", ":1:5: invalid YAML: mapping values are not allowed here"),
        ("bad.yml", "x: !!python/object:os.system {}\n", ":1:4: invalid YAML: could not determine a constructor"),
        ("bad.json", '{"a": 1,\n "b": }', ":2:7: invalid JSON: Expecting value"),
        ("empty.yml", "  \n", ": the file is empty"),
        ("list.yml", "- 1\n- 2\n", ": expected a mapping, got list"),
    ],
)
def test_syntax_errors_are_one_line_with_file_and_line(write, name, text, message):
    path = write(name, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value).startswith(str(path))
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_unreadable_files(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "nope.yml")
    with pytest.raises(ConfigError, match="is a folder"):
        load_config(tmp_path)
    (tmp_path / "bin.yml").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ConfigError, match="not a UTF-8 text file"):
        load_config(tmp_path / "bin.yml")


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("nni_mnist_style/config.yml", "nni"),
        ("t9k/experiment.yaml", "t9k"),
        ("auptimizer/experiment.json", "auptimizer"),
    ],
)
def test_examples_load(path, kind):
    loaded = load_config(EXAMPLES / path)
    assert loaded.format == kind
    assert loaded.config.trial.code_dir == (EXAMPLES / path).parent
    assert loaded.config.max_trials <= 8
    assert all("does not exist" not in w for w in loaded.warnings)


def test_yaml_numbers_with_exponents_are_numbers_as_nni_users_write_them(write):
    # PyYAML's YAML 1.1 reads 1e-4 as a string; NNI configs write their spaces this way.
    path = write(
        "config.yml",
        "search_space:\n"
        "  lr: {_type: loguniform, _value: [1e-5, 1e-1]}\n"
        "  wd: {_type: quniform, _value: [0, 1E3, 5e1]}\n"
        "trial: {command: python3 -c pass}\n"
        "tuner: tpe\n",
    )
    config = load_config(path).config
    assert config.search_space["lr"]["_value"] == [1e-5, 0.1]
    assert config.search_space["wd"]["_value"] == [0, 1000.0, 50.0]


def test_a_grid_too_large_to_enumerate_is_refused_by_validation_with_its_size(write):
    path = write(
        "config.yml",
        "search_space: {x: {_type: quniform, _value: [0, 1e12, 1e-4]}}\n"
        "trial: {command: python3 -c pass}\n"
        "tuner: grid\n",
    )
    with pytest.raises(ConfigError, match="10000000000000001"):
        load_config(path)
